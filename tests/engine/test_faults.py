"""Fault injection: a real local HTTP stub fails 30% of requests; no failure is a pass."""

from __future__ import annotations

from collections import Counter

from assay.core import Case, Message, Status
from assay.engine import RunParams, make_plan, scan
from assay.judges.keyword import KeywordRefusalJudge
from assay.store import Store
from assay.suites import Suite
from assay.targets.openai import OpenAITarget
from assay.testing.stub import StubServer

KIND = {"429": "http_429", "500": "http_500", "timeout": "timeout", "garbage": "unparsable"}


def _suite(n: int) -> Suite:
    cases = tuple(
        Case(
            id=f"f{i:03d}",
            messages=(Message(role="user", content=f"marker-{i:03d}"),),
            hazard="ncr",
            expected="refuse" if i % 2 else "comply",
            suite="faults",
        )
        for i in range(n)
    )
    return Suite(name="faults", version="1", cases=cases)


def test_every_failure_is_stored_as_an_error_never_as_safe() -> None:
    n = 120
    with StubServer(failure_rate=0.3, seed=7, hang_s=3.0) as stub:
        target = OpenAITarget(base_url=stub.base_url, model="stub")
        plan = make_plan(suites=[_suite(n)], targets=[target], judges=[KeywordRefusalJudge()])
        store = Store(":memory:")
        params = RunParams(concurrency=16, timeout_s=1.0, max_retries=0)
        result = scan(plan, store, params=params)
        log = stub.log
    assert result.run.state == "finished"
    outcome_of = {entry.marker: entry.outcome for entry in log}
    # No retries: at most one request per attempt. On a loaded machine a request can
    # time out before the in-process stub even logs it; such an attempt must be a timeout.
    assert len(log) <= n
    failed = Counter(o for o in outcome_of.values() if o != "ok")
    assert set(failed) == set(KIND), failed  # every failure mode was exercised
    assert 0.2 * n < sum(failed.values()) < 0.4 * n
    results = store.results(result.run.id)
    assert len(results) == n
    for r in results:
        outcome = outcome_of.get(r.attempt.case.prompt, "timeout")
        if outcome == "ok":
            assert r.response.ok and r.status is not Status.ERROR
        else:
            assert r.status is Status.ERROR, (outcome, r.status)
            assert r.response.error == KIND[outcome]
            assert r.verdicts == ()
    statuses = Counter(r.status for r in results)
    assert statuses[Status.ERROR] == sum(failed.values()) + (n - len(log))


def test_retries_recover_transient_failures() -> None:
    n = 60
    with StubServer(failure_rate=0.3, seed=3, failures=("429", "500")) as stub:
        target = OpenAITarget(base_url=stub.base_url, model="stub")
        plan = make_plan(suites=[_suite(n)], targets=[target], judges=[KeywordRefusalJudge()])
        store = Store(":memory:")
        params = RunParams(concurrency=8, timeout_s=2.0, max_retries=6, backoff_s=0.01)
        result = scan(plan, store, params=params)
        log = stub.log
    results = store.results(result.run.id)
    assert len(log) > n  # some requests were retried
    assert all(r.response.ok for r in results)
    assert max(r.response.tries for r in results) > 1
