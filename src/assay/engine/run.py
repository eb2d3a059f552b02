"""Run a plan: bounded concurrency per target, timeouts, retries, pipelined judging.

Three kinds of coroutine share one event loop::

    workers (N per target) --> judge queue --> judge worker --> write queue --> writer
        respond + retry          batches as responses arrive     one SQLite transaction
                                                                 per batch of results

Work is pulled from an iterator, so 10,000 attempts make N tasks, not 10,000. A response
and its verdicts are committed together; a run killed at any moment loses only the
uncommitted batch, and ``execute`` on the same run does exactly what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assay.core.protocols import Judge, Target
from assay.core.records import (
    AGENT,
    PERCEPTION,
    Attempt,
    Exchange,
    Message,
    Outcome,
    Response,
    Status,
    Verdict,
    status_of,
)
from assay.engine.plan import Plan, RunParams
from assay.errors import RetryableTargetError, TargetError
from assay.judges.traces import split_trace
from assay.store.sqlite import Cached, Finished, Store

_DONE = object()


class ProgressSink(Protocol):
    """Told about each finished attempt (the CLI draws a progress bar from it)."""

    def start(self, total: int, done: int) -> None: ...

    def advance(self, status: Status) -> None: ...


class _NullProgress:
    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, status: Status) -> None:
        pass


@dataclass
class RunStats:
    """Counts of one ``execute`` call (not of the whole run, when resumed)."""

    sent: int = 0
    cached: int = 0
    requests: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


async def call_with_retries(
    target: Target,
    attempt: Attempt,
    params: RunParams,
    rng: random.Random,
    stats: RunStats | None = None,
) -> Response:
    """One attempt against one target, with timeout and bounded retries.

    Retries only what may pass next time (429, 5xx, timeouts, connection errors), with
    exponential backoff and full jitter, honouring a server's Retry-After. Every failure
    that survives the retries becomes a Response with ``error`` set: never a pass.
    """
    last: TargetError | None = None
    tries = 0
    for tries in range(1, params.max_retries + 2):
        if stats is not None:
            stats.requests += 1
        started = time.perf_counter()
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            async with asyncio.timeout(params.timeout_s):
                response = await target.respond(attempt)
            return response.model_copy(update={"tries": tries})
        except TimeoutError:
            last = RetryableTargetError(f"no answer in {params.timeout_s:g} s", kind="timeout")
        except RetryableTargetError as exc:
            last = exc
        except TargetError as exc:
            return _error(exc.kind, str(exc), tries, time.perf_counter() - started)
        except Exception as exc:  # a target bug must be recorded, not crash the run
            return _error(
                "exception", f"{type(exc).__name__}: {exc}", tries, time.perf_counter() - started
            )
        if tries > params.max_retries:
            break
        delay = rng.uniform(0, min(params.backoff_max_s, params.backoff_s * 2 ** (tries - 1)))
        if isinstance(last, RetryableTargetError) and last.retry_after is not None:
            delay = max(delay, min(last.retry_after, params.backoff_max_s))
        await asyncio.sleep(delay)
    assert last is not None
    return _error(last.kind, str(last), tries, 0.0)


async def converse(
    target: Target,
    attempt: Attempt,
    params: RunParams,
    rng: random.Random,
    stats: RunStats | None = None,
) -> Response:
    """A multi-turn attempt: send, feed the reply back, send the next scripted turn.

    Each turn gets the engine's timeout and retries. The returned response is the final
    reply, with the whole conversation in ``transcript`` and latency, tokens and tries
    summed over turns. A failed turn ends the conversation as that error (the turn is
    named in ``error_detail``): an error is not a pass, whichever turn it happened on.
    """
    history = list(attempt.messages)
    turns = (*attempt.followups, None)
    latency, tries, prompt_tokens, completion_tokens = 0.0, 0, 0, 0
    response = Response()
    for n, followup in enumerate(turns, start=1):
        one = attempt.model_copy(update={"messages": tuple(history), "followups": ()})
        response = await call_with_retries(target, one, params, rng, stats)
        latency += response.latency_s
        tries += response.tries
        prompt_tokens += response.prompt_tokens or 0
        completion_tokens += response.completion_tokens or 0
        if not response.ok:
            detail = f"turn {n} of {len(turns)}: {response.error_detail or ''}"
            return response.model_copy(
                update={"error_detail": detail[:2000], "transcript": tuple(history)}
            )
        history.append(Message(role="assistant", content=response.text))
        if followup is not None:
            history.append(followup)
    return response.model_copy(
        update={
            "transcript": tuple(history),
            "latency_s": latency,
            "tries": tries,
            "prompt_tokens": prompt_tokens or None,
            "completion_tokens": completion_tokens or None,
        }
    )


def invert_answer(attempt: Attempt, response: Response) -> Response:
    """Undo the answer encodings an attack asked for (base64...), last attack first.

    Judges read the decoded text; the target's own text is kept in ``raw_text``.
    """
    codecs = [s.detail["answer_codec"] for s in attempt.attacks if s.detail.get("answer_codec")]
    if not codecs or not response.ok:
        return response
    from assay.attacks.codecs import decode_answer

    text = response.text
    for codec in reversed(codecs):
        text = decode_answer(text, str(codec))
    return response.model_copy(update={"text": text, "raw_text": response.text})


def _error(kind: str, detail: str, tries: int, latency: float) -> Response:
    return Response(error=kind, error_detail=detail[:2000], tries=tries, latency_s=latency)


@dataclass
class _Item:
    seq: int
    attempt: Attempt
    response: Response
    cached: Cached | None = None


def _reusable(item: _Item, key: str) -> Verdict | None:
    """A stored verdict of this judge on this response, unless it was unscored.

    An unscored verdict (judge down, unparsable output) is asked again, like an error.
    """
    if item.cached is None:
        return None
    verdict = item.cached.verdicts.get(key)
    if verdict is None or verdict.outcome is Outcome.UNSCORED:
        return None
    return verdict


def _exchanges(items: Sequence[_Item]) -> list[tuple[int, str, Exchange]]:
    """(item index, part, exchange) for every answer, and every reasoning trace."""
    out: list[tuple[int, str, Exchange]] = []
    for i, item in enumerate(items):
        if not item.response.ok:
            continue
        out.append((i, "answer", Exchange(attempt=item.attempt, response=item.response)))
        trace = item.response.reasoning
        if trace is not None and trace.strip():
            as_text = Response(text=trace, finish_reason=item.response.finish_reason)
            out.append((i, "trace", Exchange(attempt=item.attempt, response=as_text)))
    return out


async def _judge_batch(judges: Sequence[Judge], items: Sequence[_Item]) -> list[list[Verdict]]:
    """Verdicts per item (answer, then trace), per judge.

    Cached verdicts are reused unless unscored; a judge that fails or miscounts gives
    unscored verdicts, never a pass.
    """
    out: list[list[Verdict]] = [[] for _ in items]
    jobs = _exchanges(items)
    for judge in judges:
        spec = judge.spec()
        key = spec.key()
        reused = {
            n: _reusable(items[i], key if part == "answer" else f"{key}@trace")
            for n, (i, part, _) in enumerate(jobs)
        }
        todo = [n for n in range(len(jobs)) if reused[n] is None]
        fresh: dict[int, Verdict] = {}
        if todo:
            batch = [jobs[n][2] for n in todo]
            try:
                verdicts = await judge.judge(batch)
                if len(verdicts) != len(batch):
                    raise RuntimeError(f"returned {len(verdicts)} verdicts for {len(batch)}")
            except Exception as exc:
                reason = f"judge failed: {type(exc).__name__}: {exc}"[:500]
                verdicts = [Verdict.unscored(spec, reason) for _ in batch]
            fresh = dict(zip(todo, verdicts, strict=True))
        for n, (i, part, _) in enumerate(jobs):
            verdict = fresh.get(n) or reused[n]
            if verdict is not None:
                out[i].append(verdict.model_copy(update={"part": part}))
    for i, item in enumerate(items):
        if not item.response.ok:
            continue
        first = _engine_check(item)
        if first is not None:  # it decides the status; the judges' verdicts stay beside it
            out[i] = [first, *(v for v in out[i] if v.judge.name != first.judge.name)]
    return out


def _engine_check(item: _Item) -> Verdict | None:
    """The engine's own first verdict: an injection's canary, or an echoed request.

    An injection's status is whether its canary came back (it was obeyed, or the secret
    leaked); an answer that only repeats the request is unscored, whatever the judges
    made of the harmful words in it.
    """
    domain = item.attempt.case.metadata.get("domain")
    if domain == PERCEPTION:
        return None  # a classifier's answer is a label, not text that could echo
    if domain == AGENT:  # what the agent did decides, whatever the text judges say
        from assay.agents.judge import agent_verdict

        return agent_verdict(item.attempt, item.response)
    if item.attempt.detail("canary") is not None:
        from assay.judges.canary import canary_check

        return canary_check(item.attempt, item.response)
    from assay.judges.echo import echo_check

    return echo_check(item.attempt, item.response)


async def answer(
    target: Target,
    attempt: Attempt,
    params: RunParams,
    rng: random.Random,
    stats: RunStats | None = None,
) -> Response:
    """The response judges read: sent (one turn or a conversation), trace split, decoded.

    Shared by the local runner and the Ray workers, so both store the same response.
    """
    if attempt.case.metadata.get("domain") == AGENT:  # a tool-using agent in a scenario
        from assay.agents.loop import run_agent

        return await run_agent(target, attempt, params, rng, stats)
    call = converse if attempt.followups else call_with_retries
    raw = await call(target, attempt, params, rng, stats)
    return invert_answer(attempt, split_trace(raw))


async def _finish(judges: Sequence[Judge], items: Sequence[_Item]) -> list[Finished]:
    """Judge a batch and derive each status from the primary judge's answer verdict."""
    verdicts = await _judge_batch(judges, items)
    out = []
    for item, given in zip(items, verdicts, strict=True):
        primary = next((v for v in given if v.part == "answer"), None)
        out.append(
            Finished(
                seq=item.seq,
                attempt=item.attempt,
                response=item.response,
                verdicts=tuple(given),
                status=status_of(item.attempt.case, item.response, primary),
                response_id=None if item.cached is None else item.cached.response_id,
            )
        )
    return out


async def _finish_in_batches(
    judges: Sequence[Judge], items: Sequence[_Item], size: int
) -> list[Finished]:
    """:func:`_finish` over ``items`` in judge batches of ``size``."""
    step = max(1, size)
    out: list[Finished] = []
    for start in range(0, len(items), step):
        out += await _finish(judges, items[start : start + step])
    return out


async def judge_cached(
    judges: Sequence[Judge], work: Sequence[tuple[int, Attempt, Cached]], batch: int
) -> list[Finished]:
    """Finish attempts served from the cache: reuse their verdicts, ask only what is missing.

    A remote backend calls this on the driver, as the local runner does for a cache hit.
    """
    items = [_Item(seq, attempt, hit.response, hit) for seq, attempt, hit in work]
    return await _finish_in_batches(judges, items, batch)


async def process_batch(
    target: Target,
    judges: Sequence[Judge],
    work: Sequence[tuple[int, Attempt]],
    params: RunParams,
    *,
    gate: asyncio.Semaphore | None = None,
    stats: RunStats | None = None,
) -> list[Finished]:
    """Send a batch of attempts, judge them, derive their statuses.

    The unit of work of a remote worker: the same steps as the local pipeline, so a
    batch done anywhere gives the results a local run would store. ``gate`` bounds the
    requests in flight (share one between batches of the same target; default: the
    target's concurrency for this batch alone). The backoff jitter is seeded from the
    run seed and the batch's first sequence number: it changes when a retry is sent,
    never what is stored.
    """
    rng = random.Random(params.seed * 1_000_003 + (work[0][0] if work else 0))
    gate = gate or asyncio.Semaphore(concurrency_of(target, params))

    async def one(seq: int, attempt: Attempt) -> _Item:
        async with gate:
            return _Item(seq, attempt, await answer(target, attempt, params, rng, stats))

    items = await asyncio.gather(*(one(seq, attempt) for seq, attempt in work))
    return await _finish_in_batches(judges, items, params.judge_batch)


def concurrency_of(target: Target, params: RunParams) -> int:
    """Requests in flight per target: the run's setting, else the target's own (or 8)."""
    if params.concurrency is not None:
        return max(1, params.concurrency)
    return max(1, int(getattr(target, "default_concurrency", 8)))


class _Runner:
    def __init__(
        self, plan: Plan, store: Store, run_id: str, params: RunParams, progress: ProgressSink
    ) -> None:
        self.plan = plan
        self.store = store
        self.run_id = run_id
        self.params = params
        self.progress = progress
        self.stats = RunStats()
        self.rng = random.Random(params.seed)
        self.judge_queue: asyncio.Queue[_Item | object] = asyncio.Queue(maxsize=1024)
        self.write_queue: asyncio.Queue[Finished | object] = asyncio.Queue(maxsize=1024)

    async def worker(
        self, target: Target, work: Iterator[tuple[int, Attempt]], cache: dict[str, Cached]
    ) -> None:
        for seq, attempt in work:
            hit = cache.get(attempt.hash)
            if hit is not None:
                self.stats.cached += 1
                await self.judge_queue.put(_Item(seq, attempt, hit.response, hit))
                continue
            self.stats.sent += 1
            response = await answer(target, attempt, self.params, self.rng, self.stats)
            await self.judge_queue.put(_Item(seq, attempt, response))

    async def judge_worker(self) -> None:
        finished = False
        while not finished:
            first = await self.judge_queue.get()
            if first is _DONE:
                break
            items = [first]
            while len(items) < self.params.judge_batch and not self.judge_queue.empty():
                nxt = self.judge_queue.get_nowait()
                if nxt is _DONE:
                    finished = True
                    break
                items.append(nxt)
            batch = [i for i in items if isinstance(i, _Item)]
            for done in await _finish(self.plan.judges, batch):
                await self.write_queue.put(done)
        await self.write_queue.put(_DONE)

    async def writer(self, flush_every: int = 256, gather_s: float = 0.05) -> None:
        """Commit finished attempts in batches: whatever is queued, one transaction.

        No ``wait_for(queue.get())``: on Python 3.11 a timeout racing a completed get
        drops the item, which would lose a result (or the end marker).
        """
        done = False
        while not done:
            batch: list[Finished] = []
            got = await self.write_queue.get()
            if got is _DONE:
                break
            batch.append(got)  # type: ignore[arg-type]
            if self.write_queue.empty():
                await asyncio.sleep(gather_s)  # let a few more arrive: fewer transactions
            while len(batch) < flush_every and not self.write_queue.empty():
                nxt = self.write_queue.get_nowait()
                if nxt is _DONE:
                    done = True
                    break
                batch.append(nxt)  # type: ignore[arg-type]
            self.store.record_many(self.run_id, batch)
            for item in batch:
                key = item.status.value
                self.stats.by_status[key] = self.stats.by_status.get(key, 0) + 1
                self.progress.advance(item.status)


async def execute(
    plan: Plan,
    store: Store,
    run_id: str,
    *,
    params: RunParams,
    progress: ProgressSink | None = None,
) -> RunStats:
    """Do every planned attempt of ``run_id`` that has no stored result yet."""
    sink = progress or _NullProgress()
    runner = _Runner(plan, store, run_id, params, sink)
    pending = store.pending(run_id)
    done = store.get_run(run_id).n_attempts - len(pending)
    sink.start(total=store.get_run(run_id).n_attempts, done=done)
    cache = store.cached(a.hash for _, a in pending) if params.use_cache else {}
    by_target: dict[str, list[tuple[int, Attempt]]] = {}
    for seq, attempt in pending:
        by_target.setdefault(attempt.target.key(), []).append((seq, attempt))
    targets = {t.spec().key(): t for t in plan.targets}
    store.set_state(run_id, "running")
    judge_task = asyncio.create_task(runner.judge_worker())
    writer_task = asyncio.create_task(runner.writer())
    try:
        workers = []
        for key, work in by_target.items():
            shared = iter(work)
            target = targets[key]
            workers += [
                asyncio.create_task(runner.worker(target, shared, cache))
                for _ in range(concurrency_of(target, params))
            ]
        await asyncio.gather(*workers)
        await runner.judge_queue.put(_DONE)
        await judge_task
        await writer_task
    except BaseException:
        for task in (judge_task, writer_task):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        store.set_state(run_id, "interrupted")
        raise
    store.set_state(run_id, "finished" if not store.pending(run_id) else "interrupted")
    await close_targets(plan.targets)
    return runner.stats


async def close_targets(targets: Sequence[Target]) -> None:
    """Let targets that hold connections or models release them (``aclose``, if any)."""
    for target in targets:
        closer = getattr(target, "aclose", None)
        if closer is not None:
            await closer()
