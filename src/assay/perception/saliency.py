"""Point saliency from the loss gradient (Zheng et al., ICCV 2019, "PointCloud Saliency Maps").

Zheng et al. approximate *dropping* a point by moving it to the cloud's centre, where a
max-pooling network no longer "sees" it. Moving point ``i`` inward by ``dr`` along the radial
direction changes the loss by ``-dL/dr_i * dr``, so the score

    s_i = -r_i ** (1 + alpha) * dL/dr_i,       dL/dr_i = grad_i . (p_i - c) / r_i,

with ``r_i = |p_i - c|`` and ``c`` the per-axis median of the cloud, estimates how much the
loss grows when the point is removed (the ``r_i`` factor makes the estimate scale with how
far the point must move; ``alpha`` re-weights far points). A high score marks a point the
classifier relies on for its answer; dropping the highest-scored points is the saliency
attack, and steering training perturbations at them is the INTACT-style robust training
(:mod:`assay.perception.train`). With ``alpha = 0`` the score is simply
``-grad_i . (p_i - c)``.

Written from the paper's description. All scores of a batch come from one backward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError
from assay.perception.model import Classifier, check_points, import_torch

__all__ = ["point_saliency", "saliency_tensor"]


def saliency_tensor(module: Any, points: Any, labels: Any, *, alpha: float = 0.0) -> Any:
    """Saliency scores ``(B, N)`` for torch tensors ``points`` (B, N, 3), ``labels`` (B,).

    The module is used as it is (call ``module.eval()`` first for deterministic scores); the
    loss is the summed cross-entropy, so each cloud's scores are its own gradients. No
    parameter gradients are accumulated.
    """
    torch = import_torch()
    x = points.detach().clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(module(x), labels, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    with torch.no_grad():
        centre = x.median(dim=1, keepdim=True).values
        offset = x - centre
        radial = (grad * offset).sum(dim=2)  # r_i * dL/dr_i
        if alpha != 0.0:
            radial = radial * offset.norm(dim=2).clamp_min(1e-12) ** alpha
        return -radial.detach()


def point_saliency(
    classifier: Classifier,
    points: object,
    labels: object,
    *,
    alpha: float = 0.0,
    batch_size: int = 256,
) -> NDArray[np.float32]:
    """Per-point saliency ``-r_i^(1+alpha) dL/dr_i`` of ``classifier`` on ``(B, N, 3)`` clouds.

    Args:
        classifier: the model whose loss is differentiated (run in eval mode).
        points: ``(B, N, 3)`` clouds.
        labels: ``(B,)`` class indices (the true labels: the score says which points the model
            needs to get *these* labels right).
        alpha: radius exponent of Zheng et al. (0 gives ``-grad . (p - c)``).
        batch_size: clouds per backward pass.

    Returns:
        ``(B, N)`` float32 scores; larger means dropping the point raises the loss more.
    """
    torch = import_torch()
    array = check_points(points)
    target = _check_labels(labels, len(array), len(classifier.classes))
    classifier.module.eval()
    out = []
    for start in range(0, len(array), batch_size):
        x = torch.from_numpy(array[start : start + batch_size])
        y = torch.from_numpy(target[start : start + batch_size])
        out.append(saliency_tensor(classifier.module, x, y, alpha=alpha).numpy())
    return np.concatenate(out).astype(np.float32, copy=False)


def _check_labels(labels: object, n: int, n_classes: int) -> NDArray[np.int64]:
    """Return ``labels`` as int64 ``(n,)`` in ``0..n_classes-1`` or raise InputError.

    ``n_classes == 0`` means unknown (a wrapped TorchScript model without class names): only
    negative labels are refused then.
    """
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError) as exc:  # pragma: no cover - asarray rarely fails
        raise InputError(f"cannot read labels: {exc}", field="labels") from exc
    if array.shape != (n,) or not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"expected {n} integer labels, got shape {array.shape}", field="labels")
    if n and array.min() < 0:
        raise InputError("labels must be >= 0", field="labels")
    if n and n_classes and array.max() >= n_classes:
        raise InputError(f"labels must be in 0..{n_classes - 1}", field="labels")
    return np.ascontiguousarray(array, dtype=np.int64)
