"""The engine: plan attempts, run them (here or on Ray workers), resume after a crash."""

from assay.engine.backend import Backend, BackendOptions, LocalBackend, make_backend
from assay.engine.plan import Plan, RunParams, make_plan
from assay.engine.run import ProgressSink, RunStats, call_with_retries, execute
from assay.engine.scan import ScanResult, scan

__all__ = [
    "Backend",
    "BackendOptions",
    "LocalBackend",
    "Plan",
    "ProgressSink",
    "RunParams",
    "RunStats",
    "ScanResult",
    "call_with_retries",
    "execute",
    "make_backend",
    "make_plan",
    "scan",
]
