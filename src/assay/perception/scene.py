"""A synthetic 360° multi-beam LiDAR scan of a street, for scene-level corruptions.

:func:`make_scene` lays out a random street (a ground plane, building blocks on both sides,
parked and driving cars, poles, trees and pedestrians, all analytic primitives: oriented
boxes, vertical cylinders and spheres) and scans it with a spinning sensor at the origin of
the *sensor frame* (x forward along the street, z up) mounted ``sensor_height`` metres above
the ground, like the Velodyne HDL-64E of KITTI: ``n_beams`` elevation angles spread evenly
from ``-24.8°`` (ring 0, the lowest) to ``+2°`` (the top ring) and ``n_azimuth`` equal steps
over 360°. Every ray is intersected exactly with every primitive (vectorised over rays); the
nearest hit within ``max_range`` is kept and Gaussian range noise is added along the ray.
Rays that hit nothing (the sky, or ground beyond ``max_range``) give no point, as on a real
sensor.

Intensity is a range-compensated Lambertian return, ``reflectivity * cos(incidence)`` with
5 % multiplicative speckle, clipped to ``[0, 1]`` (the ``r^0`` convention: KITTI's HDL-64
intensities behave roughly like a calibrated reflectance, not like the raw ``1/r^2`` power).

Everything is deterministic from the :class:`numpy.random.Generator` passed in. With the
defaults (64 x 2048 rays) a scene has about 110–130 k points and takes well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError
from assay.perception.checks import check_rng

__all__ = ["ELEVATION_RANGE_DEG", "LABELS", "SceneScan", "make_scene"]

#: Semantic label of every point (index into this tuple).
LABELS: tuple[str, ...] = ("ground", "building", "car", "pole", "vegetation", "pedestrian")

#: Lowest and highest beam elevation, degrees (HDL-64E: about -24.8 to +2).
ELEVATION_RANGE_DEG: tuple[float, float] = (-24.8, 2.0)

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class SceneScan:
    """One scan of a synthetic street.

    Attributes:
        points: ``(N, 4)`` float32 ``x, y, z, intensity`` (metres in the sensor frame;
            intensity in ``[0, 1]``).
        ring: ``(N,)`` int64 beam index, 0 = lowest beam.
        azimuth: ``(N,)`` int64 azimuth step index ``0..n_azimuth-1`` (0 = +x, counter-clockwise).
        ground: ``(N,)`` bool, True where the ray hit the ground plane.
        label: ``(N,)`` int64 index into :data:`LABELS`.
        plane: ground plane ``(a, b, c, d)`` with ``a x + b y + c z + d = 0`` and unit normal
            ``(a, b, c)`` pointing up.
        n_beams: number of beams of the sensor.
        n_azimuth: number of azimuth steps per rotation.
    """

    points: NDArray[np.float32]
    ring: NDArray[np.int64]
    azimuth: NDArray[np.int64]
    ground: NDArray[np.bool_]
    label: NDArray[np.int64]
    plane: tuple[float, float, float, float]
    n_beams: int
    n_azimuth: int


@dataclass
class _Hits:
    """Running nearest hit of every ray."""

    t: Floats
    label: NDArray[np.int64]
    rho: Floats
    normal: Floats

    def update(self, t: Floats, label: int, rho: float, normal: Floats | None) -> None:
        closer = t < self.t
        if not np.any(closer):
            return
        self.t[closer] = t[closer]
        self.label[closer] = label
        self.rho[closer] = rho
        if normal is not None:
            self.normal[closer] = normal[closer] if normal.ndim == 2 else normal


def _box_hits(dirs: Floats, centre: Floats, half: Floats, yaw: float) -> tuple[Floats, Floats]:
    """Entry distance along each ray (inf on a miss) into a box rotated by ``yaw`` about z,
    and the outward face normal at the entry point (sensor frame)."""
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    d = dirs @ rot  # = (rot.T @ dirs.T).T: directions in the box frame
    o = -(rot.T @ centre)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1 = (-half - o) * inv
        t2 = (half - o) * inv
    tlo = np.fmin(t1, t2)
    thi = np.fmax(t1, t2)
    axis = np.argmax(tlo, axis=1)
    tmin = np.take_along_axis(tlo, axis[:, None], axis=1)[:, 0]
    tmax = thi.min(axis=1)
    t = np.where((tmax >= tmin) & (tmin > 0.0), tmin, np.inf)
    local = np.zeros_like(d)
    rows = np.arange(d.shape[0])
    local[rows, axis] = -np.sign(d[rows, axis])
    return t, local @ rot.T


def _cylinder_hits(
    dirs: Floats, cx: float, cy: float, radius: float, z0: float, z1: float
) -> tuple[Floats, Floats]:
    """Entry distance into the side of a vertical cylinder (inf on a miss) and its normal."""
    a = dirs[:, 0] ** 2 + dirs[:, 1] ** 2
    b = -2.0 * (dirs[:, 0] * cx + dirs[:, 1] * cy)
    cc = cx * cx + cy * cy - radius * radius
    disc = b * b - 4.0 * a * cc
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
    z = t * dirs[:, 2]
    ok = (disc > 0.0) & (t > 0.0) & (z >= z0) & (z <= z1)
    t = np.where(ok, t, np.inf)
    tt = np.where(ok, t, 0.0)
    normal = np.stack([tt * dirs[:, 0] - cx, tt * dirs[:, 1] - cy, np.zeros_like(t)], axis=1) / max(
        radius, 1e-9
    )
    return t, normal


def _sphere_hits(dirs: Floats, centre: Floats, radius: float) -> tuple[Floats, Floats]:
    """Entry distance into a sphere (inf on a miss) and the outward normal there."""
    along = dirs @ centre
    disc = along**2 - (float(centre @ centre) - radius**2)
    t = along - np.sqrt(np.maximum(disc, 0.0))
    t = np.where((disc > 0.0) & (t > 0.0), t, np.inf)
    tt = np.where(np.isfinite(t), t, 0.0)
    return t, (tt[:, None] * dirs - centre) / radius


def _layout(rng: np.random.Generator, h: float, hits: _Hits, dirs: Floats) -> None:
    """Draw the street's objects and intersect every ray with each of them."""
    u = rng.uniform
    width = u(8.0, 14.0)
    for side in (-1.0, 1.0):  # building blocks along both sides of the street
        x = -90.0
        setback = width / 2.0 + u(2.0, 5.0)
        while x < 90.0:
            length, gap, depth = u(8.0, 25.0), u(0.0, 6.0), u(8.0, 15.0)
            height = u(4.0, 20.0)
            centre = np.array([x + length / 2.0, side * (setback + depth / 2.0), height / 2 - h])
            half = np.array([length / 2.0, depth / 2.0, height / 2.0])
            t, n = _box_hits(dirs, centre, half, u(-0.05, 0.05))
            hits.update(t, 1, u(0.3, 0.7), n)
            x += length + gap
    for _ in range(int(rng.integers(8, 16))):  # parked cars along the curbs, a few in lanes
        side = float(rng.choice([-1.0, 1.0]))
        if u() < 0.7:
            y = side * (width / 2.0 - 1.2)
            x = u(-60.0, 60.0)
        else:
            y = side * width / 4.0
            x = float(rng.choice([-1.0, 1.0])) * u(10.0, 50.0)
        half = np.array([u(2.0, 2.5), u(0.85, 1.0), u(0.6, 0.85)])
        centre = np.array([x, y, -h + 0.2 + half[2]])
        yaw = float(rng.choice([0.0, np.pi])) + u(-0.1, 0.1)
        t, n = _box_hits(dirs, centre, half, yaw)
        hits.update(t, 2, u(0.2, 0.9), n)
    for x in np.arange(u(-80.0, -60.0), 80.0, u(18.0, 30.0)):  # poles on both sidewalks
        for side in (-1.0, 1.0):
            t, n = _cylinder_hits(dirs, float(x), side * (width / 2.0 + 0.8), 0.12, -h, 6.0 - h)
            hits.update(t, 3, 0.5, n)
    for _ in range(int(rng.integers(4, 10))):  # trees: trunk plus a spherical crown
        x, y = u(-70.0, 70.0), float(rng.choice([-1.0, 1.0])) * (width / 2.0 + 1.5)
        trunk, crown = u(2.0, 3.5), u(1.2, 2.5)
        t, n = _cylinder_hits(dirs, x, y, 0.2, -h, trunk - h)
        hits.update(t, 4, 0.3, n)
        t, n = _sphere_hits(dirs, np.array([x, y, trunk - h + crown * 0.8]), crown)
        hits.update(t, 4, 0.45, n)
    for _ in range(int(rng.integers(2, 7))):  # pedestrians on the sidewalks
        x, y = u(-40.0, 40.0), float(rng.choice([-1.0, 1.0])) * (width / 2.0 + u(0.5, 2.0))
        t, n = _cylinder_hits(dirs, x, y, 0.25, -h, 1.75 - h)
        hits.update(t, 5, 0.4, n)


def _check_args(n_beams: object, n_azimuth: object, floats: dict[str, float]) -> None:
    for name, value in (("n_beams", n_beams), ("n_azimuth", n_azimuth)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 2:
            raise InputError(f"must be an integer >= 2, got {value!r}", field=name)
    for name, x in floats.items():
        if not isinstance(x, int | float | np.floating) or not np.isfinite(x) or x < 0:
            raise InputError(f"must be a finite number >= 0, got {x!r}", field=name)
    for name in ("max_range", "sensor_height"):
        if not floats[name] > 0:
            raise InputError(f"must be > 0, got {floats[name]!r}", field=name)


def make_scene(
    rng: np.random.Generator,
    *,
    n_beams: int = 64,
    n_azimuth: int = 2048,
    sensor_height: float = 1.73,
    max_range: float = 100.0,
    noise: float = 0.02,
    max_tilt_deg: float = 1.0,
) -> SceneScan:
    """Scan a random street with a 360° multi-beam LiDAR (see the module docstring).

    Args:
        rng: the only source of randomness (layout, reflectivities, tilt, noise).
        n_beams: number of beams (rings), evenly spaced over :data:`ELEVATION_RANGE_DEG`.
        n_azimuth: number of azimuth steps per rotation.
        sensor_height: height of the sensor above the ground, metres (KITTI: 1.73).
        max_range: returns beyond this range (metres) are absent.
        noise: standard deviation of the Gaussian range noise along each ray, metres.
        max_tilt_deg: the ground plane is tilted by up to this angle (degrees) about x and y,
            so that a ground fit has something to find.

    Returns:
        A :class:`SceneScan`, points ordered ring-major then by azimuth.

    Raises:
        InputError: on a bad setting (non-integer counts, negative or non-finite numbers).
    """
    check_rng(rng)
    _check_args(
        n_beams,
        n_azimuth,
        {
            "sensor_height": sensor_height,
            "max_range": max_range,
            "noise": noise,
            "max_tilt_deg": max_tilt_deg,
        },
    )
    nb, na = int(n_beams), int(n_azimuth)
    elev = np.deg2rad(np.linspace(*ELEVATION_RANGE_DEG, nb))
    az = np.arange(na) * (2.0 * np.pi / na)
    ring = np.repeat(np.arange(nb, dtype=np.int64), na)
    az_id = np.tile(np.arange(na, dtype=np.int64), nb)
    el, a = elev[ring], az[az_id]
    dirs = np.stack([np.cos(el) * np.cos(a), np.cos(el) * np.sin(a), np.sin(el)], axis=1)

    h = float(sensor_height)
    tilt = np.tan(np.deg2rad(rng.uniform(-max_tilt_deg, max_tilt_deg, size=2)))
    normal = np.array([-tilt[0], -tilt[1], 1.0])
    normal /= np.linalg.norm(normal)
    d0 = normal[2] * h  # plane through (0, 0, -h): n . p + d0 = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = -d0 / (dirs @ normal)
    t_ground = np.where(t_ground > 0.0, t_ground, np.inf)
    hits = _Hits(
        t=t_ground,
        label=np.zeros(dirs.shape[0], dtype=np.int64),
        rho=np.full(dirs.shape[0], rng.uniform(0.15, 0.3)),
        normal=np.broadcast_to(normal, dirs.shape).copy(),
    )
    _layout(rng, h, hits, dirs)

    keep = hits.t <= max_range
    t = hits.t[keep]
    if noise > 0:
        t = np.maximum(t + rng.normal(0.0, noise, size=t.size), 0.05)
    cos_inc = np.abs(np.sum(hits.normal[keep] * dirs[keep], axis=1))
    speckle = 1.0 + 0.05 * rng.standard_normal(t.size)
    intensity = np.clip(hits.rho[keep] * cos_inc * speckle, 0.0, 1.0)
    xyz = t[:, None] * dirs[keep]
    label = hits.label[keep]
    return SceneScan(
        points=np.ascontiguousarray(np.column_stack([xyz, intensity]), dtype=np.float32),
        ring=ring[keep],
        azimuth=az_id[keep],
        ground=label == 0,
        label=label,
        plane=(float(normal[0]), float(normal[1]), float(normal[2]), float(d0)),
        n_beams=nb,
        n_azimuth=na,
    )
