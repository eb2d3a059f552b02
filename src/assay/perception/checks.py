"""The argument checks every corruption entry point shares.

Object, LiDAR, weather, camera and fusion corruptions all take a ``kind``, an integer
``severity`` and a ``numpy.random.Generator``; bad ones raise the same
:class:`~assay.errors.InputError`, naming the field, wherever they were passed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assay.errors import InputError

__all__ = ["check_kind", "check_rng", "check_severity"]


def check_kind(kind: object, known: Sequence[str]) -> str:
    """``kind`` if it is one of ``known``."""
    if not isinstance(kind, str) or kind not in known:
        raise InputError(
            f"unknown corruption {kind!r}; known kinds: {', '.join(known)}", field="kind"
        )
    return kind


def check_severity(severity: object, levels: Sequence[int]) -> int:
    """``severity`` as an int if it is an integer among ``levels`` (a range such as 1..5)."""
    span = f"{levels[0]}..{levels[-1]}"
    if isinstance(severity, bool) or not isinstance(severity, int | np.integer):
        raise InputError(f"severity must be an integer {span}, got {severity!r}", field="severity")
    if int(severity) not in levels:
        raise InputError(f"severity must be in {span}, got {severity}", field="severity")
    return int(severity)


def check_rng(rng: object) -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator`` (the only source of randomness)."""
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng must be a numpy.random.Generator", field="rng")
    return rng
