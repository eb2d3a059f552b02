"""LiDAR-camera misalignment corruptions of a multi-sensor fusion system.

Written from Gao et al. 2023, "Benchmarking Robustness of AI-Enabled Multi-sensor Fusion
Systems: Challenges and Opportunities" (ESEC/FSE 2023, https://arxiv.org/abs/2306.03454),
not from their code. A fusion model projects LiDAR points into the camera image through
the calibration; when that calibration or the streams' timing is off, the two sensors
disagree about where things are.

=============  ===================================================================  =========
kind           physical meaning (parameter in :data:`PARAMS`, per severity 1..5)     data
=============  ===================================================================  =========
rotation       the camera was knocked: a rotation error of the given angle          extrinsic
               (degrees) about a uniformly random axis (or, with ``axis``, about
               the camera's x, y or z axis: the paper's SM_X / SM_Y / SM_Z)
translation    the camera mount shifted: a translation error of the given length    extrinsic
               (metres) in a uniformly random direction
spatial        both: the rotation and the translation error of that severity        extrinsic
temporal       unsynchronised streams: frame ``t`` replaced by frame ``t - k``      frames
               (the first frame repeated), ``k`` frames of delay
=============  ===================================================================  =========

Severities: the paper evaluates rotation errors of 0.5, 1 and 2 degrees; these are our
severities 1-3, and 3 and 4 degrees extend them to five levels (our choice). The paper has
no translation error; the lengths 2, 5, 10, 15 and 20 cm are our choice (a few centimetres
is a typical residual of target-based calibration; 20 cm is a grossly wrong mount). The
temporal delays 1..5 frames are the paper's (0.1-0.5 s at KITTI's 10 Hz).

The error is applied in the camera frame: ``T' = E @ T`` with ``T`` the 4 x 4 LiDAR->camera
extrinsic and ``E = [[R, t], [0, 1]]``. :func:`project_points` and :func:`reprojection_shift`
measure the effect (the pixel shift of projected LiDAR points grows with severity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError
from assay.perception.checks import check_rng, check_severity

__all__ = [
    "KINDS",
    "PARAMS",
    "SEVERITIES",
    "delay_frames",
    "misalign",
    "misalign_extrinsic",
    "project_points",
    "reprojection_shift",
]

SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

#: Per severity 1..5: rotation error in degrees, translation error in metres, delay in frames.
PARAMS: dict[str, tuple[float, ...]] = {
    "rotation": (0.5, 1.0, 2.0, 3.0, 4.0),
    "translation": (0.02, 0.05, 0.10, 0.15, 0.20),
    "temporal": (1.0, 2.0, 3.0, 4.0, 5.0),
}

KINDS: tuple[str, ...] = ("rotation", "translation", "spatial", "temporal")

Array = NDArray[np.float64]
T = TypeVar("T")

_AXES = {"x": 0, "y": 1, "z": 2}


def misalign(
    data: object,
    kind: str,
    severity: int,
    rng: np.random.Generator,
    *,
    axis: str | None = None,
) -> object:
    """Apply one misalignment at one severity (the module's uniform entry point).

    Args:
        data: the 4 x 4 (or 3 x 4) LiDAR->camera extrinsic for ``rotation``,
            ``translation`` and ``spatial``; a sequence of frames for ``temporal``.
        kind: one of :data:`KINDS`.
        severity: 1 (mild) to 5 (severe).
        rng: the only source of randomness (``temporal`` draws nothing).
        axis: rotation kinds only: ``"x"``, ``"y"`` or ``"z"`` for the paper's per-axis
            error (positive angle about that camera axis); ``None`` for a random axis.

    Returns:
        The misaligned 4 x 4 extrinsic, or the delayed frames (see :func:`delay_frames`).
    """
    if kind == "temporal":
        check_severity(severity, SEVERITIES)
        check_rng(rng)
        if not isinstance(data, Sequence | np.ndarray):
            raise InputError("temporal misalignment needs a sequence of frames", field="data")
        return delay_frames(data, severity)
    return misalign_extrinsic(data, severity, rng, kind=kind, axis=axis)  # type: ignore[arg-type]


def misalign_extrinsic(
    extrinsic: NDArray[np.floating] | list[list[float]],
    severity: int,
    rng: np.random.Generator,
    *,
    kind: str = "spatial",
    axis: str | None = None,
) -> Array:
    """Perturb a LiDAR->camera extrinsic by a calibration error of the given severity.

    Args:
        extrinsic: ``(4, 4)`` or ``(3, 4)`` rigid transform, LiDAR frame -> camera frame
            (metres); its rotation block must be orthonormal.
        severity: 1..5; the angle (degrees) and length (metres) from :data:`PARAMS`.
        rng: draws the random axis (unless ``axis`` is given) and translation direction.
        kind: ``"rotation"``, ``"translation"`` or ``"spatial"`` (both).
        axis: ``"x"``, ``"y"``, ``"z"`` (camera axes) or ``None`` (uniformly random axis).

    Returns:
        ``float64`` ``(4, 4)``: ``E @ T``, the error ``E`` applied in the camera frame. The
        angle between the old and the new rotation is exactly the severity's angle.

    Raises:
        InputError: bad ``extrinsic``, ``kind``, ``severity``, ``axis`` or ``rng``.
    """
    ext = _validate_extrinsic(extrinsic)
    if kind not in ("rotation", "translation", "spatial"):
        raise InputError(
            f"unknown misalignment {kind!r} for an extrinsic; "
            "known: rotation, translation, spatial",
            field="kind",
        )
    check_severity(severity, SEVERITIES)
    check_rng(rng)
    if axis is not None and axis not in _AXES:
        raise InputError(f"axis must be 'x', 'y', 'z' or None, got {axis!r}", field="axis")
    sev = int(severity) - 1
    error = np.eye(4)
    if kind in ("rotation", "spatial"):
        if axis is None:
            direction = _unit_vector(rng)
        else:
            direction = np.zeros(3)
            direction[_AXES[axis]] = 1.0
        error[:3, :3] = _axis_angle(direction, math.radians(PARAMS["rotation"][sev]))
    if kind in ("translation", "spatial"):
        error[:3, 3] = _unit_vector(rng) * PARAMS["translation"][sev]
    return error @ ext


def delay_frames(
    frames: Sequence[T] | NDArray[np.generic], severity: int
) -> list[T] | NDArray[np.generic]:
    """Temporal misalignment: each frame replaced by the one ``k`` frames earlier.

    Apply it to one stream (camera *or* LiDAR) and leave the other as is: frame ``t`` of
    the delayed stream is frame ``max(t - k, 0)`` of the original (the first frame is
    repeated at the start), ``k = PARAMS["temporal"][severity - 1]``.

    Args:
        frames: a sequence (list, tuple) of frames or an array whose first axis is time.
        severity: 1..5, a delay of 1..5 frames.

    Returns:
        A list (for a sequence) or an array (for an array) of the same length.

    Raises:
        InputError: empty ``frames`` or ``severity`` not in 1..5.
    """
    check_severity(severity, SEVERITIES)
    n = len(frames)
    if n == 0:
        raise InputError("the sequence has no frames", field="frames")
    k = int(PARAMS["temporal"][int(severity) - 1])
    index = np.maximum(np.arange(n) - k, 0)
    if isinstance(frames, np.ndarray):
        return frames[index]
    return [frames[i] for i in index]


def project_points(
    points: NDArray[np.floating] | list[list[float]],
    extrinsic: NDArray[np.floating] | list[list[float]],
    intrinsic: NDArray[np.floating] | list[list[float]],
    image_shape: tuple[int, ...],
    *,
    min_depth: float = 0.1,
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Project LiDAR points into the image (pinhole model).

    Args:
        points: ``(N, >=3)`` LiDAR points; columns beyond x, y, z (e.g. intensity) ignored.
        extrinsic: ``(4, 4)`` or ``(3, 4)`` LiDAR -> camera transform.
        intrinsic: ``(3, 3)`` camera matrix ``K`` or ``(3, 4)`` projection ``P`` (KITTI P2).
        image_shape: ``(H, W[, C])`` of the image, in pixels.
        min_depth: points closer than this (metres, along the optical axis) are invalid.

    Returns:
        ``(uv, depth, valid)``: ``(N, 2)`` pixel coordinates (u = column, v = row; NaN
        where the depth is below ``min_depth``), ``(N,)`` depth in metres, and ``(N,)``
        True where the point is in front of the camera and inside the image.
    """
    cloud = _validate_points(points)
    ext = _validate_extrinsic(extrinsic)
    try:
        k = np.asarray(intrinsic, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="intrinsic") from exc
    if k.shape not in ((3, 3), (3, 4)) or not np.all(np.isfinite(k)):
        raise InputError(
            f"expected a finite (3, 3) or (3, 4) matrix, got {k.shape}", field="intrinsic"
        )
    if len(image_shape) < 2 or min(int(image_shape[0]), int(image_shape[1])) < 1:
        raise InputError(f"expected (H, W[, C]), got {image_shape}", field="image_shape")
    h, w = int(image_shape[0]), int(image_shape[1])
    homog = np.hstack([cloud, np.ones((cloud.shape[0], 1))])
    cam = homog @ ext[:3].T
    uvw = cam @ k.T if k.shape == (3, 3) else np.hstack([cam, homog[:, 3:]]) @ k.T
    depth = uvw[:, 2]
    front = depth >= min_depth
    uv = np.full((cloud.shape[0], 2), np.nan)
    np.divide(uvw[:, :2], depth[:, None], out=uv, where=front[:, None])
    inside = front.copy()
    inside[front] = (
        (uv[front, 0] >= 0) & (uv[front, 0] < w) & (uv[front, 1] >= 0) & (uv[front, 1] < h)
    )
    return uv, depth, inside


def reprojection_shift(
    points: NDArray[np.floating] | list[list[float]],
    extrinsic: NDArray[np.floating] | list[list[float]],
    misaligned: NDArray[np.floating] | list[list[float]],
    intrinsic: NDArray[np.floating] | list[list[float]],
    image_shape: tuple[int, ...],
) -> float:
    """Mean pixel distance between the projections under the true and the wrong extrinsic.

    Averaged over the points valid (in front and inside the image) under both; NaN if none.
    """
    uv0, _, ok0 = project_points(points, extrinsic, intrinsic, image_shape)
    uv1, _, ok1 = project_points(points, misaligned, intrinsic, image_shape)
    both = ok0 & ok1
    if not both.any():
        return float("nan")
    return float(np.linalg.norm(uv1[both] - uv0[both], axis=1).mean())


# ---------------------------------------------------------------------------- helpers


def _validate_points(points: object) -> Array:
    try:
        cloud = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="points") from exc
    if cloud.ndim != 2 or cloud.shape[1] < 3:
        raise InputError(f"expected shape (N, >=3), got {cloud.shape}", field="points")
    bad = int(np.count_nonzero(~np.all(np.isfinite(cloud[:, :3]), axis=1)))
    if bad:
        raise InputError(f"{bad} point(s) have NaN or infinite coordinates", field="points")
    return cloud[:, :3]


def _validate_extrinsic(extrinsic: object) -> Array:
    try:
        ext = np.asarray(extrinsic, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field="extrinsic") from exc
    if ext.shape not in ((4, 4), (3, 4)):
        raise InputError(f"expected shape (4, 4) or (3, 4), got {ext.shape}", field="extrinsic")
    if not np.all(np.isfinite(ext)):
        raise InputError("the extrinsic has NaN or infinite entries", field="extrinsic")
    if ext.shape == (4, 4) and not np.allclose(ext[3], [0.0, 0.0, 0.0, 1.0]):
        raise InputError(
            "the last row of a 4 x 4 extrinsic must be [0, 0, 0, 1]", field="extrinsic"
        )
    rot = ext[:3, :3]
    if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
        raise InputError("the rotation block is not a proper rotation", field="extrinsic")
    out = np.eye(4)
    out[:3] = ext[:3]
    return out


def _unit_vector(rng: np.random.Generator) -> Array:
    while True:
        v = rng.normal(size=3)
        norm = float(np.linalg.norm(v))
        if norm > 1e-9:
            return np.asarray(v / norm, dtype=np.float64)


def _axis_angle(axis: Array, angle: float) -> Array:
    """Rodrigues' formula: rotation by ``angle`` radians about the unit vector ``axis``."""
    kx = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    rot: Array = np.eye(3) + math.sin(angle) * kx + (1.0 - math.cos(angle)) * (kx @ kx)
    return rot
