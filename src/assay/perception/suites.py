"""Perception suites for ``assay scan -s``: the synthetic objects, or a saved ``.npz`` set.

``assay scan -s synthetic-objects --suite-arg per_class=20 -t classifier -T model=m.pt
-j label -a pointcloud,severity=1-3`` runs a robustness scan with the generic command;
``assay perception scan`` does the same and also writes the robustness report.
"""

from __future__ import annotations

from assay.perception.cases import suite_of
from assay.perception.data import load_npz, synthetic
from assay.suites.base import Suite

__all__ = ["npz_samples", "synthetic_objects"]


def synthetic_objects(per_class: int = 20, seed: int = 1, points: int = 1024) -> Suite:
    """Ten primitive classes scanned by a simulated LiDAR (seed 1: not the training seed)."""
    return suite_of(synthetic(per_class, seed=seed, n_points=points))


def npz_samples(path: str) -> Suite:
    """Every sample of a set written by ``assay perception data``."""
    return suite_of(load_npz(path))
