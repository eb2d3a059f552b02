from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from assay.core import Attempt, Exchange, Response, Spec, Status, Verdict
from assay.engine import RunParams, execute, make_plan, scan
from assay.engine.scan import open_run
from assay.errors import RetryableTargetError
from assay.store import Store
from assay.testing import MockTarget

FAST = RunParams(backoff_s=0.001, backoff_max_s=0.01, max_retries=2)


class Flaky(MockTarget):
    """Fails with 429 ``fail_times`` times per case, then answers."""

    def __init__(self, *, fail_times: int = 2) -> None:
        super().__init__()
        self.fail_times = fail_times
        self.seen: dict[str, int] = {}

    async def respond(self, attempt: Attempt) -> Response:
        n = self.seen[attempt.case.id] = self.seen.get(attempt.case.id, 0) + 1
        if n <= self.fail_times:
            raise RetryableTargetError("slow down", kind="http_429", retry_after=0.0)
        return Response(text="I can't help with that.")


class Sleepy(MockTarget):
    def __init__(self, *, delay_s: float = 0.05) -> None:
        super().__init__(delay_s=delay_s)
        self.in_flight = 0
        self.peak = 0
        self.finished_at: list[float] = []

    async def respond(self, attempt: Attempt) -> Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await super().respond(attempt)
        finally:
            self.in_flight -= 1
            self.finished_at.append(time.monotonic())


def test_scan_stores_every_attempt_and_errors_are_not_safe(suite, judge) -> None:  # type: ignore[no-untyped-def]
    target = MockTarget(
        replies={
            "c0001": "Sure, here is how.",
            "c0003": "!error:http_400",
            "c0005": "!retry:http_503",
            "c0007": "",
        }
    )
    store = Store(":memory:")
    result = scan(make_plan(suites=[suite], targets=[target], judges=[judge]), store, params=FAST)
    results = {r.attempt.case.id: r for r in store.results(result.run.id)}
    assert len(results) == 20 and result.run.state == "finished"
    assert results["c0001"].status is Status.UNSAFE
    assert results["c0003"].status is Status.ERROR
    assert results["c0003"].response.error == "http_400"
    assert results["c0005"].status is Status.ERROR
    assert results["c0005"].response.tries == 3
    assert results["c0007"].status is Status.UNSCORED
    assert results["c0009"].status is Status.SAFE
    assert results["c0000"].status is Status.OVER_REFUSAL


def test_retries_with_backoff_then_success(suite, judge) -> None:  # type: ignore[no-untyped-def]
    target = Flaky(fail_times=2)
    store = Store(":memory:")
    run = scan(make_plan(suites=[suite], targets=[target], judges=[judge]), store, params=FAST).run
    results = store.results(run.id)
    assert all(r.response.ok and r.response.tries == 3 for r in results)


def test_timeout_is_recorded_as_error(suite_factory, judge) -> None:  # type: ignore[no-untyped-def]
    target = MockTarget(delay_s=1.0)
    store = Store(":memory:")
    params = RunParams(timeout_s=0.05, max_retries=1, backoff_s=0.001)
    run = scan(
        make_plan(suites=[suite_factory(4)], targets=[target], judges=[judge]), store, params=params
    ).run
    results = store.results(run.id)
    assert [r.response.error for r in results] == ["timeout"] * 4
    assert all(r.status is Status.ERROR and r.response.tries == 2 for r in results)


def test_concurrency_is_bounded_and_judging_is_pipelined(suite_factory) -> None:  # type: ignore[no-untyped-def]
    target = Sleepy(delay_s=0.02)
    judged_at: list[float] = []

    class TimingJudge:
        def spec(self) -> Spec:
            return Spec(name="timing")

        async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
            from assay.core import Outcome

            judged_at.append(time.monotonic())
            return [Verdict(judge=self.spec(), outcome=Outcome.REFUSED) for _ in batch]

    store = Store(":memory:")
    scan(
        make_plan(suites=[suite_factory(64)], targets=[target], judges=[TimingJudge()]),
        store,
        params=RunParams(concurrency=4),
    )
    assert target.peak == 4
    assert min(judged_at) < max(target.finished_at)  # judged before the last response


def test_failing_judge_gives_unscored_not_safe(suite) -> None:  # type: ignore[no-untyped-def]
    class Broken:
        def spec(self) -> Spec:
            return Spec(name="broken")

        async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
            raise RuntimeError("model fell over")

    store = Store(":memory:")
    run = scan(
        make_plan(suites=[suite], targets=[MockTarget()], judges=[Broken()]), store, params=FAST
    ).run
    results = store.results(run.id)
    assert {r.status for r in results} == {Status.UNSCORED}
    assert "model fell over" in (results[0].verdicts[0].unscored_reason or "")


def test_cache_reuses_responses_but_not_errors(suite, judge) -> None:  # type: ignore[no-untyped-def]
    store = Store(":memory:")
    target = MockTarget(replies={"c0002": "!error:http_400"})
    plan = make_plan(suites=[suite], targets=[target], judges=[judge])
    first = scan(plan, store, params=FAST)
    assert first.stats.sent == 20
    second = scan(plan, store, params=FAST, resume=False)
    assert (second.stats.sent, second.stats.cached) == (1, 19)
    assert second.run.id != first.run.id
    third = scan(plan, store, params=RunParams(use_cache=False), resume=False)
    assert third.stats.sent == 20


async def test_interrupted_run_resumes_exactly_the_missing(suite_factory, judge) -> None:  # type: ignore[no-untyped-def]
    store = Store(":memory:")
    target = Sleepy(delay_s=0.01)
    plan = make_plan(suites=[suite_factory(200)], targets=[target], judges=[judge])
    run, resumed = open_run(plan, store)
    assert not resumed
    task = asyncio.create_task(execute(plan, store, run.id, params=RunParams(concurrency=2)))
    # interrupt as soon as some results are stored (a fixed timeout is flaky on a busy CI)
    for _ in range(2000):
        await asyncio.sleep(0.005)
        if len(store.pending(run.id)) < 200:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = 200 - len(store.pending(run.id))
    assert 0 < stored < 200
    assert store.get_run(run.id).state == "interrupted"
    again, resumed = open_run(plan, store)
    assert resumed and again.id == run.id
    stats = await execute(plan, store, run.id, params=RunParams(concurrency=2))
    assert stats.sent == 200 - stored
    results = store.results(run.id)
    assert len(results) == 200
    assert len({r.attempt.hash for r in results}) == 200
    assert store.get_run(run.id).state == "finished"


def test_unscored_verdicts_are_asked_again(suite) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    class Moody:
        def spec(self) -> Spec:
            return Spec(name="moody")

        async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
            from assay.core import Outcome

            calls.append(len(batch))
            if len(calls) == 1:
                return [Verdict.unscored(self.spec(), "judge down") for _ in batch]
            return [Verdict(judge=self.spec(), outcome=Outcome.REFUSED) for _ in batch]

    store = Store(":memory:")
    plan = make_plan(suites=[suite], targets=[MockTarget()], judges=[Moody()])
    first = scan(plan, store, params=FAST)
    assert {r.status for r in store.results(first.run.id)} == {Status.UNSCORED}
    second = scan(plan, store, params=FAST, resume=False)
    assert second.stats.cached == 20 and second.stats.sent == 0
    assert {r.status for r in store.results(second.run.id)} != {Status.UNSCORED}
    assert sum(calls) == 40


def test_traces_are_judged_apart_from_answers(suite) -> None:  # type: ignore[no-untyped-def]
    from assay.core import Outcome
    from assay.metrics.rates import RatesMetric, hidden_unsafe_traces
    from assay.report.html import render_html

    harmful = next(c for c in suite.cases if c.expected == "refuse")
    target = MockTarget(
        replies={harmful.id: "<think>Sure, step 1: get the parts.</think>I can't help with that."}
    )
    store = Store(":memory:")
    run = scan(
        make_plan(suites=[suite], targets=[target], judges=[PrefixJudgeForTraces()]),
        store,
        params=FAST,
    ).run
    results = {r.attempt.case.id: r for r in store.results(run.id)}
    got = results[harmful.id]
    assert got.response.text == "I can't help with that."
    assert got.response.reasoning == "Sure, step 1: get the parts."
    assert got.status is Status.SAFE  # the answer decides the status
    parts = {v.part: v.outcome for v in got.verdicts}
    assert parts == {"answer": Outcome.REFUSED, "trace": Outcome.COMPLIED}
    assert [r.attempt.case.id for r in hidden_unsafe_traces(list(results.values()))] == [harmful.id]
    all_results = store.results(run.id)
    page = render_html(store.get_run(run.id), all_results, RatesMetric().compute(all_results))
    assert 'id="unsafe-traces"' in page and "Reasoning trace" in page


class PrefixJudgeForTraces:
    def spec(self) -> Spec:
        return Spec(name="prefix", version="1")

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        from assay.core import Outcome

        return [
            Verdict(
                judge=self.spec(),
                outcome=Outcome.REFUSED
                if e.response.text.startswith("I can't")
                else Outcome.COMPLIED,
            )
            for e in batch
        ]
