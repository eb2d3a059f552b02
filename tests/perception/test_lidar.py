from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.lidar import (
    KINDS,
    PARAMS,
    SEVERITIES,
    WEATHER_KINDS,
    corrupt_scan,
    ring_ids,
)
from assay.perception.scene import make_scene

N_BEAMS = 32
N_AZ = 180
GEOMETRIC = tuple(k for k in KINDS if k not in WEATHER_KINDS)


def _scan(intensity: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Points on 32 rings (elevations -25..+15 degrees) at ranges 5..30 m around the origin."""
    rng = np.random.default_rng(0)
    elev = np.deg2rad(np.linspace(-25.0, 15.0, N_BEAMS))
    az = np.linspace(-np.pi, np.pi, N_AZ, endpoint=False)
    e, a = np.meshgrid(elev, az, indexing="ij")
    r = rng.uniform(5.0, 30.0, size=e.shape)
    pts = np.stack([r * np.cos(e) * np.cos(a), r * np.cos(e) * np.sin(a), r * np.sin(e)], -1)
    pts = pts.reshape(-1, 3)
    if intensity:
        pts = np.hstack([pts, rng.uniform(0, 1, size=(pts.shape[0], 1))])
    rings = np.repeat(np.arange(N_BEAMS), N_AZ)
    return pts, rings


@pytest.mark.parametrize("kind", GEOMETRIC)
@pytest.mark.parametrize("cols", [3, 4])
def test_deterministic_dtype_shape(kind: str, cols: int) -> None:
    pts, _ = _scan(intensity=cols == 4)
    a, ra = corrupt_scan(pts, kind, 2, np.random.default_rng(7))
    b, rb = corrupt_scan(pts, kind, 2, np.random.default_rng(7))
    c, _ = corrupt_scan(pts, kind, 2, np.random.default_rng(8))
    assert a.dtype == np.float32 and ra.dtype == np.int64
    assert a.ndim == 2 and a.shape[1] == cols and ra.shape == (a.shape[0],)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)
    assert not (a.shape == c.shape and np.array_equal(a, c))
    if kind in ("crosstalk", "motion_blur"):
        assert a.shape[0] == pts.shape[0]
    else:
        assert 1 <= a.shape[0] < pts.shape[0]
    if cols == 4 and a.shape[0] == pts.shape[0]:
        np.testing.assert_allclose(a[:, 3], pts[:, 3].astype(np.float32))


def test_params_table() -> None:
    assert SEVERITIES == (1, 2, 3)
    assert all(len(v) == 3 for v in PARAMS.values())
    assert KINDS == (
        "fog",
        "wet_ground",
        "snow",
        "motion_blur",
        "beam_missing",
        "crosstalk",
        "incomplete_echo",
        "cross_sensor",
    )
    assert set(WEATHER_KINDS) < set(KINDS)


@pytest.mark.parametrize("kind", ["beam_missing", "incomplete_echo", "cross_sensor"])
def test_fraction_dropped_grows_with_severity(kind: str) -> None:
    pts, rings = _scan()
    kept = [
        np.mean(
            [
                corrupt_scan(pts, kind, s, np.random.default_rng(i), ring=rings)[0].shape[0]
                for i in range(5)
            ]
        )
        for s in SEVERITIES
    ]
    assert kept[0] > kept[1] > kept[2]


@pytest.mark.parametrize("kind", ["crosstalk", "motion_blur"])
def test_displacement_grows_with_severity(kind: str) -> None:
    pts, _ = _scan()
    disp = [
        np.mean(
            [
                np.linalg.norm(
                    corrupt_scan(pts, kind, s, np.random.default_rng(i))[0] - pts, axis=1
                ).mean()
                for i in range(5)
            ]
        )
        for s in SEVERITIES
    ]
    assert 0 < disp[0] < disp[1] < disp[2]


def test_crosstalk_moves_points_along_their_ray() -> None:
    pts, _ = _scan()
    out, _ = corrupt_scan(pts, "crosstalk", 3, np.random.default_rng(1))
    moved = np.any(np.abs(out - pts) > 1e-3, axis=1)
    assert 0 < moved.sum() <= 0.13 * len(pts)
    u = pts[moved] / np.linalg.norm(pts[moved], axis=1, keepdims=True)
    v = out[moved] / np.linalg.norm(out[moved], axis=1, keepdims=True)
    np.testing.assert_allclose(np.sum(u * v, axis=1), 1.0, atol=1e-5)


def test_motion_blur_moves_only_x() -> None:
    pts, _ = _scan()
    out, _ = corrupt_scan(pts, "motion_blur", 3, np.random.default_rng(1))
    np.testing.assert_allclose(out[:, 1:], pts[:, 1:].astype(np.float32))
    assert np.abs(out[:, 0] - pts[:, 0]).max() > 0.1


def test_ring_ids_recovered_from_shuffled_scan() -> None:
    pts, rings = _scan()
    perm = np.random.default_rng(3).permutation(len(pts))
    got = ring_ids(pts[perm], N_BEAMS)
    np.testing.assert_array_equal(got, rings[perm])
    np.testing.assert_array_equal(ring_ids(pts, N_BEAMS, ring=rings), rings)


@pytest.mark.parametrize("replace", [False, True])
def test_beam_missing_removes_whole_rings(replace: bool) -> None:
    pts, rings = _scan()
    perm = np.random.default_rng(4).permutation(len(pts))
    pts, rings = pts[perm], rings[perm]
    for s in SEVERITIES:
        out, out_rings = corrupt_scan(
            pts, "beam_missing", s, np.random.default_rng(s), with_replacement=replace
        )
        kept = np.unique(out_rings)
        np.testing.assert_array_equal(out_rings, ring_ids(out, N_BEAMS, ring=out_rings))
        # every kept ring keeps all its points; every other ring loses all of them
        assert len(out) == np.isin(rings, kept).sum()
        np.testing.assert_array_equal(out, pts[np.isin(rings, kept)].astype(np.float32))
        if not replace:
            assert N_BEAMS - len(kept) == round(PARAMS["beam_missing"][s - 1] * N_BEAMS)


def test_cross_sensor_keeps_every_kth_ring() -> None:
    pts, rings = _scan()
    _, out_rings = corrupt_scan(pts, "cross_sensor", 3, np.random.default_rng(0), ring=rings)
    assert set(np.unique(out_rings)) <= set(range(0, N_BEAMS, 4))


def test_one_elevation_bin_raises() -> None:
    flat = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [3.0, 3.0, 0.0]])
    with pytest.raises(InputError) as exc:
        ring_ids(flat, 32)
    assert exc.value.field == "ring"
    with pytest.raises(InputError):
        corrupt_scan(flat, "beam_missing", 1, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("points", "kind", "severity", "kwargs", "field"),
    [
        (np.zeros((5, 2)), "crosstalk", 1, {}, "points"),
        (np.zeros((0, 3)), "crosstalk", 1, {}, "points"),
        (np.array([[0.0, 0.0, np.nan]]), "crosstalk", 1, {}, "points"),
        ("abc", "crosstalk", 1, {}, "points"),
        (None, "rain", 1, {}, "kind"),
        (None, "fog", 1, {}, "intensity"),
        (None, "snow", 1, {}, "intensity"),
        (None, "wet_ground", 1, {}, "intensity"),
        (None, "crosstalk", 1, {"ground": np.zeros(3, bool)}, "ground"),
        (None, "snow", 1, {"fog_alpha": 0.01}, "fog_alpha"),
        (None, "crosstalk", 0, {}, "severity"),
        (None, "crosstalk", 4, {}, "severity"),
        (None, "crosstalk", True, {}, "severity"),
        (None, "crosstalk", 1, {"n_beams": 1}, "n_beams"),
        (None, "crosstalk", 1, {"ring": np.zeros(3)}, "ring"),
        (None, "crosstalk", 1, {"rng": 3}, "rng"),
    ],
)
def test_bad_inputs(
    points: object, kind: str, severity: int, kwargs: dict[str, object], field: str
) -> None:
    if points is None:
        points = _scan()[0]
    rng = kwargs.pop("rng", np.random.default_rng(0))
    with pytest.raises(InputError) as exc:
        corrupt_scan(points, kind, severity, rng, **kwargs)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_bad_ring_values() -> None:
    pts, rings = _scan()
    with pytest.raises(InputError):
        ring_ids(pts, N_BEAMS, ring=rings - 1.0)
    with pytest.raises(InputError):
        ring_ids(pts, N_BEAMS, ring=rings + 0.5)


def _scene_scan() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sc = make_scene(np.random.default_rng(11), n_beams=16, n_azimuth=256)
    perm = np.random.default_rng(12).permutation(sc.points.shape[0])
    return sc.points[perm], sc.ring[perm], sc.ground[perm]


@pytest.mark.parametrize("kind", WEATHER_KINDS)
def test_weather_kinds_dispatch_and_carry_rings(kind: str) -> None:
    pts, rings, ground = _scene_scan()
    a, ra = corrupt_scan(pts, kind, 3, np.random.default_rng(1), n_beams=16)
    b, rb = corrupt_scan(pts, kind, 3, np.random.default_rng(1), n_beams=16)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)
    assert a.dtype == np.float32 and a.shape[1] == 4 and ra.shape == (a.shape[0],)
    assert 0 < a.shape[0] <= pts.shape[0]
    assert not (a.shape == pts.shape and np.array_equal(a, pts))
    # rings come from elevation binning of the shuffled scan and stay with their points
    unmoved = np.isin(a[:, :3].view("V12").ravel(), pts[:, :3].copy().view("V12").ravel())
    assert unmoved.mean() > 0.5
    src = {row.tobytes(): r for row, r in zip(pts[:, :3], rings, strict=True)}
    assert all(src[row.tobytes()] == r for row, r in zip(a[unmoved, :3], ra[unmoved], strict=True))
    if kind == "wet_ground":
        c, _ = corrupt_scan(pts, kind, 3, np.random.default_rng(1), ring=rings, ground=ground)
        assert c.shape[0] < pts.shape[0]


def test_fog_alpha_option() -> None:
    pts, rings, _ = _scene_scan()
    clear, _ = corrupt_scan(pts, "fog", 1, np.random.default_rng(0), ring=rings, fog_alpha=0.0)
    dense, _ = corrupt_scan(pts, "fog", 1, np.random.default_rng(0), ring=rings, fog_alpha=0.06)
    assert dense[:, 3].sum() < clear[:, 3].sum()


def test_integer_ring_column_is_checked_and_used_as_is() -> None:
    pts, rings = _scan()
    as_int = rings.astype(np.int32)
    np.testing.assert_array_equal(ring_ids(pts, N_BEAMS, ring=as_int), rings)
    with pytest.raises(InputError) as exc:
        ring_ids(pts, N_BEAMS, ring=as_int - 1)
    assert exc.value.field == "ring"
    a, ra = corrupt_scan(pts, "beam_missing", 2, np.random.default_rng(3), ring=as_int)
    b, rb = corrupt_scan(pts, "beam_missing", 2, np.random.default_rng(3), ring=rings * 1.0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)


@pytest.mark.parametrize("kind", ["crosstalk", "motion_blur", "beam_missing", "cross_sensor"])
def test_float64_and_float32_scans_agree(kind: str) -> None:
    pts, rings = _scan(intensity=True)
    a, ra = corrupt_scan(pts, kind, 2, np.random.default_rng(4), ring=rings)
    b, rb = corrupt_scan(pts.astype(np.float32), kind, 2, np.random.default_rng(4), ring=rings)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(ra, rb)


def test_motion_blur_spread_follows_the_sweep() -> None:
    # std of the x shift is sigma * t: near zero at the sweep start, about sigma at its end
    pts, rings = _scan()
    shifts, ts = [], []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        out, _ = corrupt_scan(pts, "motion_blur", 3, rng, ring=rings)
        start = np.random.default_rng(seed).uniform(-np.pi, np.pi)
        az = np.arctan2(pts[:, 1], pts[:, 0])
        ts.append(np.mod(az - start, 2 * np.pi) / (2 * np.pi))
        shifts.append(out[:, 0] - pts[:, 0])
    t, shift = np.concatenate(ts), np.concatenate(shifts)
    sigma = PARAMS["motion_blur"][2]
    late = shift[t > 0.9] / (sigma * t[t > 0.9])
    assert float(np.std(late)) == pytest.approx(1.0, rel=0.1)
    assert float(np.std(shift[t < 0.1])) < 0.1 * sigma


def test_beam_missing_with_large_ring_ids() -> None:
    pts, rings = _scan()
    big = rings * 1_000_003  # ids far beyond any lookup table
    a, ra = corrupt_scan(pts, "beam_missing", 2, np.random.default_rng(9), ring=big)
    b, rb = corrupt_scan(pts, "beam_missing", 2, np.random.default_rng(9), ring=rings)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb * 1_000_003)
    assert np.unique(rb).size == N_BEAMS - round(PARAMS["beam_missing"][1] * N_BEAMS)


@pytest.mark.parametrize("kind", KINDS)
def test_the_input_scan_is_never_modified(kind: str) -> None:
    pts, rings, _ = _scene_scan()
    for scan in (pts.astype(np.float32), pts.astype(np.float64)):
        before = scan.copy()
        corrupt_scan(scan, kind, 3, np.random.default_rng(0), ring=rings)
        np.testing.assert_array_equal(scan, before)
