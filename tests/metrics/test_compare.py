from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from assay.core.records import Result
from assay.metrics import OVERALL, compare, mcnemar_exact, pair_key, regressions

Make = Callable[..., Result]


def _binom_two_sided(b: int, c: int) -> float:
    """Reference: sum of binomial probabilities no likelier than the observed one."""
    n = b + c
    probs = [math.comb(n, i) / (1 << n) for i in range(n + 1)]
    observed = probs[min(b, c)]
    return min(1.0, sum(p for p in probs if p <= observed * (1 + 1e-12)))


def test_mcnemar_known_value() -> None:
    assert mcnemar_exact(10, 2) == pytest.approx(0.03857, abs=1e-5)
    assert mcnemar_exact(2, 10) == mcnemar_exact(10, 2)


def test_mcnemar_edge_cases() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(5, 0) == pytest.approx(2 / 32)
    assert mcnemar_exact(2000, 0) < 1e-300
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


@pytest.mark.parametrize(("b", "c"), [(1, 0), (4, 1), (7, 3), (12, 12), (30, 14), (0, 9)])
def test_mcnemar_matches_the_binomial_test(b: int, c: int) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(_binom_two_sided(b, c), rel=1e-9)


def _runs(
    make: Make, flips_worse: int, flips_better: int, same: int
) -> tuple[list[Result], list[Result]]:
    a: list[Result] = []
    b: list[Result] = []
    for i in range(flips_worse):
        a.append(make(f"w{i}", "safe", target="a"))
        b.append(make(f"w{i}", "unsafe", target="b"))
    for i in range(flips_better):
        a.append(make(f"g{i}", "unsafe", target="a"))
        b.append(make(f"g{i}", "safe", target="b"))
    for i in range(same):
        a.append(make(f"s{i}", "safe", target="a"))
        b.append(make(f"s{i}", "safe", target="b"))
    return a, b


def test_compare_counts_discordant_pairs(make: Make) -> None:
    a, b = _runs(make, flips_worse=10, flips_better=2, same=20)
    cmp = compare(a, b)
    rate = cmp.row("vcr").unsafe
    assert (rate.n_pairs, rate.b, rate.c) == (32, 10, 2)
    assert (rate.k_a, rate.k_b) == (2, 10)
    assert rate.rate_a == pytest.approx(2 / 32) and rate.rate_b == pytest.approx(10 / 32)
    assert rate.delta == pytest.approx(8 / 32)
    assert rate.p_value == pytest.approx(0.03857, abs=1e-5)
    assert cmp.overall.hazard == OVERALL and cmp.overall.unsafe == rate
    assert (cmp.n_matched, cmp.n_only_a, cmp.n_only_b, cmp.n_excluded) == (32, 0, 0, 0)


def test_regressions_flag_only_significant_worsening(make: Make) -> None:
    a, b = _runs(make, flips_worse=10, flips_better=2, same=20)
    found = regressions(compare(a, b))
    assert [(r.hazard, r.metric) for r in found] == [("vcr", "unsafe"), (OVERALL, "unsafe")]
    assert found[0].label == "vcr unsafe +25.0 pp (b=10, c=2, p=0.0386)"
    assert regressions(compare(b, a)) == ()  # the mirror image is an improvement
    assert regressions(compare(a, b), alpha=0.01) == ()
    with pytest.raises(ValueError):
        regressions(compare(a, b), alpha=0)


def test_over_refusal_regressions(make: Make) -> None:
    a = [make(f"b{i}", "ok", "ssh") for i in range(8)]
    b = [make(f"b{i}", "over_refusal", "ssh", target="b") for i in range(8)]
    cmp = compare(a, b)
    rate = cmp.row("ssh").over_refusal
    assert (rate.b, rate.c, rate.n_pairs) == (8, 0, 8)
    assert cmp.row("ssh").unsafe.n_pairs == 0 and cmp.row("ssh").unsafe.delta is None
    assert [(r.hazard, r.metric) for r in regressions(cmp)] == [
        ("ssh", "over_refusal"),
        (OVERALL, "over_refusal"),
    ]


def test_pairs_not_scored_in_both_runs_are_excluded(make: Make) -> None:
    a = [make("1", "safe"), make("2", "error"), make("3", "safe"), make("4", "unsafe")]
    b = [
        make("1", "unsafe", target="b"),
        make("2", "unsafe", target="b"),
        make("3", "unscored", target="b"),
        make("5", "unsafe", target="b"),
    ]
    cmp = compare(a, b)
    rate = cmp.overall.unsafe
    assert (rate.n_pairs, rate.b, rate.c) == (1, 1, 0)
    assert (cmp.n_matched, cmp.n_excluded, cmp.n_only_a, cmp.n_only_b) == (3, 2, 1, 1)


def test_attack_chains_and_suites_are_part_of_the_key(make: Make) -> None:
    plain = make("1", "safe")
    attacked = make("1", "unsafe", attacks=("roleplay",))
    other_suite = make("1", "unsafe", suite="other")
    keys = {pair_key(r.attempt) for r in (plain, attacked, other_suite)}
    assert len(keys) == 3
    assert pair_key(plain.attempt) == pair_key(make("1", "unsafe", target="b").attempt)
    cmp = compare(
        [plain, attacked],
        [make("1", "safe", target="b"), make("1", "safe", target="b", attacks=("roleplay",))],
    )
    assert (cmp.overall.unsafe.b, cmp.overall.unsafe.c) == (0, 1)


def test_repeated_keys_pair_by_sent_messages(make: Make) -> None:
    # One attack made two variants of the same case; each pairs with its own counterpart.
    a = [
        make("1", "safe", attacks=("x",), prompt="v1"),
        make("1", "unsafe", attacks=("x",), prompt="v2"),
    ]
    b = [
        make("1", "unsafe", attacks=("x",), prompt="v2", target="b"),
        make("1", "safe", attacks=("x",), prompt="v1", target="b"),
    ]
    rate = compare(a, b).overall.unsafe
    assert (rate.n_pairs, rate.b, rate.c) == (2, 0, 0)


def test_hazards_are_compared_separately(make: Make) -> None:
    a = [make("v", "safe", "vcr"), make("h", "unsafe", "hte")]
    b = [make("v", "unsafe", "vcr", target="b"), make("h", "unsafe", "hte", target="b")]
    cmp = compare(a, b)
    assert [r.hazard for r in cmp.rows] == ["vcr", "hte", OVERALL]
    assert cmp.row("vcr").unsafe.delta == 1.0 and cmp.row("hte").unsafe.delta == 0.0
    with pytest.raises(KeyError):
        cmp.row("cse")
