"""Execution backends: where the attempts of a run are sent and judged.

A backend takes a run that is already in the store and does every attempt that has no
stored result yet. Two exist:

* ``local``: the asyncio pipeline of :mod:`assay.engine.run`, in this process;
* ``ray``: batches of attempts on Ray actors (:mod:`assay.engine.ray_backend`), for a
  GPU pool or a cluster.

Whatever the backend, only this process writes the store, so resume and the content-hash
cache behave the same and the stored results are identical.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from assay.engine.plan import Plan, RunParams
from assay.engine.run import ProgressSink, RunStats, execute
from assay.errors import InputError
from assay.store.sqlite import Store

#: The backends ``make_backend`` knows, by name.
BACKENDS = ("local", "ray")


class Backend(Protocol):
    """Runs the pending attempts of a stored run; blocks until they are done."""

    name: str

    def run(
        self,
        plan: Plan,
        store: Store,
        run_id: str,
        *,
        params: RunParams,
        progress: ProgressSink | None = None,
    ) -> RunStats: ...


class LocalBackend:
    """Today's runner: one asyncio event loop in this process."""

    name = "local"

    def run(
        self,
        plan: Plan,
        store: Store,
        run_id: str,
        *,
        params: RunParams,
        progress: ProgressSink | None = None,
    ) -> RunStats:
        return asyncio.run(execute(plan, store, run_id, params=params, progress=progress))


@dataclass(frozen=True)
class BackendOptions:
    """What the user asked for with ``--backend`` and its options.

    Attributes:
        backend: ``local`` or ``ray``.
        address: a Ray cluster's address (``ray://host:10001``, ``host:6379`` or
            ``auto``); ``None`` starts Ray in this process.
        workers: Ray workers (actors); ``None``: one per CPU of the cluster, or one
            per ``gpus_per_worker`` GPUs when GPUs are asked for.
        gpus_per_worker: GPUs reserved by each worker (fractions share a GPU).
        batch_size: attempts per batch a worker takes at a time (what a dead worker
            loses and another redoes).
    """

    backend: str = "local"
    address: str | None = None
    workers: int | None = None
    gpus_per_worker: float = 0.0
    batch_size: int = 16


def make_backend(options: BackendOptions) -> Backend:
    """The backend ``options`` name, after checking every option (bad input: exit 2)."""
    if options.backend not in BACKENDS:
        raise InputError(
            f"unknown backend {options.backend!r} (known: {', '.join(BACKENDS)})",
            field="--backend",
        )
    if options.workers is not None and options.workers < 1:
        raise InputError(f"--workers must be at least 1, got {options.workers}", field="--workers")
    if options.gpus_per_worker < 0:
        raise InputError(
            f"--gpus-per-worker must be >= 0, got {options.gpus_per_worker:g}",
            field="--gpus-per-worker",
        )
    if options.batch_size < 1:
        raise InputError(
            f"--batch-size must be at least 1, got {options.batch_size}", field="--batch-size"
        )
    if options.backend == "local":
        for flag, given in (
            ("--address", options.address is not None),
            ("--workers", options.workers is not None),
            ("--gpus-per-worker", options.gpus_per_worker > 0),
        ):
            if given:
                raise InputError(f"{flag} needs --backend ray", field=flag)
        return LocalBackend()
    from assay.engine.ray_backend import RayBackend

    return RayBackend(
        address=options.address,
        workers=options.workers,
        gpus_per_worker=options.gpus_per_worker,
        batch_size=options.batch_size,
    )
