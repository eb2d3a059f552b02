"""Tests of the synthetic multi-beam LiDAR data set."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.synthetic import CLASSES, Scan, make_dataset, scan_shape


def _scan(kind: str, seed: int, **kwargs: float) -> Scan:
    return scan_shape(kind, np.random.default_rng(seed), **kwargs)  # type: ignore[arg-type]


def test_at_least_ten_distinct_classes() -> None:
    assert len(CLASSES) >= 10
    assert len(set(CLASSES)) == len(CLASSES)


@pytest.mark.parametrize("kind", CLASSES)
def test_every_class_yields_normalised_points(kind: str) -> None:
    for seed in range(3):
        scan = _scan(kind, seed)
        assert len(scan.points) > 100
        assert scan.points.dtype == np.float32 and scan.points.shape[1] == 3
        assert scan.beam.dtype == np.int16 and scan.azimuth.dtype == np.int16
        assert len(scan.beam) == len(scan.azimuth) == len(scan.points) == len(scan.sensor_points)
        assert scan.label == CLASSES.index(kind)
        np.testing.assert_allclose(scan.points.mean(axis=0), 0.0, atol=1e-5)
        assert np.linalg.norm(scan.points, axis=1).max() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("kind", CLASSES)
def test_points_lie_on_the_posed_surface(kind: str) -> None:
    clean = _scan(kind, 7, noise=0.0)
    residual = np.abs(clean.shape.sdf(clean.sensor_points.astype(np.float64)))
    assert residual.max() < 2e-3 * clean.shape.scale

    sigma = 0.005
    noisy = _scan(kind, 7, noise=sigma)
    residual = np.abs(noisy.shape.sdf(noisy.sensor_points.astype(np.float64)))
    assert np.mean(residual < 4 * sigma + 2e-3 * noisy.shape.scale) > 0.99
    assert residual.max() > 1e-4  # the noise is really there


def test_noise_moves_points_along_the_ray_only() -> None:
    clean, noisy = _scan("cube", 3, noise=0.0), _scan("cube", 3, noise=0.05)
    np.testing.assert_array_equal(clean.beam, noisy.beam)
    np.testing.assert_array_equal(clean.azimuth, noisy.azimuth)
    cos = np.sum(clean.sensor_points * noisy.sensor_points, axis=1) / (
        np.linalg.norm(clean.sensor_points, axis=1) * np.linalg.norm(noisy.sensor_points, axis=1)
    )
    np.testing.assert_allclose(cos, 1.0, atol=1e-6)
    ranges = np.linalg.norm(noisy.sensor_points, axis=1) - np.linalg.norm(
        clean.sensor_points, axis=1
    )
    assert 0.03 < float(np.std(ranges)) < 0.07


def test_beam_ids_in_range_and_monotone_with_elevation() -> None:
    n_beams, n_azimuth = 16, 40
    for kind in CLASSES:
        scan = _scan(kind, 11, n_beams=n_beams, n_azimuth=n_azimuth)
        assert scan.beam.min() >= 0 and scan.beam.max() < n_beams
        assert scan.azimuth.min() >= 0 and scan.azimuth.max() < n_azimuth
        assert len(np.unique(scan.beam)) > 3  # several beams see the object
        x, y, z = scan.sensor_points.astype(np.float64).T
        elevation = np.arctan2(z, np.hypot(x, y))
        azimuth = np.arctan2(y, x)
        for ids, angle in ((scan.beam, elevation), (scan.azimuth, azimuth)):
            levels = np.unique(ids)
            lo = np.array([angle[ids == b].min() for b in levels])
            hi = np.array([angle[ids == b].max() for b in levels])
            assert np.all(hi - lo < 1e-5)  # one angle per beam / per azimuth step
            assert np.all(np.diff(lo) > 0)  # strictly increasing with the index


def test_scan_is_deterministic_for_a_seed() -> None:
    a, b, c = _scan("torus", 5), _scan("torus", 5), _scan("torus", 6)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.beam, b.beam)
    assert a.points.shape != c.points.shape or not np.array_equal(a.points, c.points)


def test_dataset_shapes_dtypes_and_determinism() -> None:
    points, labels, beams = make_dataset(2, seed=0, n_points=256)
    m = 2 * len(CLASSES)
    assert points.shape == (m, 256, 3) and points.dtype == np.float32
    assert labels.shape == (m,) and labels.dtype == np.int64
    assert beams.shape == (m, 256) and beams.dtype == np.int16
    np.testing.assert_array_equal(labels, np.repeat(np.arange(len(CLASSES)), 2))
    assert np.all((beams >= 0) & (beams < 32))
    assert np.all(np.linalg.norm(points, axis=2) <= 1.0 + 1e-5)

    again = make_dataset(2, seed=0, n_points=256)
    for x, y in zip((points, labels, beams), again, strict=True):
        np.testing.assert_array_equal(x, y)
    other, _, _ = make_dataset(2, seed=1, n_points=256)
    assert not np.array_equal(points, other)


def test_dataset_upsamples_sparse_scans_with_replacement() -> None:
    points, _, beams = make_dataset(1, seed=3, n_points=3000, n_beams=8, n_azimuth=16)
    assert points.shape == (len(CLASSES), 3000, 3)
    # at most 8 * 16 distinct rays, so points repeat
    assert all(len(np.unique(cloud, axis=0)) <= 128 for cloud in points)
    assert np.all(beams < 8)


def test_unknown_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown shape kind") as info:
        scan_shape("teapot", np.random.default_rng(0))
    assert info.value.field == "kind"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_beams": 1}, "n_beams"),
        ({"n_azimuth": 0}, "n_azimuth"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
    ],
)
def test_bad_sensor_settings_are_input_errors(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as info:
        scan_shape("sphere", np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"n_per_class": 0}, "n_per_class"), ({"seed": -1}, "seed"), ({"n_points": 0}, "n_points")],
)
def test_bad_dataset_arguments_are_input_errors(kwargs: dict[str, int], field: str) -> None:
    args: dict[str, int] = {"n_per_class": 1, "seed": 0} | kwargs
    with pytest.raises(InputError) as info:
        make_dataset(**args)
    assert info.value.field == field
