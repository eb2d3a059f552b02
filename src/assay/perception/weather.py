"""Physically based LiDAR weather: fog, snowfall and a wet road, vectorised with NumPy.

Written from the papers, not from their (CC BY-NC) code: Hahner et al., "Fog Simulation on
Real LiDAR Point Clouds for 3D Object Detection in Adverse Weather", ICCV 2021 (fog), and
Hahner et al., "LiDAR Snowfall Simulation for Robust 3D Object Detection", CVPR 2022
(snowfall and the wet-ground model). Severities and parameters are Robo3D's (Kong et al.
2023, SemanticKITTI-C), listed in :data:`FOG_BETA`, :data:`SNOWFALL`, :data:`WATER_HEIGHT_MM`.

A scan is ``(N, 4)``: ``x, y, z`` in metres about the sensor and an intensity column that
we read as a range-compensated return strength (``reflectivity * cos(incidence)``, KITTI
style, about ``[0, 1]``); the received optical power is then ``intensity / r^2``. Every
function takes an explicit :class:`numpy.random.Generator` and returns a :class:`Weathered`
``(points, flag, keep)``: the corrupted ``float32`` scan, an ``int8`` per-output-point flag
(:data:`CLEAR`, :data:`ATTENUATED`, :data:`SCATTERED`, the latter meaning the return now
comes from fog or a snowflake rather than from the target) and the mask of kept input rows.
Points dropped because their
power fell under the noise floor are removed (so ``M <= N``); kept rows stay in input order.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError
from assay.perception.checks import check_rng, check_severity

__all__ = [
    "ATTENUATED",
    "CLEAR",
    "FOG_ALPHAS",
    "FOG_BETA",
    "NOISE_FLOOR",
    "SCATTERED",
    "SNOWFALL",
    "WATER_HEIGHT_MM",
    "Weathered",
    "fog",
    "fog_table",
    "snow",
    "wet_ground",
]

CLEAR, ATTENUATED, SCATTERED = 0, 1, 2

#: Fog backscattering coefficient beta (1/m) per severity (Robo3D light/moderate/heavy).
FOG_BETA: tuple[float, ...] = (0.008, 0.05, 0.2)
#: Fog attenuation coefficients alpha (1/m) among which Robo3D draws one per scan.
FOG_ALPHAS: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02, 0.03, 0.06)
#: Snowfall per severity: (snowfall rate in mm/h water equivalent, terminal velocity m/s).
SNOWFALL: tuple[tuple[float, float], ...] = ((0.5, 2.0), (1.0, 1.6), (2.5, 1.6))
#: Wet ground: water film height in mm per severity.
WATER_HEIGHT_MM: tuple[float, ...] = (0.2, 1.0, 1.2)
#: Wet ground: noise-floor factor per severity (Robo3D SemanticKITTI-C).
NOISE_FLOOR: tuple[float, ...] = (0.3, 0.3, 0.7)

_C = 299_792_458.0  # speed of light, m/s
_FOG_TAU_H = 20e-9  # fog: half-power pulse width, s (Hahner et al. 2021)
_FOG_BETA0 = 1e-6 / math.pi  # assumed differential reflectivity of every hard target, 1/(m sr)
_FOG_NOISE_M = 10.0  # fog: uniform range noise half-width of fog returns, m
_XI_R1, _XI_R2 = 0.9, 1.0  # transmitter/receiver overlap xi(r): 0 below R1, linear to 1 at R2
_TABLE_MAX_R, _TABLE_STEP = 200.0, 0.1  # fog table: R0 grid, metres
_FINE_STEP = 0.005  # fog table: integration step in range, metres

Points = NDArray[np.float32]
Flags = NDArray[np.int8]
Floats = NDArray[np.float64]


class Weathered(NamedTuple):
    """Result of a weather corruption.

    Attributes:
        points: ``(M, 4)`` float32 corrupted scan, ``M <= N``, kept rows in input order.
        flag: ``(M,)`` int8: :data:`CLEAR`, :data:`ATTENUATED` or :data:`SCATTERED`.
        keep: ``(N,)`` bool: which input rows survive (to carry rings, labels along).
    """

    points: Points
    flag: Flags
    keep: NDArray[np.bool_]


# ---------------------------------------------------------------------------- validation


def _check(points: object, rng: object, severity: object) -> tuple[Floats, int]:
    try:
        cloud = np.array(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="points") from exc
    if cloud.ndim != 2 or cloud.shape[1] < 4:
        raise InputError(
            f"weather needs x, y, z and an intensity column, shape (N, 4); got {cloud.shape}",
            field="intensity" if cloud.ndim == 2 and cloud.shape[1] == 3 else "points",
        )
    if cloud.shape[0] < 1:
        raise InputError("the scan has no points", field="points")
    if not np.all(np.isfinite(cloud)):
        raise InputError("the scan has NaN or infinite values", field="points")
    check_rng(rng)
    return cloud, check_severity(severity, (1, 2, 3)) - 1


def _xi(r: Floats) -> Floats:
    """Overlap of the transmitter and receiver fields of view, 0 below R1, 1 beyond R2."""
    out: Floats = np.clip((r - _XI_R1) / (_XI_R2 - _XI_R1), 0.0, 1.0)
    return out


# ---------------------------------------------------------------------------- fog


@functools.lru_cache(maxsize=32)
def fog_table(alpha: float) -> tuple[Floats, Floats]:
    """Soft-target (fog) response tables of Hahner et al. (2021), Eq. 8–10, for one ``alpha``.

    The power that fog sends back from a pulse fired at a hard target at range ``R0`` is

        P_fog(R) = C_A P0 beta * (2/c) * integral over r in [R - c tau_H, min(R, R0)] of
                   sin^2(pi (R - r) / (c tau_H)) * exp(-2 alpha r) * xi(r) / r^2 dr

    (the paper's time integral with ``r = R - c t / 2``; the Heaviside term cuts the fog
    behind the target). The sensor reports the strongest echo, so the table keeps, for each
    ``R0`` on a 0.1 m grid from 0 to 200 m, ``fog_integral = max_{R <= R0} P_fog/(C_A P0
    beta)`` and ``fog_distance``, the range of that maximum. The convolution is done once on
    a 5 mm grid and the running maximum over ``R <= R0`` is a prefix maximum, so a table costs
    a few milliseconds (the reference integrates per ``R0``, in pickled files).

    Args:
        alpha: attenuation coefficient of the fog, 1/m (>= 0).

    Returns:
        ``(fog_distance, fog_integral)``, each ``(2001,)``; index ``i`` is ``R0 = 0.1 i`` m;
        ``fog_integral`` is in s/m^2 (the reference's unit).
    """
    c_tau = _C * _FOG_TAU_H
    r = np.arange(0.0, _TABLE_MAX_R + c_tau + _FINE_STEP, _FINE_STEP)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(r > 0, np.exp(-2.0 * alpha * r) * _xi(r) / r**2, 0.0)
    u = np.arange(0.0, c_tau, _FINE_STEP)
    kernel = np.sin(np.pi * u / c_tau) ** 2
    response = np.convolve(g, kernel)[: r.size] * _FINE_STEP * 2.0 / _C  # P(R) for R0 = inf
    best = np.maximum.accumulate(response)
    where = np.maximum.accumulate(np.where(response >= best, np.arange(r.size), 0))
    grid = np.rint(np.arange(0.0, _TABLE_MAX_R + _TABLE_STEP / 2, _TABLE_STEP) / _FINE_STEP)
    idx = grid.astype(np.int64)
    return r[where[idx]], best[idx]


def fog(
    points: NDArray[np.floating] | list[list[float]],
    severity: int,
    rng: np.random.Generator,
    *,
    alpha: float | None = None,
    noise_m: float = _FOG_NOISE_M,
) -> Weathered:
    """Fog: attenuation of every return plus back-scatter from the fog itself.

    Hahner et al. (2021): a hard target's return is attenuated twice along its path,
    ``I_hard = I * exp(-2 alpha R0)``. The fog in front of it returns a soft-target echo of
    strength ``I_fog = fog_integral(R0) * I * R0^2 * beta / beta0`` (table from
    :func:`fog_table`; ``beta0 = 1e-6/pi`` is the paper's assumed differential reflectivity of
    the target, needed because the scan does not tell it). When ``I_fog > I_hard`` the
    sensor reports the fog: the point moves along its ray to ``fog_distance`` and then, as in
    the paper's noise variant, its range is scaled by ``R0 / U(R0 - 10, R0 + 10)`` m.

    Parameters: ``beta`` per severity from :data:`FOG_BETA`. Robo3D draws ``alpha`` per scan
    uniformly from :data:`FOG_ALPHAS` (so light fog can be a clear frame); that is the default
    (one draw from ``rng``); pass ``alpha`` to fix it. Deviations: the reference's divisor
    ``U(R0 - 10, R0 + 10)`` can reach zero or go negative below 10 m, which throws the point
    behind the sensor or to infinity; we bound it below by ``R0 / 2``. Fog intensities are
    clipped to 1 (the reference leaves them unbounded). Nothing is dropped, so ``M == N``.

    Args:
        points: ``(N, 4)`` scan with intensity.
        severity: 1..3.
        rng: source of the alpha draw and the range noise.
        alpha: fog attenuation coefficient, 1/m; None = Robo3D's random draw.
        noise_m: half-width of the uniform range noise of fog returns, metres (0 = none).

    Returns:
        :class:`Weathered` with ``M == N``; flag is :data:`SCATTERED` for fog returns, else
        :data:`ATTENUATED` (:data:`CLEAR` when ``alpha == 0``).
    """
    cloud, sev = _check(points, rng, severity)
    if alpha is None:
        alpha = float(rng.choice(np.asarray(FOG_ALPHAS)))
    if not np.isfinite(alpha) or alpha < 0:
        raise InputError(f"alpha must be a finite number >= 0, got {alpha!r}", field="alpha")
    if not np.isfinite(noise_m) or noise_m < 0:
        raise InputError(f"noise_m must be >= 0, got {noise_m!r}", field="noise_m")
    beta = FOG_BETA[sev]
    fog_distance, fog_integral = fog_table(float(alpha))
    xyz, intensity = cloud[:, :3], cloud[:, 3]
    r0 = np.sqrt(np.einsum("ij,ij->i", xyz, xyz))
    idx = np.minimum(np.rint(r0 / _TABLE_STEP), fog_distance.size - 1).astype(np.intp)
    hard = intensity * np.exp(-2.0 * alpha * r0)
    soft = fog_integral[idx] * intensity * r0**2 * (beta / _FOG_BETA0)
    is_fog = soft > hard
    out = cloud.copy()
    out[:, 3] = hard
    flag = np.full(cloud.shape[0], CLEAR if alpha == 0 else ATTENUATED, dtype=np.int8)
    k = np.flatnonzero(is_fog)
    if k.size:
        rk = r0[k]
        scale = fog_distance[idx[k]] / rk
        if noise_m > 0:
            lo = np.maximum(rk - noise_m, 0.5 * rk)
            scale *= rk / rng.uniform(lo, rk + noise_m)
        out[k, :3] = xyz[k] * scale[:, None]
        out[k, 3] = np.minimum(soft[k], 1.0)
        flag[k] = SCATTERED
    return Weathered(out.astype(np.float32), flag, np.ones(cloud.shape[0], dtype=bool))


# ---------------------------------------------------------------------------- snow

_SNOW_DIVERGENCE = 0.003  # beam divergence, rad (Hahner et al. 2022)
_SNOW_REFLECTIVITY = 0.9  # reflectivity of a snowflake
_SNOW_DENSITY = 0.1  # density of fresh snow relative to water
_SNOW_MAX_DIAMETER = 0.02  # flakes larger than 2 cm are clipped, metres
_SNOW_SAME_TARGET_M = 0.2  # a flake echo closer than this to the target only changes intensity
_SNOW_FLOOR_QUANTILE = 0.01  # detection threshold: this quantile of the clean received power


def _snow_particles(
    snowfall_mm_h: float, terminal_velocity: float, density: str
) -> tuple[float, float]:
    """Number density (1/m^3) and exponential rate Lambda (1/m) of the flake diameters.

    Diameters follow Gunn and Marshall (1958), ``N(D) = N0 exp(-Lambda D)`` with
    ``Lambda = 25.5 R^-0.48`` 1/cm, where ``R`` is the equivalent rain rate
    ``(S / (487 rho_s D_ref v_t))^(3/2)`` mm/h of the paper (``S`` the snowfall rate in mm/h
    of water, ``rho_s = 0.1`` the snow density relative to water, ``D_ref = 3 mm``, ``v_t``
    the terminal velocity). ``density="occupancy"`` (the paper and Robo3D) fixes the number
    of flakes by the volume fraction of snow ``phi = S / (3.6e6 rho_s v_t)``:
    ``n = phi / (pi/6 E[D^3]) = phi Lambda^3 / pi``. ``density="gunn_marshall"`` uses Gunn
    and Marshall's own intercept ``N0 = 3.8e3 R^-0.87`` 1/(m^3 mm), ``n = N0 / Lambda``.
    """
    rain = (snowfall_mm_h / (487.0 * _SNOW_DENSITY * 0.003 * terminal_velocity)) ** 1.5
    lam = 25.5 * rain**-0.48 * 100.0  # 1/cm -> 1/m
    if density == "occupancy":
        phi = snowfall_mm_h / (3.6e6 * _SNOW_DENSITY * terminal_velocity)
        return phi * lam**3 / math.pi, lam
    if density == "gunn_marshall":
        return 3.8e3 * rain**-0.87 / (lam / 1000.0), lam
    raise InputError(
        f"density must be 'occupancy' or 'gunn_marshall', got {density!r}", field="density"
    )


def _sorted_uniforms(
    count: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.int64], Floats]:
    """``count[i]`` uniforms on ``[0, 1)`` per group ``i``, ascending within each group.

    Sorting without a sort: for ``k`` uniforms, the normalised partial sums of ``k + 1``
    standard exponentials are distributed as their order statistics. Returns the group id
    of every draw (grouped, groups in order) and the draws.
    """
    has = np.flatnonzero(count > 0)
    k = count[has]
    slots = k + 1
    e = rng.standard_exponential(int(slots.sum()))
    cs = np.cumsum(e)
    ends = np.cumsum(slots) - 1
    first = ends - slots + 1
    offset = cs[first] - e[first]
    total = cs[ends] - offset
    group = np.repeat(np.arange(has.size), slots)
    u = (cs - offset[group]) / total[group]
    real = np.ones(cs.size, dtype=bool)
    real[ends] = False
    return np.repeat(has, k), u[real]


def snow(
    points: NDArray[np.floating] | list[list[float]],
    severity: int,
    rng: np.random.Generator,
    *,
    max_flake_range: float = 15.0,
    density: str = "occupancy",
) -> Weathered:
    """Snowfall: flakes occlude each beam, scatter light back, and can replace the return.

    Hahner et al. (2022) sample snowflakes, find those inside each beam, let them occlude
    part of the beam and compute the received power over time; the strongest echo wins.
    Here, per beam (one per point, range ``R0``): flakes are a Poisson process of density
    ``n`` (see :func:`_snow_particles`) inside the beam's cone of divergence 3 mrad, so a
    beam meets ``n * pi/4 * delta^2 * R^3 / 3`` flakes up to range ``R``; each has an
    exponential (Gunn-Marshall) diameter ``D`` and blocks the fraction
    ``min(1, (D / (r delta))^2)`` of the beam cross-section it sits in, of what the closer
    flakes let through. A flake echoes the power ``0.9 * blocked * xi(r) / r^2`` (snow is
    90 % reflective), the target ``I * unblocked / R0^2``. If a flake's echo is the
    strongest and lies more than 0.2 m before the target, the point moves to the flake and
    its intensity becomes ``0.9 * blocked`` (flag :data:`SCATTERED`); otherwise the target
    stays with its intensity times the unblocked fraction (:data:`ATTENUATED`), and is
    dropped if its power ``I / r^2`` falls under the detection threshold (the 1 % quantile
    of the clean scan's power: the sensor saw those, so its floor lies about there).

    Parameters per severity: :data:`SNOWFALL` (snowfall rate, terminal velocity), Robo3D.

    Deviations (speed, and documented): flakes are drawn per beam rather than as a shared
    2-D field per channel, so neighbouring beams do not share flakes; flakes beyond
    ``max_flake_range`` are not drawn one by one, their blocking enters as its mean,
    ``exp(-n pi/4 E[D^2] (R0 - max_flake_range))``, since a flake that far cannot outshine
    a target; echoes are compared by their peak power, not by summing overlapping pulses;
    the noise floor is estimated from the scan rather than fitted per sensor.

    Args:
        points: ``(N, 4)`` scan with intensity.
        severity: 1..3.
        rng: source of the flakes.
        max_flake_range: flakes are drawn individually up to this range, metres (> 0).
        density: ``"occupancy"`` (paper, Robo3D) or ``"gunn_marshall"``; see
            :func:`_snow_particles`. With Robo3D's parameters the occupancy rule gives
            fewer, larger flakes as the snowfall grows, so the beams are blocked more but
            the number of snow returns stays about flat (measured 7.6 / 6.9 / 5.4 % of the
            points on a 64-beam street scan); Gunn and Marshall's count makes both grow.

    Returns:
        :class:`Weathered`, ``M <= N`` rows in input order.
    """
    cloud, sev = _check(points, rng, severity)
    if not np.isfinite(max_flake_range) or max_flake_range <= 0:
        raise InputError(
            f"max_flake_range must be > 0, got {max_flake_range!r}", field="max_flake_range"
        )
    count_density, lam = _snow_particles(*SNOWFALL[sev], density)
    phi_lam_half = count_density * math.pi / 4.0 * 2.0 / lam**2  # mean blocked fraction per m
    xyz, intensity = cloud[:, :3], cloud[:, 3]
    n = cloud.shape[0]
    r0 = np.sqrt(np.einsum("ij,ij->i", xyz, xyz))
    reach = np.minimum(r0, max_flake_range)
    count = rng.poisson(count_density * math.pi / 4.0 * _SNOW_DIVERGENCE**2 * reach**3 / 3.0)
    beam, u = _sorted_uniforms(count, rng)
    r = reach[beam] * np.cbrt(u)  # uniform in the cone's volume, nearest first in each beam
    d = np.minimum(rng.exponential(1.0 / lam, size=beam.size), _SNOW_MAX_DIAMETER)
    width = np.maximum(r * _SNOW_DIVERGENCE, 1e-9)
    blocked = np.minimum((d / width) ** 2, 1.0 - 1e-12)

    log_pass = np.log1p(-blocked)
    cum = np.cumsum(log_pass)
    starts = np.cumsum(count) - count  # first flake of each beam
    before = cum - log_pass - (cum - log_pass)[starts[beam]]  # log of light reaching a flake
    share = blocked * np.exp(before)
    has = count > 0
    total_log = np.zeros(n)
    if beam.size:
        total_log[has] = np.add.reduceat(log_pass, starts[has])
    far = np.maximum(r0 - max_flake_range, 0.0)
    through = np.exp(total_log - phi_lam_half * far)

    with np.errstate(divide="ignore", invalid="ignore"):
        p_flake = _SNOW_REFLECTIVITY * share * _xi(r) / r**2
        p_clean = np.where(r0 > 0, intensity / r0**2, np.inf)
    p_target = p_clean * through
    best = np.full(n, -1.0)
    if beam.size:
        best[has] = np.maximum.reduceat(p_flake, starts[has])
    win = best > p_target
    win_flake = np.full(n, -1, dtype=np.int64)
    if np.any(win):
        cand = np.flatnonzero(win[beam] & (p_flake == best[beam]))
        b_c = beam[cand]
        first = np.unique(b_c, return_index=True)[1]
        win_flake[b_c[first]] = cand[first]
    moved = win & (r0 - r[np.maximum(win_flake, 0)] > _SNOW_SAME_TARGET_M)

    out = cloud.copy()
    out[:, 3] = intensity * through
    flag = np.full(n, ATTENUATED, dtype=np.int8)
    k = np.flatnonzero(moved)
    j = win_flake[k]
    out[k, :3] = xyz[k] * (r[j] / r0[k])[:, None]
    out[k, 3] = np.minimum(_SNOW_REFLECTIVITY * share[j], 1.0)
    flag[k] = SCATTERED
    floor = float(np.quantile(p_clean[np.isfinite(p_clean)], _SNOW_FLOOR_QUANTILE))
    keep = moved | (p_target >= floor) | (p_target >= p_clean)
    return Weathered(out[keep].astype(np.float32), flag[keep], keep)


# ---------------------------------------------------------------------------- wet ground

_N_AIR, _N_WATER = 1.0003, 1.33  # refractive indices
_PAVEMENT_DEPTH_MM = 1.2  # water height at which the pavement texture is fully flooded
_RHO_MIN = 0.05  # lowest pavement reflectivity the laser model may estimate
_RANSAC_TRIALS = 128
_RANSAC_SAMPLE = 4000
_GROUND_TOLERANCE_M = 0.15  # wet_ground: default distance to the plane counted as ground
_FIT_ROWS = 16_384  # scan rows (drawn at random) among which the ground fit looks
_RANSAC_INLIER_M = 0.1
_MIN_GROUND = 50
_FLOOR_BIN_M = 2.0


def fit_ground_plane(
    points: NDArray[np.floating] | list[list[float]], rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Fit the road plane ``a x + b y + c z + d = 0`` (unit normal pointing up) to a scan.

    RANSAC on the low points (horizontal range 2–50 m, ``z`` under its 40 % quantile there):
    128 random triples, planes within 25° of horizontal only, scored by the number of points
    within 0.1 m, all trials at once; the winner is refined by least squares (SVD) on its
    inliers. The reference uses scikit-learn's RANSAC on a box in front of the car. For
    speed the low points are looked for among at most 16 384 scan rows drawn at random
    (with replacement; a plane has 3 parameters, and the 40 % quantile of ``z`` estimated
    from thousands of near points moves by centimetres), and RANSAC scores on at most 4000
    of them.

    Raises:
        InputError: fewer than 50 candidate ground points (field ``ground``).
    """
    cloud = np.asarray(points, dtype=np.float64)
    xyz = cloud[:, :3]
    if xyz.shape[0] > _FIT_ROWS:  # gather whole rows (contiguous), then the columns
        xyz = cloud[rng.integers(0, xyz.shape[0], size=_FIT_ROWS)][:, :3]
    rho = np.hypot(xyz[:, 0], xyz[:, 1])
    near = (rho > 2.0) & (rho < 50.0)
    if np.count_nonzero(near) < _MIN_GROUND:
        raise InputError("too few points 2-50 m away to find the ground", field="ground")
    cand = xyz[near]
    cand = cand[cand[:, 2] <= np.quantile(cand[:, 2], 0.4)]
    if cand.shape[0] > _RANSAC_SAMPLE:
        cand = cand[rng.choice(cand.shape[0], _RANSAC_SAMPLE, replace=False)]
    tri = cand[rng.integers(0, cand.shape[0], size=(_RANSAC_TRIALS, 3))]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.linalg.norm(normal, axis=1)
    ok = norm > 1e-9
    normal[ok] /= norm[ok, None]
    normal *= np.where(normal[:, 2] < 0, -1.0, 1.0)[:, None]
    ok &= normal[:, 2] > math.cos(math.radians(25.0))
    if not np.any(ok):
        raise InputError("no near-horizontal plane among the low points", field="ground")
    offset = -np.einsum("ij,ij->i", normal, tri[:, 0])
    score = (np.abs(cand @ normal[ok].T + offset[ok]) < _RANSAC_INLIER_M).sum(axis=0)
    best = int(np.argmax(score))
    n0, d0 = normal[ok][best], offset[ok][best]
    inl = cand[np.abs(cand @ n0 + d0) < _RANSAC_INLIER_M]
    if inl.shape[0] >= 3:
        centre = inl.mean(axis=0)
        n0 = np.linalg.svd(inl - centre, full_matrices=False)[2][2]
        n0 = n0 if n0[2] > 0 else -n0
        d0 = -float(n0 @ centre)
    return float(n0[0]), float(n0[1]), float(n0[2]), float(d0)


def _transmittance(cos_i: Floats) -> Floats:
    """Unpolarised Fresnel power transmittance from air into water at incidence ``acos(cos_i)``
    (a new array; the arithmetic is in place)."""
    c = np.clip(cos_i, 0.0, 1.0)
    # Snell: sin_t = n1/n2 sin_i < 1 (into the denser medium), so cos_t > 0 and both
    # denominators below are >= n2 cos_t > 0: no division by zero, no NaN.
    cos_t = c * c
    cos_t -= 1.0
    cos_t *= (_N_AIR / _N_WATER) ** 2
    cos_t += 1.0
    np.sqrt(cos_t, out=cos_t)
    a, b = _N_AIR * c, _N_WATER * cos_t  # s-polarised: (n1 cos_i - n2 cos_t) / (...)
    rs = a - b
    a += b
    rs /= a
    a, b = _N_AIR * cos_t, _N_WATER * c  # p-polarised: (n1 cos_t - n2 cos_i) / (...)
    rp = a - b
    a += b
    rp /= a
    rs *= rs
    rp *= rp
    rs += rp
    rs *= -0.5
    rs += 1.0
    out: Floats = rs
    return out


def wet_ground(
    points: NDArray[np.floating] | list[list[float]],
    severity: int,
    rng: np.random.Generator,
    *,
    ground: NDArray[np.bool_] | None = None,
    plane: tuple[float, float, float, float] | None = None,
    tolerance: float = _GROUND_TOLERANCE_M,
) -> Weathered:
    """Wet road: a water film darkens the ground returns and drops the weak ones.

    Following Hahner et al. (2022, wet ground): the ground is found (``ground`` mask if given,
    else points within ``tolerance`` m of ``plane``, else of :func:`fit_ground_plane`), the
    incidence angle ``theta`` of each ground return is taken from the plane normal, and a
    laser model ``I = P(r) * rho * cos(theta)`` is fitted (``P`` linear in range by least
    squares on the ground), giving each point's pavement reflectivity ``rho`` (clipped to
    ``[0.05, 1]``). Under a water film of height ``h`` the light crosses the air-water
    interface twice (Fresnel transmittance ``T(theta)``, unpolarised, n = 1.0003 -> 1.33) and
    the mirror reflection leaves away from the sensor, so the wet reflectivity is
    ``T(theta)^2 rho``; a film thinner than the pavement texture (1.2 mm) wets only the
    fraction ``f = h / 1.2 mm``: ``rho_eff = (1 - f) rho + f T^2 rho``. The new intensity is
    ``min(P(r) rho_eff cos(theta), I)``. A ground return is then dropped when its
    ``I / cos(theta)`` falls under ``noise_floor`` times the noise floor of the clean scan
    (a linear fit, over range, of the per-2-m-bin minima of ``I / cos(theta)`` on the ground).
    Non-ground points are untouched.

    Parameters per severity: water height :data:`WATER_HEIGHT_MM`, noise floor
    :data:`NOISE_FLOOR` (Robo3D, SemanticKITTI-C).

    Deviations: the reference divides the transmitted power by ``theta`` in radians (a
    quirk; we keep the Lambertian ``cos(theta)``), takes ``max(T_s, T_p)`` where we average
    the two polarisations (the pulse's polarisation relative to the road is unknown), and
    scales the laser output by a fixed power factor of 15, which we fit instead. The paper's
    mirrored points (reflections of objects in the water) are not simulated.

    Args:
        points: ``(N, 4)`` scan with intensity.
        severity: 1..3.
        rng: source of the RANSAC draws (unused when ``ground`` or ``plane`` is given).
        ground: optional ``(N,)`` bool mask of the ground (e.g. from labels).
        plane: optional ground plane ``(a, b, c, d)``; fitted when absent.
        tolerance: distance to the plane (metres) within which a point counts as ground.

    Returns:
        :class:`Weathered`, ``M <= N``; flag :data:`ATTENUATED` on wet ground points.

    Raises:
        InputError: bad arguments or fewer than 50 ground points (field ``ground``).
    """
    cloud, sev = _check(points, rng, severity)
    return _wet_ground(cloud, sev, rng, ground, plane, tolerance)


def _wet_ground(
    cloud: Floats,
    sev: int,
    rng: np.random.Generator,
    ground: NDArray[np.bool_] | None,
    plane: tuple[float, float, float, float] | None,
    tolerance: float,
) -> Weathered:
    """:func:`wet_ground` on an already checked finite ``(N, >=4)`` float64 scan, severity
    index ``sev`` in 0..2 (what :func:`assay.perception.lidar.corrupt_scan` calls after its
    own checks)."""
    n = cloud.shape[0]
    xyz = cloud[:, :3]
    if not np.isfinite(tolerance) or tolerance <= 0:
        raise InputError(f"tolerance must be > 0, got {tolerance!r}", field="tolerance")
    if plane is None:
        if ground is not None:
            mask = _ground_mask(ground, n)
            plane = _least_squares_plane(xyz[mask])
        else:
            plane = fit_ground_plane(cloud, rng)
    normal = np.asarray(plane[:3], dtype=np.float64)
    if normal.shape != (3,) or not np.all(np.isfinite(plane)) or np.linalg.norm(normal) == 0:
        raise InputError(f"plane must be 4 finite numbers, got {plane!r}", field="plane")
    scale = float(np.linalg.norm(normal))
    normal, offset = normal / scale, float(plane[3]) / scale
    if ground is None:  # plane distance, one column at a time (xyz is a strided view)
        height = xyz[:, 0] * normal[0]
        height += xyz[:, 1] * normal[1]
        height += xyz[:, 2] * normal[2]
        height += offset
        mask = np.abs(height) < tolerance
    else:
        mask = _ground_mask(ground, n)
    if np.count_nonzero(mask) < _MIN_GROUND:
        raise InputError(
            f"only {int(np.count_nonzero(mask))} ground points; wet ground needs >= "
            f"{_MIN_GROUND} (pass a ground mask or plane)",
            field="ground",
        )
    # In-place arithmetic on the ground rows below: fresh temporaries of this size cost more
    # in page faults than the arithmetic itself.
    g = np.flatnonzero(mask)
    rows = np.take(cloud, g, axis=0)  # whole rows: a contiguous gather
    pg, intensity = rows[:, :3], rows[:, 3]
    r = np.sqrt(np.einsum("ij,ij->i", pg, pg))
    cos_t = pg @ normal
    np.abs(cos_t, out=cos_t)
    cos_t /= np.maximum(r, 1e-9)
    np.clip(cos_t, 1e-3, 1.0, out=cos_t)
    ratio = intensity / cos_t
    # Fit the laser model on the bulk of the ground: points of walls or kerbs that touch the
    # plane have a tiny cos(theta) about its normal and a huge ratio; they would bias it.
    fit = ratio <= 2.0 * np.median(ratio)
    r_fit, ratio_fit = r[fit], ratio[fit]
    slope, icept = _line_fit(r_fit, ratio_fit)
    power = slope * r
    power += icept
    np.maximum(power, 1e-6, out=power)
    rho = ratio / power
    np.clip(rho, _RHO_MIN, 1.0, out=rho)
    f = min(WATER_HEIGHT_MM[sev] / _PAVEMENT_DEPTH_MM, 1.0)
    new_i = _transmittance(cos_t)  # then, in place: rho_eff = (1 - f) rho + f T^2 rho
    new_i *= new_i
    new_i *= f
    new_i += 1.0 - f
    new_i *= rho  # rho_eff
    new_i *= power
    new_i *= cos_t
    np.minimum(new_i, intensity, out=new_i)  # the new intensity

    floor = _noise_floor(r_fit, ratio_fit, r)
    floor *= NOISE_FLOOR[sev]
    ratio_new = new_i / cos_t
    dropped = ratio_new < floor
    keep = np.ones(n, dtype=bool)
    keep[g[dropped]] = False
    out = cloud.astype(np.float32)
    out[g, 3] = new_i
    flag = np.zeros(n, dtype=np.int8)
    flag[g] = ATTENUATED
    kept = np.flatnonzero(keep)  # row takes: faster than boolean indexing of (N, 4)
    return Weathered(np.take(out, kept, axis=0), np.take(flag, kept), keep)


def _ground_mask(ground: object, n: int) -> NDArray[np.bool_]:
    mask = np.asarray(ground)
    if mask.shape != (n,) or mask.dtype != np.bool_:
        raise InputError(f"ground must be a bool array of shape ({n},)", field="ground")
    return mask


def _least_squares_plane(pts: Floats) -> tuple[float, float, float, float]:
    if pts.shape[0] < 3:
        raise InputError("the ground mask has fewer than 3 points", field="ground")
    centre = pts.mean(axis=0)
    normal = np.linalg.svd(pts - centre, full_matrices=False)[2][2]
    normal = normal if normal[2] > 0 else -normal
    return float(normal[0]), float(normal[1]), float(normal[2]), -float(normal @ centre)


def _line_fit(x: Floats, y: Floats) -> tuple[float, float]:
    """Least-squares line ``y = slope x + icept`` in closed form (``np.polyfit(x, y, 1)``
    without its Vandermonde matrix and SVD); a flat line through the mean if ``x`` is
    constant."""
    mx, my = float(x.mean()), float(y.mean())
    dx = x - mx
    sxx = float(dx @ dx)
    slope = float(dx @ (y - my)) / sxx if sxx > 0.0 else 0.0
    return slope, my - slope * mx


def _noise_floor(r: Floats, ratio: Floats, at: Floats) -> Floats:
    """Linear fit over range of the per-bin minimum of ``I / cos(theta)``, evaluated at ``at``."""
    bins = np.floor(r / _FLOOR_BIN_M).astype(np.int64)
    mins = np.full(int(bins.max()) + 1, np.inf)
    np.minimum.at(mins, bins, ratio)
    first = np.flatnonzero(np.isfinite(mins))
    centres = (first + 0.5) * _FLOOR_BIN_M
    minima = mins[first]
    if first.size < 2:
        return np.full(at.shape, float(minima[0]))
    slope, icept = np.polyfit(centres, minima, 1)
    out: Floats = np.maximum(slope * at + icept, 0.0)
    return out
