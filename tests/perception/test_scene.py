from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.lidar import ring_ids
from assay.perception.scene import LABELS, SceneScan, make_scene


def _small(seed: int = 0) -> SceneScan:
    return make_scene(np.random.default_rng(seed), n_beams=16, n_azimuth=256)


def test_shapes_dtypes_and_ranges() -> None:
    sc = _small()
    n = sc.points.shape[0]
    assert sc.points.dtype == np.float32 and sc.points.shape == (n, 4)
    for arr in (sc.ring, sc.azimuth, sc.label):
        assert arr.dtype == np.int64 and arr.shape == (n,)
    assert sc.ground.dtype == np.bool_ and sc.ground.shape == (n,)
    # most rays hit something, but the sky and far ground give no point
    assert 0.6 * 16 * 256 < n < 16 * 256
    assert np.all((sc.points[:, 3] >= 0) & (sc.points[:, 3] <= 1))
    assert np.linalg.norm(sc.points[:, :3], axis=1).max() <= 100.0 + 0.2
    assert sc.ring.min() >= 0 and sc.ring.max() == 15
    assert sc.azimuth.min() >= 0 and sc.azimuth.max() < 256
    assert set(np.unique(sc.label)) <= set(range(len(LABELS)))
    assert 0.2 < sc.ground.mean() < 0.9
    np.testing.assert_array_equal(sc.ground, sc.label == 0)


def test_geometry_matches_beams_and_ground_plane() -> None:
    sc = _small(1)
    xyz = sc.points[:, :3].astype(np.float64)
    elev = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    expected = np.linspace(-24.8, 2.0, 16)[sc.ring]
    np.testing.assert_allclose(elev, expected, atol=1e-3)
    az = np.mod(np.arctan2(xyz[:, 1], xyz[:, 0]), 2 * np.pi)
    np.testing.assert_allclose(
        np.angle(np.exp(1j * (az - sc.azimuth * 2 * np.pi / 256))), 0.0, atol=1e-4
    )
    a, b, c, d = sc.plane
    dist = xyz @ np.array([a, b, c]) + d
    assert np.abs(dist[sc.ground]).max() < 0.15  # range noise 2 cm along grazing rays
    assert np.median(np.abs(dist[~sc.ground])) > 0.5


def test_deterministic_from_rng() -> None:
    a, b, c = _small(3), _small(3), _small(4)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.ring, b.ring)
    assert a.points.shape != c.points.shape or not np.array_equal(a.points, c.points)


def test_full_size_scene_point_count() -> None:
    sc = make_scene(np.random.default_rng(0))
    assert 100_000 <= sc.points.shape[0] <= 131_072


def test_ring_ids_recovered_on_shuffled_scene() -> None:
    sc = _small(2)
    perm = np.random.default_rng(5).permutation(sc.points.shape[0])
    np.testing.assert_array_equal(ring_ids(sc.points[perm], 16), sc.ring[perm])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_beams": 1}, "n_beams"),
        ({"n_azimuth": 2.5}, "n_azimuth"),
        ({"noise": -1.0}, "noise"),
        ({"max_range": float("nan")}, "max_range"),
        ({"sensor_height": 0.0}, "sensor_height"),
    ],
)
def test_bad_inputs(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as exc:
        make_scene(np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_rng_must_be_generator() -> None:
    with pytest.raises(InputError) as exc:
        make_scene(0)  # type: ignore[arg-type]
    assert exc.value.field == "rng"
