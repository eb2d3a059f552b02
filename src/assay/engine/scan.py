"""A scan: create (or resume) a run for a plan and execute it."""

from __future__ import annotations

from dataclasses import dataclass

from assay.core.records import RunInfo
from assay.engine.backend import Backend, LocalBackend
from assay.engine.plan import Plan, RunParams
from assay.engine.run import ProgressSink, RunStats
from assay.store.sqlite import Store


@dataclass(frozen=True)
class ScanResult:
    """The run that was executed, whether it was resumed, and what this call did."""

    run: RunInfo
    resumed: bool
    stats: RunStats


def open_run(plan: Plan, store: Store, *, resume: bool = True) -> tuple[RunInfo, bool]:
    """The unfinished run with this exact plan, if ``resume``; otherwise a new run."""
    spec_hash = plan.spec_hash()
    if resume:
        found = store.find_unfinished(spec_hash)
        if found is not None:
            return found, True
    spec = {**plan.spec()}
    run = store.create_run(spec=spec, spec_hash=spec_hash, seed=plan.seed, attempts=plan.attempts)
    return run, False


def scan(
    plan: Plan,
    store: Store,
    *,
    params: RunParams,
    resume: bool = True,
    progress: ProgressSink | None = None,
    backend: Backend | None = None,
) -> ScanResult:
    """Run ``plan`` to completion, resuming an interrupted identical run if there is one.

    ``backend`` says where the attempts are done (default: locally, in this process);
    the store is written here either way, so a run started on one backend can be
    resumed on another.
    """
    run, resumed = open_run(plan, store, resume=resume)
    runner = backend or LocalBackend()
    stats = runner.run(plan, store, run.id, params=params, progress=progress)
    return ScanResult(run=store.get_run(run.id), resumed=resumed, stats=stats)
