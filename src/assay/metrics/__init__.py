"""Metrics: reduce a run's results to rates with honest intervals, and compare runs.

* :mod:`~assay.metrics.intervals`: Wilson score intervals and the ``Estimate`` record.
* :mod:`~assay.metrics.rates`: per-hazard unsafe / over-refusal / error / unscored rates.
* :mod:`~assay.metrics.compare`: paired comparison of two runs with McNemar's exact test.
"""

from assay.metrics.compare import (
    CompareRow,
    Comparison,
    PairedRate,
    Regression,
    compare,
    mcnemar_exact,
    pair_key,
    regressions,
)
from assay.metrics.intervals import Z95, Estimate, wilson, z_for
from assay.metrics.rates import OVERALL, RateRow, RatesMetric, RateTable, rate_table

__all__ = [
    "OVERALL",
    "Z95",
    "CompareRow",
    "Comparison",
    "Estimate",
    "PairedRate",
    "RateRow",
    "RateTable",
    "RatesMetric",
    "Regression",
    "compare",
    "mcnemar_exact",
    "pair_key",
    "rate_table",
    "regressions",
    "wilson",
    "z_for",
]
