"""White-box attacks on a torch point-cloud classifier: FGSM, PGD and saliency point drop.

All attacks take numpy ``(B, N, 3)`` clouds and ``(B,)`` true labels and return numpy
clouds; they need the gradient of the cross-entropy loss with respect to the point
coordinates, so they only apply to a torch :class:`~assay.perception.model.Classifier`
(run in eval mode, so batch norm uses its running statistics and dropout is off).

Budgets are per cloud. ``norm="linf"``: every coordinate of every point moves by at most
``eps`` (in the cloud's units; the synthetic clouds lie in the unit sphere). ``norm="l2"``:
the Euclidean norm of the whole ``(N, 3)`` displacement is at most ``eps``.

* :func:`fgsm` (Goodfellow et al. 2015): one step of size ``eps`` along the sign of the
  gradient (L-inf) or along the normalised gradient (L2).
* :func:`pgd` (Madry et al. 2018): a random start inside the ball, then ``steps`` steps of
  ``step_size`` along the sign / normalised gradient, each followed by projection back onto
  the ball.
* :func:`saliency_drop` (Zheng et al. 2019): remove ``n_drop`` points, the most salient first
  (:mod:`assay.perception.saliency`), recomputing the saliency ``steps`` times so that each
  round sees the cloud left by the previous one. Every cloud loses the same number of points,
  so the result stays one ``(B, N - n_drop, 3)`` array.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError
from assay.perception.model import Classifier, check_points, import_torch
from assay.perception.saliency import _check_labels, saliency_tensor

__all__ = ["Norm", "fgsm", "loss_per_cloud", "pgd", "saliency_drop"]

Norm = Literal["linf", "l2"]
_TINY = 1e-12


def _prepare(
    classifier: Classifier, points: object, labels: object
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    array = check_points(points)
    target = _check_labels(labels, len(array), len(classifier.classes))
    classifier.module.eval()
    return array, target


def _check_budget(eps: float, norm: str) -> None:
    if norm not in ("linf", "l2"):
        raise InputError(f"norm must be 'linf' or 'l2', got {norm!r}", field="norm")
    if not (isinstance(eps, int | float) and np.isfinite(eps) and eps >= 0):
        raise InputError(f"must be a finite number >= 0, got {eps!r}", field="eps")


def _gradient(module: Any, x: Any, y: Any) -> Any:
    """d(summed cross-entropy)/d(points) for a batch: each cloud gets its own gradient."""
    torch = import_torch()
    x = x.detach().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(module(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def _step(grad: Any, size: float, norm: str) -> Any:
    """The steepest-ascent step of length ``size`` for the given norm."""
    if norm == "linf":
        return size * grad.sign()
    length = grad.flatten(1).norm(dim=1).clamp_min(_TINY)
    return size * grad / length[:, None, None]


def _project(delta: Any, eps: float, norm: str) -> Any:
    """The nearest point of the ``eps`` ball (per cloud) to ``delta``."""
    if norm == "linf":
        return delta.clamp(-eps, eps)
    length = delta.flatten(1).norm(dim=1).clamp_min(_TINY)
    return delta * (eps / length).clamp(max=1.0)[:, None, None]


def loss_per_cloud(classifier: Classifier, points: object, labels: object) -> NDArray[np.float32]:
    """Cross-entropy of each cloud's true label, ``(B,)``, in eval mode without gradients."""
    torch = import_torch()
    array, target = _prepare(classifier, points, labels)
    logits = torch.from_numpy(classifier.logits(array))
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(target), reduction="none")
    return np.asarray(loss.numpy(), dtype=np.float32)


def fgsm(
    classifier: Classifier,
    points: object,
    labels: object,
    *,
    eps: float,
    norm: Norm = "linf",
    batch_size: int = 256,
) -> NDArray[np.float32]:
    """Fast gradient sign method: one step of size ``eps`` that raises the loss.

    Args:
        classifier: the torch classifier under attack.
        points: ``(B, N, 3)`` clouds.
        labels: ``(B,)`` true class indices.
        eps: the budget (per coordinate for ``linf``, per cloud for ``l2``).
        norm: ``"linf"`` or ``"l2"``.
        batch_size: clouds per backward pass.

    Returns:
        ``(B, N, 3)`` float32 adversarial clouds, within ``eps`` of ``points``.
    """
    return pgd(
        classifier,
        points,
        labels,
        eps=eps,
        steps=1,
        step_size=eps,
        norm=norm,
        rng=None,
        batch_size=batch_size,
    )


def pgd(
    classifier: Classifier,
    points: object,
    labels: object,
    *,
    eps: float,
    steps: int = 10,
    step_size: float | None = None,
    norm: Norm = "linf",
    rng: np.random.Generator | None = None,
    batch_size: int = 256,
) -> NDArray[np.float32]:
    """Projected gradient descent (on the loss's negative): the strongest first-order attack.

    Args:
        classifier: the torch classifier under attack.
        points: ``(B, N, 3)`` clouds.
        labels: ``(B,)`` true class indices.
        eps: the budget (per coordinate for ``linf``, per cloud for ``l2``).
        steps: gradient steps, at least 1.
        step_size: length of each step (default ``2.5 * eps / steps``, Madry et al.).
        norm: ``"linf"`` or ``"l2"``.
        rng: draws the random start uniformly in the ball; ``None`` starts at the clean cloud.
        batch_size: clouds per backward pass.

    Returns:
        ``(B, N, 3)`` float32 adversarial clouds, within ``eps`` of ``points``.
    """
    torch = import_torch()
    _check_budget(eps, norm)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InputError(f"must be an integer >= 1, got {steps!r}", field="steps")
    size = 2.5 * eps / steps if step_size is None else float(step_size)
    if not (np.isfinite(size) and size >= 0):
        raise InputError(f"must be a finite number >= 0, got {step_size!r}", field="step_size")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise InputError("rng must be a numpy.random.Generator or None", field="rng")
    array, target = _prepare(classifier, points, labels)
    start = np.zeros_like(array) if rng is None else _random_start(array.shape, eps, norm, rng)
    out = np.empty_like(array)
    for lo in range(0, len(array), batch_size):
        x0 = torch.from_numpy(array[lo : lo + batch_size])
        y = torch.from_numpy(target[lo : lo + batch_size])
        delta = _project(torch.from_numpy(start[lo : lo + batch_size]), eps, norm)
        for _ in range(steps):
            grad = _gradient(classifier.module, x0 + delta, y)
            delta = _project(delta + _step(grad, size, norm), eps, norm)
        out[lo : lo + batch_size] = (x0 + delta).detach().numpy()
    return out


def _random_start(
    shape: tuple[int, ...], eps: float, norm: str, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Uniform samples in the per-cloud ball (L-inf: a box; L2: direction x radius)."""
    if norm == "linf":
        return rng.uniform(-eps, eps, size=shape).astype(np.float32)
    direction = rng.normal(size=shape)
    direction /= np.maximum(np.linalg.norm(direction.reshape(shape[0], -1), axis=1), _TINY)[
        :, None, None
    ]
    dims = int(np.prod(shape[1:]))
    radius = eps * rng.random(shape[0]) ** (1.0 / dims)
    return (direction * radius[:, None, None]).astype(np.float32)


def saliency_drop(
    classifier: Classifier,
    points: object,
    labels: object,
    *,
    n_drop: int,
    steps: int = 1,
    alpha: float = 0.0,
    batch_size: int = 256,
) -> NDArray[np.float32]:
    """Remove the ``n_drop`` most salient points of each cloud, in ``steps`` rounds.

    Args:
        classifier: the torch classifier under attack.
        points: ``(B, N, 3)`` clouds.
        labels: ``(B,)`` true class indices.
        n_drop: points removed per cloud, ``0 <= n_drop < N``.
        steps: rounds; each recomputes the saliency and removes about ``n_drop / steps``.
        alpha: the saliency's radius exponent (:func:`~assay.perception.saliency.point_saliency`).
        batch_size: clouds per backward pass.

    Returns:
        ``(B, N - n_drop, 3)`` float32 clouds; the kept points stay in their input order.
    """
    torch = import_torch()
    array, target = _prepare(classifier, points, labels)
    n = array.shape[1]
    if isinstance(n_drop, bool) or not isinstance(n_drop, int) or not 0 <= n_drop < n:
        raise InputError(f"must be an integer in 0..{n - 1}, got {n_drop!r}", field="n_drop")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InputError(f"must be an integer >= 1, got {steps!r}", field="steps")
    counts = [n_drop // steps + (1 if i < n_drop % steps else 0) for i in range(steps)]
    out = np.empty((len(array), n - n_drop, 3), dtype=np.float32)
    for lo in range(0, len(array), batch_size):
        x = torch.from_numpy(array[lo : lo + batch_size])
        y = torch.from_numpy(target[lo : lo + batch_size])
        for k in counts:
            if k == 0:
                continue
            scores = saliency_tensor(classifier.module, x, y, alpha=alpha)
            keep = scores.argsort(dim=1, stable=True)[:, : x.shape[1] - k].sort(dim=1).values
            x = torch.gather(x, 1, keep[:, :, None].expand(-1, -1, 3))
        out[lo : lo + batch_size] = x.numpy()
    return out
