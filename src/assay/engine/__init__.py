"""The engine: plan attempts, run them, resume after a crash."""

from assay.engine.plan import Plan, RunParams, make_plan
from assay.engine.run import ProgressSink, RunStats, call_with_retries, execute
from assay.engine.scan import ScanResult, scan

__all__ = [
    "Plan",
    "ProgressSink",
    "RunParams",
    "RunStats",
    "ScanResult",
    "call_with_retries",
    "execute",
    "make_plan",
    "scan",
]
