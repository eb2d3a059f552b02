"""A small PointNet-style point-cloud classifier in torch, and a wrapper that saves and runs it.

The network follows Qi et al. 2017 ("PointNet") without the input and feature transform
networks (T-Nets): a per-point MLP shared by all points lifts each ``(x, y, z)`` to a feature
vector, a max over the points makes the result independent of point order, and a small MLP
head with dropout maps the pooled feature to class logits. Without T-Nets it is about 80 k
parameters and trains on two CPU cores in minutes, which is what the robustness tests need:
a model that is cheap to retrain from a seed, not a state-of-the-art one.

:class:`Classifier` holds the module together with what is needed to use and reproduce it
(class names, the point count it was trained at, the training spec and seed). It saves to a
``.pt`` file (the ``state_dict`` plus a JSON metadata string, loaded back with
``torch.load(weights_only=True)``, so loading a file never runs pickled code).

torch is imported inside the functions that need it, so ``import assay.perception.model``
stays cheap; the number of torch threads is left to the caller (``torch.set_num_threads``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError, MissingDependencyError

__all__ = ["Classifier", "PointNet", "check_points", "import_torch"]

_FORMAT = "assay.perception.pointnet/1"


def import_torch() -> Any:
    """Import torch, or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is installed in the dev venv
        raise MissingDependencyError("torch", "perception") from exc
    return torch


def check_points(points: object, name: str = "points") -> NDArray[np.float32]:
    """Return ``points`` as a C-contiguous float32 ``(B, N, 3)`` array of finite values.

    Raises:
        InputError: naming ``name`` when the array has another shape or holds NaN/inf.
    """
    try:
        array = np.ascontiguousarray(points, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read as a float array: {exc}", field=name) from exc
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise InputError(f"expected shape (B, N, 3) with B, N >= 1, got {array.shape}", field=name)
    if not np.all(np.isfinite(array)):
        raise InputError("points hold NaN or infinite coordinates", field=name)
    return array


def PointNet(
    n_classes: int,
    *,
    widths: Sequence[int] = (64, 128, 256),
    head: Sequence[int] = (128,),
    dropout: float = 0.3,
) -> Any:
    """Build a PointNet classifier without T-Nets.

    Input ``(B, N, 3)`` float points, output ``(B, n_classes)`` logits. Each point goes
    through ``3 -> widths[0] -> ... -> widths[-1]`` (1x1 convolutions, i.e. one MLP shared by
    all points, with batch norm and ReLU), the features are max-pooled over the points, and
    ``widths[-1] -> head... -> n_classes`` (linear, batch norm, ReLU, dropout) gives logits.

    Args:
        n_classes: number of classes, at least 2.
        widths: widths of the shared per-point MLP.
        head: hidden widths of the classification head.
        dropout: dropout probability before the last linear layer (training only).
    """
    torch = import_torch()
    nn = torch.nn
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise InputError(f"must be an integer >= 2, got {n_classes!r}", field="n_classes")
    if not widths or any(int(w) < 1 for w in widths) or any(int(h) < 1 for h in head):
        raise InputError("layer widths must be positive integers", field="widths")
    if not 0.0 <= dropout < 1.0:
        raise InputError(f"must be in [0, 1), got {dropout!r}", field="dropout")

    class _PointNet(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            previous = 3
            for width in widths:
                layers += [nn.Conv1d(previous, int(width), 1), nn.BatchNorm1d(int(width))]
                layers.append(nn.ReLU())
                previous = int(width)
            self.features = nn.Sequential(*layers)
            hidden: list[Any] = []
            for width in head:
                hidden += [nn.Linear(previous, int(width)), nn.BatchNorm1d(int(width))]
                hidden.append(nn.ReLU())
                previous = int(width)
            hidden += [nn.Dropout(dropout), nn.Linear(previous, n_classes)]
            self.head = nn.Sequential(*hidden)

        def forward(self, points: Any) -> Any:
            per_point = self.features(points.transpose(1, 2))  # (B, C, N)
            pooled = per_point.max(dim=2).values
            return self.head(pooled)

    return _PointNet()


@dataclass
class Classifier:
    """A trained point-cloud classifier and what is needed to use and reproduce it.

    Attributes:
        module: the torch module mapping ``(B, N, 3)`` points to ``(B, C)`` logits.
        classes: class names, index = label.
        n_points: points per cloud the model was trained at (clouds of other sizes work, since
            max pooling does not care, but accuracy is best near this size).
        spec: architecture and training settings (JSON-serialisable); ``spec["arch"]`` holds
            the :func:`PointNet` keyword arguments so :meth:`load` can rebuild the module.
        seed: the training seed.
    """

    module: Any
    classes: tuple[str, ...]
    n_points: int
    spec: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def logits(self, points: object, *, batch_size: int = 256) -> NDArray[np.float32]:
        """Class logits for ``(B, N, 3)`` clouds, in eval mode, without gradients.

        Returns:
            ``(B, C)`` float32 logits (softmax of a row gives class probabilities).
        """
        torch = import_torch()
        array = check_points(points)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"must be an integer >= 1, got {batch_size!r}", field="batch_size")
        self.module.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(array), batch_size):
                chunk = torch.from_numpy(array[start : start + batch_size])
                out.append(self.module(chunk).numpy())
        return np.concatenate(out).astype(np.float32, copy=False)

    def predict(self, points: object, *, batch_size: int = 256) -> NDArray[np.int64]:
        """Predicted class index per cloud (argmax of :meth:`logits`)."""
        predicted: NDArray[np.int64] = np.argmax(
            self.logits(points, batch_size=batch_size), axis=1
        ).astype(np.int64)
        return predicted

    def metadata(self) -> dict[str, Any]:
        """The JSON-serialisable description stored next to the weights."""
        return {
            "format": _FORMAT,
            "classes": list(self.classes),
            "n_points": int(self.n_points),
            "spec": self.spec,
            "seed": int(self.seed),
        }

    def save(self, path: str | Path) -> None:
        """Write the weights and metadata to ``path`` (a torch ``.pt`` file)."""
        torch = import_torch()
        state = {k: v.detach().cpu() for k, v in self.module.state_dict().items()}
        torch.save({"metadata": json.dumps(self.metadata()), "state_dict": state}, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        """Read a classifier written by :meth:`save` (safe: ``weights_only=True``).

        Raises:
            InputError: the file is missing, not a torch file, or not one of ours.
        """
        torch = import_torch()
        source = str(path)
        if not Path(path).is_file():
            raise InputError("no such file", source=source)
        try:
            blob = torch.load(Path(path), map_location="cpu", weights_only=True)
            meta = json.loads(blob["metadata"])
            state = blob["state_dict"]
        except Exception as exc:  # torch raises many kinds on a corrupt file
            raise InputError(f"not a saved classifier: {exc}", source=source) from exc
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise InputError(f"not a saved classifier (format is not {_FORMAT})", source=source)
        try:
            classes = tuple(str(c) for c in meta["classes"])
            spec = dict(meta["spec"])
            module = PointNet(len(classes), **dict(spec.get("arch", {})))
            module.load_state_dict(state)
            return cls(module, classes, int(meta["n_points"]), spec, int(meta["seed"]))
        except (KeyError, TypeError, ValueError, RuntimeError, InputError) as exc:
            raise InputError(f"saved classifier does not match: {exc}", source=source) from exc
