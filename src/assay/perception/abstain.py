"""Calibrated abstention for classifiers: conformal prediction sets, confidence, OOD, ECE.

A classifier that answers every question is wrong on the hard ones without saying so.
Here its softmax output is turned into a *prediction set* with a coverage guarantee, and
a rule says when to hand the case to a human instead of acting on it.

**Split conformal sets.** On ``n`` calibration rows exchangeable with the test rows,
each row's true label gets a nonconformity score; the score's quantile ``q`` at level
``ceil((n + 1)(1 - alpha)) / n`` (:func:`assay.guard.conformal.conformal_quantile`: the
finite-sample correction) makes ``P(y_test in set) >= 1 - alpha``, where a label enters
the set when its score is at most ``q``. Two scores, shared with the guard's binary
{safe, unsafe} calibration (which is their two-class case):

* **LAC** (Sadinle et al., 2019): ``1 - p(y)``. The smallest sets on average; a confident
  but wrong model can get an *empty* set.
* **APS** (Romano et al., 2020): the probability mass of the labels ranked above ``y``
  plus ``p(y)``. Sets adapt to how spread out the softmax is. Non-randomised, the labels
  are taken in order of probability up to *and including* the one whose cumulative mass
  crosses ``q`` (never empty, coverage at least ``1 - alpha``, a little conservative).
  Randomised (``randomized=True``, an explicit ``rng`` draws one ``u ~ U[0, 1)`` per row),
  ``p(y)`` is multiplied by ``u``: coverage is exact in expectation and sets may be empty.

**Class-conditional** (``class_conditional=True``, "Mondrian"): one quantile per class,
from the calibration rows of that class, so the coverage holds *for every class*
(``P(y in set | y = c) >= 1 - alpha``), not only on average over a class mix the
deployment may not share. A class with fewer than ``min_class_samples`` calibration rows
(default: the ``ceil(1/alpha) - 1`` below which the quantile is infinite) falls back to
the marginal quantile, and the fallback is recorded in :attr:`ClassifierSets.fallbacks`.

**Abstention.** A case is abstained on when its set is empty (no label is plausible),
when it has more than ``max_set_size`` labels (too ambiguous to act on), or when the
maximum softmax probability is below ``min_confidence``. :func:`fit_abstention` picks
``min_confidence`` on a *tuning* split (not the calibration split) as the smallest
threshold whose selective risk (top-1 errors among the cases still decided) is at most a
target, with :func:`assay.guard.conformal.fit_min_confidence`, the guard's rule.

**Diagnostics.** :func:`ece` (expected calibration error, top label, equal-width bins),
OOD scores :func:`max_softmax` and :func:`energy` (Liu et al., 2020), and
:func:`ood_auroc`. numpy only.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from assay.errors import InputError
from assay.guard import conformal

__all__ = [
    "ClassifierSets",
    "Method",
    "ece",
    "energy",
    "evaluate",
    "fit",
    "fit_abstention",
    "max_softmax",
    "ood_auroc",
    "softmax",
]

Method = Literal["lac", "aps"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- checks


def _probs(probs: npt.ArrayLike, field: str = "probs") -> FloatArray:
    values = np.asarray(probs, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        raise InputError(
            f"must be a (B, C) array with C >= 2, got shape {values.shape}", field=field
        )
    if not np.isfinite(values).all():
        raise InputError("contains NaN or infinite values", field=field)
    if (values < -1e-6).any() or (np.abs(values.sum(axis=1) - 1.0) > 1e-3).any():
        raise InputError("rows must be probabilities (>= 0, summing to 1)", field=field)
    return np.clip(values, 0.0, 1.0)


def _labels(labels: npt.ArrayLike, n_rows: int, n_classes: int, field: str = "labels") -> IntArray:
    values = np.asarray(labels)
    if values.shape != (n_rows,):
        raise InputError(f"must have shape ({n_rows},), got {values.shape}", field=field)
    if values.dtype.kind not in "iu":
        if values.dtype.kind == "f" and np.isfinite(values).all() and (values % 1 == 0).all():
            values = values.astype(np.int64)
        else:
            raise InputError(f"must be integers, got dtype {values.dtype}", field=field)
    if n_rows and (values.min() < 0 or values.max() >= n_classes):
        raise InputError(f"must be class indices in [0, {n_classes})", field=field)
    return values.astype(np.int64)


def _logits(logits: npt.ArrayLike) -> FloatArray:
    values = np.asarray(logits, dtype=np.float64)
    if values.ndim != 2:
        raise InputError(f"must be a (B, C) array, got shape {values.shape}", field="logits")
    if not np.isfinite(values).all():
        raise InputError("contains NaN or infinite values", field="logits")
    return values


def _finite(q: float) -> float | None:
    return None if math.isinf(q) else q


def _inf(q: float | None) -> float:
    return math.inf if q is None else q


# --------------------------------------------------------------------------- sets


class ClassifierSets(BaseModel):
    """Fitted conformal quantiles (and abstention rule) for a ``C``-class classifier.

    JSON-serialisable (``model_dump_json``/``model_validate_json``), so a calibration can
    be stored with the run that used it.

    Attributes:
        method: ``lac`` or ``aps``; randomized: APS with one ``u ~ U[0, 1)`` per row.
        alpha: target miscoverage; the sets cover the true label with probability at
            least ``1 - alpha`` (per class when ``class_conditional``).
        n_classes: ``C``; n_cal: calibration rows; n_per_class: rows of each class.
        qhat: the marginal quantile (``None`` = +inf: every label is in every set).
        qhat_per_class: the quantile used for each class (``None`` when not
            class-conditional; an entry is the marginal one where the class fell back).
        fallbacks: class index (as a string, for JSON) -> why it uses the marginal
            quantile.
        max_set_size: abstain when a set has more labels than this (``None``: never).
        min_confidence: abstain when the max softmax probability is below this.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    randomized: bool = False
    alpha: float
    class_conditional: bool
    n_classes: int
    n_cal: int
    n_per_class: list[int]
    qhat: float | None
    qhat_per_class: list[float | None] | None = None
    fallbacks: dict[str, str] = {}
    max_set_size: int | None = None
    min_confidence: float = 0.0

    def thresholds(self) -> FloatArray:
        """The quantile each class is compared with, ``(C,)`` (+inf for ``None``)."""
        if self.qhat_per_class is None:
            return np.full(self.n_classes, _inf(self.qhat))
        return np.array([_inf(q) for q in self.qhat_per_class], dtype=np.float64)

    def predict_sets(
        self, probs: npt.ArrayLike, rng: np.random.Generator | None = None
    ) -> BoolArray:
        """The prediction set of each row: ``(B, C)`` bools, ``True`` = label in the set.

        Args:
            probs: ``(B, C)`` softmax probabilities of the rows to predict.
            rng: the generator of the per-row ``u`` draws; required when randomised.
        """
        rows = _probs(probs)
        if rows.shape[1] != self.n_classes:
            raise InputError(
                f"has {rows.shape[1]} classes, the calibration had {self.n_classes}",
                field="probs",
            )
        q = self.thresholds()[None, :]
        if self.method == "lac":
            return np.asarray(1.0 - rows <= q)
        if self.randomized:
            if rng is None:
                raise InputError("randomised APS needs an explicit rng", field="rng")
            above, own = conformal.class_aps_matrix(rows, rng.random(len(rows)))
            return np.asarray(above + own <= q)
        above, own = conformal.class_aps_matrix(rows)
        # Take labels in order until the cumulative mass crosses q, the crossing one included.
        return np.asarray((above < q) | (above + own <= q))

    def abstain(self, probs: npt.ArrayLike, sets: npt.ArrayLike) -> BoolArray:
        """Whether to abstain on each row: empty set, set too large, or low confidence."""
        rows = _probs(probs)
        size = np.asarray(sets, dtype=bool).sum(axis=1)
        out = (size == 0) | (rows.max(axis=1) < self.min_confidence)
        if self.max_set_size is not None:
            out |= size > self.max_set_size
        return np.asarray(out)


def fit(
    probs_cal: npt.ArrayLike,
    labels_cal: npt.ArrayLike,
    *,
    alpha: float,
    method: Method = "lac",
    class_conditional: bool = False,
    randomized: bool = False,
    rng: np.random.Generator | None = None,
    min_class_samples: int | None = None,
) -> ClassifierSets:
    """Fit split-conformal quantiles on held-out calibration softmax outputs.

    Args:
        probs_cal: ``(n, C)`` softmax probabilities on the calibration split (data the
            model was not trained on).
        labels_cal: ``(n,)`` integer true labels.
        alpha: target miscoverage in (0, 1), e.g. 0.1 for 90 % coverage.
        method: ``lac`` or ``aps``.
        class_conditional: one quantile per class (coverage holds for each class).
        randomized: randomised APS; needs ``rng`` (draws one ``u`` per calibration row).
        rng: the generator for randomised APS.
        min_class_samples: fewest rows of a class for its own quantile; default
            ``ceil(1/alpha) - 1``, below which the conformal quantile is infinite.
    """
    if not 0.0 < alpha < 1.0:
        raise InputError(f"must be in (0, 1), got {alpha!r}", field="alpha")
    if method not in ("lac", "aps"):
        raise InputError(f"must be 'lac' or 'aps', got {method!r}", field="method")
    if randomized and method != "aps":
        raise InputError("randomisation applies to APS only", field="randomized")
    if randomized and rng is None:
        raise InputError("randomised APS needs an explicit rng", field="rng")
    rows = _probs(probs_cal, "probs_cal")
    n_rows, n_classes = rows.shape
    labels = _labels(labels_cal, n_rows, n_classes, "labels_cal")
    if method == "lac":
        scores = conformal.class_lac_scores(rows, labels)
    else:
        u = rng.random(n_rows) if randomized and rng is not None else None
        scores = conformal.class_aps_scores(rows, labels, u)
    q_marginal = conformal.conformal_quantile(scores, alpha)
    counts = np.bincount(labels, minlength=n_classes)
    per_class: list[float | None] | None = None
    fallbacks: dict[str, str] = {}
    if class_conditional:
        need = min_class_samples if min_class_samples is not None else math.ceil(1 / alpha) - 1
        per_class = []
        for c in range(n_classes):
            q_c = conformal.conformal_quantile(scores[labels == c], alpha)
            if counts[c] < need or math.isinf(q_c):
                fallbacks[str(c)] = f"{int(counts[c])} calibration rows (< {need}): marginal"
                q_c = q_marginal
            per_class.append(_finite(q_c))
    return ClassifierSets(
        method=method,
        randomized=randomized,
        alpha=alpha,
        class_conditional=class_conditional,
        n_classes=n_classes,
        n_cal=n_rows,
        n_per_class=[int(c) for c in counts],
        qhat=_finite(q_marginal),
        qhat_per_class=per_class,
        fallbacks=fallbacks,
    )


def fit_abstention(
    sets: ClassifierSets,
    probs_tune: npt.ArrayLike,
    labels_tune: npt.ArrayLike,
    *,
    target_risk: float,
    max_set_size: int | None = None,
    rng: np.random.Generator | None = None,
) -> ClassifierSets:
    """Choose the confidence threshold on a tuning split; return ``sets`` with it set.

    The threshold ``t`` is the smallest one such that, among the tuning rows not
    abstained on (set non-empty, at most ``max_set_size`` labels, max softmax ``>= t``),
    the top-1 error rate is at most ``target_risk``; 1.0 when no threshold reaches it.
    This is an empirical choice (no finite-sample guarantee); use a split not used for
    the conformal quantiles.

    Args:
        rng: the generator for randomised APS sets on the tuning rows.
    """
    if not 0.0 <= target_risk < 1.0:
        raise InputError(f"must be in [0, 1), got {target_risk!r}", field="target_risk")
    if max_set_size is not None and max_set_size < 1:
        raise InputError(f"must be >= 1, got {max_set_size!r}", field="max_set_size")
    rows = _probs(probs_tune, "probs_tune")
    labels = _labels(labels_tune, len(rows), rows.shape[1], "labels_tune")
    staged = sets.model_copy(update={"max_set_size": max_set_size, "min_confidence": 0.0})
    decided = ~staged.abstain(rows, staged.predict_sets(rows, rng))
    errors = rows.argmax(axis=1) != labels
    t = conformal.fit_min_confidence(
        rows.max(axis=1), decided, errors=errors, target_risk=target_risk
    )
    return staged.model_copy(update={"min_confidence": float(t)})


# --------------------------------------------------------------------------- evaluation


def evaluate(
    probs: npt.ArrayLike,
    labels: npt.ArrayLike,
    sets: npt.ArrayLike,
    abstain: npt.ArrayLike | None = None,
) -> dict[str, float | int | None]:
    """Held-out figures of prediction sets and an abstention rule.

    Returns:
        ``n``; ``coverage`` (true label in the set) and ``min_class_coverage`` (the worst
        class present); ``mean_set_size``; ``empty_rate``; ``accuracy`` (top-1, all
        rows); ``abstention_rate``; ``selective_accuracy`` (top-1 among rows not
        abstained on, ``None`` if none). ``abstain`` defaults to never.
    """
    rows = _probs(probs)
    n_rows, n_classes = rows.shape
    y = _labels(labels, n_rows, n_classes)
    members = np.asarray(sets, dtype=bool)
    if members.shape != rows.shape:
        raise InputError(f"must have shape {rows.shape}, got {members.shape}", field="sets")
    skip = np.zeros(n_rows, bool) if abstain is None else np.asarray(abstain, dtype=bool)
    if skip.shape != (n_rows,):
        raise InputError(f"must have shape ({n_rows},), got {skip.shape}", field="abstain")
    covered = members[np.arange(n_rows), y]
    correct = rows.argmax(axis=1) == y
    kept = ~skip
    per_class = [covered[y == c].mean() for c in range(n_classes) if (y == c).any()]

    def mean(values: npt.NDArray[np.generic]) -> float | None:
        return None if values.size == 0 else float(values.mean())

    return {
        "n": n_rows,
        "coverage": mean(covered),
        "min_class_coverage": None if not per_class else float(min(per_class)),
        "mean_set_size": mean(members.sum(axis=1)),
        "empty_rate": mean(members.sum(axis=1) == 0),
        "accuracy": mean(correct),
        "abstention_rate": mean(skip),
        "selective_accuracy": mean(correct[kept]),
    }


# --------------------------------------------------------------------------- scores


def softmax(logits: npt.ArrayLike, T: float = 1.0) -> FloatArray:
    """Row-wise softmax of ``logits / T``, computed stably (max subtracted)."""
    values = _logits(logits) / T
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float64)


def max_softmax(logits: npt.ArrayLike) -> FloatArray:
    """The maximum softmax probability (Hendrycks & Gimpel, 2017): high = in-distribution."""
    return np.asarray(softmax(logits).max(axis=1), dtype=np.float64)


def energy(logits: npt.ArrayLike, T: float = 1.0) -> FloatArray:
    """The free energy ``-T * logsumexp(logits / T)`` (Liu et al., 2020).

    *Low* for in-distribution inputs (large logits), so pass ``-energy`` to
    :func:`ood_auroc`, which expects higher = more in-distribution. Unlike the max
    softmax it keeps the logits' scale, which separates far-away inputs better.
    """
    if not T > 0:
        raise InputError(f"must be > 0, got {T!r}", field="T")
    values = _logits(logits) / T
    top = values.max(axis=1)
    lse = top + np.log(np.exp(values - top[:, None]).sum(axis=1))
    return np.asarray(-T * lse, dtype=np.float64)


def ood_auroc(scores_in: npt.ArrayLike, scores_out: npt.ArrayLike) -> float:
    """AUROC of telling in- from out-of-distribution inputs by a score (higher = in).

    The probability that an in-distribution input scores above an OOD one, ties counted
    half (the Mann-Whitney statistic): 0.5 is chance, 1.0 perfect separation.
    """
    s_in = np.asarray(scores_in, dtype=np.float64).reshape(-1)
    s_out = np.sort(np.asarray(scores_out, dtype=np.float64).reshape(-1))
    if s_in.size == 0 or s_out.size == 0:
        raise InputError("both score arrays must be non-empty", field="scores")
    if not (np.isfinite(s_in).all() and np.isfinite(s_out).all()):
        raise InputError("contains NaN or infinite values", field="scores")
    below = np.searchsorted(s_out, s_in, side="left")
    ties = np.searchsorted(s_out, s_in, side="right") - below
    return float((below + 0.5 * ties).sum() / (s_in.size * s_out.size))


def ece(probs: npt.ArrayLike, labels: npt.ArrayLike, n_bins: int = 15) -> float:
    """Expected calibration error of the top label, with ``n_bins`` equal-width bins.

    ``sum_b (n_b / n) * |accuracy_b - mean confidence_b|`` over bins ``(k/n_bins,
    (k+1)/n_bins]`` of the max probability (Guo et al., 2017): 0 for a calibrated model,
    up to 1; an over-confident model (confidence above accuracy) scores high.
    """
    if n_bins < 1:
        raise InputError(f"must be >= 1, got {n_bins!r}", field="n_bins")
    rows = _probs(probs)
    y = _labels(labels, len(rows), rows.shape[1])
    if len(rows) == 0:
        return 0.0
    conf = rows.max(axis=1)
    correct = (rows.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    gap = np.bincount(bins, weights=correct - conf, minlength=n_bins)
    return float(np.abs(gap).sum() / len(rows))
