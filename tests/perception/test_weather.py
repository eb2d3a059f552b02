from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception import weather as W
from assay.perception.scene import SceneScan, make_scene

KINDS: dict[str, Callable[..., W.Weathered]] = {
    "fog": W.fog,
    "snow": W.snow,
    "wet_ground": W.wet_ground,
}


@cache
def _scene(seed: int = 0) -> SceneScan:
    return make_scene(np.random.default_rng(seed), n_beams=32, n_azimuth=512)


@pytest.mark.parametrize("kind", KINDS)
def test_contract_and_determinism(kind: str) -> None:
    pts = _scene().points
    fn = KINDS[kind]
    a = fn(pts, 3, np.random.default_rng(7))
    b = fn(pts, 3, np.random.default_rng(7))
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.flag, b.flag)
    assert a.points.dtype == np.float32 and a.points.shape[1] == 4
    assert a.flag.dtype == np.int8 and a.flag.shape == (a.points.shape[0],)
    assert a.keep.dtype == np.bool_ and a.keep.shape == (pts.shape[0],)
    assert a.keep.sum() == a.points.shape[0]
    assert np.all(np.isfinite(a.points))
    # every kept point that is not a weather echo stays where it was
    same = a.flag != W.SCATTERED
    np.testing.assert_allclose(a.points[same, :3], pts[a.keep][same, :3], atol=1e-5)
    assert np.all(a.points[same, 3] <= pts[a.keep][same, 3] + 1e-6)
    if kind != "wet_ground":  # wet ground draws only its RANSAC triples from rng
        c = fn(pts, 3, np.random.default_rng(8))
        assert c.points.shape != a.points.shape or not np.array_equal(a.points, c.points)


def test_fog_table_is_physical() -> None:
    dist, integral = W.fog_table(0.03)
    r0 = np.arange(dist.size) * 0.1
    assert dist.shape == integral.shape == (2001,)
    assert np.all(dist <= r0 + 1e-9)
    assert np.all(np.diff(integral) >= 0)  # running maximum over R <= R0
    assert integral[5] == 0.0  # no overlap of transmitter and receiver below 0.9 m
    # beyond a few metres the fog echo peaks at a fixed range of a few metres
    assert np.ptp(dist[200:]) == 0 and 2.0 < dist[-1] < 6.0
    # more attenuation -> weaker fog echo
    assert W.fog_table(0.06)[1][-1] < integral[-1] < W.fog_table(0.0)[1][-1]


def test_fog_attenuation_and_echoes_on_their_ray() -> None:
    pts = _scene().points
    r0 = np.linalg.norm(pts[:, :3].astype(np.float64), axis=1)
    out = W.fog(pts, 2, np.random.default_rng(0), alpha=0.02)
    hard = out.flag == W.ATTENUATED
    np.testing.assert_allclose(out.points[hard, 3], pts[hard, 3] * np.exp(-0.04 * r0[hard]), 1e-5)
    moved = out.flag == W.SCATTERED
    assert moved.any()
    u = pts[moved, :3] / r0[moved, None]
    v = out.points[moved, :3] / np.linalg.norm(out.points[moved, :3], axis=1, keepdims=True)
    np.testing.assert_allclose(np.sum(u * v, axis=1), 1.0, atol=1e-5)
    assert np.all(np.linalg.norm(out.points[moved, :3], axis=1) < 12.0)  # fog echoes are near
    clear = W.fog(pts, 2, np.random.default_rng(0), alpha=0.0)
    assert np.all(clear.flag[clear.flag != W.SCATTERED] == W.CLEAR)


@pytest.mark.parametrize("alpha", [0.0, 0.02, 0.06, None])
def test_fog_severity_monotone(alpha: float | None) -> None:
    pts = _scene().points
    frac = [
        np.mean(
            [
                (W.fog(pts, s, np.random.default_rng(i), alpha=alpha).flag == 2).mean()
                for i in range(3)
            ]
        )
        for s in (1, 2, 3)
    ]
    assert frac[0] <= frac[1] < frac[2]
    assert frac[2] > 0.05


def test_snow_echoes_are_before_the_target() -> None:
    pts = _scene().points
    out = W.snow(pts, 2, np.random.default_rng(1))
    moved = out.flag == W.SCATTERED
    src = pts[out.keep][moved].astype(np.float64)
    r_new = np.linalg.norm(out.points[moved, :3], axis=1)
    r_old = np.linalg.norm(src[:, :3], axis=1)
    assert 0.02 < moved.mean() < 0.2
    assert np.all(r_new < r_old - 0.19) and np.all(r_new > 0.9)
    cosine = np.sum(out.points[moved, :3] * src[:, :3], axis=1) / (r_new * r_old)
    np.testing.assert_allclose(cosine, 1.0, atol=1e-5)


def test_snow_severity_monotone() -> None:
    pts = _scene().points

    def effect(s: int, density: str) -> tuple[float, float]:
        runs = [W.snow(pts, s, np.random.default_rng(i), density=density) for i in range(3)]
        lost = np.mean([1.0 - r.keep.mean() for r in runs])
        scattered = np.mean([(r.flag == W.SCATTERED).mean() for r in runs])
        return float(lost), float(scattered)

    occ = [effect(s, "occupancy") for s in (1, 2, 3)]
    assert occ[0][0] < occ[1][0] < occ[2][0]  # more of the beam blocked: more returns lost
    gm = [effect(s, "gunn_marshall") for s in (1, 2, 3)]
    assert gm[0][1] < gm[1][1] < gm[2][1]  # more flakes: more snow echoes


def test_wet_ground_touches_only_ground_and_grows_with_severity() -> None:
    sc = _scene()
    pts = sc.points
    energy, dropped = [], []
    for s in (1, 2, 3):
        out = W.wet_ground(pts, s, np.random.default_rng(0), ground=sc.ground)
        assert out.keep[~sc.ground].all()
        g_out = sc.ground[out.keep]
        np.testing.assert_array_equal(out.points[~g_out], pts[~sc.ground])
        assert np.all(out.flag[g_out] == W.ATTENUATED)
        energy.append(out.points[g_out, 3].sum() / pts[sc.ground, 3].sum())
        dropped.append(1.0 - out.keep[sc.ground].mean())
    assert 1.0 > energy[0] > energy[1] > energy[2]
    assert dropped[0] <= dropped[1] < dropped[2]
    # the far, grazing returns go first
    out = W.wet_ground(pts, 3, np.random.default_rng(0), ground=sc.ground)
    r = np.linalg.norm(pts[:, :3], axis=1)
    lost = sc.ground & ~out.keep
    assert np.median(r[lost]) > np.median(r[sc.ground & out.keep])


def test_ground_plane_fit_recovers_scene_plane() -> None:
    sc = _scene(2)
    fit = np.array(W.fit_ground_plane(sc.points, np.random.default_rng(0)))
    np.testing.assert_allclose(fit[:3], sc.plane[:3], atol=2e-3)
    assert abs(fit[3] - sc.plane[3]) < 0.03
    auto = W.wet_ground(sc.points, 2, np.random.default_rng(0))
    assert auto.keep.mean() < 1.0 or np.any(auto.points[:, 3] < sc.points[auto.keep, 3])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("points", "severity", "rng", "field"),
    [
        (np.zeros((5, 3)), 1, None, "intensity"),
        (np.zeros((5,)), 1, None, "points"),
        (np.array([[0.0, 0.0, np.nan, 0.1]]), 1, None, "points"),
        (None, 0, None, "severity"),
        (None, True, None, "severity"),
        (None, 1, 3, "rng"),
    ],
)
def test_bad_inputs(kind: str, points: object, severity: object, rng: object, field: str) -> None:
    points = _scene().points if points is None else points
    rng = np.random.default_rng(0) if rng is None else rng
    with pytest.raises(InputError) as exc:
        KINDS[kind](points, severity, rng)
    assert exc.value.field == field


def test_bad_options() -> None:
    sc = _scene()
    rng = np.random.default_rng(0)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: W.fog(sc.points, 1, rng, alpha=-1.0), "alpha"),
        (lambda: W.snow(sc.points, 1, rng, density="dense"), "density"),
        (lambda: W.snow(sc.points, 1, rng, max_flake_range=0.0), "max_flake_range"),
        (lambda: W.wet_ground(sc.points, 1, rng, ground=sc.ground[:-1]), "ground"),
        (lambda: W.wet_ground(sc.points, 1, rng, ground=np.zeros(len(sc.ground), bool)), "ground"),
        (lambda: W.wet_ground(sc.points[~sc.ground][:40], 1, rng), "ground"),
    ]
    for call, field in cases:
        with pytest.raises(InputError) as exc:
            call()
        assert exc.value.field == field


def test_sorted_uniforms_are_sorted_uniform_draws() -> None:
    count = np.array([0, 3, 0, 1, 5000, 2], dtype=np.int64)
    group, u = W._sorted_uniforms(count, np.random.default_rng(0))
    np.testing.assert_array_equal(np.bincount(group, minlength=6), count)
    assert np.all(np.diff(group) >= 0)
    same = np.diff(group) == 0
    assert np.all(np.diff(u)[same] >= 0)
    big = u[group == 4]
    assert np.all((big >= 0) & (big < 1))
    assert abs(big.mean() - 0.5) < 0.02 and abs(np.mean(big < 0.25) - 0.25) < 0.02


def test_ground_plane_fit_on_a_full_size_scan_subsamples_but_stays_accurate() -> None:
    sc = make_scene(np.random.default_rng(5), n_beams=64, n_azimuth=1024)  # ~65k points
    assert sc.points.shape[0] > W._FIT_ROWS  # the fit then looks among a random subset of rows
    fits = np.array([W.fit_ground_plane(sc.points, np.random.default_rng(s)) for s in range(3)])
    np.testing.assert_allclose(fits[:, :3], np.tile(sc.plane[:3], (3, 1)), atol=2e-3)
    assert np.all(np.abs(fits[:, 3] - sc.plane[3]) < 0.03)


def test_fresnel_transmittance_limits() -> None:
    cos_i = np.array([1.0, 0.5, 1e-3, 0.0])
    t = W._transmittance(cos_i)
    normal = 1.0 - ((1.33 - 1.0003) / (1.33 + 1.0003)) ** 2  # about 0.98 at normal incidence
    assert t[0] == pytest.approx(normal)
    assert t[3] == pytest.approx(0.0, abs=1e-12)  # grazing: everything is reflected
    assert np.all(np.isfinite(t)) and np.all(np.diff(t) < 0)


def test_line_fit_matches_polyfit() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 50.0, 1000)
    y = 0.3 - 0.004 * x + rng.normal(0.0, 0.01, 1000)
    np.testing.assert_allclose(W._line_fit(x, y), np.polyfit(x, y, 1), rtol=1e-9)
    assert W._line_fit(np.full(5, 2.0), np.arange(5.0)) == (0.0, 2.0)
