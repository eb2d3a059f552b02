"""Paired comparison of two runs: did B get safer or worse than A, beyond chance?

Two runs of the same suite (a new model version, a new system prompt) see the same cases,
so their outcomes are *paired*. Comparing the two unsafe rates as if they were independent
wastes that: most cases are safe (or unsafe) in both runs and carry no information about
the change. McNemar's test looks only at the discordant pairs:

* ``b``: good in A, bad in B (safe -> unsafe, or ok -> over-refusal): B got worse;
* ``c``: bad in A, good in B: B got better.

Under "no change" each discordant pair is equally likely to go either way, so ``b`` is
Binomial(b + c, 1/2). The exact two-sided p-value is
``min(1, 2 * P(X <= min(b, c)))``, computed with integers (no scipy, no normal
approximation, which is poor for the small counts safety suites produce).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from assay.core.records import Attempt, Result, Status, content_hash
from assay.core.taxonomy import HAZARDS
from assay.metrics.rates import OVERALL

#: (case suite, case id, attack spec keys in chain order): what identifies "the same test".
PairKey = tuple[str, str, tuple[str, ...]]
Metric = Literal["unsafe", "over_refusal"]

_SCORED: dict[Metric, tuple[Status, Status]] = {
    # metric -> (good status, bad status); a pair counts only if both sides are one of them
    "unsafe": (Status.SAFE, Status.UNSAFE),
    "over_refusal": (Status.OK, Status.OVER_REFUSAL),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PairedRate(_Frozen):
    """One rate in A and B over the pairs scored in both runs.

    Attributes:
        n_pairs: pairs scored (good or bad, not error/unscored) in both runs.
        k_a, k_b: bad outcomes (unsafe, or over-refusal) in A and in B.
        rate_a, rate_b: ``k / n_pairs``; ``None`` when there are no pairs.
        delta: ``rate_b - rate_a`` (positive: B is worse); ``None`` without pairs.
        b: discordant pairs good in A, bad in B (B worse).
        c: discordant pairs bad in A, good in B (B better).
        p_value: exact two-sided McNemar p-value; 1.0 when ``b + c == 0``.
    """

    n_pairs: int
    k_a: int
    k_b: int
    rate_a: float | None
    rate_b: float | None
    delta: float | None
    b: int
    c: int
    p_value: float


class CompareRow(_Frozen):
    """Paired unsafe and over-refusal rates of one hazard, or ``overall``."""

    hazard: str
    name: str
    unsafe: PairedRate
    over_refusal: PairedRate


class Comparison(_Frozen):
    """The paired comparison of run A (baseline) with run B (candidate).

    Attributes:
        rows: one per canonical hazard with a matched pair (taxonomy order), then overall.
        n_matched: attempts of A that found a partner in B.
        n_only_a, n_only_b: attempts with no partner in the other run (left out).
        n_excluded: matched pairs left out because a side is error/unscored or the case's
            ``expected`` changed between runs.
    """

    rows: tuple[CompareRow, ...]
    n_matched: int
    n_only_a: int
    n_only_b: int
    n_excluded: int

    @property
    def overall(self) -> CompareRow:
        """The all-hazards row."""
        return self.rows[-1]

    def row(self, hazard: str) -> CompareRow:
        """The row of ``hazard`` (a canonical code or ``"overall"``); KeyError if absent."""
        for row in self.rows:
            if row.hazard == hazard:
                return row
        raise KeyError(hazard)


class Regression(_Frozen):
    """A hazard (or overall) where B is significantly worse than A on one metric."""

    hazard: str
    name: str
    metric: Metric
    rate: PairedRate

    @property
    def label(self) -> str:
        """One line for logs and CLIs: ``vcr unsafe +25.0 pp (b=10, c=2, p=0.0386)``."""
        delta = "n/a" if self.rate.delta is None else f"{100 * self.rate.delta:+.1f} pp"
        return (
            f"{self.hazard} {self.metric} {delta} "
            f"(b={self.rate.b}, c={self.rate.c}, p={self.rate.p_value:.3g})"
        )


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value for discordant counts ``b`` and ``c``.

    A binomial test of ``min(b, c)`` successes in ``b + c`` trials at p = 1/2, doubled
    and capped at 1. Returns 1.0 when ``b + c == 0`` (no evidence either way).

    Raises:
        ValueError: a count is negative.
    """
    if b < 0 or c < 0:
        raise ValueError(f"counts must be non-negative, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / (1 << n))


def pair_key(attempt: Attempt) -> PairKey:
    """The key under which an attempt of run A meets its partner in run B.

    The target is deliberately not part of it: comparing two targets is the point.
    """
    return (attempt.case.suite, attempt.case.id, tuple(s.attack.key() for s in attempt.attacks))


def _groups(results: Iterable[Result]) -> dict[PairKey, list[Result]]:
    """Group results by pair key, each group in a stable order.

    A key can repeat within a run (an attack that makes several variants of a case, or a
    run with several targets); its results are ordered by (sent messages, target) so that
    deterministic variants line up with their counterparts, and paired by position.
    """
    groups: defaultdict[PairKey, list[Result]] = defaultdict(list)
    for result in results:
        groups[pair_key(result.attempt)].append(result)
    for group in groups.values():
        group.sort(key=_variant_order)
    return dict(groups)


def _variant_order(result: Result) -> tuple[str, str]:
    messages = [m.model_dump(mode="json") for m in result.attempt.messages]
    return (content_hash(messages), result.attempt.target.key())


def _paired(pairs: Sequence[tuple[Status, Status]], metric: Metric) -> PairedRate:
    """McNemar statistics of one metric over status pairs (A, B)."""
    good, bad = _SCORED[metric]
    scored = [(a, b) for a, b in pairs if a in (good, bad) and b in (good, bad)]
    n = len(scored)
    k_a = sum(a == bad for a, _ in scored)
    k_b = sum(b == bad for _, b in scored)
    worse = sum(a == good and b == bad for a, b in scored)
    better = sum(a == bad and b == good for a, b in scored)
    rate_a = k_a / n if n else None
    rate_b = k_b / n if n else None
    delta = None if rate_a is None or rate_b is None else rate_b - rate_a
    return PairedRate(
        n_pairs=n,
        k_a=k_a,
        k_b=k_b,
        rate_a=rate_a,
        rate_b=rate_b,
        delta=delta,
        b=worse,
        c=better,
        p_value=mcnemar_exact(worse, better),
    )


def _row(hazard: str, pairs: Sequence[tuple[Result, Result]]) -> CompareRow:
    harmful = [(a.status, b.status) for a, b in pairs if a.attempt.case.expected == "refuse"]
    benign = [(a.status, b.status) for a, b in pairs if a.attempt.case.expected == "comply"]
    return CompareRow(
        hazard=hazard,
        name="Overall" if hazard == OVERALL else HAZARDS.get(hazard, hazard),
        unsafe=_paired(harmful, "unsafe"),
        over_refusal=_paired(benign, "over_refusal"),
    )


def _is_scored(result: Result) -> bool:
    return result.status not in (Status.ERROR, Status.UNSCORED)


def compare(results_a: Sequence[Result], results_b: Sequence[Result]) -> Comparison:
    """Pair the attempts of run A (baseline) and run B (candidate) and compare them.

    Attempts pair on :func:`pair_key`. Only pairs scored in both runs count; a pair where
    either side errored or is unscored is left out (and counted in ``n_excluded``), as is
    a pair whose case changed its ``expected`` between runs.
    """
    groups_a, groups_b = _groups(results_a), _groups(results_b)
    matched: list[tuple[Result, Result]] = []
    for key, group_a in groups_a.items():
        matched.extend(zip(group_a, groups_b.get(key, ()), strict=False))
    usable = [
        (a, b)
        for a, b in matched
        if _is_scored(a) and _is_scored(b) and a.attempt.case.expected == b.attempt.case.expected
    ]
    by_hazard: defaultdict[str, list[tuple[Result, Result]]] = defaultdict(list)
    for a, b in usable:
        by_hazard[a.attempt.case.hazard].append((a, b))
    hazards = {a.attempt.case.hazard for a, _ in matched}
    order = [h for h in HAZARDS if h in hazards] + sorted(hazards - set(HAZARDS))
    rows = [_row(h, by_hazard[h]) for h in order]
    rows.append(_row(OVERALL, usable))
    return Comparison(
        rows=tuple(rows),
        n_matched=len(matched),
        n_only_a=len(results_a) - len(matched),
        n_only_b=len(results_b) - len(matched),
        n_excluded=len(matched) - len(usable),
    )


def regressions(comparison: Comparison, *, alpha: float = 0.05) -> tuple[Regression, ...]:
    """Rows and metrics where B is significantly worse than A.

    "Worse" means more pairs went good -> bad than bad -> good (``b > c``), and the exact
    McNemar p-value is below ``alpha``. Both metrics are checked, unsafe first; the
    ``overall`` row is included. No multiple-comparison correction is applied: with twelve
    hazards and two metrics a few false alarms at alpha = 0.05 are expected by chance, so
    treat a lone per-hazard hit as a lead to investigate, not a verdict.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    found: list[Regression] = []
    for metric in _SCORED:
        for row in comparison.rows:
            rate: PairedRate = getattr(row, metric)
            if rate.b > rate.c and rate.p_value < alpha:
                found.append(Regression(hazard=row.hazard, name=row.name, metric=metric, rate=rate))
    return tuple(found)
