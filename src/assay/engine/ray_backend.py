"""The Ray backend: batches of attempts on Ray actors, results written by the driver.

::

    driver (this process)                         Ray actors (one per worker)
    store.pending -> cache hits judged here        target + judges built ONCE from specs
    the rest, in batches of --batch-size  ----->   process_batch: send, retry, decode,
    record_many per returned batch       <-----      judge, status (as the local runner)

Only the driver writes the store, so resume and the content-hash cache behave exactly
as in a local run. A worker that dies loses only its in-flight batches: they go back to
the queue and another worker (a replacement is started) does them again, and since a
batch is recorded only when it comes back whole, no attempt is lost or stored twice. A
driver that dies leaves a run that ``assay scan`` resumes, like a local one.

``ray`` is an optional extra; it is imported only when this backend runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.core.protocols import Judge, Target
from assay.core.records import Attempt
from assay.core.registry import registry
from assay.engine.plan import Plan, RunParams
from assay.engine.run import (
    ProgressSink,
    RunStats,
    close_targets,
    concurrency_of,
    judge_cached,
    process_batch,
)
from assay.errors import AssayError, InputError, MissingDependencyError, UnknownPluginError
from assay.store.sqlite import Finished, Store

#: Batches sent ahead to each worker, so it never waits for the driver between batches.
_AHEAD = 2


def _import_ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise MissingDependencyError("ray", "ray") from exc


@dataclass(frozen=True)
class Recipe:
    """How a worker gets a component: rebuilt from its registry name and parameters.

    A component the registry cannot rebuild (not registered, or a subclass under a
    registered name) travels as the object itself, pickled by Ray.
    """

    group: str
    name: str
    params: dict[str, Any] | None = None
    obj: Any = None

    @classmethod
    def of(cls, group: str, component: Any) -> Recipe:
        """The recipe of a built component; secret parameters (API keys) travel too."""
        spec = component.spec()
        try:
            factory = registry.get(group, spec.name)
        except UnknownPluginError:
            return cls(group, spec.name, obj=component)
        if isinstance(factory, type) and type(component) is not factory:
            return cls(group, spec.name, obj=component)
        secrets: frozenset[str] = getattr(component, "secret_params", frozenset())
        params = {**spec.params, **{n: getattr(component, n) for n in secrets}}
        return cls(group, spec.name, params=params)

    def build(self) -> Any:
        if self.params is None:
            return self.obj
        return registry.get(self.group, self.name)(**self.params)


class Worker:
    """A Ray actor's body: the run's targets and judges, built once, kept warm.

    A model-backed target or judge loads its weights once per worker, not per batch.
    """

    def __init__(self, targets: dict[str, Recipe], judges: list[Recipe], params: RunParams):
        self.targets: dict[str, Target] = {key: r.build() for key, r in targets.items()}
        self.judges: list[Judge] = [r.build() for r in judges]
        self.params = params
        self.gates: dict[str, asyncio.Semaphore] = {}

    async def run_batch(
        self, key: str, work: list[tuple[int, Attempt]]
    ) -> tuple[list[Finished], int]:
        """The finished attempts of one batch, and the requests it took (retries too)."""
        target = self.targets[key]
        if key not in self.gates:  # one bound per target, shared by concurrent batches
            self.gates[key] = asyncio.Semaphore(concurrency_of(target, self.params))
        stats = RunStats()
        done = await process_batch(
            target, self.judges, work, self.params, gate=self.gates[key], stats=stats
        )
        return done, stats.requests

    async def close(self) -> None:
        await close_targets(list(self.targets.values()))

    def pid(self) -> int:
        return os.getpid()


@dataclass
class _Batch:
    key: str
    work: list[tuple[int, Attempt]]


class WorkersDiedError(AssayError):
    """Workers kept dying; the run is left interrupted and resumes where it stopped."""


class RayBackend:
    """Runs attempts on a Ray cluster (or a Ray started in this process).

    Args:
        address: the cluster to join; ``None`` starts Ray locally (unless this process
            already called ``ray.init``, whose instance is used as is).
        workers: actors to start; ``None``: one per CPU (or per ``gpus_per_worker``).
        gpus_per_worker: GPUs each actor reserves; 0 for API targets.
        batch_size: attempts per batch.
    """

    name = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        gpus_per_worker: float = 0.0,
        batch_size: int = 16,
    ) -> None:
        self.address = address
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker
        self.batch_size = batch_size

    def run(
        self,
        plan: Plan,
        store: Store,
        run_id: str,
        *,
        params: RunParams,
        progress: ProgressSink | None = None,
    ) -> RunStats:
        """Do every pending attempt of ``run_id`` on Ray workers; write results here."""
        ray = _import_ray()
        started = not ray.is_initialized()
        if started:
            _connect(ray, self.address)
        try:
            return _Driver(self, ray, plan, store, run_id, params, progress).run()
        finally:
            if started:
                ray.shutdown()


class _Driver:
    """One run on Ray: the queue of batches, the workers, and the single store writer."""

    def __init__(
        self,
        backend: RayBackend,
        ray: Any,
        plan: Plan,
        store: Store,
        run_id: str,
        params: RunParams,
        progress: ProgressSink | None,
    ) -> None:
        self.backend = backend
        self.ray = ray
        self.plan = plan
        self.store = store
        self.run_id = run_id
        self.params = params
        self.progress = progress
        self.stats = RunStats()
        self.actors: dict[int, Any] = {}
        self.load: dict[int, int] = {}
        self.spawned = 0
        self.wanted = 1
        self.deaths = 0
        self.deaths_allowed = 3

    def run(self) -> RunStats:
        pending = self.store.pending(self.run_id)
        total = self.store.get_run(self.run_id).n_attempts
        if self.progress is not None:
            self.progress.start(total=total, done=total - len(pending))
        cache = self.store.cached(a.hash for _, a in pending) if self.params.use_cache else {}
        hits = [(seq, a, cache[a.hash]) for seq, a in pending if a.hash in cache]
        todo = [(seq, a) for seq, a in pending if a.hash not in cache]
        self.store.set_state(self.run_id, "running")
        try:
            if hits:  # judged here, as the local runner does: no worker needed for them
                self.stats.cached += len(hits)
                done = asyncio.run(judge_cached(self.plan.judges, hits, self.params.judge_batch))
                self._record(done)
            if todo:
                self._distribute(todo)
        except BaseException:
            self.store.set_state(self.run_id, "interrupted")
            raise
        finished = not self.store.pending(self.run_id)
        self.store.set_state(self.run_id, "finished" if finished else "interrupted")
        return self.stats

    def _batches(self, todo: Sequence[tuple[int, Attempt]]) -> deque[_Batch]:
        by_target: dict[str, list[tuple[int, Attempt]]] = {}
        for seq, attempt in todo:
            by_target.setdefault(attempt.target.key(), []).append((seq, attempt))
        size = self.backend.batch_size
        return deque(
            _Batch(key, work[i : i + size])
            for key, work in by_target.items()
            for i in range(0, len(work), size)
        )

    def _workers_wanted(self, n_batches: int) -> int:
        if self.backend.workers is not None:
            return min(self.backend.workers, n_batches)
        resources = self.ray.cluster_resources()
        if self.backend.gpus_per_worker > 0:
            fit = int(resources.get("GPU", 0) / self.backend.gpus_per_worker)
        else:
            fit = int(resources.get("CPU", 1))
        return max(1, min(fit, n_batches))

    def _spawn(self, factory: Callable[[], Any]) -> None:
        self.spawned += 1
        self.actors[self.spawned] = factory()
        self.load[self.spawned] = 0

    def _distribute(self, todo: Sequence[tuple[int, Attempt]]) -> None:
        ray = self.ray
        queue = self._batches(todo)
        recipes = {t.spec().key(): Recipe.of("targets", t) for t in self.plan.targets}
        judges = [Recipe.of("judges", j) for j in self.plan.judges]
        options: dict[str, Any] = {"max_restarts": 0}
        if self.backend.gpus_per_worker > 0:
            options["num_gpus"] = self.backend.gpus_per_worker
        actor_class = ray.remote(Worker).options(**options)
        recipes_ref, judges_ref = ray.put(recipes), ray.put(judges)

        def factory() -> Any:
            return actor_class.remote(recipes_ref, judges_ref, self.params)

        self.wanted = self._workers_wanted(len(queue))
        for _ in range(self.wanted):
            self._spawn(factory)
        self.deaths_allowed = max(3, 2 * self.wanted)
        in_flight: dict[Any, tuple[int, _Batch]] = {}
        try:
            while queue or in_flight:
                for wid, actor in self.actors.items():
                    while self.load[wid] < _AHEAD and queue:
                        batch = queue.popleft()
                        in_flight[actor.run_batch.remote(batch.key, batch.work)] = (wid, batch)
                        self.load[wid] += 1
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in ready:
                    wid, batch = in_flight.pop(ref)
                    try:
                        done, requests = ray.get(ref)
                    except _died(ray) as exc:
                        queue.appendleft(batch)  # redone whole by another worker
                        self._replace(wid, exc, factory)
                        continue
                    if wid in self.load:
                        self.load[wid] -= 1
                    self.stats.sent += len(batch.work)
                    self.stats.requests += requests
                    self._record(done)
        finally:
            self._stop(in_flight)

    def _replace(self, wid: int, exc: BaseException, factory: Callable[[], Any]) -> None:
        """A worker died: drop it and start another, unless workers keep dying."""
        if wid in self.actors:  # its other in-flight batches fail too: count it once
            self.deaths += 1
            with contextlib.suppress(Exception):
                self.ray.kill(self.actors[wid], no_restart=True)
            del self.actors[wid], self.load[wid]
            if self.deaths > self.deaths_allowed:
                raise WorkersDiedError(
                    f"Ray workers died {self.deaths} times (last: {exc}); "
                    "the run is interrupted: run the same command to resume"
                ) from exc
            self._spawn(factory)
        self._report_workers()

    def _record(self, done: Sequence[Finished]) -> None:
        """The one place results are written: one transaction per returned batch."""
        if not done:
            return
        self.store.record_many(self.run_id, done)
        for item in done:
            key = item.status.value
            self.stats.by_status[key] = self.stats.by_status.get(key, 0) + 1
            if self.progress is not None:
                self.progress.advance(item.status)
        self._report_workers()

    def _report_workers(self) -> None:
        """Tell a progress sink that shows workers (``workers(alive, wanted)``) about them."""
        show = getattr(self.progress, "workers", None)
        if callable(show):
            show(len(self.actors), self.wanted)

    def _stop(self, in_flight: dict[Any, tuple[int, _Batch]]) -> None:
        ray = self.ray
        for ref in in_flight:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=False)
        closing = [actor.close.remote() for actor in self.actors.values()]
        try:
            ray.wait(closing, num_returns=len(closing), timeout=30.0)
        finally:
            for actor in self.actors.values():
                with contextlib.suppress(Exception):
                    ray.kill(actor)
            self.actors.clear()


def _connect(ray: Any, address: str | None) -> None:
    """Join the cluster at ``address``; without one, start a private Ray (no dashboard),
    even if a cluster runs on this machine (``--address auto`` joins that one)."""
    if address is None:
        ray.init(address="local", include_dashboard=False, log_to_driver=False)
        return
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"cannot join the Ray cluster at {address!r}: {exc}", field="--address"
        ) from exc


def _died(ray: Any) -> tuple[type[BaseException], ...]:
    """The Ray errors that mean the worker (not the work) failed."""
    names = ("RayActorError", "WorkerCrashedError", "ActorUnavailableError", "ObjectLostError")
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))
