"""A torch classifier as a scan target: it answers a perception attempt with a label.

:class:`ClassifierTarget` loads a model saved by ``assay perception train`` (an
:class:`~assay.perception.model.Classifier`), or any ``torch.export`` program or
TorchScript module mapping a float batch ``(B, N, 3)`` or ``(B, 3, H, W)`` to logits
``(B, C)``; it rebuilds each attempt's
input (the sample, with the attack chain's corruptions replayed: see
:func:`~assay.perception.cases.input_of`), runs white-box attacks when the chain ends
with one, and answers with JSON::

    {"predicted": 3, "class": "cylinder", "logits": [..]}

Concurrent attempts are gathered into batches (:class:`~assay.targets.batching.
MicroBatcher`), grouped by input shape and attack, so a scan of thousands of corrupted
samples runs as a few hundred forward passes. The model file's SHA-256 is part of the
target's spec: stored results are never reused for a different model.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from assay.core.component import Component
from assay.core.records import Attempt, Response
from assay.errors import InputError, TargetError
from assay.perception.data import file_sha256

__all__ = ["ClassifierTarget", "answer_of", "load_any"]


def answer_of(text: str) -> tuple[int, NDArray[np.float64]]:
    """Parse a classifier answer: the predicted index and the logits.

    Raises:
        ValueError: the text is not a classifier answer.
    """
    data = json.loads(text)
    logits = np.asarray(data["logits"], dtype=np.float64)
    predicted = int(data["predicted"])
    if logits.ndim != 1 or not 0 <= predicted < logits.shape[0]:
        raise ValueError("predicted index outside the logits")
    return predicted, logits


class _Scripted:
    """A TorchScript module or exported program behind the ``Classifier.logits`` interface."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.classes: tuple[str, ...] = ()

    def logits(self, x: NDArray[Any]) -> NDArray[np.float32]:
        import torch

        batch = np.asarray(x)
        if batch.ndim == 4:  # images (B, H, W, 3) uint8 -> (B, 3, H, W) in [0, 1]
            batch = batch.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        with torch.no_grad():
            out = self.module(torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)))
        logits: NDArray[np.float32] = out.detach().cpu().numpy().astype(np.float32)
        if logits.ndim != 2 or logits.shape[0] != batch.shape[0]:
            raise InputError(f"the model returned shape {logits.shape}, not (B, C)", field="model")
        return logits


def load_any(path: str) -> Any:
    """An assay ``Classifier``, else a ``torch.export`` program, else a TorchScript module."""
    from assay.perception.model import Classifier

    try:
        return Classifier.load(path)
    except InputError as first:
        import torch

        try:  # torch.export.save(...): the current way to ship a model without its code
            return _Scripted(torch.export.load(path).module())
        except Exception as exported:
            try:
                module = torch.jit.load(path, map_location="cpu")  # type: ignore[no-untyped-call]
            except Exception as exc:
                raise InputError(
                    f"{path}: neither an assay classifier ({first}), a torch.export "
                    f"program ({exported}) nor TorchScript ({exc})",
                    field="model",
                ) from exc
            module.eval()
            return _Scripted(module)


class ClassifierTarget(Component):
    """A torch classifier answering perception attempts (see the module docstring).

    Args:
        model: path of a ``Classifier`` file or a TorchScript module.
        batch_size: most inputs per forward pass.
        threads: torch CPU threads (``None``: leave torch's default).
        sha256: the model file's hash; computed when empty, checked when given.
    """

    name = "classifier"
    version = "1"
    default_concurrency: ClassVar[int] = 256

    def __init__(
        self, *, model: str, batch_size: int = 128, threads: int | None = None, sha256: str = ""
    ) -> None:
        path = Path(model)
        if not path.is_file():
            raise InputError(f"{model}: no such model file", field="model")
        found = file_sha256(path)
        if sha256 and sha256 != found:
            raise InputError(
                f"{model}: file changed since this target was specified (sha256 differs)",
                field="model",
            )
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}", field="batch_size")
        self.model = str(path)
        self.batch_size = batch_size
        self.threads = threads
        self.sha256 = found
        self._classifier: Any = None
        self._batcher: Any = None

    # -- model ---------------------------------------------------------------------

    def classifier(self) -> Any:
        """The loaded model: a ``Classifier`` (TorchScript files are wrapped in one)."""
        if self._classifier is None:
            if self.threads:
                import torch

                torch.set_num_threads(self.threads)
            self._classifier = load_any(self.model)
        return self._classifier

    # -- batching ------------------------------------------------------------------

    def _run_batch(self, attempts: list[Attempt]) -> list[Response | BaseException]:
        from assay.perception.cases import input_of

        started = time.perf_counter()
        out: list[Response | BaseException] = [TargetError("not run")] * len(attempts)
        groups: dict[tuple[Any, ...], list[tuple[int, NDArray[Any]]]] = defaultdict(list)
        for i, attempt in enumerate(attempts):
            try:
                x = input_of(attempt)
            except Exception as exc:  # a bad sample fails alone, named
                out[i] = TargetError(f"input: {exc}", kind="input")
                continue
            last = attempt.attacks[-1].detail if attempt.attacks else {}
            adv = last.get("adversarial")
            key = (
                x.shape,
                adv,
                last.get("budget"),
                last.get("steps"),
                last.get("norm"),
                last.get("seed") if adv else None,
            )
            if x.ndim == 2 and x.shape[-1] > 3:  # x, y, z, intensity: the model sees x, y, z
                x = x[:, :3]
            groups[key].append((i, x))
        classifier = self.classifier()
        for key, members in groups.items():
            index = [i for i, _ in members]
            batch = np.stack([x for _, x in members])
            try:
                if key[1]:
                    labels = np.array(
                        [int(attempts[i].case.metadata["label"]) for i in index], dtype=np.int64
                    )
                    batch = self._adversarial(classifier, batch, labels, key)
                logits = self._forward(classifier, batch)
            except InputError as exc:
                for i in index:
                    out[i] = TargetError(f"model: {exc}", kind="model")
                continue
            for row, i in enumerate(index):
                predicted = int(np.argmax(logits[row]))
                classes = attempts[i].case.metadata.get("classes") or []
                text = json.dumps(
                    {
                        "predicted": predicted,
                        "class": classes[predicted] if predicted < len(classes) else "",
                        "logits": [round(float(v), 6) for v in logits[row]],
                    }
                )
                out[i] = Response(
                    text=text, latency_s=time.perf_counter() - started, finish_reason="label"
                )
        return out

    def _forward(self, classifier: Any, batch: NDArray[Any]) -> NDArray[np.float32]:
        """Logits in forward passes of exactly ``batch_size`` rows (short chunks padded).

        A CPU forward pass can round a row differently depending on how many rows share
        it; a fixed shape makes each answer independent of which attempts happened to be
        batched together, so a rerun, a resumed run or a run on other workers stores the
        same logits bit for bit.
        """
        out = []
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start : start + self.batch_size]
            n = len(chunk)
            if n < self.batch_size:
                pad = np.repeat(chunk[:1], self.batch_size - n, axis=0)
                chunk = np.concatenate([chunk, pad])
            out.append(np.asarray(classifier.logits(chunk))[:n])
        return np.concatenate(out).astype(np.float32, copy=False)

    def _adversarial(
        self, classifier: Any, batch: NDArray[Any], labels: NDArray[np.int64], key: tuple[Any, ...]
    ) -> NDArray[Any]:
        from assay.perception import adversarial

        _, kind, budget, steps, norm_name, seed = key
        norm: Literal["linf", "l2"] = "l2" if norm_name == "l2" else "linf"
        if batch.ndim != 3:
            raise InputError("white-box attacks are implemented for point clouds", field="attack")
        if kind in ("fgsm", "pgd") and norm == "l2":  # same RMS move per coordinate as L-inf
            budget = float(budget) * float(np.sqrt(batch.shape[1] * batch.shape[2]))
        if kind == "fgsm":
            return adversarial.fgsm(classifier, batch, labels, eps=float(budget), norm=norm)
        if kind == "pgd":
            return adversarial.pgd(
                classifier,
                batch,
                labels,
                eps=float(budget),
                steps=int(steps),
                step_size=2.5 * float(budget) / int(steps),
                norm=norm,
                rng=np.random.default_rng(int(seed)),
            )
        if kind == "saliency_drop":
            return adversarial.saliency_drop(
                classifier, batch, labels, n_drop=int(budget), steps=int(steps)
            )
        raise InputError(f"unknown white-box attack {kind!r}", field="attack")

    # -- the protocol --------------------------------------------------------------

    async def respond(self, attempt: Attempt) -> Response:
        if self._batcher is None:
            from assay.targets.batching import MicroBatcher

            self._batcher = MicroBatcher(
                self._run_batch,
                max_batch=max(self.batch_size, 1) * 4,
                max_wait_s=0.02,
                name="assay-classifier",
            )
        response: Response = await self._batcher.submit(attempt)
        return response

    async def aclose(self) -> None:
        if self._batcher is not None:
            batcher, self._batcher = self._batcher, None
            await asyncio.to_thread(batcher.close)

    def respond_all(self, attempts: Sequence[Attempt]) -> list[Response | BaseException]:
        """Answer many attempts in this thread (tests and benchmarks)."""
        return self._run_batch(list(attempts))
