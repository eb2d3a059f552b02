"""The label-match judge: a classifier's answer is correct when it names the true class.

Its score is the softmax probability the classifier gave the true class (so calibration
and conformal sets can be computed from stored verdicts and answers alone). An answer
that is not a classifier answer, or a case without a label, is *unscored* with the
reason, never correct.
"""

from __future__ import annotations

from collections.abc import Sequence

from assay.core.component import Component
from assay.core.records import Exchange, Outcome, Verdict
from assay.perception.abstain import softmax
from assay.perception.target import answer_of

__all__ = ["LabelJudge"]


class LabelJudge(Component):
    """``correct`` when the predicted class is the case's label, else ``incorrect``."""

    name = "label"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        spec = self.spec()
        out: list[Verdict] = []
        for exchange in batch:
            label = exchange.attempt.case.metadata.get("label")
            if not isinstance(label, int):
                out.append(Verdict.unscored(spec, "the case has no integer label"))
                continue
            try:
                predicted, logits = answer_of(exchange.response.text)
            except (ValueError, KeyError, TypeError) as exc:
                out.append(Verdict.unscored(spec, f"not a classifier answer: {exc}"))
                continue
            if not 0 <= label < logits.shape[0]:
                out.append(Verdict.unscored(spec, f"label {label} outside the model's classes"))
                continue
            p_true = float(softmax(logits[None, :])[0, label])
            correct = predicted == label
            out.append(
                Verdict(
                    judge=spec,
                    outcome=Outcome.CORRECT if correct else Outcome.INCORRECT,
                    score=min(1.0, max(0.0, p_true)),
                    rationale=f"predicted {predicted}, label {label}",
                )
            )
        return out
