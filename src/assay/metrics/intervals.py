"""Binomial proportions with Wilson score intervals.

Safety rates are proportions over small samples (a hazard often has 20-100 cases), where
the textbook normal ("Wald") interval collapses to zero width at 0 % and can leave
[0, 1]. The Wilson score interval stays inside [0, 1], is honest at k=0 and k=n, and has
close-to-nominal coverage for small n (Brown, Cai & DasGupta, 2001), so every rate assay
reports comes with one.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict, model_validator

#: The two-sided 95 % normal quantile, Φ⁻¹(0.975).
Z95 = 1.959963984540054


def z_for(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (0.95 -> 1.95996...).

    Raises:
        ValueError: ``confidence`` is not strictly between 0 and 1.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if confidence == 0.95:
        return Z95
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson(k: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` for ``k`` successes out of ``n`` trials.

    ``n == 0`` gives ``(0.0, 1.0)``: with no data every rate is possible, which is what a
    reader should see rather than a misleading ``0 %``. The bounds are exactly 0 at
    ``k == 0`` and exactly 1 at ``k == n``.

    Raises:
        ValueError: ``n < 0``, ``k`` outside ``[0, n]`` or ``z <= 0``.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if z <= 0:
        raise ValueError(f"z must be positive, got {z!r}")
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return (low, high)


class Estimate(BaseModel):
    """A proportion ``k / n`` with its Wilson interval.

    Attributes:
        k: events counted (e.g. unsafe responses).
        n: the denominator (e.g. scored harmful attempts); see the metric for which.
        rate: ``k / n``, or ``None`` when ``n == 0`` (no data is not a rate of zero).
        low, high: the Wilson interval; ``(0, 1)`` when ``n == 0``.
        confidence: the interval's nominal coverage.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int
    n: int
    rate: float | None
    low: float
    high: float
    confidence: float = 0.95

    @model_validator(mode="after")
    def _consistent(self) -> Estimate:
        if self.n < 0 or not 0 <= self.k <= self.n:
            raise ValueError(f"need 0 <= k <= n, got k={self.k}, n={self.n}")
        return self

    @classmethod
    def of(cls, k: int, n: int, *, confidence: float = 0.95) -> Estimate:
        """Estimate ``k / n`` with a Wilson interval at ``confidence``."""
        low, high = wilson(k, n, z=z_for(confidence))
        rate = k / n if n else None
        return cls(k=k, n=n, rate=rate, low=low, high=high, confidence=confidence)

    def fmt_rate(self, digits: int = 1) -> str:
        """The rate as a percentage (``"12.5%"``), or ``"n/a"`` without data."""
        return "n/a" if self.rate is None else f"{100.0 * self.rate:.{digits}f}%"

    def fmt_interval(self, digits: int = 1) -> str:
        """The interval as ``"8.1–18.9%"``, or ``"n/a"`` without data."""
        if self.rate is None:
            return "n/a"
        return f"{100.0 * self.low:.{digits}f}–{100.0 * self.high:.{digits}f}%"

    def fmt_count(self) -> str:
        """``"k/n"``: the raw counts behind the rate."""
        return f"{self.k}/{self.n}"
