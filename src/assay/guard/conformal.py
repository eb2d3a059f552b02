"""Conformal prediction and risk control over {safe, unsafe}, from a score p = P(unsafe).

numpy only. Every function here works on arrays of judge scores ``p`` and boolean labels
``unsafe``; :mod:`assay.guard.calibrate` feeds them from labelled data and
:mod:`assay.guard.guard` applies the fitted thresholds at run time.

**Prediction sets (split conformal).** A nonconformity score says how strange a label is
for a text; on ``n`` calibration rows its quantile at level
``ceil((n + 1)(1 - alpha)) / n`` (the finite-sample correction; ``+inf`` when that level
exceeds 1, i.e. ``n < 1/alpha - 1``) bounds the score of a new, exchangeable row with
probability at least ``1 - alpha``. A label enters a text's set when its score is at most
the quantile. Two scores:

* **LAC** (least ambiguous set-valued classifier): ``1 - p_hat(label)``, where
  ``p_hat(unsafe) = p`` and ``p_hat(safe) = 1 - p``. So ``unsafe`` is in the set iff
  ``p >= 1 - q_unsafe`` and ``safe`` iff ``p <= q_safe``: two thresholds on ``p``.
* **APS** (adaptive prediction sets): the probability mass of the labels ranked above the
  true one, plus its own: for two labels ``p_top`` when the label is the top one
  (``unsafe`` when ``p >= 0.5``) and ``1`` otherwise. *Non-randomised* (the default), a
  label enters the set when the mass ranked strictly above it is below the quantile, so
  the top label is always in and the other one joins when ``p_top < q`` (the "include the
  label that crosses" rule: never empty, coverage at least ``1 - alpha``, conservative).
  With only two labels this is degenerate: a correct top label scores ``p_top`` itself,
  so ``q`` is a high quantile of the confidences and only the most confident ~alpha of
  texts get a single label (if the judge is wrong on more than alpha of the rows, none
  do). Prefer LAC, or randomised APS.
  *Randomised* (``u`` in [0, 1) given), the label's own mass is multiplied by ``u`` and a
  label enters when its randomised score is at most the quantile: exact coverage, sets
  may be empty, and the same text can get a different set for another ``u``. The guard
  derives ``u`` from a hash of the text so its decisions stay reproducible
  (:func:`assay.guard.calibrate.text_u`); calibration uses APS randomised unless told
  otherwise.

**Class-conditional (Mondrian).** With ``mondrian=True`` (the default) each label gets
its own quantile, from the calibration rows of that label: then
``P(unsafe in set | unsafe) >= 1 - alpha``, i.e. *at most alpha of unsafe texts are
allowed* (a set ``{safe}`` is the only way to allow), whatever the mix of labels. Groups
(per hazard) work the same way: rows are grouped by a function of the text known at run
time (the judge's top hazard), each group with enough rows gets its own quantiles and
the rest fall back to the global ones.

**Decisions.** ``{unsafe}`` blocks, ``{safe}`` allows, both or none abstains (a human
should look). A second, *label-free* abstention threshold on the confidence
``max(p, 1 - p)`` (:func:`fit_min_confidence`) is chosen on a held-out split to reach a
target abstention rate or selective risk; at run time it needs no label.

**Risk control (Learn-then-Test).** :func:`ltt_allow_threshold` picks the largest
threshold ``lam`` on a fixed grid such that "allow when ``p < lam``" lets through at most
``risk`` unsafe content with probability at least ``1 - delta`` over the calibration
draw. The risk is the *miss rate* ``P(allowed | unsafe)`` (``over="unsafe"``, the
default: it does not depend on how common unsafe text is) or
``P(allowed and unsafe)`` (``over="all"``). Each grid point is a null hypothesis
"risk(lam) > risk" with the exact binomial p-value ``P(Binom(n, risk) <= k)`` (``k`` the
observed count; valid for 0/1 losses) or the Hoeffding-Bentkus one; the grid is tested
in fixed sequence from ``lam = 0`` upwards and stops at the first p-value above
``delta``, which controls the family-wise error at ``delta`` without any correction. We
use LTT rather than conformal risk control because CRC bounds the risk only in
expectation, while LTT's bound holds with a stated confidence.

**Many classes.** :func:`conformal_quantile` is label-agnostic, and
:func:`class_lac_scores`, :func:`class_aps_scores` and :func:`class_aps_matrix` give the
same two scores for a ``(B, C)`` matrix of class probabilities; the binary functions above
are their ``C = 2`` case with columns ``(safe, unsafe) = (1 - p, p)`` (APS breaks the tie
at ``p = 0.5`` towards ``unsafe``). :mod:`assay.perception.abstain` builds its classifier
prediction sets on them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

__all__ = [
    "LABELS",
    "DecisionArray",
    "Method",
    "RiskThresholds",
    "SetThresholds",
    "aps_scores",
    "binom_cdf",
    "class_aps_matrix",
    "class_aps_scores",
    "class_lac_scores",
    "confidence",
    "conformal_quantile",
    "evaluate",
    "fit_group_sets",
    "fit_min_confidence",
    "fit_sets",
    "hb_pvalue",
    "lac_scores",
    "ltt_allow_threshold",
    "ltt_block_threshold",
    "risk_decisions",
    "set_decisions",
    "set_membership",
]

LABELS: tuple[str, str] = ("safe", "unsafe")
Method = Literal["lac", "aps"]
RiskOver = Literal["unsafe", "all"]
BlockOver = Literal["safe", "all"]
PValue = Literal["binomial", "hb"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DecisionArray = npt.NDArray[np.str_]

#: The data-independent grid of thresholds that Learn-then-Test tests.
GRID = np.linspace(0.0, 1.0, 1001)


def _floats(values: npt.ArrayLike) -> FloatArray:
    return np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)


def _bools(values: npt.ArrayLike) -> BoolArray:
    return np.asarray(values, dtype=bool)


# --------------------------------------------------------------------------- scores


def conformal_quantile(scores: npt.ArrayLike, alpha: float) -> float:
    """The split-conformal quantile: the ``ceil((n + 1)(1 - alpha))``-th smallest score.

    ``+inf`` when there are too few scores for that rank (``n < 1/alpha - 1``): no finite
    bound holds, so every label must stay in the set.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    values = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(values)
    rank = math.ceil((n + 1) * (1.0 - alpha))
    if n == 0 or rank > n:
        return math.inf
    return float(values[rank - 1])


def _label_prob(p: FloatArray, unsafe: BoolArray) -> FloatArray:
    return np.where(unsafe, p, 1.0 - p)


def lac_scores(p: npt.ArrayLike, unsafe: npt.ArrayLike) -> FloatArray:
    """LAC nonconformity ``1 - p_hat(label)`` of each row's label."""
    probs = _floats(p)
    two = np.stack([1.0 - probs, probs], axis=-1).reshape(-1, 2)
    labels = _bools(unsafe).astype(np.int64).reshape(-1)
    return class_lac_scores(two, labels).reshape(probs.shape)


def aps_scores(
    p: npt.ArrayLike, unsafe: npt.ArrayLike, u: npt.ArrayLike | None = None
) -> FloatArray:
    """APS nonconformity of each row's label (randomised when ``u`` is given)."""
    probs, labels = _floats(p), _bools(unsafe)
    own = _label_prob(probs, labels)
    top_is_unsafe = probs >= 0.5
    is_top = labels == top_is_unsafe
    above = np.where(is_top, 0.0, np.maximum(probs, 1.0 - probs))
    share = np.ones_like(own) if u is None else np.asarray(u, dtype=np.float64)
    return np.asarray(above + share * own, dtype=np.float64)


def confidence(p: npt.ArrayLike) -> FloatArray:
    """``max(p, 1 - p)``: how sure the score is of its top label."""
    probs = _floats(p)
    return np.asarray(np.maximum(probs, 1.0 - probs), dtype=np.float64)


# --------------------------------------------------------------------------- many classes


def _rows(probs: npt.ArrayLike) -> FloatArray:
    values = np.asarray(probs, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"class probabilities must be (B, C), got shape {values.shape}")
    return np.clip(values, 0.0, 1.0)


def class_lac_scores(probs: npt.ArrayLike, labels: npt.ArrayLike) -> FloatArray:
    """LAC nonconformity ``1 - p_hat(y)`` of each row's label ``y`` (an int in ``[0, C)``).

    Args:
        probs: ``(B, C)`` class probabilities (rows sum to 1).
        labels: ``(B,)`` integer labels.
    """
    rows = _rows(probs)
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    return np.asarray(1.0 - rows[np.arange(len(rows)), y], dtype=np.float64)


def class_aps_matrix(
    probs: npt.ArrayLike, u: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """APS mass of every label of every row: ``(above, own)``, both ``(B, C)``.

    ``above[b, c]`` is the probability of the labels ranked strictly above ``c`` (by
    decreasing probability; ties broken towards the higher column index, which for two
    columns is the guard's "``unsafe`` is top at ``p = 0.5``"), ``own[b, c]`` is
    ``p[b, c]``, multiplied by the row's ``u[b]`` when randomised. The APS score of
    ``c`` is ``above + own``.
    """
    rows = _rows(probs)
    n_rows, n_cols = rows.shape
    # Stable sort of the reversed columns puts ties in decreasing column order.
    order = n_cols - 1 - np.argsort(-rows[:, ::-1], axis=1, kind="stable")
    sorted_p = np.take_along_axis(rows, order, axis=1)
    above_sorted = np.cumsum(sorted_p, axis=1) - sorted_p
    above = np.empty_like(rows)
    np.put_along_axis(above, order, above_sorted, axis=1)
    own = rows.copy()
    if u is not None:
        share = np.asarray(u, dtype=np.float64).reshape(n_rows, 1)
        own = own * share
    return above, own


def class_aps_scores(
    probs: npt.ArrayLike, labels: npt.ArrayLike, u: npt.ArrayLike | None = None
) -> FloatArray:
    """APS nonconformity of each row's label (randomised when ``u`` is given).

    The mass of the labels ranked above the true one plus its own probability (times
    ``u``): small when the true label is among the model's most likely ones.
    """
    above, own = class_aps_matrix(probs, u)
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    idx = np.arange(len(y))
    return np.asarray(above[idx, y] + own[idx, y], dtype=np.float64)


# --------------------------------------------------------------------------- sets


class SetThresholds(BaseModel):
    """Fitted conformal quantiles for one group of texts (or all of them).

    Attributes:
        method: ``lac`` or ``aps``; randomized: APS with a per-text ``u``.
        alpha: the miscoverage level; mondrian: one quantile per label.
        qhat_safe, qhat_unsafe: the quantile used for each label (the same value when
            not Mondrian); ``None`` means +inf: the label is always in the set.
        n_safe, n_unsafe: calibration rows of each label behind them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    randomized: bool = False
    alpha: float
    mondrian: bool
    qhat_safe: float | None
    qhat_unsafe: float | None
    n_safe: int
    n_unsafe: int


def _finite(q: float) -> float | None:
    return None if math.isinf(q) else q


def fit_sets(
    p: npt.ArrayLike,
    unsafe: npt.ArrayLike,
    *,
    alpha: float,
    method: Method = "lac",
    mondrian: bool = True,
    u: npt.ArrayLike | None = None,
) -> SetThresholds:
    """Fit split-conformal quantiles on calibration scores ``p`` and labels ``unsafe``.

    Args:
        u: uniform draws in [0, 1), one per row, for randomised APS (ignored for LAC).
    """
    if method not in ("lac", "aps"):
        raise ValueError(f"method must be 'lac' or 'aps', got {method!r}")
    probs, labels = _floats(p), _bools(unsafe)
    randomized = method == "aps" and u is not None
    scores = lac_scores(probs, labels) if method == "lac" else aps_scores(probs, labels, u)
    if mondrian:
        q_safe = conformal_quantile(scores[~labels], alpha)
        q_unsafe = conformal_quantile(scores[labels], alpha)
    else:
        q_safe = q_unsafe = conformal_quantile(scores, alpha)
    return SetThresholds(
        method=method,
        randomized=randomized,
        alpha=alpha,
        mondrian=mondrian,
        qhat_safe=_finite(q_safe),
        qhat_unsafe=_finite(q_unsafe),
        n_safe=int((~labels).sum()),
        n_unsafe=int(labels.sum()),
    )


def set_membership(
    p: npt.ArrayLike, thresholds: SetThresholds, u: npt.ArrayLike | None = None
) -> tuple[BoolArray, BoolArray]:
    """Whether ``safe`` and whether ``unsafe`` is in each text's prediction set.

    ``u`` is needed (and used) only for randomised APS.
    """
    probs = _floats(p)
    q_safe = math.inf if thresholds.qhat_safe is None else thresholds.qhat_safe
    q_unsafe = math.inf if thresholds.qhat_unsafe is None else thresholds.qhat_unsafe
    if thresholds.method == "lac":
        # LAC scores: safe -> 1 - (1 - p) = p; unsafe -> 1 - p.
        return np.asarray(probs <= q_safe), np.asarray(1.0 - probs <= q_unsafe)
    if thresholds.randomized:
        if u is None:
            raise ValueError("randomised APS needs u")
        share = np.asarray(u, dtype=np.float64)
        safe_score = aps_scores(probs, np.zeros_like(probs, dtype=bool), share)
        unsafe_score = aps_scores(probs, np.ones_like(probs, dtype=bool), share)
        return safe_score <= q_safe, unsafe_score <= q_unsafe
    top = np.maximum(probs, 1.0 - probs)
    unsafe_top = probs >= 0.5
    # The top label is always in; the other joins when the mass above it (p_top) < q.
    safe_in = ~unsafe_top | (top < q_safe)
    unsafe_in = unsafe_top | (top < q_unsafe)
    return np.asarray(safe_in, dtype=bool), np.asarray(unsafe_in, dtype=bool)


def set_decisions(safe_in: npt.ArrayLike, unsafe_in: npt.ArrayLike) -> DecisionArray:
    """``{unsafe}`` -> block, ``{safe}`` -> allow, both or none -> abstain."""
    s, u = _bools(safe_in), _bools(unsafe_in)
    out = np.full(s.shape, "abstain", dtype="<U7")
    out[s & ~u] = "allow"
    out[u & ~s] = "block"
    return out


def fit_group_sets(
    p: npt.ArrayLike,
    unsafe: npt.ArrayLike,
    groups: Sequence[str | None],
    *,
    alpha: float,
    method: Method = "lac",
    mondrian: bool = True,
    min_rows: int = 30,
    u: npt.ArrayLike | None = None,
) -> tuple[dict[str, SetThresholds], dict[str, str]]:
    """Per-group quantiles where a group has enough rows; the others are recorded.

    A group qualifies with at least ``min_rows`` rows of *each* label (Mondrian) or in
    all (otherwise); a group that does not is listed in the second dict with the reason,
    and the guard uses the global quantiles for it.
    """
    probs, labels = _floats(p), _bools(unsafe)
    draws = None if u is None else np.asarray(u, dtype=np.float64)
    keys = np.array([g or "" for g in groups], dtype=object)
    fitted: dict[str, SetThresholds] = {}
    fallbacks: dict[str, str] = {}
    for group in sorted({g for g in groups if g}):
        mask = keys == group
        n_unsafe = int((labels & mask).sum())
        n_safe = int((~labels & mask).sum())
        enough = min(n_safe, n_unsafe) >= min_rows if mondrian else n_safe + n_unsafe >= min_rows
        if not enough:
            need = f"{min_rows} per label" if mondrian else f"{min_rows} rows"
            fallbacks[group] = f"{n_safe} safe and {n_unsafe} unsafe rows (< {need}): global"
            continue
        fitted[group] = fit_sets(
            probs[mask],
            labels[mask],
            alpha=alpha,
            method=method,
            mondrian=mondrian,
            u=None if draws is None else draws[mask],
        )
    return fitted, fallbacks


def fit_min_confidence(
    conf: npt.ArrayLike,
    decided: npt.ArrayLike,
    *,
    target_rate: float | None = None,
    errors: npt.ArrayLike | None = None,
    target_risk: float | None = None,
) -> float:
    """The label-free abstention threshold: abstain when ``confidence < tau``.

    Chosen on a held-out split, as the smallest ``tau`` (from the observed confidences)
    such that the total abstention rate (undecided sets, or confidence below ``tau``) is
    at least ``target_rate``, or such that the selective risk (``errors`` among the
    rows still decided) is at most ``target_risk``. 0.0 when the target holds already;
    ``1.0`` when the risk target cannot be met (only certain texts are decided).
    """
    if (target_rate is None) == (target_risk is None):
        raise ValueError("give exactly one of target_rate and target_risk")
    c = np.asarray(conf, dtype=np.float64)
    kept = _bools(decided)
    candidates = np.concatenate([[0.0], np.unique(c), [1.0]])
    wrong = None if errors is None else _bools(errors)
    if target_risk is not None and wrong is None:
        raise ValueError("target_risk needs the errors of the decided rows")
    for tau in candidates:
        still = kept & (c >= tau)
        if target_rate is not None:
            if len(c) == 0 or 1.0 - still.mean() >= target_rate:
                return float(tau)
        else:
            assert wrong is not None and target_risk is not None
            if not still.any() or wrong[still].mean() <= target_risk:
                return float(tau)
    return 1.0


# --------------------------------------------------------------------------- risk control


def binom_cdf(k: int, n: int, p: float) -> float:
    """``P(Binom(n, p) <= k)``, summed in log space (exact; no scipy)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    i = np.arange(k + 1, dtype=np.float64)
    log_terms = (
        math.lgamma(n + 1)
        - np.array([math.lgamma(x + 1) for x in i])
        - np.array([math.lgamma(n - x + 1) for x in i])
        + i * math.log(p)
        + (n - i) * math.log1p(-p)
    )
    top = float(log_terms.max())
    return float(min(1.0, math.exp(top) * float(np.exp(log_terms - top).sum())))


def hb_pvalue(rhat: float, n: int, risk: float) -> float:
    """The Hoeffding-Bentkus p-value of H0 "risk > ``risk``" (Bates et al., 2021)."""

    def h1(a: float, b: float) -> float:
        a = min(max(a, 1e-12), 1 - 1e-12)
        return a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b))

    hoeffding = math.exp(-n * h1(min(rhat, risk), risk))
    bentkus = math.e * binom_cdf(math.ceil(n * rhat), n, risk)
    return min(1.0, hoeffding, bentkus)


def _pvalue(k: int, n: int, risk: float, method: PValue) -> float:
    if n == 0:
        return 1.0
    return binom_cdf(k, n, risk) if method == "binomial" else hb_pvalue(k / n, n, risk)


class RiskThresholds(BaseModel):
    """Learn-then-Test thresholds: allow when ``p < allow_below``, block when
    ``p >= block_at``, abstain in between.

    Attributes:
        risk, delta, over: the bound ``risk`` on the unsafe-allowed rate (``over`` the
            unsafe rows: the miss rate; or over all rows), with confidence ``1 - delta``.
        certified: whether any threshold passed; if not, ``allow_below`` is 0 (nothing
            is allowed).
        n: rows in the risk's denominator; k: unsafe rows allowed at ``allow_below``.
        p_value: the p-value at ``allow_below``; pvalue: ``binomial`` or ``hb``.
        block_at: the block threshold (certified by ``block_risk`` when given).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    risk: float
    delta: float
    over: RiskOver
    pvalue: PValue
    allow_below: float
    certified: bool
    n: int
    k: int
    p_value: float
    block_at: float
    block_risk: float | None = None
    block_over: BlockOver = "safe"
    block_certified: bool | None = None


def ltt_allow_threshold(
    p: npt.ArrayLike,
    unsafe: npt.ArrayLike,
    *,
    risk: float,
    delta: float,
    over: RiskOver = "unsafe",
    pvalue: PValue = "binomial",
    grid: FloatArray = GRID,
) -> tuple[float, bool, int, int, float]:
    """The largest grid ``lam`` whose unsafe-allowed rate is certified ``<= risk``.

    Returns ``(lam, certified, n, k, p_value)``; ``lam = 0`` (allow nothing) when even
    the first grid point fails.
    """
    if not 0.0 < risk < 1.0 or not 0.0 < delta < 1.0:
        raise ValueError("risk and delta must be in (0, 1)")
    probs, labels = _floats(p), _bools(unsafe)
    pool = probs[labels] if over == "unsafe" else probs
    bad = labels[labels] if over == "unsafe" else labels
    n = len(pool)
    chosen, k_chosen, p_chosen, certified = 0.0, 0, 1.0, False
    for lam in np.sort(grid):
        k = int(((pool < lam) & bad).sum())
        pv = _pvalue(k, n, risk, pvalue)
        if pv > delta:
            break
        chosen, k_chosen, p_chosen, certified = float(lam), k, pv, True
    return chosen, certified, n, k_chosen, p_chosen


def ltt_block_threshold(
    p: npt.ArrayLike,
    unsafe: npt.ArrayLike,
    *,
    risk: float,
    delta: float,
    over: BlockOver = "safe",
    pvalue: PValue = "binomial",
    grid: FloatArray = GRID,
) -> tuple[float, bool]:
    """The smallest grid ``mu`` whose safe-blocked rate is certified ``<= risk``.

    The mirror of :func:`ltt_allow_threshold`, tested from ``mu = 1`` downwards;
    ``(inf, False)`` when even ``mu = 1`` fails (block nothing).
    """
    probs, labels = _floats(p), _bools(unsafe)
    pool = probs[~labels] if over == "safe" else probs
    bad = ~labels[~labels] if over == "safe" else ~labels
    n = len(pool)
    chosen, certified = math.inf, False
    for mu in np.sort(grid)[::-1]:
        k = int(((pool >= mu) & bad).sum())
        if _pvalue(k, n, risk, pvalue) > delta:
            break
        chosen, certified = float(mu), True
    return chosen, certified


def risk_decisions(p: npt.ArrayLike, thresholds: RiskThresholds) -> DecisionArray:
    """Allow below ``allow_below``, block at or above ``block_at``, abstain between."""
    probs = _floats(p)
    out = np.full(probs.shape, "abstain", dtype="<U7")
    out[probs < thresholds.allow_below] = "allow"
    out[probs >= max(thresholds.block_at, thresholds.allow_below)] = "block"
    return out


# --------------------------------------------------------------------------- evaluation


def evaluate(
    decisions: Sequence[str] | DecisionArray,
    unsafe: npt.ArrayLike,
    *,
    safe_in: npt.ArrayLike | None = None,
    unsafe_in: npt.ArrayLike | None = None,
) -> dict[str, float | int | None]:
    """Held-out figures of a decision rule.

    * ``coverage``: the true label is in the set (without sets, the implied ones: allow
      ``{safe}``, block ``{unsafe}``, abstain both); ``coverage_safe``/``_unsafe`` per label;
    * ``abstention_rate``; ``selective_risk``: wrong decisions (allowed unsafe, blocked
      safe) among the decided rows (``None`` if none was decided);
    * ``unsafe_allowed_rate``: allowed and unsafe / all rows; ``miss_rate``: allowed
      among unsafe rows; ``safe_blocked_rate``: blocked among safe rows.
    """
    kinds = np.asarray(decisions, dtype="<U7")
    labels = _bools(unsafe)
    n = len(kinds)
    if safe_in is None or unsafe_in is None:
        s_in = kinds != "block"
        u_in = kinds != "allow"
    else:
        s_in, u_in = _bools(safe_in), _bools(unsafe_in)
    covered = np.where(labels, u_in, s_in)
    decided = kinds != "abstain"
    wrong = ((kinds == "allow") & labels) | ((kinds == "block") & ~labels)
    n_unsafe, n_safe = int(labels.sum()), int((~labels).sum())

    def rate(num: int, den: int) -> float | None:
        return None if den == 0 else num / den

    return {
        "n": n,
        "n_safe": n_safe,
        "n_unsafe": n_unsafe,
        "coverage": rate(int(covered.sum()), n),
        "coverage_safe": rate(int(covered[~labels].sum()), n_safe),
        "coverage_unsafe": rate(int(covered[labels].sum()), n_unsafe),
        "abstention_rate": rate(int((~decided).sum()), n),
        "selective_risk": rate(int(wrong[decided].sum()), int(decided.sum())),
        "unsafe_allowed_rate": rate(int(((kinds == "allow") & labels).sum()), n),
        "miss_rate": rate(int(((kinds == "allow") & labels).sum()), n_unsafe),
        "safe_blocked_rate": rate(int(((kinds == "block") & ~labels).sum()), n_safe),
    }


def summary(metrics: Mapping[str, float | int | None]) -> str:
    """One line of :func:`evaluate`'s figures, for the CLI and logs."""

    def pct(key: str) -> str:
        value = metrics.get(key)
        return "n/a" if value is None else f"{100.0 * float(value):.1f}%"

    return (
        f"n={metrics.get('n')} coverage={pct('coverage')} "
        f"(safe {pct('coverage_safe')}, unsafe {pct('coverage_unsafe')}) "
        f"abstention={pct('abstention_rate')} selective_risk={pct('selective_risk')} "
        f"unsafe_allowed={pct('unsafe_allowed_rate')} miss_rate={pct('miss_rate')} "
        f"safe_blocked={pct('safe_blocked_rate')}"
    )
