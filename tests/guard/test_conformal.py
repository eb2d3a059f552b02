"""Conformal sets and Learn-then-Test on synthetic scores whose truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.guard import conformal as cf

SEEDS = range(120)


def _draw(rng: np.random.Generator, n: int, shift: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    """Scores of a judge that is right most of the time (logits ~ N(+-shift, 1.5))."""
    unsafe = rng.random(n) < 0.4
    logit = np.where(unsafe, shift, -shift) + rng.normal(0.0, 1.5, n)
    return 1.0 / (1.0 + np.exp(-logit)), unsafe


def _true_miss(lam: float, shift: float = 1.2) -> float:
    """P(p < lam | unsafe) for :func:`_draw`'s scores."""
    if lam <= 0.0:
        return 0.0
    if lam >= 1.0:
        return 1.0
    z = (math.log(lam / (1.0 - lam)) - shift) / 1.5
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def test_quantile_has_the_finite_sample_correction() -> None:
    scores = np.arange(1, 10, dtype=float)  # n = 9
    assert cf.conformal_quantile(scores, 0.1) == 9.0  # ceil(10 * 0.9) = 9th smallest
    assert cf.conformal_quantile(scores, 0.5) == 5.0  # ceil(10 * 0.5) = 5th
    assert math.isinf(cf.conformal_quantile(scores[:8], 0.1))  # ceil(9 * 0.9) = 9 > 8
    with pytest.raises(ValueError):
        cf.conformal_quantile(scores, 0.0)


def test_scores_by_hand() -> None:
    p = np.array([0.9, 0.9, 0.2, 0.2])
    y = np.array([True, False, True, False])
    assert cf.lac_scores(p, y) == pytest.approx([0.1, 0.9, 0.8, 0.2])
    assert cf.aps_scores(p, y) == pytest.approx([0.9, 1.0, 1.0, 0.8])
    assert cf.aps_scores(p, y, u=np.full(4, 0.5)) == pytest.approx([0.45, 0.95, 0.9, 0.4])


def test_sets_map_to_decisions() -> None:
    got = cf.set_decisions([True, False, True, False], [False, True, True, False])
    assert got.tolist() == ["allow", "block", "abstain", "abstain"]


@pytest.mark.parametrize(
    ("method", "mondrian", "randomized"),
    [("lac", True, False), ("lac", False, False), ("aps", False, True), ("aps", True, True)],
)
def test_held_out_coverage_is_close_to_one_minus_alpha(
    method: cf.Method, mondrian: bool, randomized: bool
) -> None:
    alpha = 0.1
    coverages: list[float] = []
    unsafe_cov: list[float] = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        p, y = _draw(rng, 300)
        pt, yt = _draw(rng, 1000)
        u = rng.random(300) if randomized else None
        fitted = cf.fit_sets(p, y, alpha=alpha, method=method, mondrian=mondrian, u=u)
        ut = rng.random(1000) if randomized else None
        safe_in, unsafe_in = cf.set_membership(pt, fitted, ut)
        m = cf.evaluate(
            cf.set_decisions(safe_in, unsafe_in), yt, safe_in=safe_in, unsafe_in=unsafe_in
        )
        coverages.append(float(m["coverage"] or 0.0))
        unsafe_cov.append(float(m["coverage_unsafe"] or 0.0))
    mean = float(np.mean(coverages))
    # Marginal guarantee: 1 - alpha <= E[coverage] <= 1 - alpha + 1/(n + 1) (+ MC noise).
    assert 1 - alpha - 0.01 <= mean <= 1 - alpha + 0.02, mean
    if mondrian:  # class-conditional: at most alpha of unsafe texts get {safe} (allowed)
        assert float(np.mean(unsafe_cov)) >= 1 - alpha - 0.01


def test_non_randomised_aps_never_empty_and_conservative() -> None:
    rng = np.random.default_rng(7)
    p, y = _draw(rng, 400, shift=3.0)  # a judge that is rarely wrong
    pt, yt = _draw(rng, 4000, shift=3.0)
    fitted = cf.fit_sets(p, y, alpha=0.1, method="aps", mondrian=False)
    safe_in, unsafe_in = cf.set_membership(pt, fitted)
    assert (safe_in | unsafe_in).all()
    m = cf.evaluate(cf.set_decisions(safe_in, unsafe_in), yt, safe_in=safe_in, unsafe_in=unsafe_in)
    assert m["coverage"] is not None and m["coverage"] >= 0.9 - 0.015
    # With two labels it is degenerate: the top label's score is p_top itself, so only
    # the most confident ~alpha of texts get a single label. Randomised APS does not.
    u = rng.random(400)
    rand = cf.fit_sets(p, y, alpha=0.1, method="aps", mondrian=False, u=u)
    r_safe, r_unsafe = cf.set_membership(pt, rand, rng.random(4000))
    r = cf.evaluate(cf.set_decisions(r_safe, r_unsafe), yt, safe_in=r_safe, unsafe_in=r_unsafe)
    assert r["abstention_rate"] is not None and m["abstention_rate"] is not None
    assert r["abstention_rate"] < 0.2 < m["abstention_rate"]


def test_too_few_rows_keep_every_label() -> None:
    fitted = cf.fit_sets([0.9, 0.1, 0.8], [True, False, True], alpha=0.1)
    assert fitted.qhat_safe is None and fitted.qhat_unsafe is None  # +inf: always in
    safe_in, unsafe_in = cf.set_membership([0.0, 1.0], fitted)
    assert safe_in.all() and unsafe_in.all()


def test_group_sets_fall_back_when_a_group_is_small() -> None:
    rng = np.random.default_rng(3)
    p, y = _draw(rng, 400)
    groups = ["vcr" if i % 4 else "ssh" for i in range(400)]
    groups[:3] = ["cse", "cse", "cse"]
    fitted, fallbacks = cf.fit_group_sets(p, y, groups, alpha=0.1, min_rows=30)
    assert set(fitted) == {"vcr", "ssh"}
    assert "cse" in fallbacks and "global" in fallbacks["cse"]
    assert fitted["vcr"].n_safe + fitted["vcr"].n_unsafe == groups.count("vcr")


def test_binomial_tail_and_hoeffding_bentkus() -> None:
    for n, k, r in [(50, 3, 0.1), (20, 0, 0.2), (200, 30, 0.1)]:
        exact = sum(math.comb(n, i) * r**i * (1 - r) ** (n - i) for i in range(k + 1))
        assert cf.binom_cdf(k, n, r) == pytest.approx(exact, rel=1e-9)
        assert cf.hb_pvalue(k / n, n, r) >= exact - 1e-12  # HB is the more conservative
    assert cf.binom_cdf(-1, 10, 0.5) == 0.0 and cf.binom_cdf(10, 10, 0.5) == 1.0


@pytest.mark.parametrize("pvalue", ["binomial", "hb"])
def test_ltt_bound_holds_with_the_stated_confidence(pvalue: cf.PValue) -> None:
    risk, delta = 0.1, 0.1
    violations, lams = 0, []
    for seed in range(300):
        p, y = _draw(np.random.default_rng(seed), 500)
        lam, certified, n, k, _ = cf.ltt_allow_threshold(
            p, y, risk=risk, delta=delta, pvalue=pvalue
        )
        assert certified and n == int(y.sum()) and k <= n
        violations += _true_miss(lam) > risk
        lams.append(lam)
    # The true miss rate exceeds `risk` in at most ~delta of calibration draws (binomial
    # sd over 300 draws ~ 0.017), yet the threshold is not trivially 0.
    assert violations / 300 <= delta + 0.04
    assert float(np.mean(lams)) > 0.15


def test_ltt_without_enough_data_allows_nothing() -> None:
    lam, certified, n, k, pv = cf.ltt_allow_threshold(
        [0.9, 0.8, 0.1], [True, True, False], risk=0.1, delta=0.1
    )
    assert (lam, certified, n, k) == (0.0, False, 2, 0) and pv > 0.1


def test_block_threshold_and_risk_decisions() -> None:
    p, y = _draw(np.random.default_rng(11), 2000)
    mu, certified = cf.ltt_block_threshold(p, y, risk=0.05, delta=0.1)
    assert certified and 0.5 < mu <= 1.0
    blocked_safe = ((p >= mu) & ~y).sum() / (~y).sum()
    assert blocked_safe <= 0.05
    lam, *_ = cf.ltt_allow_threshold(p, y, risk=0.1, delta=0.1)
    rt = cf.RiskThresholds(
        risk=0.1, delta=0.1, over="unsafe", pvalue="binomial", allow_below=lam,
        certified=True, n=0, k=0, p_value=0.0, block_at=mu,
    )  # fmt: skip
    kinds = cf.risk_decisions(p, rt)
    assert set(kinds.tolist()) == {"allow", "block", "abstain"}
    assert (kinds[p < lam] == "allow").all() and (kinds[p >= mu] == "block").all()


def test_label_free_abstention_threshold() -> None:
    conf = np.linspace(0.5, 1.0, 101)
    decided = np.ones(101, dtype=bool)
    tau = cf.fit_min_confidence(conf, decided, target_rate=0.2)
    assert 0.6 <= tau <= 0.61 and (conf < tau).mean() >= 0.2
    errors = conf < 0.7  # the unsure ones are wrong
    tau = cf.fit_min_confidence(conf, decided, errors=errors, target_risk=0.0)
    assert tau == pytest.approx(0.7)
    with pytest.raises(ValueError):
        cf.fit_min_confidence(conf, decided)


def test_evaluate_by_hand() -> None:
    m = cf.evaluate(
        ["allow", "allow", "block", "block", "abstain"], [False, True, True, False, True]
    )
    assert m["n"] == 5 and m["abstention_rate"] == pytest.approx(0.2)
    assert m["selective_risk"] == pytest.approx(0.5)  # 2 wrong of 4 decided
    assert m["unsafe_allowed_rate"] == pytest.approx(0.2)
    assert m["miss_rate"] == pytest.approx(1 / 3)
    assert m["safe_blocked_rate"] == pytest.approx(0.5)
    assert m["coverage"] == pytest.approx(3 / 5)  # implied sets; abstain covers both
    assert "coverage=60.0%" in cf.summary(m)
