"""Conformal prediction sets, abstention, ECE and OOD scores for classifiers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from assay.errors import InputError
from assay.guard import conformal as cf
from assay.perception import abstain as ab


def calibrated(
    rng: np.random.Generator, n: int, n_classes: int = 10, conc: float | list[float] = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Dirichlet softmax rows with labels drawn from them: a perfectly calibrated model."""
    weights = np.full(n_classes, conc) if np.isscalar(conc) else np.asarray(conc)
    probs = rng.dirichlet(weights, size=n)
    labels = (probs.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return probs, labels


CASES = [
    ("lac", False, False),
    ("lac", False, True),
    ("aps", True, False),
    ("aps", True, True),
]


@pytest.mark.parametrize(("method", "randomized", "class_conditional"), CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_held_out_coverage_is_close_to_target(
    method: ab.Method, randomized: bool, class_conditional: bool, alpha: float
) -> None:
    rng = np.random.default_rng(11)
    p_cal, y_cal = calibrated(rng, 2000)
    p_test, y_test = calibrated(rng, 5000)
    sets = ab.fit(
        p_cal,
        y_cal,
        alpha=alpha,
        method=method,
        randomized=randomized,
        class_conditional=class_conditional,
        rng=rng,
    )
    members = sets.predict_sets(p_test, rng)
    report = ab.evaluate(p_test, y_test, members)
    assert report["coverage"] is not None
    assert abs(report["coverage"] - (1 - alpha)) <= 0.03
    # Sets are informative: much smaller than all ten classes.
    assert report["mean_set_size"] is not None and report["mean_set_size"] < 7


@pytest.mark.parametrize("class_conditional", [False, True])
def test_plain_aps_is_never_empty_and_conservative(class_conditional: bool) -> None:
    rng = np.random.default_rng(3)
    p_cal, y_cal = calibrated(rng, 2000)
    p_test, y_test = calibrated(rng, 5000)
    sets = ab.fit(p_cal, y_cal, alpha=0.1, method="aps", class_conditional=class_conditional)
    members = sets.predict_sets(p_test)
    report = ab.evaluate(p_test, y_test, members)
    assert report["empty_rate"] == 0.0
    assert report["coverage"] is not None and report["coverage"] >= 0.9 - 0.01
    # The top label is always in the set.
    assert members[np.arange(len(p_test)), p_test.argmax(axis=1)].all()


@pytest.mark.parametrize(("method", "randomized"), [("lac", False), ("aps", False), ("aps", True)])
def test_set_size_shrinks_as_alpha_grows(method: ab.Method, randomized: bool) -> None:
    rng = np.random.default_rng(5)
    p_cal, y_cal = calibrated(rng, 2000)
    p_test, _ = calibrated(rng, 3000)
    sizes = []
    for alpha in (0.02, 0.05, 0.1, 0.2, 0.4):
        sets = ab.fit(p_cal, y_cal, alpha=alpha, method=method, randomized=randomized, rng=rng)
        sizes.append(sets.predict_sets(p_test, np.random.default_rng(0)).sum(axis=1).mean())
    assert all(a > b for a, b in itertools.pairwise(sizes)), sizes
    assert sizes[0] > 2 * sizes[-1]


def test_class_conditional_fixes_the_coverage_of_a_hard_class() -> None:
    # Class 0 is rare and, when true, usually gets a low probability: marginal LAC
    # under-covers it; one quantile per class restores its coverage.
    rng = np.random.default_rng(8)
    conc = [0.15, 1.0, 1.0, 1.0, 1.0]
    p_cal, y_cal = calibrated(rng, 4000, 5, conc)
    p_test, y_test = calibrated(rng, 8000, 5, conc)
    hard = y_test == 0
    coverage = {}
    for cc in (False, True):
        sets = ab.fit(p_cal, y_cal, alpha=0.1, method="lac", class_conditional=cc)
        members = sets.predict_sets(p_test)
        coverage[cc] = members[hard, 0].mean()
    assert coverage[False] < 0.85
    assert abs(coverage[True] - 0.9) <= 0.05


def test_rare_class_falls_back_to_marginal_and_records_it() -> None:
    rng = np.random.default_rng(2)
    probs, labels = calibrated(rng, 1000, 4, 1.0)
    labels[labels == 3] = 2
    labels[:5] = 3  # class 3 has 5 rows: too few for alpha = 0.1 (needs 9)
    sets = ab.fit(probs, labels, alpha=0.1, class_conditional=True)
    assert set(sets.fallbacks) == {"3"}
    assert "5 calibration rows" in sets.fallbacks["3"]
    assert sets.qhat_per_class is not None and sets.qhat_per_class[3] == sets.qhat
    assert sets.qhat_per_class[0] != sets.qhat
    again = ab.ClassifierSets.model_validate_json(sets.model_dump_json())
    assert again == sets
    np.testing.assert_array_equal(again.predict_sets(probs), sets.predict_sets(probs))


def test_randomised_sets_depend_only_on_the_rng() -> None:
    rng = np.random.default_rng(1)
    probs, labels = calibrated(rng, 500)
    a = ab.fit(
        probs, labels, alpha=0.1, method="aps", randomized=True, rng=np.random.default_rng(4)
    )
    b = ab.fit(
        probs, labels, alpha=0.1, method="aps", randomized=True, rng=np.random.default_rng(4)
    )
    assert a == b
    s1 = a.predict_sets(probs, np.random.default_rng(9))
    s2 = a.predict_sets(probs, np.random.default_rng(9))
    np.testing.assert_array_equal(s1, s2)
    with pytest.raises(InputError, match="rng"):
        a.predict_sets(probs)
    with pytest.raises(InputError, match="rng"):
        ab.fit(probs, labels, alpha=0.1, method="aps", randomized=True)


def test_binary_guard_scores_are_the_two_class_case() -> None:
    rng = np.random.default_rng(6)
    p = rng.random(400)
    p[:3] = [0.5, 0.0, 1.0]
    unsafe = rng.random(400) < p
    two = np.stack([1 - p, p], axis=1)
    y = unsafe.astype(int)
    np.testing.assert_allclose(cf.lac_scores(p, unsafe), cf.class_lac_scores(two, y))
    np.testing.assert_allclose(cf.aps_scores(p, unsafe), cf.class_aps_scores(two, y))
    u = rng.random(400)
    np.testing.assert_allclose(cf.aps_scores(p, unsafe, u), cf.class_aps_scores(two, y, u))
    # And the LAC sets agree with the guard's non-Mondrian thresholds.
    guard = cf.fit_sets(p, unsafe, alpha=0.1, method="lac", mondrian=False)
    ours = ab.fit(two, y, alpha=0.1, method="lac")
    safe_in, unsafe_in = cf.set_membership(p, guard)
    np.testing.assert_array_equal(ours.predict_sets(two), np.stack([safe_in, unsafe_in], 1))


def test_abstention_threshold_meets_selective_risk_on_held_out() -> None:
    rng = np.random.default_rng(12)
    p_cal, y_cal = calibrated(rng, 2000, 10, 0.1)
    p_tune, y_tune = calibrated(rng, 3000, 10, 0.1)
    p_test, y_test = calibrated(rng, 5000, 10, 0.1)
    sets = ab.fit(p_cal, y_cal, alpha=0.1, method="lac")
    tuned = ab.fit_abstention(sets, p_tune, y_tune, target_risk=0.1, max_set_size=2)
    assert tuned.max_set_size == 2 and 0.0 < tuned.min_confidence < 1.0
    members = tuned.predict_sets(p_test)
    skip = tuned.abstain(p_test, members)
    report = ab.evaluate(p_test, y_test, members, skip)
    assert report["accuracy"] is not None and report["accuracy"] < 0.75
    assert report["selective_accuracy"] is not None
    # The rule is empirical (first threshold reaching the target on the tuning split).
    assert report["selective_accuracy"] >= 0.9 - 0.03
    assert report["selective_accuracy"] > report["accuracy"] + 0.15
    assert 0.3 < report["abstention_rate"] < 0.9  # type: ignore[operator]
    assert (skip[members.sum(axis=1) > 2]).all()
    size_only = tuned.model_copy(update={"min_confidence": 0.0})
    size = members.sum(axis=1)
    np.testing.assert_array_equal(size_only.abstain(p_test, members), (size == 0) | (size > 2))
    assert (size > 2).any()
    assert (skip[p_test.max(axis=1) < tuned.min_confidence]).all()


def test_ece_is_small_when_calibrated_and_large_when_overconfident() -> None:
    rng = np.random.default_rng(7)
    probs, labels = calibrated(rng, 20000, 10, 0.5)
    assert ab.ece(probs, labels) < 0.02
    sharp = ab.softmax(np.log(probs + 1e-12) * 4.0)  # temperature 1/4: over-confident
    assert ab.ece(sharp, labels) > 0.15
    # A constant 0.5 confidence with 50 % accuracy: perfectly calibrated.
    half = np.tile([0.5, 0.5], (1000, 1))
    assert ab.ece(half, np.arange(1000) % 2) == pytest.approx(0.0, abs=1e-12)
    # Ties go to class 0: always right at confidence 0.5 (under-confident), or always wrong.
    assert ab.ece(half, np.zeros(1000, int)) == pytest.approx(0.5)
    assert ab.ece(half, np.ones(1000, int)) == pytest.approx(0.5)


def test_ood_scores_separate_shifted_logits() -> None:
    rng = np.random.default_rng(9)
    n, c = 2000, 10
    logits_in = rng.normal(0.0, 1.0, (n, c))
    logits_in[np.arange(n), rng.integers(0, c, n)] += 6.0
    logits_out = rng.normal(0.0, 1.0, (n, c))  # no dominant class
    auroc_msp = ab.ood_auroc(ab.max_softmax(logits_in), ab.max_softmax(logits_out))
    auroc_energy = ab.ood_auroc(-ab.energy(logits_in), -ab.energy(logits_out))
    assert auroc_msp > 0.9 and auroc_energy > 0.9
    assert ab.ood_auroc(-ab.energy(logits_out), -ab.energy(logits_in)) < 0.1
    assert ab.ood_auroc([1.0, 1.0], [1.0]) == 0.5
    # Energy matches its definition, also at a temperature.
    x = np.array([[1.0, 2.0, 3.0]])
    assert ab.energy(x)[0] == pytest.approx(-np.log(np.exp(x).sum()))
    assert ab.energy(x, T=2.0)[0] == pytest.approx(-2.0 * np.log(np.exp(x / 2.0).sum()))
    assert ab.energy(np.array([[1000.0, 0.0]]))[0] == pytest.approx(-1000.0)


def test_bad_input_names_the_field() -> None:
    good = np.tile([0.7, 0.3], (10, 1))
    with pytest.raises(InputError, match="probs_cal"):
        ab.fit(np.ones((10, 2)), np.zeros(10, int), alpha=0.1)
    with pytest.raises(InputError, match="probs_cal"):
        ab.fit(np.full((10, 2), np.nan), np.zeros(10, int), alpha=0.1)
    with pytest.raises(InputError, match="labels_cal"):
        ab.fit(good, np.full(10, 2), alpha=0.1)
    with pytest.raises(InputError, match="alpha"):
        ab.fit(good, np.zeros(10, int), alpha=1.5)
    with pytest.raises(InputError, match="method"):
        ab.fit(good, np.zeros(10, int), alpha=0.1, method="raps")  # type: ignore[arg-type]
    sets = ab.fit(good, np.zeros(10, int), alpha=0.1)
    with pytest.raises(InputError, match="classes"):
        sets.predict_sets(np.tile([0.2, 0.3, 0.5], (4, 1)))
    with pytest.raises(InputError, match="logits"):
        ab.energy(np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="scores"):
        ab.ood_auroc([], [1.0])


def test_too_few_calibration_rows_gives_full_sets() -> None:
    probs = np.tile([0.6, 0.3, 0.1], (5, 1))
    sets = ab.fit(probs, np.zeros(5, int), alpha=0.05)  # needs n >= 19
    assert sets.qhat is None
    assert sets.predict_sets(probs).all()
