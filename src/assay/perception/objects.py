"""ModelNet40-C-style corruptions of single object point clouds.

Written from the descriptions in Sun et al. 2022, "Benchmarking Robustness of 3D Point Cloud
Recognition Against Common Corruptions" (ModelNet40-C) and Ren et al. 2022 (ModelNet-C, the
seven atomic corruptions), not from their code. Every corruption takes one cloud ``(N, 3)``,
a kind, a severity in ``1..5`` and an explicit :class:`numpy.random.Generator`; the same
generator state always gives the same output.

Lengths are relative to the cloud's *radius* ``r`` (largest distance of a point from the
centroid), so on the usual unit-sphere-normalised ModelNet clouds the numbers below are the
papers' absolute ones; point counts are fractions of ``N`` (at ``N = 1024`` a fraction of
``0.1`` is about 100 points, the papers' unit).

================  =============================================================  ===========
kind              physical meaning (parameter in :data:`PARAMS`, per severity)   output rows
================  =============================================================  ===========
jitter            sensor noise: every point moves by Gaussian noise of std        ``M == N``
                  ``sigma * r`` per axis (sigma)
dropout_global    uniform point loss: a fraction of the points, chosen            ``M < N``
                  uniformly, is removed (fraction removed)
dropout_local     local point loss: a total fraction of ``N`` is removed as the   ``M < N``
                  k nearest neighbours of 1..8 random centres, the total split
                  randomly between centres (fraction removed)
add_global        outliers: noise points drawn uniformly in the cloud's           ``M > N``
                  axis-aligned bounding box are appended (fraction added)
add_local         clustered outliers: noise points in Gaussian blobs (std         ``M > N``
                  ``U(0.075, 0.125) * r``) around 1..8 random cloud points are
                  appended (fraction added)
scale             miscalibrated scale: each axis is scaled by ``U(1/S, S)``       ``M == N``
                  about the centroid, then the radius is restored (S)
rotate            pose error: Euler angles about x, y, z, each ``U(-a, a)``,      ``M == N``
                  rotate the cloud about its centroid (a, degrees)
shear             shear about the centroid: ``x -> (I + A) x`` with every         ``M == N``
                  off-diagonal ``|A_ij|`` in ``U(s - 0.05, s)``, random sign (s)
density_inc       denser patches: the ``0.1 N`` nearest neighbours of each       ``M > N``
                  centre are duplicated with a ``0.005 r`` Gaussian offset
                  (number of centres)
density_dec       sparser patches: 75 % of the points in the ``0.1 N``-nearest    ``M < N``
                  neighbourhoods of the centres are removed (number of centres)
cutout            missing parts: for each centre, its ``0.05 N`` nearest          ``M < N``
                  remaining points are removed (number of centres)
occlusion         single-view scan: only points visible from a random viewpoint   ``M <= N``
                  at distance ``d * r`` from the centroid are kept (hidden point
                  removal, Katz et al. 2007) (d; a nearer viewpoint sees less)
================  =============================================================  ===========

Occlusion keeps a strict subset of any closed surface (on a unit sphere, about
``(1 - 1/d) / 2`` of the points plus a few at the horizon). Shrinking kinds always keep at
least one point (and return the kept rows in their input order); growing kinds append the
new points after the original rows, which are unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError, MissingDependencyError

__all__ = ["KINDS", "PARAMS", "SAME_COUNT", "SEVERITIES", "corrupt", "visible_points"]

SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

#: One parameter per severity 1..5 for every kind (meaning and unit: see the module table).
PARAMS: dict[str, tuple[float, ...]] = {
    "jitter": (0.01, 0.02, 0.03, 0.04, 0.05),
    "dropout_global": (0.25, 0.375, 0.5, 0.625, 0.75),
    "dropout_local": (0.1, 0.2, 0.3, 0.4, 0.5),
    "add_global": (0.01, 0.02, 0.03, 0.04, 0.05),
    "add_local": (0.1, 0.2, 0.3, 0.4, 0.5),
    "scale": (1.6, 1.7, 1.8, 1.9, 2.0),
    "rotate": (6.0, 12.0, 18.0, 24.0, 30.0),
    "shear": (0.05, 0.1, 0.15, 0.2, 0.25),
    "density_inc": (1.0, 2.0, 3.0, 4.0, 5.0),
    "density_dec": (1.0, 2.0, 3.0, 4.0, 5.0),
    "cutout": (1.0, 2.0, 3.0, 4.0, 5.0),
    "occlusion": (6.0, 4.0, 3.0, 2.0, 1.5),
}

KINDS: tuple[str, ...] = tuple(PARAMS)

#: Kinds whose output has the same rows as the input (moved, not added or removed).
SAME_COUNT: frozenset[str] = frozenset({"jitter", "scale", "rotate", "shear"})

_MAX_LOCAL_CENTRES = 8  # dropout_local / add_local: 1..8 centres
_ADD_LOCAL_SIGMA = (0.075, 0.125)  # add_local blob std range, in radii
_DENSITY_NEIGHBOURS = 0.1  # density_inc / density_dec neighbourhood, fraction of N
_DENSITY_INC_SIGMA = 0.005  # offset of a duplicated point, in radii
_DENSITY_DEC_DROP = 0.75  # fraction of a thinned neighbourhood removed
_CUTOUT_NEIGHBOURS = 0.05  # points removed per cutout centre, fraction of N
_SHEAR_WIDTH = 0.05  # |A_ij| in U(s - width, s)
_HPR_EXPONENT = 1.0  # hidden point removal: flip radius = max distance * 10**exponent
# (larger exponents make Qhull call points on the far side visible in float64)

Array = NDArray[np.float64]


def corrupt(
    points: NDArray[np.floating] | list[list[float]],
    kind: str,
    severity: int,
    rng: np.random.Generator,
) -> NDArray[np.float32]:
    """Apply one corruption at one severity to one point cloud.

    Args:
        points: the cloud, ``(N, 3)`` finite coordinates (extra columns are not allowed).
        kind: one of :data:`KINDS` (see the module docstring for what each does).
        severity: 1 (mild) to 5 (severe); indexes :data:`PARAMS`.
        rng: the only source of randomness; the same generator state gives the same output.

    Returns:
        The corrupted cloud as ``float32`` ``(M, 3)``: ``M == N`` for jitter, scale, rotate
        and shear; ``M < N`` for dropout_global, dropout_local, density_dec and cutout, and
        ``M <= N`` for occlusion (``<`` on closed surfaces); ``M > N`` for add_global,
        add_local and density_inc.

    Raises:
        InputError: ``points`` is not a finite ``(N, 3)`` array with ``N >= 1`` (or, for
            occlusion, does not span 3-D), ``kind`` is unknown or ``severity`` not in 1..5.
        MissingDependencyError: occlusion without scipy (``assay[perception]``).
    """
    cloud = _validate_points(points)
    if kind not in PARAMS:
        raise InputError(
            f"unknown corruption {kind!r}; known kinds: {', '.join(KINDS)}", field="kind"
        )
    if isinstance(severity, bool) or not isinstance(severity, int | np.integer):
        raise InputError(f"severity must be an integer 1..5, got {severity!r}", field="severity")
    if int(severity) not in SEVERITIES:
        raise InputError(f"severity must be in 1..5, got {severity}", field="severity")
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng must be a numpy.random.Generator", field="rng")
    param = PARAMS[kind][int(severity) - 1]
    out = _KIND_FUNCS[kind](cloud, param, rng)
    return np.ascontiguousarray(out, dtype=np.float32)


# ---------------------------------------------------------------------------- validation


def _validate_points(points: object) -> Array:
    try:
        cloud = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="points") from exc
    if cloud.ndim != 2 or cloud.shape[1] != 3:
        raise InputError(f"expected shape (N, 3), got {cloud.shape}", field="points")
    if cloud.shape[0] < 1:
        raise InputError("the cloud has no points", field="points")
    if not np.all(np.isfinite(cloud)):
        bad = int(np.count_nonzero(~np.all(np.isfinite(cloud), axis=1)))
        raise InputError(f"{bad} point(s) have NaN or infinite coordinates", field="points")
    return cloud


# ---------------------------------------------------------------------------- helpers


def _centre_radius(cloud: Array) -> tuple[Array, float]:
    """Centroid and radius (largest centroid distance; 1.0 for a single-location cloud)."""
    centre = cloud.mean(axis=0)
    radius = float(np.max(np.linalg.norm(cloud - centre, axis=1)))
    return centre, (radius if radius > 0.0 else 1.0)


def _count(fraction: float, n: int) -> int:
    """``round(fraction * n)``, at least 1."""
    return max(1, round(fraction * n))


def _knn(cloud: Array, centre: Array, k: int) -> NDArray[np.intp]:
    """Indices of the ``k`` points of ``cloud`` nearest to ``centre`` (ties by index)."""
    d2 = np.sum((cloud - centre) ** 2, axis=1)
    return np.argsort(d2, kind="stable")[:k]


def _split(total: int, parts: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """Split ``total`` into ``parts`` random non-negative integers summing to ``total``."""
    return rng.multinomial(total, rng.dirichlet(np.ones(parts))).astype(np.intp)


def _keep_without(n: int, removed: NDArray[np.intp]) -> NDArray[np.bool_]:
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    return keep


# ---------------------------------------------------------------------------- kinds


def _jitter(cloud: Array, sigma: float, rng: np.random.Generator) -> Array:
    """Every point moves by independent Gaussian noise, std ``sigma * r`` per axis."""
    _, radius = _centre_radius(cloud)
    return cloud + rng.normal(0.0, sigma * radius, size=cloud.shape)


def _dropout_global(cloud: Array, fraction: float, rng: np.random.Generator) -> Array:
    """Remove ``round(fraction * N)`` uniformly chosen points (at least one point stays)."""
    n = cloud.shape[0]
    n_drop = min(round(fraction * n), n - 1)
    removed = rng.permutation(n)[:n_drop]
    return cloud[_keep_without(n, removed)]


def _dropout_local(cloud: Array, fraction: float, rng: np.random.Generator) -> Array:
    """Remove ``round(fraction * N)`` points as kNN patches around 1..8 random centres."""
    n = cloud.shape[0]
    total = min(round(fraction * n), n - 1)
    n_centres = int(rng.integers(1, _MAX_LOCAL_CENTRES + 1))
    keep = np.ones(n, dtype=bool)
    for k in _split(total, n_centres, rng):
        remaining = np.flatnonzero(keep)
        if k == 0:
            continue
        centre = cloud[remaining[int(rng.integers(remaining.size))]]
        keep[remaining[_knn(cloud[remaining], centre, int(k))]] = False
    return cloud[keep]


def _add_global(cloud: Array, fraction: float, rng: np.random.Generator) -> Array:
    """Append ``round(fraction * N)`` (>= 1) points uniform in the axis-aligned bounding box."""
    n_add = _count(fraction, cloud.shape[0])
    low, high = cloud.min(axis=0), cloud.max(axis=0)
    noise = low + rng.random((n_add, 3)) * (high - low)
    return np.concatenate([cloud, noise])


def _add_local(cloud: Array, fraction: float, rng: np.random.Generator) -> Array:
    """Append ``round(fraction * N)`` points in Gaussian blobs around 1..8 cloud points."""
    _, radius = _centre_radius(cloud)
    n_add = _count(fraction, cloud.shape[0])
    n_centres = int(rng.integers(1, _MAX_LOCAL_CENTRES + 1))
    blobs = []
    for k in _split(n_add, n_centres, rng):
        centre = cloud[int(rng.integers(cloud.shape[0]))]
        sigma = rng.uniform(*_ADD_LOCAL_SIGMA) * radius
        blobs.append(centre + rng.normal(0.0, sigma, size=(int(k), 3)))
    return np.concatenate([cloud, *blobs])


def _scale(cloud: Array, bound: float, rng: np.random.Generator) -> Array:
    """Scale each axis by ``U(1/bound, bound)`` about the centroid, then restore the radius."""
    centre, radius = _centre_radius(cloud)
    factors = rng.uniform(1.0 / bound, bound, size=3)
    moved = (cloud - centre) * factors
    new_radius = float(np.max(np.linalg.norm(moved, axis=1)))
    if new_radius > 0.0:
        moved *= radius / new_radius
    return moved + centre


def _rotation_matrix(angles: Array) -> Array:
    """``Rz @ Ry @ Rx`` for Euler angles ``(ax, ay, az)`` in radians."""
    ax, ay, az = (float(a) for a in angles)
    cx, sx, cy, sy, cz, sz = (
        math.cos(ax),
        math.sin(ax),
        math.cos(ay),
        math.sin(ay),
        math.cos(az),
        math.sin(az),
    )
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    result: Array = rz @ ry @ rx
    return result


def _rotate(cloud: Array, max_degrees: float, rng: np.random.Generator) -> Array:
    """Rotate about the centroid by Euler angles each ``U(-a, a)`` degrees."""
    centre = cloud.mean(axis=0)
    angles = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=3))
    result: Array = (cloud - centre) @ _rotation_matrix(angles).T + centre
    return result


def _shear(cloud: Array, s: float, rng: np.random.Generator) -> Array:
    """Shear about the centroid: ``I + A``, off-diagonal ``|A_ij| ~ U(s - 0.05, s)``."""
    centre = cloud.mean(axis=0)
    magnitude = rng.uniform(max(s - _SHEAR_WIDTH, 0.0), s, size=(3, 3))
    sign = rng.choice(np.array([-1.0, 1.0]), size=(3, 3))
    matrix = np.eye(3) + (magnitude * sign) * (1.0 - np.eye(3))
    result: Array = (cloud - centre) @ matrix.T + centre
    return result


def _neighbourhoods(cloud: Array, n_centres: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """Union (sorted indices) of the ``0.1 N``-nearest neighbourhoods of random centres."""
    n = cloud.shape[0]
    k = _count(_DENSITY_NEIGHBOURS, n)
    centres = rng.choice(n, size=min(n_centres, n), replace=False)
    members = [_knn(cloud, cloud[int(c)], k) for c in centres]
    return np.unique(np.concatenate(members))


def _density_inc(cloud: Array, n_centres: float, rng: np.random.Generator) -> Array:
    """Duplicate every point near the centres, offset by ``0.005 r`` Gaussian noise."""
    _, radius = _centre_radius(cloud)
    region = _neighbourhoods(cloud, int(n_centres), rng)
    extra = cloud[region] + rng.normal(0.0, _DENSITY_INC_SIGMA * radius, size=(region.size, 3))
    return np.concatenate([cloud, extra])


def _density_dec(cloud: Array, n_centres: float, rng: np.random.Generator) -> Array:
    """Remove 75 % (random) of the points near the centres (at least one point stays)."""
    n = cloud.shape[0]
    region = _neighbourhoods(cloud, int(n_centres), rng)
    n_drop = min(round(_DENSITY_DEC_DROP * region.size), n - 1)
    removed = rng.permutation(region)[:n_drop]
    return cloud[_keep_without(n, removed)]


def _cutout(cloud: Array, n_centres: float, rng: np.random.Generator) -> Array:
    """For each of the centres, remove its ``0.05 N`` nearest remaining points."""
    n = cloud.shape[0]
    k = _count(_CUTOUT_NEIGHBOURS, n)
    keep = np.ones(n, dtype=bool)
    for _ in range(int(n_centres)):
        remaining = np.flatnonzero(keep)
        take = min(k, remaining.size - 1)
        if take <= 0:
            break
        centre = cloud[remaining[int(rng.integers(remaining.size))]]
        keep[remaining[_knn(cloud[remaining], centre, take)]] = False
    return cloud[keep]


def visible_points(cloud: Array, viewpoint: Array) -> NDArray[np.intp]:
    """Indices (sorted) of the points of ``cloud`` visible from ``viewpoint``.

    Hidden point removal (Katz, Tal, Basri 2007): with the viewpoint at the origin, every
    point ``p`` is flipped along its ray to ``p + 2 (R - |p|) p / |p|`` (spherical flipping,
    ``R`` = largest distance times 10); a point is visible iff its flipped image is a
    vertex of the convex hull of the flipped points and the viewpoint.

    Raises:
        InputError: fewer than 4 points, or points that do not span 3-D.
        MissingDependencyError: scipy is not installed.
    """
    try:
        from scipy.spatial import ConvexHull, QhullError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("scipy", "perception") from exc
    n = cloud.shape[0]
    if n < 4:
        raise InputError(f"occlusion needs at least 4 points, got {n}", field="points")
    rel = cloud - viewpoint
    dist = np.linalg.norm(rel, axis=1)
    dist = np.where(dist > 0.0, dist, np.finfo(np.float64).tiny)
    flip_radius = float(dist.max()) * 10.0**_HPR_EXPONENT
    flipped = rel + 2.0 * (flip_radius - dist)[:, None] * rel / dist[:, None]
    try:
        hull = ConvexHull(np.vstack([flipped, np.zeros((1, 3))]))
    except QhullError as exc:
        raise InputError(
            "occlusion needs a cloud that spans 3-D (convex hull failed)", field="points"
        ) from exc
    vertices = np.asarray(hull.vertices, dtype=np.intp)
    return np.sort(vertices[vertices < n])


def _occlusion(cloud: Array, distance: float, rng: np.random.Generator) -> Array:
    """Keep the points seen from a random direction at ``distance * r`` from the centroid."""
    centre, radius = _centre_radius(cloud)
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    viewpoint = centre + distance * radius * direction
    return cloud[visible_points(cloud, viewpoint)]


_KIND_FUNCS = {
    "jitter": _jitter,
    "dropout_global": _dropout_global,
    "dropout_local": _dropout_local,
    "add_global": _add_global,
    "add_local": _add_local,
    "scale": _scale,
    "rotate": _rotate,
    "shear": _shear,
    "density_inc": _density_inc,
    "density_dec": _density_dec,
    "cutout": _cutout,
    "occlusion": _occlusion,
}
