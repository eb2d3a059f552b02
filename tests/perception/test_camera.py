from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.camera import (
    KINDS,
    PARAMS,
    SEVERITIES,
    corrupt_image,
    frost_texture,
    plasma_fractal,
)


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Non-periodic test image: smoothed noise plus a colour ramp (uint8)."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.random((h, w, 3)), (1.2, 1.2, 0))
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    ramp = (np.arange(w) / w)[None, :, None] * np.array([1.0, 0.5, 0.2])
    return (np.clip(0.6 * noise + 0.4 * ramp, 0, 1) * 255).astype(np.uint8)


IMG = _image(32, 48)
IMG64 = _image(64, 64, seed=1)


def _mad(out: np.ndarray, clean: np.ndarray) -> float:
    return float(np.abs(out.astype(float) - clean.astype(float)).mean())


def _hf(out: np.ndarray, clean: np.ndarray) -> float:
    """High-frequency energy: mean squared difference of neighbouring pixels (negated so
    that 'more corrupted' is 'larger')."""
    x = out.astype(float)
    return -float(((x[1:] - x[:-1]) ** 2).mean() + ((x[:, 1:] - x[:, :-1]) ** 2).mean())


def _gain(out: np.ndarray, clean: np.ndarray) -> float:
    """How much of the clean signal survives (regression slope), negated."""
    c = clean.astype(float) - clean.mean()
    o = out.astype(float) - out.mean()
    return -float((c * o).sum() / (c * c).sum())


def _mean(out: np.ndarray, clean: np.ndarray) -> float:
    return float(out.astype(float).mean())


def _neg_std(out: np.ndarray, clean: np.ndarray) -> float:
    return -float(out.astype(float).std())


#: Per kind, a measured effect that must grow with severity (see _hf, _gain).
EFFECT: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "gaussian_noise": _mad,
    "shot_noise": _mad,
    "impulse_noise": _mad,
    "defocus_blur": _hf,
    "glass_blur": _hf,
    "motion_blur": _hf,
    "zoom_blur": _hf,
    "snow": _gain,
    "frost": _gain,
    "fog": _mad,
    "brightness": _mean,
    "contrast": _neg_std,
    "elastic_transform": _mad,
    "pixelate": _mad,
    "jpeg_compression": _mad,
}


def test_tables_complete() -> None:
    assert len(KINDS) == 15
    assert set(EFFECT) == set(KINDS)
    assert all(len(PARAMS[k]) == len(SEVERITIES) for k in KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_shape_dtype_every_severity(kind: str) -> None:
    for severity in SEVERITIES:
        out = corrupt_image(IMG, kind, severity, np.random.default_rng(severity))
        assert out.shape == IMG.shape and out.dtype == np.uint8
        assert _mad(out, IMG) > 0.5, (kind, severity)


@pytest.mark.parametrize("kind", KINDS)
def test_float_input_keeps_dtype_and_range(kind: str) -> None:
    img = IMG64.astype(np.float32) / 255.0
    out = corrupt_image(img, kind, 3, np.random.default_rng(0))
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # the float path and the uint8 path agree to within quantisation (+ JPEG/PIL rounding)
    ref = corrupt_image(IMG64, kind, 3, np.random.default_rng(0)).astype(float) / 255.0
    assert np.abs(out - ref).mean() < 0.02


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_from_seed(kind: str) -> None:
    a = corrupt_image(IMG64, kind, 4, np.random.default_rng(7))
    b = corrupt_image(IMG64, kind, 4, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_severity_monotone_in_measured_effect(kind: str) -> None:
    measure = EFFECT[kind]
    for img in (IMG, IMG64):
        values = [
            measure(corrupt_image(img, kind, s, np.random.default_rng(0)), img) for s in SEVERITIES
        ]
        assert all(b > a for a, b in itertools.pairwise(values)), (kind, values)


def test_noise_kinds_raise_variance_and_brightness_keeps_black_hue_free() -> None:
    flat = np.full((32, 32, 3), 128, np.uint8)
    for kind in ("gaussian_noise", "shot_noise", "impulse_noise"):
        out = corrupt_image(flat, kind, 3, np.random.default_rng(0))
        assert out.astype(float).std() > 10.0
    black = np.zeros((16, 16, 3), np.uint8)
    out = corrupt_image(black, "brightness", 5, np.random.default_rng(0))
    assert np.all(out == round(0.5 * 255))


def test_glass_blur_swaps_preserve_values_before_blur() -> None:
    # glass_blur's shuffle is a permutation: the mean colour is unchanged
    out = corrupt_image(IMG64, "glass_blur", 5, np.random.default_rng(0))
    assert abs(out.astype(float).mean() - IMG64.astype(float).mean()) < 0.5


def test_fractal_and_frost_texture() -> None:
    f = plasma_fractal(64, 2.0, np.random.default_rng(0))
    assert f.shape == (64, 64) and f.min() == 0.0 and f.max() == 1.0
    g = plasma_fractal(64, 2.0, np.random.default_rng(0))
    np.testing.assert_array_equal(f, g)
    t = frost_texture(40, 60, np.random.default_rng(0))
    assert t.shape == (40, 60, 3) and t.min() >= 0.0 and t.max() <= 1.0
    assert 0.1 < t.mean() < 0.7
    with pytest.raises(InputError) as err:
        plasma_fractal(48, 2.0, np.random.default_rng(0))
    assert err.value.field == "size"


@pytest.mark.parametrize(
    ("image", "kind", "severity", "field"),
    [
        (np.zeros((32, 32), np.uint8), "fog", 1, "image"),
        (np.zeros((32, 32, 4), np.uint8), "fog", 1, "image"),
        (np.zeros((8, 32, 3), np.uint8), "fog", 1, "image"),
        (np.full((32, 32, 3), np.nan), "fog", 1, "image"),
        (np.full((32, 32, 3), 2.0), "fog", 1, "image"),
        (np.zeros((32, 32, 3), np.int32), "fog", 1, "image"),
        (IMG, "haze", 1, "kind"),
        (IMG, "fog", 0, "severity"),
        (IMG, "fog", 6, "severity"),
        (IMG, "fog", 2.0, "severity"),
        (IMG, "fog", True, "severity"),
    ],
)
def test_bad_input(image: np.ndarray, kind: str, severity: int, field: str) -> None:
    with pytest.raises(InputError) as err:
        corrupt_image(image, kind, severity, np.random.default_rng(0))
    assert err.value.field == field


def test_bad_rng() -> None:
    with pytest.raises(InputError) as err:
        corrupt_image(IMG, "fog", 1, 0)  # type: ignore[arg-type]
    assert err.value.field == "rng"


def test_glass_shuffle_is_a_local_permutation() -> None:
    from assay.perception.camera import _glass_shuffle

    h, w, d = 40, 52, 3
    ids = np.arange(h * w, dtype=np.float64).reshape(h, w, 1)
    out = _glass_shuffle(ids, d, 2, np.random.default_rng(0))
    # a permutation: every pixel value still present exactly once
    np.testing.assert_array_equal(np.sort(out.ravel()), ids.ravel())
    src = out[..., 0].astype(np.int64)
    moved = src != ids[..., 0]
    assert moved.mean() > 0.5
    # local: swaps are at most d pixels per axis (chains of swaps can carry a pixel further)
    dy = np.abs(src // w - np.arange(h)[:, None])
    dx = np.abs(src % w - np.arange(w)[None, :])
    assert np.median(dy[moved]) <= d and np.median(dx[moved]) <= d
    # row 0 and column 0 are never reached by an offset in [-d, d - 1] (as in the reference)
    assert (src[0] == ids[0, :, 0]).all() and (src[:, 0] == ids[:, 0, 0]).all()


def test_brightness_matches_an_hsv_round_trip() -> None:
    import colorsys

    img = _image(16, 16, seed=3)
    out = corrupt_image(img, "brightness", 3, np.random.default_rng(0))
    ref = np.empty_like(img)
    for i in range(16):
        for j in range(16):
            hh, ss, vv = colorsys.rgb_to_hsv(*(img[i, j] / 255.0))
            rgb = colorsys.hsv_to_rgb(hh, ss, min(vv + 0.3, 1.0))
            ref[i, j] = np.rint(np.clip(rgb, 0, 1) * 255)
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1
