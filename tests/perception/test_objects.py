"""ModelNet40-C-style object corruptions: shape, dtype, determinism, severity, bad input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.objects import (
    BATCH_ARRAY_KINDS,
    KINDS,
    PARAMS,
    SAME_COUNT,
    SEVERITIES,
    corrupt,
    corrupt_batch,
)

N = 1024
SHRINK = {"dropout_global", "dropout_local", "density_dec", "cutout", "occlusion"}
GROW = {"add_global", "add_local", "density_inc"}
SEEDS = (0, 1, 2)


def _sphere(n: int = N, seed: int = 0) -> np.ndarray:
    points = np.random.default_rng(seed).normal(size=(n, 3))
    sphere: np.ndarray = points / np.linalg.norm(points, axis=1, keepdims=True)
    return sphere


CLOUD = _sphere()


def _rows(points: np.ndarray) -> set[tuple[float, float, float]]:
    return {tuple(row) for row in points.astype(np.float32).tolist()}


def test_tables_cover_every_kind_with_five_severities() -> None:
    assert SEVERITIES == (1, 2, 3, 4, 5)
    assert tuple(PARAMS) == KINDS
    assert len(KINDS) == 12
    assert set(KINDS) == SHRINK | GROW | SAME_COUNT
    assert all(len(values) == 5 for values in PARAMS.values())


@pytest.mark.parametrize("severity", SEVERITIES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_severity(kind: str, severity: int) -> None:
    out = corrupt(CLOUD, kind, severity, np.random.default_rng(7))
    again = corrupt(CLOUD, kind, severity, np.random.default_rng(7))
    other = corrupt(CLOUD, kind, severity, np.random.default_rng(8))
    assert out.dtype == np.float32
    assert out.ndim == 2 and out.shape[1] == 3
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, again)
    assert out.shape != other.shape or not np.array_equal(out, other)
    if kind in SAME_COUNT:
        assert out.shape[0] == N
        assert not np.allclose(out, CLOUD, atol=1e-4)  # never a silent no-op
    elif kind in SHRINK:
        assert 1 <= out.shape[0] < N
        assert _rows(out) < _rows(CLOUD)  # kept points are unmoved input points
    else:
        assert out.shape[0] > N
        np.testing.assert_array_equal(out[:N], CLOUD.astype(np.float32))


def _mean_effect(kind: str, severity: int, effect: Callable[[np.ndarray], float]) -> float:
    return float(
        np.mean([effect(corrupt(CLOUD, kind, severity, np.random.default_rng(s))) for s in SEEDS])
    )


def _removed(out: np.ndarray) -> float:
    return float(N - out.shape[0])


def _added(out: np.ndarray) -> float:
    return float(out.shape[0] - N)


def _displacement(out: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(out - CLOUD, axis=1)))


def _rotation_angle(out: np.ndarray) -> float:
    """Angle (degrees) of the best rotation taking the clean cloud onto ``out`` (Kabsch)."""
    a = CLOUD - CLOUD.mean(axis=0)
    b = out.astype(np.float64) - out.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    rotation = (u @ vt).T
    cos = np.clip((np.trace(rotation) - 1.0) / 2.0, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)))


def _anisotropy(out: np.ndarray) -> float:
    spread = out.std(axis=0) / CLOUD.std(axis=0)
    return float(spread.max() / spread.min())


EFFECTS: dict[str, Callable[[np.ndarray], float]] = {
    "jitter": _displacement,
    "dropout_global": _removed,
    "dropout_local": _removed,
    "add_global": _added,
    "add_local": _added,
    "scale": _anisotropy,
    "rotate": _rotation_angle,
    "shear": _displacement,
    "density_inc": _added,
    "density_dec": _removed,
    "cutout": _removed,
    "occlusion": _removed,
}


@pytest.mark.parametrize("kind", KINDS)
def test_severity_5_is_stronger_than_severity_1(kind: str) -> None:
    effect = EFFECTS[kind]
    mild, severe = _mean_effect(kind, 1, effect), _mean_effect(kind, 5, effect)
    assert severe > 1.2 * mild > 0.0, (kind, mild, severe)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("dropout_global", [256, 384, 512, 640, 768]),  # removed
        ("dropout_local", [102, 205, 307, 410, 512]),  # removed
        ("cutout", [51, 102, 153, 204, 255]),  # removed
        ("add_global", [10, 20, 31, 41, 51]),  # added
        ("add_local", [102, 205, 307, 410, 512]),  # added
    ],
)
def test_exact_counts_follow_the_table(kind: str, expected: list[int]) -> None:
    counts = [corrupt(CLOUD, kind, s, np.random.default_rng(3)).shape[0] - N for s in SEVERITIES]
    assert [abs(c) for c in counts] == expected


def test_jitter_displacement_matches_sigma() -> None:
    out = corrupt(CLOUD, "jitter", 5, np.random.default_rng(0))
    per_axis_std = float(np.std(out - CLOUD))
    assert per_axis_std == pytest.approx(PARAMS["jitter"][4], rel=0.1)


def test_rotate_angles_stay_within_the_bound() -> None:
    # Euler angles each in [-a, a]: total angle at most sqrt(3) * a (small-angle bound + slack).
    angles = [_rotation_angle(corrupt(CLOUD, "rotate", 1, np.random.default_rng(s))) for s in SEEDS]
    assert max(angles) <= np.sqrt(3.0) * PARAMS["rotate"][0] + 0.5


def test_scale_keeps_the_radius() -> None:
    out = corrupt(CLOUD, "scale", 5, np.random.default_rng(0)).astype(np.float64)
    radius = np.max(np.linalg.norm(out - out.mean(axis=0), axis=1))
    assert radius == pytest.approx(np.max(np.linalg.norm(CLOUD - CLOUD.mean(axis=0), axis=1)))


def test_occlusion_keeps_a_strict_visible_subset() -> None:
    for seed in SEEDS:
        out = corrupt(CLOUD, "occlusion", 3, np.random.default_rng(seed))
        assert _rows(out) < _rows(CLOUD)
        # A viewpoint at 3 radii sees a cap of (1 - 1/3) / 2 of a sphere, plus the horizon.
        assert 0.3 * N < out.shape[0] < 0.45 * N
        # the visible points form one cap: they all lie on the same side of the centroid
        mean_dir = out.mean(axis=0) / np.linalg.norm(out.mean(axis=0))
        assert np.min(out @ mean_dir) > 0.0


def test_works_on_a_shifted_and_scaled_cloud() -> None:
    shifted = CLOUD * 50.0 + np.array([100.0, -20.0, 3.0])
    clean = corrupt(CLOUD, "occlusion", 2, np.random.default_rng(4))
    moved = corrupt(shifted, "occlusion", 2, np.random.default_rng(4))
    assert moved.shape == clean.shape
    jit = corrupt(shifted, "jitter", 1, np.random.default_rng(0)) - shifted
    assert float(np.std(jit)) == pytest.approx(0.01 * 50.0, rel=0.1)


@pytest.mark.parametrize(
    "points",
    [
        np.zeros(30),
        np.zeros((10, 2)),
        np.zeros((10, 4)),
        np.zeros((2, 5, 3)),
        np.zeros((0, 3)),
        [["a", "b", "c"]],
    ],
)
def test_bad_shape_raises(points: object) -> None:
    with pytest.raises(InputError) as info:
        corrupt(points, "jitter", 1, np.random.default_rng(0))  # type: ignore[arg-type]
    assert info.value.field == "points"


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_points_raise(bad: float) -> None:
    points = CLOUD.copy()
    points[17, 1] = bad
    with pytest.raises(InputError, match="NaN or infinite") as info:
        corrupt(points, "rotate", 2, np.random.default_rng(0))
    assert info.value.field == "points"


def test_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(InputError) as info:
        corrupt(CLOUD, "fog", 1, np.random.default_rng(0))
    assert info.value.field == "kind"
    for kind in KINDS:
        assert kind in str(info.value)


@pytest.mark.parametrize("severity", [0, 6, -1, 2.0, True])
def test_bad_severity_raises(severity: object) -> None:
    with pytest.raises(InputError) as info:
        corrupt(CLOUD, "jitter", severity, np.random.default_rng(0))  # type: ignore[arg-type]
    assert info.value.field == "severity"


def test_rng_must_be_a_generator() -> None:
    with pytest.raises(InputError) as info:
        corrupt(CLOUD, "jitter", 1, 42)  # type: ignore[arg-type]
    assert info.value.field == "rng"


def test_occlusion_needs_a_3d_cloud() -> None:
    with pytest.raises(InputError, match="at least 4"):
        corrupt(CLOUD[:3], "occlusion", 1, np.random.default_rng(0))
    line = np.outer(np.linspace(-1.0, 1.0, 50), [1.0, 2.0, 3.0])  # flips into one plane
    with pytest.raises(InputError, match="spans 3-D") as info:
        corrupt(line, "occlusion", 1, np.random.default_rng(0))
    assert info.value.field == "points"


@pytest.mark.parametrize("kind", sorted(SHRINK - {"occlusion"}))
def test_shrinking_kinds_keep_a_point_of_tiny_clouds(kind: str) -> None:
    out = corrupt(CLOUD[:2], kind, 5, np.random.default_rng(0))
    assert out.shape == (1, 3)


# ---------------------------------------------------------------------------- corrupt_batch

B = 16
BATCH = np.stack([_sphere(N, seed) for seed in range(B)]).astype(np.float32)
SAME = np.repeat(CLOUD[None].astype(np.float32), B, axis=0)  # B copies of CLOUD


def _as_list(out: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
    return list(out) if isinstance(out, np.ndarray) else out


@pytest.mark.parametrize("severity", [1, 5])
@pytest.mark.parametrize("kind", KINDS)
def test_batch_shape_dtype_determinism_and_rows(kind: str, severity: int) -> None:
    out = corrupt_batch(BATCH, kind, severity, np.random.default_rng(5))
    again = corrupt_batch(BATCH, kind, severity, np.random.default_rng(5))
    other = corrupt_batch(BATCH, kind, severity, np.random.default_rng(6))
    if kind in BATCH_ARRAY_KINDS:
        assert isinstance(out, np.ndarray) and out.dtype == np.float32
        single = corrupt(BATCH[0], kind, severity, np.random.default_rng(0))
        assert out.shape == (B, single.shape[0], 3)  # the same count as a per-cloud call
    else:
        assert isinstance(out, list) and len(out) == B
    clouds, agains, others = _as_list(out), _as_list(again), _as_list(other)
    assert any(
        o.shape != c.shape or not np.array_equal(o, c) for o, c in zip(others, clouds, strict=True)
    )
    for b, (c, a) in enumerate(zip(clouds, agains, strict=True)):
        assert c.dtype == np.float32 and c.ndim == 2 and c.shape[1] == 3
        assert np.all(np.isfinite(c))
        np.testing.assert_array_equal(c, a)
        if kind in SAME_COUNT:
            assert c.shape[0] == N and not np.allclose(c, BATCH[b], atol=1e-4)
        elif kind in SHRINK:
            assert 1 <= c.shape[0] < N
            # kept rows are input rows, in input order
            index = {row: i for i, row in enumerate(map(tuple, BATCH[b].tolist()))}
            positions = [index[row] for row in map(tuple, c.tolist())]
            assert positions == sorted(positions) and len(set(positions)) == len(positions)
        else:
            assert c.shape[0] > N
            np.testing.assert_array_equal(c[:N], BATCH[b])


def _batch_effect(kind: str, severity: int, seed: int = 0) -> float:
    out = _as_list(corrupt_batch(SAME, kind, severity, np.random.default_rng(seed)))
    return float(np.mean([EFFECTS[kind](c) for c in out]))


def _single_effect(kind: str, severity: int) -> float:
    rngs = [np.random.default_rng(100 + s) for s in range(B)]
    return float(np.mean([EFFECTS[kind](corrupt(CLOUD, kind, severity, r)) for r in rngs]))


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"occlusion"}))
def test_batch_effect_matches_per_cloud_calls_in_distribution(kind: str) -> None:
    # the mean effect over 16 clouds, batched vs 16 per-cloud calls: same distribution
    for severity in (1, 4):
        batched, single = _batch_effect(kind, severity), _single_effect(kind, severity)
        assert batched == pytest.approx(single, rel=0.2), (kind, severity, batched, single)


@pytest.mark.parametrize("kind", KINDS)
def test_batch_severity_5_is_stronger_than_severity_1(kind: str) -> None:
    mild, severe = _batch_effect(kind, 1), _batch_effect(kind, 5)
    assert severe > 1.2 * mild > 0.0, (kind, mild, severe)


def test_batch_jitter_is_gaussian_with_the_radius_scaled_sigma() -> None:
    scaled = BATCH * np.linspace(0.5, 8.0, B, dtype=np.float32)[:, None, None]
    out = corrupt_batch(scaled, "jitter", 3, np.random.default_rng(0))
    assert isinstance(out, np.ndarray)
    radius = np.linalg.norm(scaled - scaled.mean(axis=1, keepdims=True), axis=2).max(axis=1)
    noise = (out - scaled) / (PARAMS["jitter"][2] * radius)[:, None, None]
    assert float(noise.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(noise.std()) == pytest.approx(1.0, rel=0.02)
    kurtosis = float(np.mean(noise**4) / np.mean(noise**2) ** 2)
    assert kurtosis == pytest.approx(3.0, abs=0.1)  # Gaussian, not uniform (1.8)
    per_cloud_std = noise.reshape(B, -1).std(axis=1)
    np.testing.assert_allclose(per_cloud_std, 1.0, rtol=0.1)  # each cloud its own radius


def test_batch_rotate_and_scale_keep_the_geometry() -> None:
    rot = corrupt_batch(SAME, "rotate", 1, np.random.default_rng(0))
    assert isinstance(rot, np.ndarray)
    angles = [_rotation_angle(c) for c in rot]
    assert max(angles) <= np.sqrt(3.0) * PARAMS["rotate"][0] + 0.5
    assert min(angles) > 0.1
    np.testing.assert_allclose(  # rigid: distances to the centroid unchanged
        np.linalg.norm(rot - rot.mean(axis=1, keepdims=True), axis=2),
        np.linalg.norm(SAME - SAME.mean(axis=1, keepdims=True), axis=2),
        atol=1e-5,
    )
    moved = BATCH * 3.0 + 1.0
    sc = corrupt_batch(moved, "scale", 5, np.random.default_rng(0))
    assert isinstance(sc, np.ndarray)
    radius = np.linalg.norm(sc - sc.mean(axis=1, keepdims=True), axis=2).max(axis=1)
    clean = np.linalg.norm(moved - moved.mean(axis=1, keepdims=True), axis=2).max(axis=1)
    np.testing.assert_allclose(radius, clean, rtol=1e-4)
    assert min(_anisotropy(c) for c in sc) > 1.05


def _mean_nn_distance(points: np.ndarray) -> float:
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return float(d.min(axis=1).mean())


def test_batch_cutout_and_dropout_local_remove_local_patches() -> None:
    rows = _rows(CLOUD)
    for kind in ("cutout", "dropout_local"):
        out = corrupt_batch(SAME, kind, 1, np.random.default_rng(0))
        assert isinstance(out, np.ndarray)
        for c in out:
            removed = np.array(sorted(rows - _rows(c)))
            if kind == "cutout":  # one centre: a cap of 51 of 1024 points on the unit sphere
                assert np.linalg.norm(removed - removed.mean(axis=0), axis=1).max() < 0.6
            # patches are dense: removed points sit next to each other, unlike a random subset
            uniform = CLOUD[np.random.default_rng(1).choice(N, removed.shape[0], replace=False)]
            assert _mean_nn_distance(removed) < 0.6 * _mean_nn_distance(uniform)


@pytest.mark.parametrize("kind", sorted(SHRINK - {"occlusion"}))
def test_batch_shrinking_kinds_keep_a_point_of_tiny_clouds(kind: str) -> None:
    out = _as_list(corrupt_batch(BATCH[:, :2], kind, 5, np.random.default_rng(0)))
    assert all(c.shape == (1, 3) for c in out)


@pytest.mark.parametrize(
    "points", [np.zeros((10, 3)), np.zeros((2, 10, 2)), np.zeros((0, 10, 3)), np.zeros((2, 0, 3))]
)
def test_batch_bad_shape_raises(points: np.ndarray) -> None:
    with pytest.raises(InputError) as info:
        corrupt_batch(points, "jitter", 1, np.random.default_rng(0))
    assert info.value.field == "points"


def test_batch_bad_values_kind_severity_rng_raise() -> None:
    bad = BATCH.copy()
    bad[3, 7, 1] = np.nan
    with pytest.raises(InputError, match="NaN or infinite") as info:
        corrupt_batch(bad, "rotate", 1, np.random.default_rng(0))
    assert info.value.field == "points"
    for kind, severity, rng, field in [
        ("fog", 1, np.random.default_rng(0), "kind"),
        ("jitter", 6, np.random.default_rng(0), "severity"),
        ("jitter", 1, 42, "rng"),
    ]:
        with pytest.raises(InputError) as info:
            corrupt_batch(BATCH, kind, severity, rng)  # type: ignore[arg-type]
        assert info.value.field == field


@pytest.mark.parametrize("kind", ["dropout_local", "cutout"])
def test_batch_knn_kinds_count_exactly_with_tied_distances(kind: str) -> None:
    # every point twice (and a block of copies of one point): the k-th distance is tied
    doubled = np.concatenate([BATCH[:, :512], BATCH[:, :512]], axis=1)
    doubled[:, :40] = doubled[:, :1]
    out = corrupt_batch(doubled, kind, 3, np.random.default_rng(2))
    expected = corrupt(doubled[0], kind, 3, np.random.default_rng(0)).shape[0]
    assert isinstance(out, np.ndarray) and out.shape == (B, expected, 3)
    for c, src in zip(out, doubled, strict=True):
        remaining = _rows(src)
        assert _rows(c) <= remaining


@pytest.mark.parametrize("kind", KINDS)
def test_batch_input_is_never_modified(kind: str) -> None:
    batch = BATCH[:4].copy()
    corrupt_batch(batch, kind, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(batch, BATCH[:4])
