"""Robo3D's eight corruptions of whole LiDAR scans, three severities each.

Written from the descriptions in Kong et al. 2023, "Robo3D: Towards Robust and Reliable 3D
Perception against Corruptions", not from their code. A scan is ``(N, 3)`` or ``(N, 4)``
(``x, y, z`` in metres about the sensor, optionally an intensity column that the geometric
kinds carry along unchanged); every corruption takes a kind, a severity in ``1..3`` and an
explicit :class:`numpy.random.Generator`, and the same generator state always gives the same
output. The three weather kinds (:data:`WEATHER_KINDS`) are physical models in
:mod:`assay.perception.weather` and need the intensity column; see that module for the
models, their parameters and where they deviate from the papers.

Every kind needs the *ring* (beam) of each point. :func:`ring_ids` uses the ring column when
the caller has one, else it bins the elevation angle ``atan2(z, hypot(x, y))`` into
``n_beams`` equal bins over the observed elevation range (exact for a sensor with equally
spaced beams; an approximation otherwise).

===============  ===============================================================  ==========
kind             physical meaning (parameter in :data:`PARAMS`, per severity)      output
===============  ===============================================================  ==========
fog              Hahner et al. 2021: returns attenuated by ``exp(-2 alpha r)``;    ``M == N``
                 where the fog's own back-scatter is stronger the point moves to
                 the fog echo (backscatter beta, 1/m; alpha drawn per scan)
wet_ground       water film on the road: Fresnel losses darken ground returns,    ``M < N``
                 the weak ones drop out (water height, mm; ground mask or fit)
snow             Hahner et al. 2022: snowflakes in each beam occlude it, echo     ``M <= N``
                 back, and can replace the return (snowfall rate, mm/h)
beam_missing     dead laser channels: a random subset of the rings present is     ``M < N``
                 removed whole (fraction of rings removed)
crosstalk        pulses of another sensor: a fraction of the points is re-drawn   ``M == N``
                 along its own ray at a range ``U(0, max range)`` (fraction moved)
incomplete_echo  weak returns from dark / low-reflectivity surfaces: without      ``M < N``
                 semantic labels the surfaces are unknown, so a uniformly random
                 fraction of the points is removed (fraction removed)
motion_blur      ego motion during one rotation: each point is jittered along     ``M == N``
                 the direction of travel (+x) by Gaussian noise of std
                 ``sigma * t``, ``t`` in ``[0, 1)`` the point's share of the
                 sweep by azimuth from a random start angle (sigma, metres)
cross_sensor     a sensor with fewer beams: only rings with ``id % k == 0`` are   ``M < N``
                 kept, then a fraction :data:`CROSS_SENSOR_DROPOUT` of the
                 remaining points is removed at random (stride k)
===============  ===============================================================  ==========

Shrinking geometric kinds always keep at least one point and return the kept rows in input order.
``beam_missing`` draws its rings *without replacement* by default (exactly
``round(fraction * rings)`` distinct rings go, at least one and at least one ring stays);
``with_replacement=True`` draws that many ring ids with replacement, so repeats make it drop
fewer distinct rings, as a quick re-implementation that samples indices naively would.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError
from assay.perception import weather
from assay.perception.checks import check_kind, check_rng, check_severity

__all__ = [
    "CROSS_SENSOR_DROPOUT",
    "KINDS",
    "PARAMS",
    "SEVERITIES",
    "WEATHER_KINDS",
    "corrupt_scan",
    "ring_ids",
]

SEVERITIES: tuple[int, ...] = (1, 2, 3)

#: One parameter per severity 1..3 for every kind (meaning and unit: see the module table),
#: in Robo3D's order.
PARAMS: dict[str, tuple[float, ...]] = {
    "fog": weather.FOG_BETA,
    "wet_ground": weather.WATER_HEIGHT_MM,
    "snow": tuple(rate for rate, _ in weather.SNOWFALL),
    "motion_blur": (0.1, 0.2, 0.3),
    "beam_missing": (0.25, 0.5, 0.75),
    "crosstalk": (0.03, 0.07, 0.12),
    "incomplete_echo": (0.15, 0.3, 0.45),
    "cross_sensor": (2.0, 2.0, 4.0),
}

#: The kinds that need the intensity column (physical weather models, :mod:`.weather`).
WEATHER_KINDS: tuple[str, ...] = ("fog", "wet_ground", "snow")

#: cross_sensor: fraction of the points on the kept rings that is then removed, per severity.
CROSS_SENSOR_DROPOUT: tuple[float, ...] = (0.1, 0.3, 0.2)

KINDS: tuple[str, ...] = tuple(PARAMS)

_RING_TABLE_MAX = 1 << 16  # beam_missing: ring ids up to this use lookup tables, else sorting

Array = NDArray[np.float64]
Ints = NDArray[np.int64]


def ring_ids(
    points: NDArray[np.floating] | list[list[float]],
    n_beams: int,
    ring: NDArray[np.integer] | NDArray[np.floating] | None = None,
) -> Ints:
    """Ring (beam) index of every point of a scan.

    Args:
        points: the scan, ``(N, 3)`` or ``(N, 4)`` finite values.
        n_beams: number of beams of the sensor (>= 2); the number of elevation bins.
        ring: the sensor's ring column, ``(N,)`` non-negative integers; used as is if given.

    Returns:
        ``int64`` ``(N,)`` ring ids. Without ``ring`` they are elevation bins ``0..n_beams-1``
        from the lowest to the highest beam.

    Raises:
        InputError: bad ``points``, ``n_beams`` or ``ring``, or every point falls in one
            elevation bin (the binning would say nothing: pass the ring column instead).
    """
    cloud = _validate_points(points)
    _validate_n_beams(n_beams)
    return _ring_ids(cloud, int(n_beams), ring)


def corrupt_scan(
    points: NDArray[np.floating] | list[list[float]],
    kind: str,
    severity: int,
    rng: np.random.Generator,
    *,
    ring: NDArray[np.integer] | NDArray[np.floating] | None = None,
    n_beams: int = 32,
    with_replacement: bool = False,
    ground: NDArray[np.bool_] | None = None,
    fog_alpha: float | None = None,
) -> tuple[NDArray[np.float32], Ints]:
    """Apply one Robo3D corruption at one severity to one LiDAR scan.

    Args:
        points: the scan, ``(N, 3)`` or ``(N, 4)`` finite values (x, y, z[, intensity]).
        kind: one of :data:`KINDS` (see the module docstring for what each does).
        severity: 1 (mild) to 3 (severe); indexes :data:`PARAMS`.
        rng: the only source of randomness; the same generator state gives the same output.
        ring: optional ``(N,)`` ring column; without it rings come from elevation binning.
        n_beams: number of beams for the elevation binning (>= 2).
        with_replacement: beam_missing only: draw the dropped ring ids with replacement
            (see the module docstring); the default ``False`` is the faithful mode.
        ground: wet_ground only: optional ``(N,)`` bool ground mask (else a plane is fitted).
        fog_alpha: fog only: attenuation coefficient in 1/m; None = Robo3D's random draw.

    Returns:
        ``(corrupted, rings)``: the corrupted scan as ``float32`` ``(M, C)`` with the input's
        columns, and the ``int64`` ``(M,)`` ring id of every output point.

    Raises:
        InputError: bad ``points``, ``ring`` or ``n_beams``, unknown ``kind``, ``severity``
            not in 1..3, ``rng`` not a Generator, rings that cannot be recovered, or a
            weather kind on a scan without intensity (field ``intensity``).
    """
    # The geometric kinds keep float32 (their outputs are float32 and nothing in them needs
    # more); the weather models work in float64.
    cloud = _validate_points(points, np.float64 if kind in WEATHER_KINDS else np.float32)
    check_kind(kind, KINDS)
    check_severity(severity, SEVERITIES)
    check_rng(rng)
    _validate_n_beams(n_beams)
    if ground is not None and kind != "wet_ground":
        raise InputError(f"ground applies to wet_ground only, not {kind}", field="ground")
    if fog_alpha is not None and kind != "fog":
        raise InputError(f"fog_alpha applies to fog only, not {kind}", field="fog_alpha")
    if kind in WEATHER_KINDS and cloud.shape[1] != 4:
        raise InputError(
            f"{kind} needs the intensity column: expected shape (N, 4), got {cloud.shape}",
            field="intensity",
        )
    rings = _ring_ids(cloud, int(n_beams), ring)
    sev = int(severity) - 1
    param = PARAMS[kind][sev]
    out: NDArray[np.floating]
    if kind in WEATHER_KINDS:
        if kind == "fog":
            result = weather.fog(cloud, int(severity), rng, alpha=fog_alpha)
        elif kind == "snow":
            result = weather.snow(cloud, int(severity), rng)
        else:
            # checked above (finite float64 (N, 4), severity, rng): skip the second check
            scan = cloud.astype(np.float64, copy=False)  # float64 already: no copy
            tolerance = weather._GROUND_TOLERANCE_M
            result = weather._wet_ground(scan, sev, rng, ground, None, tolerance)
        out, rings = result.points, rings[result.keep]
    elif kind == "beam_missing":
        keep = _beam_missing(rings, param, rng, with_replacement)
        out, rings = cloud[keep], rings[keep]
    elif kind == "crosstalk":
        out = _crosstalk(cloud, param, rng)
    elif kind == "incomplete_echo":
        keep = _random_keep(cloud.shape[0], param, rng)
        out, rings = cloud[keep], rings[keep]
    elif kind == "motion_blur":
        out = _motion_blur(cloud, param, rng)
    else:  # cross_sensor
        keep = _cross_sensor(rings, int(param), CROSS_SENSOR_DROPOUT[sev], rng)
        out, rings = cloud[keep], rings[keep]
    return np.ascontiguousarray(out, dtype=np.float32), np.ascontiguousarray(rings)


# ---------------------------------------------------------------------------- validation


def _validate_points(points: object, dtype: type[np.floating] = np.float64) -> NDArray[np.floating]:
    try:
        cloud = np.asarray(points, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="points") from exc
    if cloud.ndim != 2 or cloud.shape[1] not in (3, 4):
        raise InputError(f"expected shape (N, 3) or (N, 4), got {cloud.shape}", field="points")
    if cloud.shape[0] < 1:
        raise InputError("the scan has no points", field="points")
    if not np.all(np.isfinite(cloud)):
        bad = int(np.count_nonzero(~np.all(np.isfinite(cloud), axis=1)))
        raise InputError(f"{bad} point(s) have NaN or infinite values", field="points")
    return cloud


def _validate_n_beams(n_beams: object) -> None:
    if isinstance(n_beams, bool) or not isinstance(n_beams, int | np.integer):
        raise InputError(f"n_beams must be an integer >= 2, got {n_beams!r}", field="n_beams")
    if int(n_beams) < 2:
        raise InputError(f"n_beams must be >= 2, got {n_beams}", field="n_beams")


def _ring_ids(cloud: NDArray[np.floating], n_beams: int, ring: object) -> Ints:
    n = cloud.shape[0]
    if ring is not None:
        raw = np.asarray(ring)
        if raw.dtype.kind in "iu" and raw.shape == (n,):  # integers: only the sign to check
            if n and raw.min() < 0:
                raise InputError("ring ids must be finite non-negative integers", field="ring")
            return raw.astype(np.int64)
        try:
            values = np.asarray(ring, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"cannot read as a number array: {exc}", field="ring") from exc
        if values.shape != (n,):
            raise InputError(f"expected shape ({n},), got {values.shape}", field="ring")
        if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values % 1 != 0):
            raise InputError("ring ids must be finite non-negative integers", field="ring")
        return values.astype(np.int64)
    xyz = cloud[:, :3].astype(np.float64)  # float64 binning: bins do not depend on the dtype
    elevation = np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1]))
    lo, hi = float(elevation.min()), float(elevation.max())
    if not hi > lo:
        raise InputError(
            "every point has the same elevation, so elevation binning finds one ring; "
            "pass the ring column",
            field="ring",
        )
    bins = np.floor((elevation - lo) / (hi - lo) * n_beams).astype(np.int64)
    return np.clip(bins, 0, n_beams - 1)


# ---------------------------------------------------------------------------- corruptions


def _count(fraction: float, n: int) -> int:
    """``round(fraction * n)`` clipped to ``1..n-1`` (``0`` when ``n == 1``)."""
    return min(max(1, round(fraction * n)), n - 1) if n > 1 else 0


def _random_keep(n: int, fraction: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Mask keeping all but a uniformly random ``fraction`` of ``n`` rows (at least one)."""
    keep = np.ones(n, dtype=bool)
    keep[rng.choice(n, size=_count(fraction, n), replace=False)] = False
    return keep


def _beam_missing(
    rings: Ints, fraction: float, rng: np.random.Generator, with_replacement: bool
) -> NDArray[np.bool_]:
    top = int(rings.max())
    small = top <= _RING_TABLE_MAX  # ring ids are beam numbers: tables indexed by id
    present = np.flatnonzero(np.bincount(rings)) if small else np.unique(rings)
    k = _count(fraction, present.size)
    dropped = rng.choice(present, size=k, replace=with_replacement)
    if not small:
        return ~np.isin(rings, dropped)
    lost = np.zeros(top + 1, dtype=bool)  # ring id -> dropped, one lookup per point
    lost[dropped] = True
    keep: NDArray[np.bool_] = ~lost[rings]
    return keep


def _crosstalk(
    cloud: NDArray[np.floating], fraction: float, rng: np.random.Generator
) -> NDArray[np.floating]:
    out = cloud.copy()
    xyz = cloud[:, :3]
    ranges = np.sqrt(np.einsum("ij,ij->i", xyz, xyz))  # 4x faster than linalg.norm here
    n = cloud.shape[0]
    moved = rng.choice(n, size=max(1, round(fraction * n)), replace=False)
    new_range = rng.uniform(0.0, float(ranges.max()), size=moved.size)
    r = ranges[moved]
    scale = np.divide(new_range, r, out=np.ones_like(r), where=r > 0)
    out[moved, :3] = xyz[moved] * scale[:, None]
    return out


def _motion_blur(
    cloud: NDArray[np.floating], sigma: float, rng: np.random.Generator
) -> NDArray[np.floating]:
    out = cloud.copy()
    start = rng.uniform(-math.pi, math.pi)
    azimuth = np.arctan2(cloud[:, 1], cloud[:, 0])
    t = np.mod(azimuth - start, 2.0 * math.pi) / (2.0 * math.pi)  # sweep share, [0, 1)
    shift = rng.standard_normal(cloud.shape[0], dtype=np.float32)
    shift *= (sigma * t).astype(np.float32, copy=False)
    out[:, 0] += shift
    return out


def _cross_sensor(
    rings: Ints, stride: int, dropout: float, rng: np.random.Generator
) -> NDArray[np.bool_]:
    keep: NDArray[np.bool_] = np.asarray(rings % stride == 0)
    if not np.any(keep):
        keep = np.asarray(rings == rings.min())
    idx = np.flatnonzero(keep)
    keep[idx[~_random_keep(idx.size, dropout, rng)]] = False
    return keep
