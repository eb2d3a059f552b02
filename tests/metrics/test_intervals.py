from __future__ import annotations

import pytest

from assay.metrics.intervals import Z95, Estimate, wilson, z_for


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 10, 0.0179, 0.4042),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_known_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_no_data_is_the_whole_range() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def test_wilson_bounds_are_exact_at_the_edges() -> None:
    assert wilson(0, 7)[0] == 0.0
    assert wilson(7, 7)[1] == 1.0


@pytest.mark.parametrize("n", [1, 2, 5, 17, 100, 1000])
def test_wilson_contains_the_rate_and_is_symmetric(n: int) -> None:
    for k in range(n + 1):
        lo, hi = wilson(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
        mirror_lo, mirror_hi = wilson(n - k, n)
        assert lo == pytest.approx(1.0 - mirror_hi, abs=1e-12)
        assert hi == pytest.approx(1.0 - mirror_lo, abs=1e-12)


def test_wilson_narrows_with_z() -> None:
    wide = wilson(3, 20, z=z_for(0.99))
    narrow = wilson(3, 20, z=z_for(0.80))
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_impossible_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(k, n)


def test_z_for() -> None:
    assert z_for(0.95) == Z95
    assert z_for(0.99) == pytest.approx(2.5758293, abs=1e-6)
    with pytest.raises(ValueError):
        z_for(1.0)


def test_estimate() -> None:
    est = Estimate.of(5, 10)
    assert (est.k, est.n, est.rate) == (5, 10, 0.5)
    assert (est.low, est.high) == wilson(5, 10)
    assert est.fmt_rate() == "50.0%"
    assert est.fmt_interval() == "23.7–76.3%"
    assert est.fmt_count() == "5/10"


def test_estimate_without_data_has_no_rate() -> None:
    est = Estimate.of(0, 0)
    assert est.rate is None
    assert (est.low, est.high) == (0.0, 1.0)
    assert est.fmt_rate() == "n/a" and est.fmt_interval() == "n/a"


def test_estimate_is_frozen_and_validated() -> None:
    est = Estimate.of(1, 2)
    with pytest.raises(ValueError):
        est.k = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        Estimate(k=3, n=2, rate=1.5, low=0.0, high=1.0)
