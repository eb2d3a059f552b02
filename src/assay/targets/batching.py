"""Micro-batching: many concurrent one-at-a-time calls, few batched calls underneath.

The engine talks to a target one attempt at a time (``respond(attempt)``), but a local
model on a CPU is 5-10x faster per prompt when it generates a batch at once. A
:class:`MicroBatcher` bridges the two: each ``submit`` parks a future, and one worker
thread gathers whatever is waiting (waiting a few milliseconds for more to arrive),
groups requests of similar size, runs one blocking batch call, and resolves each future
with its own result.

The worker is a plain thread, not a task of some event loop, so one batcher serves
callers from any loop (tests make a new loop per test) and the CPU-bound batch call
never blocks a loop. Only one batch runs at a time: the batch call owns the CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from assay.errors import AssayError, TargetError

__all__ = ["BatchStats", "MicroBatcher"]

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

_log = logging.getLogger(__name__)


@dataclass
class BatchStats:
    """What the batcher has done so far (for tests, benchmarks and progress displays).

    Attributes:
        batches: batch calls made (failed ones included).
        items: requests those calls served.
        largest: the largest batch so far.
        failed_batches: batch calls that raised.
    """

    batches: int = 0
    items: int = 0
    largest: int = 0
    failed_batches: int = 0

    @property
    def mean_size(self) -> float:
        """Average requests per batch call; 0.0 before the first batch."""
        return self.items / self.batches if self.batches else 0.0


@dataclass(eq=False)
class _Request(Generic[ItemT, ResultT]):
    """One parked call: its input, the future its caller awaits, and that future's loop."""

    item: ItemT
    future: asyncio.Future[ResultT]
    loop: asyncio.AbstractEventLoop
    size: int
    enqueued: float = field(default_factory=time.monotonic)
    cancelled: bool = False


class MicroBatcher(Generic[ItemT, ResultT]):
    """Turns concurrent ``await submit(item)`` calls into batched ``run_batch(items)`` calls.

    Args:
        run_batch: a blocking function taking a list of items and returning one result
            per item, in order. It runs in the batcher's worker thread. A result that is
            an exception instance fails that request alone. If ``run_batch`` raises, every
            request of that batch (and only of that batch) fails: with the same error if
            it is an :class:`~assay.errors.AssayError`, else with a
            ``TargetError(kind="generation")``.
        max_batch: the most items per ``run_batch`` call.
        max_wait_s: how long the oldest waiting request may wait for the batch to fill
            before a partial batch runs, seconds. Small next to a batch's run time, large
            next to the time concurrent callers take to arrive.
        size_of: a request's size (e.g. prompt length). The requests waiting at one time
            are sorted by it before they are cut into batches, so a batch holds prompts
            of similar length and pads less.
        window_batches: how many batches' worth of waiting requests are sorted together.
            Every window is finished before the next is taken, so no request starves.
        idle_s: the worker thread exits after this long with nothing to do and is
            restarted by the next ``submit``.
    """

    def __init__(
        self,
        run_batch: Callable[[list[ItemT]], Sequence[ResultT | BaseException]],
        *,
        max_batch: int = 16,
        max_wait_s: float = 0.03,
        size_of: Callable[[ItemT], int] | None = None,
        window_batches: int = 4,
        idle_s: float = 10.0,
        name: str = "assay-batcher",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._size_of = size_of
        self._window = max_batch * max(1, window_batches)
        self._idle_s = idle_s
        self._name = name
        self._cond = threading.Condition()
        self._pending: deque[_Request[ItemT, ResultT]] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stats = BatchStats()

    @property
    def stats(self) -> BatchStats:
        """A snapshot of the batcher's counters."""
        with self._cond:
            return BatchStats(**vars(self._stats))

    async def submit(self, item: ItemT) -> ResultT:
        """Queue ``item`` for the next batch and wait for its own result.

        Cancelling the awaiting task (an engine timeout) drops the item if its batch has
        not started yet; a batch already running is not interrupted.
        """
        loop = asyncio.get_running_loop()
        size = self._size_of(item) if self._size_of is not None else 0
        request: _Request[ItemT, ResultT] = _Request(item, loop.create_future(), loop, size)
        with self._cond:
            if self._closed:
                raise TargetError("the batcher is closed", kind="closed")
            self._pending.append(request)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            return await request.future
        except asyncio.CancelledError:
            request.cancelled = True
            raise

    def close(self, timeout_s: float | None = None) -> None:
        """Stop the worker once the batch now running ends; waiting requests fail."""
        with self._cond:
            self._closed = True
            dropped = list(self._pending)
            self._pending.clear()
            thread = self._thread
            self._cond.notify_all()
        for request in dropped:
            _settle(request, None, TargetError("the batcher was closed", kind="closed"))
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _work(self) -> None:
        """The worker thread: take a window of waiting requests, run it batch by batch."""
        while True:
            window = self._take_window()
            if window is None:
                return
            window.sort(key=lambda r: r.size)
            for start in range(0, len(window), self._max_batch):
                live = [r for r in window[start : start + self._max_batch] if not r.cancelled]
                if live:
                    self._run(live)

    def _take_window(self) -> list[_Request[ItemT, ResultT]] | None:
        """Block until requests wait, give late ones ``max_wait_s`` to join, take them.

        Returns ``None`` when the thread should exit (closed, or idle for ``idle_s``).
        """
        with self._cond:
            while not self._pending and not self._closed:
                if not self._cond.wait(self._idle_s) and not self._pending:
                    self._thread = None
                    return None
            if self._closed:
                self._thread = None
                return None
            deadline = self._pending[0].enqueued + self._max_wait_s
            while len(self._pending) < self._max_batch and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            count = min(len(self._pending), self._window)
            return [self._pending.popleft() for _ in range(count)]

    def _run(self, batch: list[_Request[ItemT, ResultT]]) -> None:
        """Run one batch call and settle each of its futures."""
        try:
            results = list(self._run_batch([r.item for r in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"run_batch returned {len(results)} results for {len(batch)}")
        except Exception as exc:  # one bad batch must not take the worker down
            _log.warning("batch of %d failed: %r", len(batch), exc)
            self._count(len(batch), failed=True)
            for request in batch:
                _settle(request, None, _batch_error(exc))
            return
        self._count(len(batch), failed=False)
        for request, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                _settle(request, None, result)
            else:
                _settle(request, result, None)

    def _count(self, size: int, *, failed: bool) -> None:
        with self._cond:
            self._stats.batches += 1
            self._stats.items += size
            self._stats.largest = max(self._stats.largest, size)
            self._stats.failed_batches += int(failed)


def _batch_error(exc: Exception) -> Exception:
    """The error each request of a failed batch gets (a fresh one, so tracebacks differ)."""
    if isinstance(exc, AssayError):
        return exc
    error = TargetError(f"generation failed: {exc!r}", kind="generation")
    error.__cause__ = exc
    return error


def _settle(request: _Request[Any, Any], result: Any, error: BaseException | None) -> None:
    """Resolve a request's future from the worker thread, on the future's own loop."""

    def resolve() -> None:
        if request.future.done():
            return
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(result)

    # The caller's loop may be gone (a test ended, the run was interrupted): nobody waits.
    with contextlib.suppress(RuntimeError):
        request.loop.call_soon_threadsafe(resolve)
