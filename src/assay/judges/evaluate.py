"""Measure a judge against labelled data: precision, recall, F1, FPR, AUPRC and AUROC.

A judge decides every safety number assay reports, so its own error rates belong next to
them. :func:`load_labelled` reads a CSV or JSONL file of labelled examples,
:func:`evaluate_judge` runs a judge over them and returns a :class:`JudgeEval`, and
:func:`save_eval` stores it (``assay judges eval`` does all three).

**The data.** One example per JSONL line or CSV row:

============  ========  ============================================================
field         required  meaning
============  ========  ============================================================
``text``      yes       the prompt (one user turn); ``prompt`` is accepted instead
``response``  no        the answer to judge; without it the judge sees an empty
                        response (prompt classification). Judges that need an answer
                        then return *unscored*, which is counted, never as correct.
``label``     yes       the truth; see below
``hazard``    no        a canonical hazard code (or AILuminate subhazard): metrics are
                        also given per hazard
``id``        no        kept for reference; defaults to ``line<N>``
============  ========  ============================================================

Other fields are ignored. A bad row raises :class:`~assay.errors.InputError` naming
``file:line`` and the field.

**Labels and the positive class.** Every judge's ``score`` points one way: P(unsafe) for
harm judges, P(complied) (= not refused) for refusal judges. That class is the
*positive* one, so ``1``/``true`` always means positive and ``0``/``false`` negative.
Word labels name the semantics, given by ``positive``:

* ``positive="unsafe"`` (harm judges and guards): ``unsafe``/``harmful`` are positive,
  ``safe``/``benign`` negative.
* ``positive="complied"`` (refusal judges): ``complied``, ``partial`` and ``not refused``
  are positive, ``refused`` negative (a partial refusal is *not refused*, as the refusal
  judge's score counts it).

Without ``positive`` it is inferred from the words used (numeric labels alone mean
``unsafe``); mixing the two vocabularies is an error. The judge's *decision* is positive
when its outcome is ``unsafe``, ``complied`` or ``partial`` (the outcomes that make a
harmful attempt unsafe in :func:`~assay.core.records.status_of`), or, with
``threshold``, when ``score >= threshold``.

**No peeking.** Every example becomes a :class:`~assay.core.records.Case` with
``expected="refuse"`` whatever its label, an id that is not the label, and no metadata,
so a judge cannot read the answer from the case. Examples without a hazard get an empty
hazard (built without validation): a judge must not rely on ``case.hazard`` here.

**Metrics and intervals** (95 % by default):

* precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``, FPR ``FP / (FP + TN)`` and
  accuracy over the *scored* examples, each with a Wilson interval;
* ``recall_worst`` ``TP / #positives`` and ``fpr_worst`` ``(FP + unscored negatives) /
  #negatives``: the same rates if every unscored example had gone wrong;
* F1, AUPRC (average precision, scikit-learn's step definition) and AUROC (the
  Mann-Whitney probability, ties counted one half) with percentile intervals from a
  *stratified* bootstrap (``resamples`` draws, fixed ``seed``; the numbers of positives
  and negatives are kept, as the labelled set fixes them). AUPRC and AUROC use the
  examples with a score; they are ``None`` unless both classes are present.

numpy only; scikit-learn is not needed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from assay import __version__
from assay.core.protocols import Judge
from assay.core.records import Attempt, Case, Exchange, Message, Outcome, Response, Spec, Verdict
from assay.core.taxonomy import HAZARDS, canonical
from assay.errors import InputError, UsageError
from assay.judges.ensemble import judge_or_unscored
from assay.metrics.intervals import Estimate, z_for
from assay.suites.formats import decode_text, iter_csv_rows, iter_jsonl_objects

if TYPE_CHECKING:
    from assay.store.sqlite import Store

__all__ = [
    "POSITIVE_OUTCOMES",
    "BootInterval",
    "JudgeEval",
    "JudgeMetrics",
    "LabelledData",
    "LabelledRow",
    "Positive",
    "aevaluate_judge",
    "auroc",
    "average_precision",
    "eval_from_stored",
    "evaluate_judge",
    "infer_positive",
    "load_labelled",
    "save_eval",
]

Positive = Literal["unsafe", "complied"]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Outcomes that count as a positive decision (unsafe / not refused).
POSITIVE_OUTCOMES = frozenset({Outcome.UNSAFE, Outcome.COMPLIED, Outcome.PARTIAL})

#: Word labels per meaning of "positive": label -> is positive.
VOCABULARY: Mapping[str, Mapping[str, bool]] = {
    "unsafe": {"unsafe": True, "harmful": True, "safe": False, "benign": False},
    "complied": {"complied": True, "partial": True, "not refused": True, "refused": False},
}
#: Labels that mean the same under either meaning.
NUMERIC_LABELS: Mapping[str, bool] = {"1": True, "true": True, "0": False, "false": False}
_SUFFIXES = (".jsonl", ".csv")
_TEXT_FIELDS = ("text", "prompt")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class LabelledRow:
    """One labelled example.

    Attributes:
        text: the prompt.
        label: the normalised label (lower case, ``_``/``-`` as spaces): a key of
            :data:`NUMERIC_LABELS` or of one :data:`VOCABULARY`.
        response: the answer to judge, or ``None`` for prompt classification.
        hazard: canonical hazard code, or ``None``.
        line: the 1-based line the example starts on (0 when built by hand).
        id: the example's id (``line<N>`` by default).
    """

    text: str
    label: str
    response: str | None = None
    hazard: str | None = None
    line: int = 0
    id: str = ""


@dataclass(frozen=True)
class LabelledData:
    """The examples of one file, with the file's path and SHA-256."""

    rows: tuple[LabelledRow, ...]
    path: str = ""
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.rows)


def normalise_label(value: Any) -> str | None:
    """``True``/``1``/``" Not_Refused "`` -> ``"true"``/``"1"``/``"not refused"``; None if
    the value cannot be a label (wrong type, or a number other than 0 and 1)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return {0.0: "0", 1.0: "1"}.get(float(value))
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    return text or None


def _known_labels() -> set[str]:
    known = set(NUMERIC_LABELS)
    for words in VOCABULARY.values():
        known |= set(words)
    return known


def load_labelled(path: str | Path) -> LabelledData:
    """Read labelled examples from a ``.jsonl`` or ``.csv`` file (see the module docs).

    Raises:
        InputError: missing or unreadable file, unknown extension, no examples, or a bad
            example (naming ``file:line`` and the field).
    """
    file = Path(path)
    source = str(file)
    suffix = file.suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(
            f"unknown labelled-data extension {file.suffix or '(none)'!r}; "
            f"expected one of {', '.join(_SUFFIXES)}",
            source=source,
        )
    try:
        blob = file.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read labelled data: {exc.strerror or exc}", source=source
        ) from exc
    text = decode_text(blob, source=source)
    records = (
        list(iter_jsonl_objects(text, source=source))
        if suffix == ".jsonl"
        else _csv_records(text, source)
    )
    rows = tuple(_row(data, source=source, line=line) for line, data in records)
    if not rows:
        raise InputError("no labelled examples in the file", source=source)
    return LabelledData(rows=rows, path=source, sha256=hashlib.sha256(blob).hexdigest())


def _csv_records(text: str, source: str) -> list[tuple[int, dict[str, str]]]:
    records = list(iter_csv_rows(text, source=source, required=("label",)))
    if records and not any(f in records[0][1] for f in _TEXT_FIELDS):
        raise InputError(
            f"missing column; the header has {', '.join(records[0][1])}",
            source=source,
            line=1,
            field="text",
        )
    return records


def _row(data: Mapping[str, Any], *, source: str, line: int) -> LabelledRow:
    def fail(message: str, field: str) -> InputError:
        return InputError(message, source=source, line=line, field=field)

    given = [f for f in _TEXT_FIELDS if data.get(f) not in (None, "")]
    if len(given) > 1:
        raise fail("give either 'text' or 'prompt', not both", "text")
    if not given:
        raise fail("missing required field", "text")
    text = data[given[0]]
    if not isinstance(text, str):
        raise fail(f"must be a string, not {type(text).__name__}", given[0])
    if not text.strip():
        raise fail("must not be blank", given[0])
    response = data.get("response")
    if response == "":
        response = None
    if response is not None and not isinstance(response, str):
        raise fail(f"must be a string, not {type(response).__name__}", "response")
    raw_label = data.get("label")
    if raw_label is None or raw_label == "":
        raise fail("missing required field", "label")
    label = normalise_label(raw_label)
    if label is None or label not in _known_labels():
        raise fail(
            f"unknown label {raw_label!r}; use 1/0, unsafe/safe or complied/refused", "label"
        )
    hazard = data.get("hazard")
    if hazard in (None, ""):
        hazard = None
    elif not isinstance(hazard, str):
        raise fail(f"must be a string, not {type(hazard).__name__}", "hazard")
    else:
        hazard = canonical(hazard, source=source, line=line)
    raw_id = data.get("id")
    if raw_id in (None, ""):
        row_id = f"line{line}"
    elif isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise fail(f"must be a string, not {type(raw_id).__name__}", "id")
    else:
        row_id = str(raw_id).strip()
    return LabelledRow(
        text=text, label=label, response=response, hazard=hazard, line=line, id=row_id
    )


def infer_positive(rows: Sequence[LabelledRow], *, source: str = "") -> Positive:
    """The meaning of "positive" from the word labels used (``unsafe`` if only numeric).

    Raises:
        InputError: words of both vocabularies are used (naming the first line that
            disagrees with the first word label).
    """
    first: tuple[str, LabelledRow] | None = None
    for row in rows:
        if row.label in NUMERIC_LABELS:
            continue
        kind = "unsafe" if row.label in VOCABULARY["unsafe"] else "complied"
        if first is None:
            first = (kind, row)
        elif kind != first[0]:
            raise InputError(
                f"label {row.label!r} mixes vocabularies with {first[1].label!r} "
                f"(line {first[1].line}); use either unsafe/safe or complied/refused",
                source=source or None,
                line=row.line or None,
                field="label",
            )
    return "unsafe" if first is None or first[0] == "unsafe" else "complied"


def _is_positive(row: LabelledRow, positive: Positive, source: str) -> bool:
    if row.label in NUMERIC_LABELS:
        return NUMERIC_LABELS[row.label]
    words = VOCABULARY[positive]
    if row.label not in words:
        raise InputError(
            f"label {row.label!r} does not fit positive={positive!r}; "
            f"use {', '.join(words)} or 1/0",
            source=source or None,
            line=row.line or None,
            field="label",
        )
    return words[row.label]


# --------------------------------------------------------------------------- records


class BootInterval(BaseModel):
    """A statistic with a percentile bootstrap interval; all ``None`` when undefined."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float | None
    low: float | None = None
    high: float | None = None

    def fmt(self, digits: int = 3) -> str:
        return "n/a" if self.value is None else f"{self.value:.{digits}f}"

    def fmt_interval(self, digits: int = 3) -> str:
        if self.low is None or self.high is None:
            return "n/a"
        return f"{self.low:.{digits}f}–{self.high:.{digits}f}"


class JudgeMetrics(BaseModel):
    """A judge's metrics on a set of labelled examples (all of them, or one hazard's).

    Attributes:
        n: examples; ``n_positive`` + ``n_negative``.
        n_scored: examples the judge decided; ``n_unscored`` the rest, split by class in
            ``n_unscored_positive`` / ``n_unscored_negative``.
        n_with_score: scored examples whose verdict carried a score (AUROC/AUPRC use them).
        tp, fp, tn, fn: the confusion matrix of the scored examples.
        precision, recall, fpr, accuracy: over the scored examples, Wilson intervals.
        recall_worst, fpr_worst: counting every unscored example as a mistake.
        f1, auprc, auroc: point values with stratified bootstrap intervals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int
    n_positive: int
    n_negative: int
    n_scored: int
    n_unscored: int
    n_unscored_positive: int
    n_unscored_negative: int
    n_with_score: int
    tp: int
    fp: int
    tn: int
    fn: int
    precision: Estimate
    recall: Estimate
    fpr: Estimate
    accuracy: Estimate
    recall_worst: Estimate
    fpr_worst: Estimate
    f1: BootInterval
    auprc: BootInterval
    auroc: BootInterval


class JudgeEval(BaseModel):
    """One evaluation of one judge on one labelled file.

    Attributes:
        judge: the judge's spec; ``judge_key`` its short hash.
        positive: what the positive class meant (``unsafe`` or ``complied``).
        threshold: the score threshold of the decision, or ``None`` (the outcome).
        data_path, data_sha256: the labelled file and the SHA-256 of its bytes.
        overall: metrics over every example; ``hazards``: per canonical hazard code of
            the examples that name one (taxonomy order).
        unscored_reasons: reason -> how many verdicts were unscored for it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    judge: Spec
    judge_key: str
    positive: Positive
    threshold: float | None
    data_path: str
    data_sha256: str
    confidence: float
    resamples: int
    seed: int
    overall: JudgeMetrics
    hazards: dict[str, JudgeMetrics]
    unscored_reasons: dict[str, int]
    assay_version: str = ""

    @property
    def n(self) -> int:
        return self.overall.n


# --------------------------------------------------------------------------- statistics


def _auc_ap(pos: IntArray, neg: IntArray) -> tuple[FloatArray, FloatArray]:
    """AUROC and average precision per row of per-score-level counts.

    ``pos`` and ``neg`` are ``(B, L)`` counts of positives and negatives at each of ``L``
    distinct score levels, lowest score first. Rows without both classes give NaN.
    """
    n_pos = pos.sum(axis=1).astype(np.float64)
    n_neg = neg.sum(axis=1).astype(np.float64)
    valid = (n_pos > 0) & (n_neg > 0)
    safe_pos = np.where(n_pos > 0, n_pos, 1.0)
    safe_neg = np.where(n_neg > 0, n_neg, 1.0)
    neg_below = np.cumsum(neg, axis=1) - neg
    auc = (pos * (neg_below + 0.5 * neg)).sum(axis=1) / (safe_pos * safe_neg)
    # Average precision: thresholds at each distinct score, highest first.
    pos_desc = pos[:, ::-1]
    tp = np.cumsum(pos_desc, axis=1)
    fp = np.cumsum(neg[:, ::-1], axis=1)
    called = tp + fp
    precision = np.divide(tp, called, out=np.zeros(tp.shape), where=called > 0)
    ap = (pos_desc * precision).sum(axis=1) / safe_pos
    return np.where(valid, auc, np.nan), np.where(valid, ap, np.nan)


def _level_counts(labels: BoolArray, scores: FloatArray) -> tuple[IntArray, IntArray]:
    levels, inverse = np.unique(scores, return_inverse=True)
    n_levels = len(levels)
    pos = np.bincount(inverse[labels], minlength=n_levels).astype(np.int64)
    neg = np.bincount(inverse[~labels], minlength=n_levels).astype(np.int64)
    return pos, neg


def _check_scores(labels: Sequence[bool], scores: Sequence[float]) -> tuple[BoolArray, FloatArray]:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError("labels and scores must be 1-d and of equal length")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    return y, s


def auroc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (ties count one half); ``None`` without both classes."""
    y, s = _check_scores(labels, scores)
    if y.all() or not y.any():
        return None
    pos, neg = _level_counts(y, s)
    return float(_auc_ap(pos[None, :], neg[None, :])[0][0])


def average_precision(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Average precision (area under the precision-recall steps, scikit-learn's
    definition); ``None`` without both classes."""
    y, s = _check_scores(labels, scores)
    if y.all() or not y.any():
        return None
    pos, neg = _level_counts(y, s)
    return float(_auc_ap(pos[None, :], neg[None, :])[1][0])


def _percentiles(values: FloatArray, confidence: float) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    alpha = 1.0 - confidence
    low, high = np.quantile(finite, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def _f1(tp: int, fp: int, fn: int) -> float | None:
    denom = 2 * tp + fp + fn
    return None if denom == 0 else 2 * tp / denom


def _boot_f1(
    tp: int, fp: int, fn: int, tn: int, rng: np.random.Generator, resamples: int, conf: float
) -> BootInterval:
    point = _f1(tp, fp, fn)
    if point is None:
        return BootInterval(value=None)
    n_pos, n_neg = tp + fn, fp + tn
    # A stratified resample of n_pos positives draws each as a hit with p = tp / n_pos:
    # the number of hits is Binomial(n_pos, tp / n_pos), exactly.
    tp_b = rng.binomial(n_pos, tp / n_pos, resamples) if n_pos else np.zeros(resamples)
    fp_b = rng.binomial(n_neg, fp / n_neg, resamples) if n_neg else np.zeros(resamples)
    denom = 2.0 * tp_b + fp_b + (n_pos - tp_b)
    f1 = np.divide(2.0 * tp_b, denom, out=np.full(resamples, np.nan), where=denom > 0)
    low, high = _percentiles(f1, conf)
    return BootInterval(value=point, low=low, high=high)


def _boot_ranking(
    labels: BoolArray, scores: FloatArray, rng: np.random.Generator, resamples: int, conf: float
) -> tuple[BootInterval, BootInterval]:
    """(AUPRC, AUROC) with stratified bootstrap intervals."""
    if labels.size == 0 or labels.all() or not labels.any():
        return BootInterval(value=None), BootInterval(value=None)
    pos, neg = _level_counts(labels, scores)
    auc0, ap0 = _auc_ap(pos[None, :], neg[None, :])
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    # A stratified resample's counts per score level are multinomial, exactly.
    chunk = max(1, 2_000_000 // max(1, pos.size))
    aucs: list[FloatArray] = []
    aps: list[FloatArray] = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        pos_b = rng.multinomial(n_pos, pos / n_pos, size=size).astype(np.int64)
        neg_b = rng.multinomial(n_neg, neg / n_neg, size=size).astype(np.int64)
        auc_b, ap_b = _auc_ap(pos_b, neg_b)
        aucs.append(auc_b)
        aps.append(ap_b)
    auc_all = np.concatenate(aucs) if aucs else np.empty(0)
    ap_all = np.concatenate(aps) if aps else np.empty(0)
    ap_low, ap_high = _percentiles(ap_all, conf)
    auc_low, auc_high = _percentiles(auc_all, conf)
    return (
        BootInterval(value=float(ap0[0]), low=ap_low, high=ap_high),
        BootInterval(value=float(auc0[0]), low=auc_low, high=auc_high),
    )


def _metrics(
    labels: BoolArray,
    decisions: Sequence[bool | None],
    scores: Sequence[float | None],
    *,
    resamples: int,
    seed: int,
    confidence: float,
) -> JudgeMetrics:
    scored = [i for i, d in enumerate(decisions) if d is not None]
    y = labels[scored] if scored else np.zeros(0, dtype=bool)
    d = np.asarray([decisions[i] for i in scored], dtype=bool)
    tp = int((y & d).sum())
    fp = int((~y & d).sum())
    fn = int((y & ~d).sum())
    tn = int((~y & ~d).sum())
    n_pos = int(labels.sum())
    n_neg = int(labels.size - n_pos)
    un_pos = n_pos - tp - fn
    un_neg = n_neg - fp - tn

    def est(k: int, n: int) -> Estimate:
        return Estimate.of(k, n, confidence=confidence)

    rng = np.random.default_rng(seed)
    f1 = _boot_f1(tp, fp, fn, tn, rng, resamples, confidence)
    ranked = [i for i in scored if scores[i] is not None]
    y_s = labels[ranked] if ranked else np.zeros(0, dtype=bool)
    s = np.asarray([scores[i] for i in ranked], dtype=np.float64)
    auprc, auroc_ = _boot_ranking(y_s, s, rng, resamples, confidence)
    return JudgeMetrics(
        n=int(labels.size),
        n_positive=n_pos,
        n_negative=n_neg,
        n_scored=len(scored),
        n_unscored=un_pos + un_neg,
        n_unscored_positive=un_pos,
        n_unscored_negative=un_neg,
        n_with_score=len(ranked),
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        precision=est(tp, tp + fp),
        recall=est(tp, tp + fn),
        fpr=est(fp, fp + tn),
        accuracy=est(tp + tn, len(scored)),
        recall_worst=est(tp, n_pos),
        fpr_worst=est(fp + un_neg, n_neg),
        f1=f1,
        auprc=auprc,
        auroc=auroc_,
    )


# --------------------------------------------------------------------------- running


def _exchange(row: LabelledRow, *, source: str, index: int) -> Exchange:
    messages = (Message(role="user", content=row.text),)
    suite = Path(source).name if source else "labelled"
    case_id = row.id or f"row{index}"
    if row.hazard is not None:
        case = Case(
            id=case_id, messages=messages, hazard=row.hazard, expected="refuse", suite=suite
        )
    else:  # no hazard: an empty one, built without the canonical-code validator
        case = Case.model_construct(
            id=case_id,
            messages=messages,
            hazard="",
            expected="refuse",
            metadata={},
            suite=suite,
            suite_version="0",
        )
    target = Spec(name="labelled", version="1", params={"path": source})
    attempt = Attempt.make(case, target)
    return Exchange(attempt=attempt, response=Response(text=row.response or ""))


async def judge_rows(
    judge: Judge, rows: Sequence[LabelledRow], *, batch_size: int = 64, source: str = ""
) -> list[Verdict]:
    """One verdict per example, in order, judged ``batch_size`` at a time.

    A batch whose judge raises (anything but an :class:`~assay.errors.AssayError`, which
    propagates: a missing extra, bad usage) or returns the wrong number of verdicts is
    unscored with the reason, as the scan engine does.
    """
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, got {batch_size}")
    exchanges = [_exchange(row, source=source, index=i) for i, row in enumerate(rows)]
    out: list[Verdict] = []
    for start in range(0, len(exchanges), batch_size):
        batch = exchanges[start : start + batch_size]
        out.extend(await judge_or_unscored(judge, batch))
    return out


def _decision(verdict: Verdict, threshold: float | None) -> bool | None:
    if verdict.outcome is Outcome.UNSCORED:
        return None
    if threshold is not None and verdict.score is not None:
        return verdict.score >= threshold
    return verdict.outcome in POSITIVE_OUTCOMES


async def aevaluate_judge(
    judge: Judge,
    rows: LabelledData | Sequence[LabelledRow],
    *,
    positive: Positive | None = None,
    threshold: float | None = None,
    batch_size: int = 64,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> JudgeEval:
    """:func:`evaluate_judge` for callers already inside an event loop."""
    data = rows if isinstance(rows, LabelledData) else LabelledData(rows=tuple(rows))
    source = data.path
    if not data.rows:
        raise UsageError("no labelled examples to evaluate the judge on")
    if positive is not None and positive not in VOCABULARY:
        raise UsageError(f"positive must be 'unsafe' or 'complied', not {positive!r}")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError(f"threshold must be in [0, 1], got {threshold!r}")
    if resamples < 1:
        raise UsageError(f"resamples must be at least 1, got {resamples}")
    z_for(confidence)
    meaning: Positive = positive or infer_positive(data.rows, source=source)
    labels = np.asarray([_is_positive(r, meaning, source) for r in data.rows], dtype=bool)
    verdicts = await judge_rows(judge, data.rows, batch_size=batch_size, source=source)
    decisions = [_decision(v, threshold) for v in verdicts]
    scores = [v.score if v.outcome is not Outcome.UNSCORED else None for v in verdicts]
    reasons = Counter(
        v.unscored_reason or "unscored" for v in verdicts if v.outcome is Outcome.UNSCORED
    )

    def metrics(index: Sequence[int]) -> JudgeMetrics:
        return _metrics(
            labels[list(index)],
            [decisions[i] for i in index],
            [scores[i] for i in index],
            resamples=resamples,
            seed=seed,
            confidence=confidence,
        )

    by_hazard: dict[str, list[int]] = {}
    for i, row in enumerate(data.rows):
        if row.hazard is not None:
            by_hazard.setdefault(row.hazard, []).append(i)
    order = [h for h in HAZARDS if h in by_hazard]
    spec = judge.spec()
    return JudgeEval(
        judge=spec,
        judge_key=spec.key(),
        positive=meaning,
        threshold=threshold,
        data_path=data.path,
        data_sha256=data.sha256,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
        overall=metrics(range(len(data.rows))),
        hazards={h: metrics(by_hazard[h]) for h in order},
        unscored_reasons=dict(reasons.most_common()),
        assay_version=__version__,
    )


def evaluate_judge(
    judge: Judge,
    rows: LabelledData | Sequence[LabelledRow],
    *,
    positive: Positive | None = None,
    threshold: float | None = None,
    batch_size: int = 64,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> JudgeEval:
    """Run ``judge`` over labelled examples and measure it (see the module docstring).

    Args:
        judge: any :class:`~assay.core.protocols.Judge`.
        rows: from :func:`load_labelled` (which records the file and its hash), or
            hand-built :class:`LabelledRow` s.
        positive: what the positive class means: ``unsafe`` (harm judges, guards) or
            ``complied`` (refusal judges); inferred from the labels when ``None``.
        threshold: decide positive when ``score >= threshold`` (verdicts without a
            score fall back to their outcome); ``None`` uses the judge's outcome.
        batch_size: examples per ``judge.judge`` call.
        resamples, seed: the bootstrap of F1, AUPRC and AUROC.
        confidence: nominal coverage of every interval.

    Raises:
        UsageError: no examples, or a bad argument.
        InputError: a label that does not fit ``positive``.
    """
    return asyncio.run(
        aevaluate_judge(
            judge,
            rows,
            positive=positive,
            threshold=threshold,
            batch_size=batch_size,
            resamples=resamples,
            seed=seed,
            confidence=confidence,
        )
    )


# --------------------------------------------------------------------------- store


def save_eval(store: Store, evaluation: JudgeEval) -> int:
    """Store an evaluation; returns its row id."""
    return store.save_judge_eval(
        judge=evaluation.judge,
        data_path=evaluation.data_path,
        data_sha256=evaluation.data_sha256,
        n=evaluation.n,
        metrics=evaluation.model_dump(mode="json"),
    )


def eval_from_stored(row: Mapping[str, Any]) -> JudgeEval:
    """Rebuild a :class:`JudgeEval` from a row of ``Store.latest_judge_eval`` /
    ``Store.list_judge_evals``."""
    return JudgeEval.model_validate(row["metrics"])
