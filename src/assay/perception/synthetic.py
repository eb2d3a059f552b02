"""Offline synthetic LiDAR data: primitive shapes scanned by a simulated multi-beam sensor.

Each scan places one randomly shaped and posed primitive (ModelNet-like classes: sphere,
ellipsoid, cube, plank, cylinder, cone, torus, capsule, octahedron, disk) in front of a
single-view spinning LiDAR that looks slightly down on it, as a sensor on a vehicle or a
post looks at an object on the ground. The sensor sits at the origin of the *sensor frame*
(x forward, z up). It fires ``n_beams`` fixed elevation angles (beam 0 is the lowest) and
``n_azimuth`` horizontal steps, both spread evenly over the object's angular extent. Every
ray is intersected with the shape by sphere tracing its signed distance function (a fixed
number of vectorised steps for all rays at once); the nearest hit is kept and Gaussian range
noise is added along the ray. The hits are then centred on their centroid and scaled into
the unit sphere, as ModelNet-style classifiers expect.

Everything is deterministic from the :class:`numpy.random.Generator` (or seed) passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError

__all__ = ["CLASSES", "PosedShape", "Scan", "make_dataset", "scan_shape"]

CLASSES: tuple[str, ...] = (
    "sphere",
    "ellipsoid",
    "cube",
    "plank",
    "cylinder",
    "cone",
    "torus",
    "capsule",
    "octahedron",
    "disk",
)

FloatArray = NDArray[np.float64]

_N_STEPS = 96  # sphere-tracing steps per ray
_HIT_EPS = 1e-3  # |SDF| (in units of the shape scale) below which a ray counts as a hit
_MAX_TILT = np.deg2rad(10.0)  # small random tilt about the horizontal axes
_FOV_MARGIN = 0.05  # fraction of the angular extent added on each side of the scan window


@dataclass(frozen=True)
class PosedShape:
    """A primitive in the sensor frame: ``world = centre + scale * rotation @ local``.

    Attributes:
        kind: one of :data:`CLASSES`.
        params: the shape's dimensions in its local frame (vertical axis z, size about 1).
        half_extents: half sizes of the local axis-aligned box that encloses the shape.
        rotation: (3, 3) rotation from the local to the sensor frame.
        centre: (3,) position of the local origin in the sensor frame, in metres.
        scale: metres per local unit.
    """

    kind: str
    params: tuple[float, ...]
    half_extents: tuple[float, float, float]
    rotation: FloatArray
    centre: FloatArray
    scale: float

    def sdf(self, points: FloatArray) -> FloatArray:
        """Signed distance in metres from sensor-frame ``points`` (N, 3) to the shape surface.

        Negative inside. Exact for most kinds; for the ellipsoid a first-order approximation
        and for the octahedron a lower bound, both exact on the surface itself.
        """
        local = (np.asarray(points, dtype=np.float64) - self.centre) @ self.rotation / self.scale
        return self.scale * _local_sdf(self.kind, self.params, local)

    @property
    def bounding_radius(self) -> float:
        """Radius in metres of a sphere about :attr:`centre` that encloses the shape."""
        return float(self.scale * np.linalg.norm(self.half_extents))


@dataclass(frozen=True)
class Scan:
    """One simulated LiDAR capture of one object.

    Attributes:
        points: (N, 3) float32 hits, centred on their centroid and scaled into the unit sphere.
        beam: (N,) int16 beam (elevation) index of each hit; 0 is the lowest beam.
        azimuth: (N,) int16 horizontal step index of each hit; increases counter-clockwise.
        label: index of the shape's kind in :data:`CLASSES`.
        sensor_points: (N, 3) float32 raw hits in the sensor frame, in metres.
        shape: the posed primitive that was scanned (its SDF is in the sensor frame).
    """

    points: NDArray[np.float32]
    beam: NDArray[np.int16]
    azimuth: NDArray[np.int16]
    label: int
    sensor_points: NDArray[np.float32]
    shape: PosedShape


# --------------------------------------------------------------------------- local SDFs


def _box(p: FloatArray, half: FloatArray) -> FloatArray:
    """Exact SDF of an axis-aligned box with half sizes ``half`` centred at the origin."""
    q = np.abs(p) - half
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=-1)
    inside = np.minimum(q.max(axis=-1), 0.0)
    result: FloatArray = outside + inside
    return result


def _segment_distance(
    px: FloatArray, pz: FloatArray, a: tuple[float, float], b: tuple[float, float]
) -> FloatArray:
    """Distance in the (rho, z) plane from points to the segment from ``a`` to ``b``."""
    ex, ez = b[0] - a[0], b[1] - a[1]
    wx, wz = px - a[0], pz - a[1]
    u = np.clip((wx * ex + wz * ez) / (ex * ex + ez * ez), 0.0, 1.0)
    result: FloatArray = np.hypot(wx - u * ex, wz - u * ez)
    return result


def _local_sdf(kind: str, params: tuple[float, ...], p: FloatArray) -> FloatArray:
    """SDF of a primitive of ``kind`` in its own frame (vertical axis z) at points (N, 3)."""
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    rho = np.hypot(x, y)
    if kind == "sphere":
        (r,) = params
        result: FloatArray = np.linalg.norm(p, axis=-1) - r
        return result
    if kind == "ellipsoid":
        axes = np.asarray(params)
        k0 = np.linalg.norm(p / axes, axis=-1)
        k1 = np.maximum(np.linalg.norm(p / axes**2, axis=-1), 1e-12)
        result = k0 * (k0 - 1.0) / k1
        return result
    if kind in ("cube", "plank"):
        return _box(p, np.asarray(params))
    if kind in ("cylinder", "disk"):
        r, h = params
        qx, qz = rho - r, np.abs(z) - h
        result = np.hypot(np.maximum(qx, 0.0), np.maximum(qz, 0.0)) + np.minimum(
            np.maximum(qx, qz), 0.0
        )
        return result
    if kind == "cone":
        # Solid of revolution of the triangle (0, -h), (r, -h), (0, h) in the (rho, z) plane.
        r, h = params
        d = np.minimum(
            _segment_distance(rho, z, (0.0, -h), (r, -h)),
            _segment_distance(rho, z, (r, -h), (0.0, h)),
        )
        inside = (z >= -h) & (rho / r + (z + h) / (2.0 * h) <= 1.0)
        result = np.where(inside, -d, d)
        return result
    if kind == "torus":
        major, minor = params
        result = np.hypot(rho - major, z) - minor
        return result
    if kind == "capsule":
        r, h = params
        result = np.sqrt(rho**2 + (z - np.clip(z, -h, h)) ** 2) - r
        return result
    if kind == "octahedron":
        (a,) = params
        result = (np.abs(x) + np.abs(y) + np.abs(z) - a) / np.sqrt(3.0)
        return result
    raise InputError(f"unknown shape kind {kind!r}; expected one of {CLASSES}", field="kind")


def _random_params(
    kind: str, rng: np.random.Generator
) -> tuple[tuple[float, ...], tuple[float, float, float]]:
    """Draw the local dimensions of a ``kind`` primitive and its enclosing half extents."""
    u = rng.uniform
    if kind == "sphere":
        r = u(0.8, 1.0)
        return (r,), (r, r, r)
    if kind == "ellipsoid":
        axes = rng.permutation([u(0.9, 1.0), u(0.5, 0.75), u(0.25, 0.45)])
        a, b, c = (float(v) for v in axes)
        return (a, b, c), (a, b, c)
    if kind == "cube":
        a = u(0.5, 0.6)
        return (a, a, a), (a, a, a)
    if kind == "plank":
        # A board standing on its long edge: long along x, tall along z, thin along y.
        dims = (u(0.8, 1.0), u(0.03, 0.07), u(0.25, 0.45))
        return dims, dims
    if kind == "cylinder":
        r, h = u(0.4, 0.6), u(0.5, 0.9)
        return (r, h), (r, r, h)
    if kind == "cone":
        r, h = u(0.45, 0.65), u(0.6, 0.9)
        return (r, h), (r, r, h)
    if kind == "torus":
        major, minor = u(0.6, 0.8), u(0.12, 0.25)
        return (major, minor), (major + minor, major + minor, minor)
    if kind == "capsule":
        r, h = u(0.25, 0.4), u(0.4, 0.6)
        return (r, h), (r, r, h + r)
    if kind == "octahedron":
        a = u(0.8, 1.0)
        return (a,), (a, a, a)
    if kind == "disk":
        r, h = u(0.8, 1.0), u(0.02, 0.05)
        return (r, h), (r, r, h)
    raise InputError(f"unknown shape kind {kind!r}; expected one of {CLASSES}", field="kind")


def _rotation(yaw: float, tilt_x: float, tilt_y: float) -> FloatArray:
    """Rotation matrix: tilt about x, then about y, then ``yaw`` about the vertical z axis."""
    cz, sz = np.cos(yaw), np.sin(yaw)
    cx, sx = np.cos(tilt_x), np.sin(tilt_x)
    cy, sy = np.cos(tilt_y), np.sin(tilt_y)
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    result: FloatArray = rz @ ry @ rx
    return result


def _check_scan_args(n_beams: int, n_azimuth: int, noise: float) -> None:
    """Raise :class:`InputError` on scan settings that cannot describe a sensor."""
    if isinstance(n_beams, bool) or not isinstance(n_beams, int | np.integer) or n_beams < 2:
        raise InputError(f"must be an integer >= 2, got {n_beams!r}", field="n_beams")
    if isinstance(n_azimuth, bool) or not isinstance(n_azimuth, int | np.integer) or n_azimuth < 2:
        raise InputError(f"must be an integer >= 2, got {n_azimuth!r}", field="n_azimuth")
    if n_beams > np.iinfo(np.int16).max or n_azimuth > np.iinfo(np.int16).max:
        raise InputError("beam and azimuth counts must fit in int16", field="n_beams")
    if not np.isfinite(noise) or noise < 0:
        raise InputError(f"must be a finite number >= 0, got {noise!r}", field="noise")


def scan_shape(
    kind: str,
    rng: np.random.Generator,
    *,
    n_beams: int = 32,
    n_azimuth: int = 64,
    noise: float = 0.005,
) -> Scan:
    """Scan one randomly shaped and posed ``kind`` primitive with a simulated multi-beam LiDAR.

    The object (scale 0.5–2 m, random yaw, tilt up to 10°) stands 4–10 bounding radii from the
    sensor, seen from 5–30° above. Beams and azimuth steps are spread evenly over the angular
    extent of the object's enclosing box plus a small margin, so the object fills the window.

    Args:
        kind: the primitive, one of :data:`CLASSES`.
        rng: source of every random choice (shape, pose, noise).
        n_beams: number of elevation angles (rows of the scan), at least 2.
        n_azimuth: number of horizontal steps (columns of the scan), at least 2.
        noise: standard deviation of the Gaussian range noise along each ray, in metres.

    Returns:
        The hits as a :class:`Scan`; rays that miss the object produce no point.

    Raises:
        InputError: on an unknown ``kind`` or impossible sensor settings.
    """
    if kind not in CLASSES:
        raise InputError(f"unknown shape kind {kind!r}; expected one of {CLASSES}", field="kind")
    _check_scan_args(n_beams, n_azimuth, noise)

    params, half = _random_params(kind, rng)
    scale = float(rng.uniform(0.5, 2.0))
    rotation = _rotation(
        float(rng.uniform(0.0, 2.0 * np.pi)),
        float(rng.uniform(-_MAX_TILT, _MAX_TILT)),
        float(rng.uniform(-_MAX_TILT, _MAX_TILT)),
    )
    bound = scale * float(np.linalg.norm(half))
    distance = bound * float(rng.uniform(4.0, 10.0))
    depression = float(np.deg2rad(rng.uniform(5.0, 30.0)))
    centre = distance * np.array([np.cos(depression), 0.0, -np.sin(depression)])
    shape = PosedShape(kind, params, half, rotation, centre, scale)

    # Angular window: extent of the eight enclosing-box corners as seen from the sensor.
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    corners = centre + scale * (signs * np.asarray(half)) @ rotation.T
    corner_az = np.arctan2(corners[:, 1], corners[:, 0])
    corner_el = np.arctan2(corners[:, 2], np.hypot(corners[:, 0], corners[:, 1]))
    az_lo, az_hi = corner_az.min(), corner_az.max()
    el_lo, el_hi = corner_el.min(), corner_el.max()
    az_pad, el_pad = _FOV_MARGIN * (az_hi - az_lo), _FOV_MARGIN * (el_hi - el_lo)
    elevations = np.linspace(el_lo - el_pad, el_hi + el_pad, n_beams)
    azimuths = np.linspace(az_lo - az_pad, az_hi + az_pad, n_azimuth)

    beam_grid, az_grid = np.meshgrid(np.arange(n_beams), np.arange(n_azimuth), indexing="ij")
    beam_ids, az_ids = beam_grid.ravel(), az_grid.ravel()
    el, az = elevations[beam_ids], azimuths[az_ids]
    dirs = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)

    # Sphere tracing from where each ray enters the bounding sphere.
    along = dirs @ centre
    disc = along**2 - (float(centre @ centre) - bound**2)
    enters = disc > 0.0
    root = np.sqrt(np.maximum(disc, 0.0))
    t_far = along + root
    t = np.maximum(along - root, 0.0)
    for _ in range(_N_STEPS):
        t = np.minimum(t + shape.sdf(t[:, None] * dirs), t_far + bound)
    residual = shape.sdf(t[:, None] * dirs)
    hit = enters & (np.abs(residual) < _HIT_EPS * scale) & (t <= t_far)

    t_hit = t[hit] + rng.normal(0.0, noise, size=int(hit.sum())) if noise > 0 else t[hit]
    raw = t_hit[:, None] * dirs[hit]
    if len(raw):
        centred = raw - raw.mean(axis=0)
        radius = float(np.linalg.norm(centred, axis=1).max())
        normalised = centred / radius if radius > 0 else centred
    else:
        normalised = raw
    return Scan(
        points=normalised.astype(np.float32),
        beam=beam_ids[hit].astype(np.int16),
        azimuth=az_ids[hit].astype(np.int16),
        label=CLASSES.index(kind),
        sensor_points=raw.astype(np.float32),
        shape=shape,
    )


def make_dataset(
    n_per_class: int,
    seed: int,
    *,
    n_points: int = 1024,
    n_beams: int = 32,
    n_azimuth: int = 64,
    noise: float = 0.005,
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.int16]]:
    """Scan ``n_per_class`` random objects of every class and resample each to ``n_points``.

    Scans with more hits than ``n_points`` are subsampled without replacement; scans with fewer
    keep every hit and repeat random ones. Each object gets its own child seed, so the data
    set is deterministic from ``seed``. Objects are ordered class by class, as in
    :data:`CLASSES`, and the points of each object are in random order.

    Args:
        n_per_class: objects per class, at least 1.
        seed: seed of the whole data set (a non-negative integer).
        n_points: points per object, at least 1.
        n_beams: elevation beams of the simulated sensor.
        n_azimuth: horizontal steps of the simulated sensor.
        noise: standard deviation of the range noise along each ray, in metres.

    Returns:
        ``(points, labels, beams)``: (M, n_points, 3) float32 normalised points, (M,) int64
        class indices and (M, n_points) int16 beam ids, with ``M = n_per_class * len(CLASSES)``.

    Raises:
        InputError: on a count below 1, a negative seed or impossible sensor settings.
    """
    for name, value in (("n_per_class", n_per_class), ("n_points", n_points)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InputError(f"must be an integer >= 1, got {value!r}", field=name)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"must be a non-negative integer, got {seed!r}", field="seed")
    _check_scan_args(n_beams, n_azimuth, noise)

    total = n_per_class * len(CLASSES)
    children = np.random.SeedSequence(int(seed)).spawn(total)
    points = np.empty((total, n_points, 3), dtype=np.float32)
    labels = np.empty(total, dtype=np.int64)
    beams = np.empty((total, n_points), dtype=np.int16)
    for index, child in enumerate(children):
        kind = CLASSES[index // n_per_class]
        rng = np.random.default_rng(child)
        scan = scan_shape(kind, rng, n_beams=n_beams, n_azimuth=n_azimuth, noise=noise)
        while len(scan.points) == 0:  # practically never: the window is fitted to the object
            scan = scan_shape(kind, rng, n_beams=n_beams, n_azimuth=n_azimuth, noise=noise)
        n_hits = len(scan.points)
        if n_hits >= n_points:
            pick = rng.choice(n_hits, size=n_points, replace=False)
        else:
            extra = rng.choice(n_hits, size=n_points - n_hits, replace=True)
            pick = rng.permutation(np.concatenate([np.arange(n_hits), extra]))
        points[index] = scan.points[pick]
        labels[index] = scan.label
        beams[index] = scan.beam[pick]
    return points, labels, beams
