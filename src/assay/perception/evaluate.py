"""From a stored perception run to robustness figures: accuracy, mCE, mRR, abstention.

A robustness scan is an ordinary run: one attempt per (target, sample, corruption,
severity), the classifier's answer as JSON, and the ``label`` judge's verdict. This
module reads those results back as :class:`~assay.perception.robustness.Prediction`
rows per target, and computes what the report shows:

* accuracy per corruption and severity, mCE against a *baseline target* of the same run
  (or of another run), mRR against the model's own clean accuracy
  (:func:`~assay.perception.robustness.summarise`);
* calibrated abstention: split-conformal sets fitted on the **clean** answers of a seeded,
  class-stratified half of the samples (the calibration cases), then coverage, set size,
  abstention and selective accuracy on the other half, for the clean data and every
  (corruption, severity) cell. Corruption breaks the exchangeability the guarantee rests
  on, so the corrupted cells measure how far coverage falls, which is the point;
* ECE per cell and the OOD scores' AUROC (max softmax, energy) for telling the clean
  samples from each corruption.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from assay.core.records import PERCEPTION, Result
from assay.errors import InputError
from assay.perception.robustness import CLEAN, Prediction, RobustnessSummary, summarise
from assay.perception.target import answer_of

__all__ = ["Calibration", "abstention_cells", "predictions_by_target", "summary_for"]


def _corruption(result: Result) -> tuple[str, int]:
    attempt = result.attempt
    if not attempt.attacks:
        return CLEAN, 0
    severity = attempt.detail("severity")
    return attempt.label, int(severity) if severity is not None else 1


def predictions_by_target(results: Sequence[Result]) -> dict[str, list[Prediction]]:
    """Target spec key -> one :class:`Prediction` per perception result of that target.

    A corruption is named ``family:kind`` (``pointcloud:jitter``), or by its kind alone
    when every corrupted attempt of the run comes from one family.
    """
    rows: dict[str, list[Prediction]] = defaultdict(list)
    for result in results:
        case = result.attempt.case
        if case.metadata.get("domain") != PERCEPTION:
            continue
        corruption, severity = _corruption(result)
        response = result.response
        logits: tuple[float, ...] | None = None
        error = response.error
        if error is None:
            try:
                logits = tuple(float(v) for v in answer_of(response.text)[1])
            except (ValueError, KeyError, TypeError) as exc:
                error = f"unparsable: {exc}"
        rows[result.attempt.target.key()].append(
            Prediction(
                case_id=case.id,
                label=int(case.metadata["label"]),
                corruption=corruption,
                severity=severity,
                logits=logits,
                error=error,
            )
        )
    families = {
        p.corruption.split(":", 1)[0] for preds in rows.values() for p in preds if p.severity
    }
    if len(families) == 1 and all(
        ">" not in p.corruption for preds in rows.values() for p in preds
    ):
        prefix = f"{families.pop()}:"
        return {
            key: [replace(p, corruption=p.corruption.removeprefix(prefix)) for p in preds]
            for key, preds in rows.items()
        }
    return dict(rows)


@dataclass(frozen=True)
class Calibration:
    """How abstention was calibrated, and what it gave (JSON via ``to_dict``)."""

    method: str
    alpha: float
    class_conditional: bool
    n_calibration: int
    n_evaluation: int
    target_risk: float | None
    min_confidence: float
    qhat: float | None
    ece: dict[str, float] = field(default_factory=dict)
    ood_auroc: dict[str, dict[str, float]] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "alpha": self.alpha,
            "class_conditional": self.class_conditional,
            "n_calibration": self.n_calibration,
            "n_evaluation": self.n_evaluation,
            "target_risk": self.target_risk,
            "min_confidence": self.min_confidence,
            "qhat": self.qhat,
            "ece": self.ece,
            "ood_auroc": self.ood_auroc,
            "fallbacks": self.fallbacks,
        }


def _split_cases(preds: Sequence[Prediction], seed: int) -> tuple[set[str], set[str]]:
    """Class-stratified halves of the case ids: (calibration, evaluation)."""
    by_label: dict[int, list[str]] = defaultdict(list)
    for p in preds:
        if p.corruption == CLEAN:
            by_label[p.label].append(p.case_id)
    rng = np.random.default_rng(seed)
    cal: set[str] = set()
    for label in sorted(by_label):
        ids = sorted(set(by_label[label]))
        rng.shuffle(ids)
        cal.update(ids[: len(ids) // 2])
    every = {p.case_id for p in preds}
    return cal, every - cal


def abstention_cells(
    preds: Sequence[Prediction],
    *,
    alpha: float = 0.1,
    method: Literal["lac", "aps"] = "lac",
    class_conditional: bool = False,
    target_risk: float | None = 0.05,
    seed: int = 0,
) -> tuple[dict[tuple[str, int], dict[str, float | None]], Calibration]:
    """Fit conformal sets on half the clean answers; figures per cell on the other half.

    Errored predictions are left out of calibration and count as abstentions (an error
    never decides a case) in the evaluation cells.
    """
    from assay.perception import abstain

    cal_ids, eval_ids = _split_cases(preds, seed)
    clean_cal = [p for p in preds if p.corruption == CLEAN and p.case_id in cal_ids]
    ok = [p for p in clean_cal if not p.errored and p.logits is not None]
    if len(ok) < 10:
        raise InputError(
            f"abstention needs at least 10 clean calibration answers, got {len(ok)}",
            field="--alpha",
        )
    n_classes = len(ok[0].logits or ())
    probs_cal = abstain.softmax(np.array([p.logits for p in ok]))
    labels_cal = np.array([p.label for p in ok])
    half = len(ok) // 2
    # the conformal quantile on one half; the confidence threshold on the other
    sets = abstain.fit(
        probs_cal[:half] if target_risk is not None else probs_cal,
        labels_cal[:half] if target_risk is not None else labels_cal,
        alpha=alpha,
        method=method,
        class_conditional=class_conditional,
    )
    if target_risk is not None:
        sets = abstain.fit_abstention(
            sets, probs_cal[half:], labels_cal[half:], target_risk=target_risk
        )
    groups: dict[tuple[str, int], list[Prediction]] = defaultdict(list)
    for p in preds:
        if p.case_id in eval_ids:
            groups[(p.corruption, p.severity)].append(p)
    cells: dict[tuple[str, int], dict[str, float | None]] = {}
    eces: dict[str, float] = {}
    scores: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    for key, group in sorted(groups.items()):
        good = [p for p in group if not p.errored and p.logits is not None]
        n_err = len(group) - len(good)
        if not good:
            cells[key] = {"coverage": 0.0, "abstention_rate": 1.0}
            continue
        logits = np.array([p.logits for p in good], dtype=np.float64)
        if logits.shape[1] != n_classes:
            raise InputError("answers with different numbers of classes in one run")
        probs = abstain.softmax(logits)
        labels = np.array([p.label for p in good])
        members = sets.predict_sets(probs)
        skip = sets.abstain(probs, members)
        figures = abstain.evaluate(probs, labels, members, skip)
        n = len(group)
        covered = float(figures["coverage"] or 0.0) * len(good)
        kept = (~skip).sum()
        cells[key] = {
            "coverage": covered / n,
            "min_class_coverage": figures["min_class_coverage"] if not n_err else None,
            "empty_rate": figures["empty_rate"] if not n_err else None,
            "mean_set_size": figures["mean_set_size"],
            "abstention_rate": (float(skip.sum()) + n_err) / n,
            "selective_accuracy": figures["selective_accuracy"] if kept else None,
        }
        label = key[0] if key[0] == CLEAN else f"{key[0]} s{key[1]}"
        eces[label] = abstain.ece(probs, labels)
        scores[key] = (abstain.max_softmax(logits), abstain.energy(logits))
    ood: dict[str, dict[str, float]] = {}
    clean_scores = scores.get((CLEAN, 0))
    if clean_scores is not None:
        for key, (msp, en) in scores.items():
            if key[0] == CLEAN:
                continue
            # in-distribution = clean: higher MSP, lower energy
            ood[f"{key[0]} s{key[1]}"] = {
                "max_softmax": abstain.ood_auroc(clean_scores[0], msp),
                "energy": abstain.ood_auroc(-clean_scores[1], -en),
            }
    info = Calibration(
        method=method,
        alpha=alpha,
        class_conditional=class_conditional,
        n_calibration=len(ok),
        n_evaluation=len({p.case_id for p in preds if p.case_id in eval_ids}),
        target_risk=target_risk,
        min_confidence=float(sets.min_confidence),
        qhat=sets.qhat,
        ece=eces,
        ood_auroc=ood,
        fallbacks=dict(sets.fallbacks),
    )
    return cells, info


def summary_for(
    results: Sequence[Result],
    *,
    target_key: str | None = None,
    baseline_key: str | None = None,
    baseline_results: Sequence[Result] | None = None,
    model_name: str | None = None,
    baseline_name: str | None = None,
    abstention: dict[tuple[str, int], dict[str, float | None]] | None = None,
    class_names: Sequence[str] | None = None,
) -> RobustnessSummary:
    """The robustness summary of one target of a run (the only one when not named).

    The baseline is another target of the same run (``baseline_key``) or the only
    target of ``baseline_results`` (another run).
    """
    by_target = predictions_by_target(results)
    if not by_target:
        raise InputError("the run has no perception results")
    if target_key is None:
        keys = [k for k in by_target if k != baseline_key]
        if len(keys) != 1:
            raise InputError(
                f"the run has {len(keys)} targets; name the one to summarise", field="--target"
            )
        target_key = keys[0]
    if target_key not in by_target:
        raise InputError(f"no results for target {target_key!r}", field="--target")
    baseline: list[Prediction] | None = None
    if baseline_key is not None:
        if baseline_key not in by_target:
            raise InputError(f"no results for baseline target {baseline_key!r}")
        baseline = by_target[baseline_key]
    elif baseline_results is not None:
        other = predictions_by_target(baseline_results)
        if len(other) != 1:
            raise InputError("the baseline run must have exactly one target", field="--baseline")
        baseline = next(iter(other.values()))
    return summarise(
        by_target[target_key],
        baseline=baseline,
        baseline_name=baseline_name,
        model_name=model_name,
        abstention=abstention,
        per_class=class_names is not None,
        class_names=class_names,
    )
