"""Labelled perception data sets: the synthetic default, saved ``.npz`` files, ModelNet40.

A :class:`Samples` holds one array of inputs (point clouds ``(B, N, 3)`` or images
``(B, H, W, 3)``), integer labels and the class names. It is described by a small JSON
*source* (``{"kind": "synthetic", "seed": 0, ...}`` or ``{"kind": "npz", "path": ...,
"sha256": ...}``) that is stored with every perception case, so a target in any process
can rebuild the exact input of an attempt (see :mod:`assay.perception.cases`); loading
the same source twice in one process returns the cached arrays.

``.npz`` layout (what ``assay perception data`` writes and reads): ``x`` float32 or uint8
array, ``labels`` int64 ``(B,)``, ``classes`` unicode ``(C,)``, optional ``beams``
``(B, N)`` (the ring id of every point of a scanned cloud).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError

__all__ = [
    "Samples",
    "file_sha256",
    "load",
    "load_npz",
    "save_npz",
    "split_indices",
    "subset",
    "synthetic",
]

Kind = Literal["points", "images"]


@dataclass(frozen=True, eq=False)
class Samples:
    """Inputs, labels and class names of one labelled set.

    Attributes:
        x: ``(B, N, 3)`` float32 point clouds (``(B, N, 4)`` with a LiDAR intensity
            column) or ``(B, H, W, 3)`` uint8 images.
        labels: ``(B,)`` class indices into ``classes``.
        classes: the class names, in label order.
        source: JSON that rebuilds this set through :func:`load`.
        beams: ``(B, N)`` ring ids of scanned clouds, when known.
    """

    x: NDArray[Any]
    labels: NDArray[np.int64]
    classes: tuple[str, ...]
    source: dict[str, Any] = field(default_factory=dict)
    beams: NDArray[np.int64] | None = None

    @property
    def kind(self) -> Kind:
        """``points`` for clouds, ``images`` for pictures."""
        return "images" if self.x.ndim == 4 else "points"

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def name(self) -> str:
        """A short readable name: ``synthetic-s0`` or the file's stem."""
        src = self.source
        if src.get("kind") == "synthetic":
            return f"synthetic-s{src.get('seed', 0)}"
        if "path" in src:
            return Path(str(src["path"])).stem
        return "samples"


def _validate(x: Any, labels: Any, classes: Any, where: str) -> None:
    points = isinstance(x, np.ndarray) and x.ndim == 3 and x.shape[-1] in (3, 4)
    images = isinstance(x, np.ndarray) and x.ndim == 4 and x.shape[-1] == 3
    if not (points or images):
        shape = getattr(x, "shape", None)
        raise InputError(
            f"{where}: field 'x' must be (B, N, 3|4) points (x, y, z[, intensity]) or "
            f"(B, H, W, 3) images, got {shape}",
            field="x",
        )
    if x.ndim == 3 and not np.isfinite(x).all():
        raise InputError(f"{where}: field 'x' has NaN or infinite coordinates", field="x")
    if not isinstance(labels, np.ndarray) or labels.shape != (x.shape[0],):
        raise InputError(
            f"{where}: field 'labels' must have shape ({x.shape[0]},), "
            f"got {getattr(labels, 'shape', None)}",
            field="labels",
        )
    if len(classes) == 0 or labels.min(initial=0) < 0 or labels.max(initial=0) >= len(classes):
        raise InputError(
            f"{where}: field 'labels' must index the {len(classes)} classes", field="labels"
        )


def synthetic(n_per_class: int = 40, *, seed: int = 0, n_points: int = 1024) -> Samples:
    """The offline default: ten primitive classes scanned by a simulated LiDAR.

    See :mod:`assay.perception.synthetic`; deterministic from ``seed``.
    """
    return _cached(
        json.dumps(
            {"kind": "synthetic", "n_per_class": n_per_class, "seed": seed, "n_points": n_points},
            sort_keys=True,
        )
    )


def save_npz(samples: Samples, path: str | Path) -> dict[str, Any]:
    """Write ``samples`` to ``path`` (``.npz``); returns the source that reloads it."""
    target = Path(path)
    arrays: dict[str, Any] = {
        "x": samples.x,
        "labels": samples.labels.astype(np.int64),
        "classes": np.array(samples.classes),
    }
    if samples.beams is not None:
        arrays["beams"] = samples.beams
    with target.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    return {"kind": "npz", "path": str(target), "sha256": file_sha256(target)}


def load_npz(path: str | Path) -> Samples:
    """Read a set written by :func:`save_npz`; errors name the file and the field."""
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: no such file", source=str(source))
    return _cached(
        json.dumps(
            {"kind": "npz", "path": str(source), "sha256": file_sha256(source)}, sort_keys=True
        )
    )


def load(source: Mapping[str, Any]) -> Samples:
    """Rebuild the set a case's ``metadata["dataset"]`` describes (cached per process)."""
    kind = source.get("kind")
    if kind not in ("synthetic", "npz", "modelnet40"):
        raise InputError(f"unknown data set kind {kind!r}", field="dataset.kind")
    return _cached(json.dumps(dict(source), sort_keys=True))


def split_indices(
    samples: Samples, fraction: float, *, seed: int = 0
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """A seeded, class-stratified split of the indices: ``fraction`` of each class first."""
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"split fraction must be in [0, 1], got {fraction}", field="fraction")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(samples), dtype=bool)
    for label in np.unique(samples.labels):
        idx = np.flatnonzero(samples.labels == label)
        rng.shuffle(idx)
        mask[idx[: round(fraction * len(idx))]] = True
    return np.flatnonzero(mask), np.flatnonzero(~mask)


def subset(samples: Samples, indices: NDArray[np.intp]) -> Samples:
    """The samples at ``indices`` (for training; cases keep the parent's source)."""
    return Samples(
        x=samples.x[indices],
        labels=samples.labels[indices],
        classes=samples.classes,
        source={"kind": "subset", "of": samples.source, "n": len(indices)},
        beams=None if samples.beams is None else samples.beams[indices],
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (model and data files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _cached(key: str) -> Samples:
    source = json.loads(key)
    kind = source["kind"]
    if kind == "synthetic":
        from assay.perception.synthetic import CLASSES, make_dataset

        n, seed, n_points = source["n_per_class"], source["seed"], source["n_points"]
        if int(n) < 1 or int(n_points) < 16:
            raise InputError("synthetic data needs n_per_class >= 1 and n_points >= 16")
        points, labels, beams = make_dataset(int(n), int(seed), n_points=int(n_points))
        return Samples(
            x=points.astype(np.float32),
            labels=labels.astype(np.int64),
            classes=tuple(CLASSES),
            source=source,
            beams=beams.astype(np.int64),
        )
    path = Path(source["path"])
    if kind == "modelnet40":
        from assay.perception.readers import read_modelnet40_h5

        points, labels = read_modelnet40_h5(path, split=source.get("split"))
        classes = tuple(_modelnet_classes(path, int(labels.max()) + 1))
        _validate(points, labels.astype(np.int64), classes, str(path))
        return Samples(points, labels.astype(np.int64), classes, source=source)
    expected = source.get("sha256")
    if expected is not None and file_sha256(path) != expected:
        raise InputError(f"{path}: file changed since the run was planned (sha256 differs)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .npz file ({exc})", source=str(path)) from exc
    for key in ("x", "labels", "classes"):
        if key not in arrays:
            raise InputError(f"{path}: field {key!r} is missing", source=str(path), field=key)
    classes = tuple(str(c) for c in arrays["classes"].tolist())
    x, labels = arrays["x"], arrays["labels"].astype(np.int64)
    _validate(x, labels, classes, str(path))
    rings = arrays.get("beams")
    return Samples(
        x=x.astype(np.float32) if x.ndim == 3 else x.astype(np.uint8),
        labels=labels,
        classes=classes,
        source=source,
        beams=None if rings is None else rings.astype(np.int64),
    )


def _modelnet_classes(path: Path, n: int) -> list[str]:
    """ModelNet40's ``shape_names.txt`` beside the files, else ``class_0..``."""
    folder = path if path.is_dir() else path.parent
    names = folder / "shape_names.txt"
    if names.is_file():
        found = [line.strip() for line in names.read_text().splitlines() if line.strip()]
        if len(found) >= n:
            return found
    return [f"class_{i}" for i in range(n)]
