"""MicroBatcher: batches form under concurrency, similar sizes group, failures stay local."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from assay.errors import InputError, TargetError
from assay.targets.batching import MicroBatcher


class Recorder:
    """A batch function that doubles numbers and records each batch it was given.

    The first batch blocks until ``release`` is set, so a test can pile up requests
    behind it and know exactly what the next window holds.
    """

    def __init__(self, *, block_first: bool = False, delay_s: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        if not block_first:
            self.release.set()
        self.delay_s = delay_s

    def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        self.started.set()
        self.release.wait(5)
        time.sleep(self.delay_s)
        if any(item < 0 for item in items):
            raise RuntimeError("negative input")
        return [InputError("odd one") if item == 1013 else item * 2 for item in items]


async def test_concurrent_requests_form_batches() -> None:
    recorder = Recorder(delay_s=0.05)
    batcher = MicroBatcher(recorder, max_batch=8, max_wait_s=0.05)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    assert results == [i * 2 for i in range(20)]
    stats = batcher.stats
    assert stats.items == 20
    assert stats.largest == 8
    assert stats.batches <= 4
    assert all(len(batch) <= 8 for batch in recorder.batches)
    batcher.close()


async def test_waiting_requests_are_sorted_by_size_into_batches() -> None:
    recorder = Recorder(block_first=True)
    batcher = MicroBatcher(recorder, max_batch=4, max_wait_s=0.01, size_of=lambda item: item)
    first = asyncio.ensure_future(batcher.submit(1000))
    await asyncio.to_thread(recorder.started.wait, 5)
    values = [9, 2, 7, 4, 8, 1, 6, 3]
    rest = [asyncio.ensure_future(batcher.submit(v)) for v in values]
    await asyncio.sleep(0.05)  # all eight are queued behind the blocked batch
    recorder.release.set()
    assert await first == 2000
    assert [await task for task in rest] == [v * 2 for v in values]
    assert recorder.batches[1:] == [[1, 2, 3, 4], [6, 7, 8, 9]]
    batcher.close()


async def test_a_failing_batch_fails_only_its_own_requests() -> None:
    recorder = Recorder()
    batcher = MicroBatcher(recorder, max_batch=4, max_wait_s=0.05)
    bad = await asyncio.gather(*(batcher.submit(v) for v in (1, -1, 2)), return_exceptions=True)
    assert all(isinstance(error, TargetError) and error.kind == "generation" for error in bad)
    assert isinstance(bad[0], TargetError)
    assert isinstance(bad[0].__cause__, RuntimeError)
    good = await asyncio.gather(*(batcher.submit(v) for v in (1, 2, 3)))
    assert good == [2, 4, 6]
    assert batcher.stats.failed_batches == 1
    batcher.close()


async def test_an_error_result_fails_only_that_request() -> None:
    batcher = MicroBatcher(Recorder(), max_batch=4, max_wait_s=0.05)
    results = await asyncio.gather(
        *(batcher.submit(v) for v in (12, 1013, 14)), return_exceptions=True
    )
    assert results[0] == 24
    assert isinstance(results[1], InputError)
    assert results[2] == 28
    batcher.close()


async def test_cancelled_requests_are_not_generated() -> None:
    recorder = Recorder(block_first=True)
    batcher = MicroBatcher(recorder, max_batch=4, max_wait_s=0.01)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.to_thread(recorder.started.wait, 5)
    doomed = asyncio.ensure_future(batcher.submit(5))
    kept = asyncio.ensure_future(batcher.submit(6))
    await asyncio.sleep(0.01)
    doomed.cancel()
    await asyncio.sleep(0.01)
    recorder.release.set()
    assert await first == 2
    assert await kept == 12
    assert recorder.batches == [[1], [6]]
    batcher.close()


def test_one_batcher_serves_several_event_loops() -> None:
    batcher = MicroBatcher(Recorder(), max_batch=4, max_wait_s=0.01)

    async def ask(values: list[int]) -> list[int]:
        return list(await asyncio.gather(*(batcher.submit(v) for v in values)))

    assert asyncio.run(ask([1, 2])) == [2, 4]
    assert asyncio.run(ask([3])) == [6]
    batcher.close()


async def test_close_fails_waiting_requests_and_later_submits() -> None:
    recorder = Recorder(block_first=True)
    batcher = MicroBatcher(recorder, max_batch=2, max_wait_s=0.01)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.to_thread(recorder.started.wait, 5)
    waiting = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0.01)
    closer = asyncio.ensure_future(asyncio.to_thread(batcher.close, 5))
    await asyncio.sleep(0.01)
    recorder.release.set()
    await closer
    assert await first == 2
    with pytest.raises(TargetError) as caught:
        await waiting
    assert caught.value.kind == "closed"
    with pytest.raises(TargetError):
        await batcher.submit(3)


async def test_the_worker_thread_exits_when_idle_and_comes_back() -> None:
    batcher = MicroBatcher(Recorder(), max_batch=2, max_wait_s=0.0, idle_s=0.05)
    assert await batcher.submit(1) == 2
    await asyncio.sleep(0.2)
    assert batcher._thread is None
    assert await batcher.submit(2) == 4
    batcher.close()
