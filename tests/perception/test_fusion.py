from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.fusion import (
    KINDS,
    PARAMS,
    SEVERITIES,
    delay_frames,
    misalign,
    misalign_extrinsic,
    project_points,
    reprojection_shift,
)

# KITTI-like camera (P2 intrinsics, 375 x 1242) and LiDAR (x forward, y left, z up)
K = np.array([[721.5, 0.0, 609.6], [0.0, 721.5, 172.9], [0.0, 0.0, 1.0]])
SHAPE = (375, 1242, 3)
EXT = np.eye(4)
EXT[:3, :3] = [[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]
EXT[:3, 3] = [0.0, -0.08, -0.27]


def _points(n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.uniform(5.0, 40.0, n)
    y = rng.uniform(-0.4, 0.4, n) * x
    z = rng.uniform(-1.5, 1.0, n)
    return np.stack([x, y, z, rng.uniform(0, 1, n)], axis=1)


PTS = _points()


def _angle_between(a: np.ndarray, b: np.ndarray) -> float:
    r = a[:3, :3] @ b[:3, :3].T
    return math.degrees(math.acos(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0)))


def test_projection_of_known_point() -> None:
    uv, depth, valid = project_points([[10.0, 0.0, 0.0]], EXT, K, SHAPE)
    assert valid[0] and depth[0] == pytest.approx(9.73)
    assert uv[0, 0] == pytest.approx(609.6)
    assert uv[0, 1] == pytest.approx(172.9 - 721.5 * 0.08 / 9.73)
    # behind the camera: invalid, NaN pixel, no warning; a (3, 4) P gives the same pixels
    uv, depth, valid = project_points(
        [[-5.0, 0.0, 0.0]], EXT, np.hstack([K, np.zeros((3, 1))]), SHAPE
    )
    assert not valid[0] and np.isnan(uv[0]).all() and depth[0] < 0


def test_most_points_project_inside() -> None:
    _, _, valid = project_points(PTS, EXT, K, SHAPE)
    assert valid.mean() > 0.8


@pytest.mark.parametrize("kind", ["rotation", "translation", "spatial"])
def test_extrinsic_error_size_shape_and_determinism(kind: str) -> None:
    for severity in SEVERITIES:
        a = misalign_extrinsic(EXT, severity, np.random.default_rng(severity), kind=kind)
        b = misalign_extrinsic(EXT, severity, np.random.default_rng(severity), kind=kind)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (4, 4) and a.dtype == np.float64
        np.testing.assert_allclose(a[:3, :3] @ a[:3, :3].T, np.eye(3), atol=1e-12)
        np.testing.assert_array_equal(a[3], [0, 0, 0, 1])
        sev = severity - 1
        want_angle = PARAMS["rotation"][sev] if kind != "translation" else 0.0
        assert _angle_between(a, EXT) == pytest.approx(want_angle, abs=1e-6)
        # the translation error is measured in the camera frame: E = T' T^-1
        err = a @ np.linalg.inv(EXT)
        want_len = PARAMS["translation"][sev] if kind != "rotation" else 0.0
        assert np.linalg.norm(err[:3, 3]) == pytest.approx(want_len, abs=1e-9)


@pytest.mark.parametrize("kind", ["rotation", "translation", "spatial"])
def test_reprojection_shift_grows_with_severity(kind: str) -> None:
    shifts = []
    for severity in SEVERITIES:
        # average over a few random draws so the random axis/direction does not dominate
        vals = [
            reprojection_shift(
                PTS,
                EXT,
                misalign_extrinsic(EXT, severity, np.random.default_rng(s), kind=kind),
                K,
                SHAPE,
            )
            for s in range(8)
        ]
        shifts.append(float(np.mean(vals)))
    assert all(b > a for a, b in itertools.pairwise(shifts)), shifts
    assert shifts[0] > 0.5


def test_paper_axis_rotation() -> None:
    # rotation about the camera y axis (yaw) by 2 degrees moves pixels sideways by ~f*tan(2 deg)
    mis = misalign_extrinsic(EXT, 3, np.random.default_rng(0), kind="rotation", axis="y")
    uv0, _, ok0 = project_points(PTS, EXT, K, SHAPE)
    uv1, _, ok1 = project_points(PTS, mis, K, SHAPE)
    both = ok0 & ok1
    du = np.abs(uv1[both, 0] - uv0[both, 0]).mean()
    dv = np.abs(uv1[both, 1] - uv0[both, 1]).mean()
    assert du > 20.0 and dv < du / 5
    assert _angle_between(mis, EXT) == pytest.approx(2.0)


def test_delay_frames() -> None:
    frames = list(range(8))
    assert delay_frames(frames, 1) == [0, 0, 1, 2, 3, 4, 5, 6]
    assert delay_frames(frames, 5) == [0, 0, 0, 0, 0, 0, 1, 2]
    arr = np.arange(8 * 2).reshape(8, 2)
    out = delay_frames(arr, 3)
    assert isinstance(out, np.ndarray) and out.shape == arr.shape
    np.testing.assert_array_equal(out[:, 0], [0, 0, 0, 0, 2, 4, 6, 8])
    # the mean frame lag grows with severity
    lags = [float(np.mean(np.arange(8) - np.asarray(delay_frames(frames, s)))) for s in SEVERITIES]
    assert all(b > a for a, b in itertools.pairwise(lags))


def test_uniform_entry_point() -> None:
    assert set(KINDS) == {"rotation", "translation", "spatial", "temporal"}
    out = misalign(EXT, "spatial", 2, np.random.default_rng(0))
    np.testing.assert_array_equal(out, misalign_extrinsic(EXT, 2, np.random.default_rng(0)))
    assert misalign([1, 2, 3], "temporal", 1, np.random.default_rng(0)) == [1, 1, 2]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: misalign_extrinsic(np.eye(3), 1, np.random.default_rng(0)), "extrinsic"),
        (
            lambda: misalign_extrinsic(np.full((4, 4), np.nan), 1, np.random.default_rng(0)),
            "extrinsic",
        ),
        (lambda: misalign_extrinsic(2 * np.eye(4), 1, np.random.default_rng(0)), "extrinsic"),
        (lambda: misalign_extrinsic(EXT, 0, np.random.default_rng(0)), "severity"),
        (lambda: misalign_extrinsic(EXT, 6, np.random.default_rng(0)), "severity"),
        (lambda: misalign_extrinsic(EXT, 1, np.random.default_rng(0), kind="shear"), "kind"),
        (lambda: misalign_extrinsic(EXT, 1, np.random.default_rng(0), axis="w"), "axis"),
        (lambda: misalign_extrinsic(EXT, 1, 0), "rng"),  # type: ignore[arg-type]
        (lambda: misalign(EXT, "blur", 1, np.random.default_rng(0)), "kind"),
        (lambda: delay_frames([], 1), "frames"),
        (lambda: delay_frames([1], 9), "severity"),
        (lambda: project_points(np.zeros((5, 2)), EXT, K, SHAPE), "points"),
        (lambda: project_points(np.full((5, 3), np.nan), EXT, K, SHAPE), "points"),
        (lambda: project_points(PTS, EXT, np.eye(2), SHAPE), "intrinsic"),
        (lambda: project_points(PTS, EXT, K, (10,)), "image_shape"),
    ],
)
def test_bad_input(call: object, field: str) -> None:
    with pytest.raises(InputError) as err:
        call()  # type: ignore[operator]
    assert err.value.field == field
