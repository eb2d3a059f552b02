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

:func:`corrupt_batch` applies a kind to a whole ``(B, N, 3)`` batch at once, vectorised
over the clouds (one ``(B, M, 3)`` array for the kinds in :data:`BATCH_ARRAY_KINDS`, a list
of ``B`` arrays otherwise); it is deterministic given the generator and has the same
per-cloud distribution as :func:`corrupt`, but not the same draws.

Occlusion keeps a strict subset of any closed surface (on a unit sphere, about
``(1 - 1/d) / 2`` of the points plus a few at the horizon). Shrinking kinds always keep at
least one point (and return the kept rows in their input order); growing kinds append the
new points after the original rows, which are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError, MissingDependencyError
from assay.perception.checks import check_kind, check_rng, check_severity

__all__ = [
    "BATCH_ARRAY_KINDS",
    "KINDS",
    "PARAMS",
    "SAME_COUNT",
    "SEVERITIES",
    "corrupt",
    "corrupt_batch",
    "visible_points",
]

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

#: Kinds for which :func:`corrupt_batch` returns one ``(B, M, 3)`` array: the output count
#: depends only on ``N`` and the severity. The others (density_inc, density_dec, occlusion)
#: give a list of ``B`` arrays.
BATCH_ARRAY_KINDS: frozenset[str] = frozenset(
    {
        "jitter",
        "dropout_global",
        "dropout_local",
        "add_global",
        "add_local",
        "scale",
        "rotate",
        "shear",
        "cutout",
    }
)

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
Batch = NDArray[np.float32]


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
    param = _validate_call(kind, severity, rng)
    out = _KIND_FUNCS[kind](cloud, param, rng)
    return np.ascontiguousarray(out, dtype=np.float32)


def corrupt_batch(
    points: NDArray[np.floating],
    kind: str,
    severity: int,
    rng: np.random.Generator,
) -> NDArray[np.float32] | list[NDArray[np.float32]]:
    """Apply one corruption at one severity to every cloud of a batch, vectorised.

    Each cloud gets the corruption :func:`corrupt` describes (same parameters, same
    per-cloud radius and centroid, the same kind of random draws, independent between
    clouds), computed for the whole batch at once in ``float32``: one random draw per
    quantity for the batch, batched matrix products for rotate/scale/shear, random keys and
    sorting instead of permutations, and one distance row per cloud and centre for the kNN
    kinds. The output is a deterministic function of ``rng``'s state, but it is **not**
    identical to ``B`` calls of :func:`corrupt` (the draws are made in a different order);
    it matches them in distribution.

    Args:
        points: the batch, ``(B, N, 3)`` finite coordinates, ``B, N >= 1``.
        kind: one of :data:`KINDS`.
        severity: 1 (mild) to 5 (severe).
        rng: the only source of randomness.

    Returns:
        For the kinds in :data:`BATCH_ARRAY_KINDS`, whose output count depends only on ``N``
        and the severity, one ``float32`` ``(B, M, 3)`` array (``M`` as :func:`corrupt`
        gives for an ``N``-point cloud). For density_inc, density_dec and occlusion, whose
        count varies from cloud to cloud, a list of ``B`` ``float32`` ``(M_b, 3)`` arrays.
        Kept rows stay in input order; added rows follow the original ones.

    Raises:
        InputError: ``points`` is not a finite ``(B, N, 3)`` array, or a bad ``kind``,
            ``severity`` or ``rng`` (as :func:`corrupt`).
        MissingDependencyError: occlusion without scipy.
    """
    batch = _validate_batch(points)
    param = _validate_call(kind, severity, rng)
    if kind == "occlusion":
        clouds = batch.astype(np.float64)
        return [np.ascontiguousarray(_occlusion(c, param, rng), dtype=np.float32) for c in clouds]
    return _BATCH_FUNCS[kind](batch, param, rng)


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


def _validate_call(kind: object, severity: object, rng: object) -> float:
    """Check kind, severity and rng; return the kind's parameter at that severity."""
    name = check_kind(kind, KINDS)
    level = check_severity(severity, SEVERITIES)
    check_rng(rng)
    return PARAMS[name][level - 1]


def _validate_batch(points: object) -> Batch:
    try:
        batch = np.asarray(points, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="points") from exc
    if batch.ndim != 3 or batch.shape[2] != 3:
        raise InputError(f"expected shape (B, N, 3), got {batch.shape}", field="points")
    if batch.shape[0] < 1 or batch.shape[1] < 1:
        raise InputError(f"the batch is empty: shape {batch.shape}", field="points")
    if not np.isfinite(batch).all():
        raise InputError("the batch has NaN or infinite coordinates", field="points")
    return np.ascontiguousarray(batch)


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


# ---------------------------------------------------------------------------- batched kinds
# Same physics as the per-cloud kinds above, on a (B, N, 3) float32 batch.


def _b_mean(batch: Batch) -> Batch:
    """Per-cloud centroid ``(B, 1, 3)`` as one batched product with ``1/N`` weights (a plain
    ``mean(axis=1)`` over the middle axis is a strided reduction, ~25x slower)."""
    weights = np.full((1, batch.shape[1]), 1.0 / batch.shape[1], dtype=np.float32)
    out: Batch = np.matmul(weights, batch)
    return out


def _b_standard_normal(shape: tuple[int, ...], rng: np.random.Generator) -> Batch:
    """Standard normal ``float32`` draws by the Box-Muller transform of ``float32`` uniforms
    (exactly Gaussian up to float32 resolution, tails cut at ~5.8 sigma; ~3x faster than
    ``rng.standard_normal`` here)."""
    n = math.prod(shape)
    half = (n + 1) // 2
    u = rng.random((2, half), dtype=np.float32)
    r = np.sqrt(np.float32(-2.0) * np.log1p(-u[0]))
    theta = u[1] * np.float32(2.0 * math.pi)
    out = np.empty(2 * half, dtype=np.float32)
    np.multiply(r, np.cos(theta), out=out[:half])
    np.multiply(r, np.sin(theta), out=out[half:])
    return out[:n].reshape(shape)


def _b_sq_norm(rel: Batch) -> Batch:
    """``(B, N)`` squared norms of ``(B, N, 3)`` rows, one coordinate plane at a time (the
    fastest of einsum, square-and-matmul and this in the benchmark loop)."""
    out: Batch = np.square(rel[:, :, 0])
    out += np.square(rel[:, :, 1])
    out += np.square(rel[:, :, 2])
    return out


def _b_centre_radius(batch: Batch) -> tuple[Batch, Batch]:
    """Per-cloud centroid ``(B, 1, 3)`` and radius ``(B,)`` (1.0 for a one-location cloud)."""
    centre = _b_mean(batch)
    rel = batch - centre
    radius = np.sqrt(_b_sq_norm(rel).max(axis=1))
    return centre, np.where(radius > 0.0, radius, np.float32(1.0)).astype(np.float32)


def _b_smallest(
    values: NDArray[np.floating],
    k: NDArray[np.intp],
    sort_buffer: NDArray[np.floating] | None = None,
) -> NDArray[np.bool_]:
    """Per row, mask of the ``k[b]`` smallest values (ties broken by index, like a stable
    argsort); rows with ``k[b] == 0`` select nothing. ``k[b]`` must not exceed the row's
    count of finite values. ``sort_buffer`` (same shape and dtype) spares an allocation."""
    rows = np.arange(values.shape[0])
    if sort_buffer is None:
        ordered = np.sort(values, axis=1)
    else:
        np.copyto(sort_buffer, values)
        sort_buffer.sort(axis=1)
        ordered = sort_buffer
    threshold = ordered[rows, np.maximum(k - 1, 0)]
    threshold[k == 0] = -np.inf  # select nothing
    chosen: NDArray[np.bool_] = values <= threshold[:, None]
    tied = np.flatnonzero(np.count_nonzero(chosen, axis=1) > k)  # the k-th value is tied
    if tied.size:  # in those rows keep the ties with the lowest indices only
        part, sel = values[tied], chosen[tied]
        tie = part == threshold[tied, None]
        need = k[tied] - np.count_nonzero(sel & ~tie, axis=1)
        chosen[tied] = sel & (~tie | (np.cumsum(tie, axis=1) <= need[:, None]))
    return chosen


def _b_rows(batch: Batch, keep: NDArray[np.bool_]) -> Batch:
    """``batch[keep]`` (the rows where ``keep``, cloud after cloud, in order) as a ``take`` of
    flat row indices: ~5x faster than boolean indexing of ``(B, N, 3)`` by ``(B, N)``."""
    out: Batch = np.take(batch.reshape(-1, 3), np.flatnonzero(keep), axis=0)
    return out


def _b_gather(batch: Batch, keep: NDArray[np.bool_], m: int) -> Batch:
    """Rows of ``batch`` where ``keep`` (exactly ``m`` per cloud), in order: ``(B, m, 3)``."""
    return _b_rows(batch, keep).reshape(batch.shape[0], m, 3)


def _b_split(batch: Batch, keep: NDArray[np.bool_]) -> list[Batch]:
    """Rows of each cloud where ``keep``, as a list of ``B`` arrays."""
    flat = _b_rows(batch, keep)
    ends = np.cumsum(np.count_nonzero(keep, axis=1))[:-1]
    return [np.ascontiguousarray(part) for part in np.split(flat, ends)]


class _Distances:
    """Squared distances from every point of a cloud to one of its points, for many centres:
    ``|x - c|^2 = |x|^2 - 2 x.c + |c|^2`` with ``x`` relative to the centroid (so float32
    keeps ~1e-7 r^2 absolute accuracy wherever the cloud sits), one batched product each."""

    def __init__(self, batch: Batch) -> None:
        self.rel = batch - _b_mean(batch)
        self.sq: Batch = _b_sq_norm(self.rel)
        self.rows = np.arange(batch.shape[0])
        # reused outputs: fresh (B, N) temporaries cost more in page faults than the sums
        self.buffer = np.empty((*batch.shape[:2], 1), dtype=np.float32)
        self.sort_buffer = np.empty(batch.shape[:2], dtype=np.float32)

    def to(self, index: NDArray[np.intp]) -> Batch:
        """``(B, N)`` squared distances to point ``index[b]`` of each cloud ``b`` (a view of
        a buffer that the next call overwrites)."""
        centre = self.rel[self.rows, index]  # (B, 3)
        d2: Batch = np.matmul(self.rel, centre[:, :, None], out=self.buffer)[:, :, 0]
        d2 *= np.float32(-2.0)
        d2 += self.sq
        d2 += self.sq[self.rows, index][:, None]
        return d2


def _b_split_counts(total: int, b: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """``(B, 8)`` counts: ``total`` split among 1..8 centres per cloud with Dirichlet(1)
    shares (unused centre slots get 0), as :func:`_split` does for one cloud."""
    n_centres = rng.integers(1, _MAX_LOCAL_CENTRES + 1, size=b)
    weights = rng.standard_exponential((b, _MAX_LOCAL_CENTRES))  # Dirichlet(1) = normalised
    weights[np.arange(_MAX_LOCAL_CENTRES)[None, :] >= n_centres[:, None]] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    counts: NDArray[np.intp] = rng.multinomial(total, weights).astype(np.intp)
    return counts


class _Patches:
    """Removes kNN patches around random centres from every cloud of a batch, one centre per
    cloud at a time. A centre is the remaining point with the largest of random keys drawn
    once in ``[1, 2)`` (removed points get key 0): the keys are independent of the geometry
    and of the earlier patches, so the remaining keys are exchangeable and each centre is a
    uniformly random remaining point, as in the per-cloud code."""

    def __init__(self, batch: Batch, rng: np.random.Generator) -> None:
        b, n = batch.shape[:2]
        self.dist = _Distances(batch)
        self.keep = np.ones((b, n), dtype=bool)
        self.keys = rng.random((b, n), dtype=np.float32)
        self.keys += np.float32(1.0)

    def remove(self, k: NDArray[np.intp]) -> None:
        """Remove, in each cloud ``b``, the ``k[b]`` remaining points nearest its centre."""
        d2 = self.dist.to(np.argmax(self.keys, axis=1))
        np.copyto(d2, np.float32(np.inf), where=~self.keep)
        self.keep &= ~_b_smallest(d2, k, self.dist.sort_buffer)
        self.keys *= self.keep


def _b_jitter(batch: Batch, sigma: float, rng: np.random.Generator) -> Batch:
    _, radius = _b_centre_radius(batch)
    noise = _b_standard_normal(batch.shape, rng)
    noise *= (np.float32(sigma) * radius)[:, None, None]
    noise += batch
    return noise


def _b_dropout_global(batch: Batch, fraction: float, rng: np.random.Generator) -> Batch:
    b, n = batch.shape[:2]
    n_drop = min(round(fraction * n), n - 1)
    if n_drop == 0:
        return batch.copy()
    keys = rng.random((b, n), dtype=np.float32)
    removed = np.argpartition(keys, n_drop - 1, axis=1)[:, :n_drop]
    keep = np.ones((b, n), dtype=bool)
    np.put_along_axis(keep, removed, False, axis=1)
    return _b_gather(batch, keep, n - n_drop)


def _b_dropout_local(batch: Batch, fraction: float, rng: np.random.Generator) -> Batch:
    b, n = batch.shape[:2]
    total = min(round(fraction * n), n - 1)
    counts = _b_split_counts(total, b, rng)
    patches = _Patches(batch, rng)
    for j in range(_MAX_LOCAL_CENTRES):
        if np.any(counts[:, j]):
            patches.remove(counts[:, j])
    return _b_gather(batch, patches.keep, n - total)


def _b_add_global(batch: Batch, fraction: float, rng: np.random.Generator) -> Batch:
    b, n = batch.shape[:2]
    n_add = _count(fraction, n)
    by_axis = np.ascontiguousarray(batch.transpose(0, 2, 1))  # fast contiguous reductions
    low, high = by_axis.min(axis=2)[:, None, :], by_axis.max(axis=2)[:, None, :]
    noise = rng.random((b, n_add, 3), dtype=np.float32)
    noise *= high - low
    noise += low
    return np.concatenate([batch, noise], axis=1)


def _b_add_local(batch: Batch, fraction: float, rng: np.random.Generator) -> Batch:
    b, n = batch.shape[:2]
    _, radius = _b_centre_radius(batch)
    n_add = _count(fraction, n)
    counts = _b_split_counts(n_add, b, rng)
    centre_rows = rng.integers(0, n, size=(b, _MAX_LOCAL_CENTRES))
    sigma = rng.uniform(*_ADD_LOCAL_SIGMA, size=(b, _MAX_LOCAL_CENTRES)).astype(np.float32)
    sigma *= radius[:, None]
    centres = batch[np.arange(b)[:, None], centre_rows]  # (B, 8, 3)
    # each centre's row (and its sigma, per axis) repeated once per blob point: every cloud
    # gets n_add rows, grouped by centre; plain same-shape products, no per-point gathers
    per_point = counts.ravel()
    at = np.repeat(centres.reshape(-1, 3), per_point, axis=0)
    spread = np.repeat(np.repeat(sigma.reshape(-1, 1), 3, axis=1), per_point, axis=0)
    blobs = _b_standard_normal(at.shape, rng)
    blobs *= spread
    blobs += at
    return np.concatenate([batch, blobs.reshape(b, n_add, 3)], axis=1)


def _b_linear(batch: Batch, matrices: NDArray[np.floating], centre: Batch) -> Batch:
    """``(x - c) @ A_b^T + c`` for every cloud ``b``."""
    transposed = matrices.astype(np.float32).transpose(0, 2, 1)
    out: Batch = np.matmul(batch, transposed)
    out += centre - np.matmul(centre, transposed)  # = (x - c) A^T + c, one pass fewer
    return out


def _b_scale(batch: Batch, bound: float, rng: np.random.Generator) -> Batch:
    centre, radius = _b_centre_radius(batch)
    factors = rng.uniform(1.0 / bound, bound, size=(batch.shape[0], 1, 3)).astype(np.float32)
    moved = batch - centre
    moved *= factors
    new_radius = np.sqrt(_b_sq_norm(moved).max(axis=1))
    ratio = np.divide(radius, new_radius, out=np.ones_like(radius), where=new_radius > 0.0)
    moved *= ratio[:, None, None]
    moved += centre
    return moved


def _b_rotate(batch: Batch, max_degrees: float, rng: np.random.Generator) -> Batch:
    b = batch.shape[0]
    angles = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=(b, 3)))
    c, s = np.cos(angles), np.sin(angles)
    cx, cy, cz, sx, sy, sz = c[:, 0], c[:, 1], c[:, 2], s[:, 0], s[:, 1], s[:, 2]
    # Rz @ Ry @ Rx, written out (as _rotation_matrix does for one cloud).
    rot = np.empty((b, 3, 3))
    rot[:, 0, 0] = cz * cy
    rot[:, 0, 1] = cz * sy * sx - sz * cx
    rot[:, 0, 2] = cz * sy * cx + sz * sx
    rot[:, 1, 0] = sz * cy
    rot[:, 1, 1] = sz * sy * sx + cz * cx
    rot[:, 1, 2] = sz * sy * cx - cz * sx
    rot[:, 2, 0] = -sy
    rot[:, 2, 1] = cy * sx
    rot[:, 2, 2] = cy * cx
    return _b_linear(batch, rot, _b_mean(batch))


def _b_shear(batch: Batch, s: float, rng: np.random.Generator) -> Batch:
    b = batch.shape[0]
    magnitude = rng.uniform(max(s - _SHEAR_WIDTH, 0.0), s, size=(b, 3, 3))
    sign = np.where(rng.random((b, 3, 3)) < 0.5, -1.0, 1.0)
    matrices = np.eye(3) + magnitude * sign * (1.0 - np.eye(3))
    return _b_linear(batch, matrices, _b_mean(batch))


def _b_neighbourhoods(
    batch: Batch, n_centres: int, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], _Distances]:
    """``(B, N)`` union of the ``0.1 N``-nearest neighbourhoods of distinct random centres
    (and the distance helper, whose ``sq`` also gives the radius)."""
    b, n = batch.shape[:2]
    k = np.full(b, _count(_DENSITY_NEIGHBOURS, n), dtype=np.intp)
    m = min(n_centres, n)
    if m == 1:
        centres = rng.integers(0, n, size=(b, 1))
    else:  # m distinct points: the m smallest of uniform keys
        keys = rng.random((b, n), dtype=np.float32)
        centres = np.argpartition(keys, m - 1, axis=1)[:, :m] if m < n else np.argsort(keys, 1)
    dist = _Distances(batch)
    region = np.zeros((b, n), dtype=bool)
    for j in range(m):
        region |= _b_smallest(dist.to(centres[:, j]), k, dist.sort_buffer)
    return region, dist


def _b_density_inc(batch: Batch, n_centres: float, rng: np.random.Generator) -> list[Batch]:
    region, dist = _b_neighbourhoods(batch, int(n_centres), rng)
    radius = np.sqrt(dist.sq.max(axis=1))
    radius[radius <= 0.0] = 1.0  # a one-location cloud (as _b_centre_radius)
    extra = _b_rows(batch, region)
    noise = _b_standard_normal(extra.shape, rng)
    noise *= np.float32(_DENSITY_INC_SIGMA) * np.repeat(radius, region.sum(axis=1))[:, None]
    extra += noise
    ends = np.cumsum(region.sum(axis=1))[:-1]
    return [np.concatenate([c, e]) for c, e in zip(batch, np.split(extra, ends), strict=True)]


def _b_density_dec(batch: Batch, n_centres: float, rng: np.random.Generator) -> list[Batch]:
    n = batch.shape[1]
    region, _ = _b_neighbourhoods(batch, int(n_centres), rng)
    n_drop = np.minimum(np.rint(_DENSITY_DEC_DROP * region.sum(axis=1)), n - 1).astype(np.intp)
    keys = rng.random(region.shape)  # float64: ties (broken by index) practically never
    keys[~region] = np.inf
    return _b_split(batch, ~_b_smallest(keys, n_drop))


def _b_cutout(batch: Batch, n_centres: float, rng: np.random.Generator) -> Batch:
    b, n = batch.shape[:2]
    k = _count(_CUTOUT_NEIGHBOURS, n)
    patches = _Patches(batch, rng)
    remaining = n
    for _ in range(int(n_centres)):
        take = min(k, remaining - 1)
        if take <= 0:
            break
        patches.remove(np.full(b, take, dtype=np.intp))
        remaining -= take
    return _b_gather(batch, patches.keep, remaining)


_BATCH_FUNCS: dict[str, Callable[[Batch, float, np.random.Generator], Batch | list[Batch]]] = {
    "jitter": _b_jitter,
    "dropout_global": _b_dropout_global,
    "dropout_local": _b_dropout_local,
    "add_global": _b_add_global,
    "add_local": _b_add_local,
    "scale": _b_scale,
    "rotate": _b_rotate,
    "shear": _b_shear,
    "density_inc": _b_density_inc,
    "density_dec": _b_density_dec,
    "cutout": _b_cutout,
}
