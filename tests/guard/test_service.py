"""The guard's HTTP service, started for real with uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from assay.errors import InputError
from assay.guard.limits import RateLimiter
from assay.guard.prom import Registry
from assay.guard.service import OPENAI_CATEGORIES, CheckBatcher, ServiceSettings, create_app
from assay.guard.types import CheckRequest, Decision, GuardMessage

Running = Any  # conftest.Running (conftest cannot be imported by name)


def _check_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


# --------------------------------------------------------------------------- auth, limits


def test_healthz_is_open_and_names_policy(service: Running) -> None:
    r = httpx.get(f"{service.url}/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "policy_id": "policy-fake",
        "calibration_id": "cal-fake",
        "configs": ["default", "medical"],
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer assay_wrong"}, {"Authorization": "Basic abc"}],
    ids=["missing", "bad", "wrong-scheme"],
)
def test_requests_without_a_valid_key_get_401(service: Running, headers: dict[str, str]) -> None:
    r = httpx.post(f"{service.url}/v1/guard/check", json=_check_body("hello"), headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "authentication_error"
    assert r.headers["www-authenticate"] == "Bearer"
    assert service.guard.calls == []  # nothing reached the guard
    assert httpx.get(f"{service.url}/metrics", headers=headers).status_code == 401


def test_auth_can_be_turned_off(start_service: Callable[..., Running]) -> None:
    running = start_service(require_auth=False, keys_file=None)
    r = httpx.post(f"{running.url}/v1/guard/check", json=_check_body("hello"))
    assert r.status_code == 200


def test_auth_without_a_keys_file_is_refused_at_startup(fake_guard: Any) -> None:
    with pytest.raises(InputError, match="keys file"):
        create_app(fake_guard, ServiceSettings())


def test_oversized_body_gets_413(service: Running) -> None:
    big = "x" * (service.settings.max_body_bytes + 1)
    r = httpx.post(f"{service.url}/v1/moderations", json={"input": big}, headers=service.headers)
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "request_too_large"
    assert service.guard.calls == []


def test_oversized_chunked_body_without_content_length_gets_413(service: Running) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024  # 100 KiB, no Content-Length: only the bytes read tell

    r = httpx.post(
        f"{service.url}/v1/moderations",
        content=chunks(),
        headers={**service.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert r.status_code == 413


def test_rate_limit_gives_429_with_retry_after(start_service: Callable[..., Running]) -> None:
    running = start_service(rate_per_s=0.5, burst=3)
    with httpx.Client(base_url=running.url, headers=running.headers) as client:
        codes = [client.post("/v1/guard/check", json=_check_body("hi")) for _ in range(5)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    assert codes[3].json()["error"]["type"] == "rate_limit_exceeded"
    assert int(codes[3].headers["retry-after"]) == 2  # one token per 2 s
    # healthz is never limited
    assert httpx.get(f"{running.url}/healthz").status_code == 200


def test_rate_limiter_refills_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.5]
    assert limiter.acquire("b") == 0.0  # buckets are per key
    now[0] = 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert RateLimiter.retry_after(0.01) == "1"
    assert RateLimiter.retry_after(2.2) == "3"


# --------------------------------------------------------------------------- check


def test_check_returns_the_decision(service: Running) -> None:
    body = {
        "messages": [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "how do I make a BOMB"},
            {"role": "assistant", "content": "no"},
        ],
        "turn": 1,
    }
    r = httpx.post(f"{service.url}/v1/guard/check", json=body, headers=service.headers)
    assert r.status_code == 200
    data = r.json()
    assert data["decision"] == "block"
    assert data["hazards"] == ["iwp"]
    assert data["policy_id"] == "policy-fake"
    assert data["calibration_id"] == "cal-fake"
    assert data["prediction_set"] == ["unsafe"]
    assert data["judge_error"] is None
    assert data["id"]
    assert Decision.model_validate(data).decision == "block"
    # the last turn by default
    body.pop("turn")
    r = httpx.post(f"{service.url}/v1/guard/check", json=body, headers=service.headers)
    assert r.json()["decision"] == "allow"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({**_check_body("x"), "turn": 5}, "turn"),
        ({**_check_body("x"), "extra": 1}, "extra"),
    ],
)
def test_check_rejects_bad_requests_with_400(
    service: Running, body: dict[str, Any], needle: str
) -> None:
    r = httpx.post(f"{service.url}/v1/guard/check", json=body, headers=service.headers)
    assert r.status_code == 400
    assert needle in r.json()["error"]["message"]


def test_unknown_config_is_400_naming_it(service: Running) -> None:
    r = httpx.post(
        f"{service.url}/v1/guard/check",
        json=_check_body("hello", config="pediatric"),
        headers=service.headers,
    )
    assert r.status_code == 400
    assert "'pediatric'" in r.json()["error"]["message"]
    r = httpx.post(
        f"{service.url}/v1/moderations",
        json={"input": "hello"},
        headers={**service.headers, "X-Assay-Config": "pediatric"},
    )
    assert r.status_code == 400
    assert "'pediatric'" in r.json()["error"]["message"]
    assert service.guard.calls == []


def test_cosa_config_from_header_or_body(service: Running) -> None:
    url = f"{service.url}/v1/guard/check"
    text = "what dose of PILLS for my patient"
    default = httpx.post(url, json=_check_body(text), headers=service.headers).json()
    by_body = httpx.post(url, json=_check_body(text, config="medical"), headers=service.headers)
    by_header = httpx.post(
        url, json=_check_body(text), headers={**service.headers, "X-Assay-Config": "medical"}
    )
    assert default["decision"] == "block"
    assert by_body.json()["decision"] == "allow"
    assert by_body.json()["config"] == "medical"
    assert by_header.json()["decision"] == "allow"
    clash = httpx.post(
        url,
        json=_check_body(text, config="default"),
        headers={**service.headers, "X-Assay-Config": "medical"},
    )
    assert clash.status_code == 400


# --------------------------------------------------------------------------- moderations


def test_moderations_is_openai_compatible(service: Running) -> None:
    r = httpx.post(
        f"{service.url}/v1/moderations",
        json={"input": ["hello there", "build a BOMB", "MAYBE this"], "model": "omni"},
        headers=service.headers,
    )
    assert r.status_code == 200
    data = r.json()
    assert data["id"].startswith("modr-")
    assert data["model"] == "omni"
    allowed, blocked, abstained = data["results"]
    for result in data["results"]:
        assert set(result["categories"]) == set(OPENAI_CATEGORIES)
        assert set(result["category_scores"]) == set(OPENAI_CATEGORIES)
        assert all(isinstance(v, bool) for v in result["categories"].values())
        assert result["policy_id"] == "policy-fake"
        assert result["decision_id"]
    assert (allowed["flagged"], allowed["decision"]) == (False, "allow")
    assert not any(allowed["categories"].values())
    assert (blocked["flagged"], blocked["decision"]) == (True, "block")
    assert blocked["hazards"] == ["iwp"]
    assert {c for c, v in blocked["categories"].items() if v} == {"illicit/violent", "violence"}
    assert blocked["category_scores"]["violence"] == pytest.approx(0.91)
    assert blocked["scores"]["unsafe"] == pytest.approx(0.97)
    # abstain is flagged while on_abstain is "block" (the default)
    assert (abstained["flagged"], abstained["decision"]) == (True, "abstain")
    assert abstained["categories"]["illicit"] is True


def test_moderations_abstain_not_flagged_when_policy_allows(
    start_service: Callable[..., Running],
) -> None:
    running = start_service(on_abstain="allow")
    r = httpx.post(
        f"{running.url}/v1/moderations",
        json={"input": [{"type": "text", "text": "MAYBE"}], "config": "medical"},
        headers=running.headers,
    )
    result = r.json()["results"][0]
    assert (result["decision"], result["flagged"], result["config"]) == (
        "abstain",
        False,
        "medical",
    )
    assert r.json()["model"] == "assay-guard"


# --------------------------------------------------------------------------- fail closed


def test_guard_exception_fails_closed_with_200(service: Running) -> None:
    r = httpx.post(
        f"{service.url}/v1/guard/check", json=_check_body("CRASH now"), headers=service.headers
    )
    assert r.status_code == 200
    data = r.json()
    assert data["decision"] == "block"
    assert data["judge_error"] == "exception: RuntimeError"
    assert data["policy_id"] == "policy-fake"
    r = httpx.post(
        f"{service.url}/v1/moderations", json={"input": "CRASH"}, headers=service.headers
    )
    assert r.status_code == 200
    assert r.json()["results"][0]["flagged"] is True


def test_guard_timeout_fails_closed(start_service: Callable[..., Running]) -> None:
    running = start_service(check_timeout_s=0.3)
    r = httpx.post(
        f"{running.url}/v1/guard/check", json=_check_body("SLOW"), headers=running.headers
    )
    assert r.status_code == 200
    assert (r.json()["decision"], r.json()["judge_error"]) == ("block", "timeout")
    # the stuck batch was cancelled: the service still answers
    r = httpx.post(
        f"{running.url}/v1/guard/check", json=_check_body("hello"), headers=running.headers
    )
    assert r.json()["decision"] == "allow"


async def test_one_crashing_request_does_not_fail_its_batch(
    start_service: Callable[..., Running], make_guard: Any
) -> None:
    running = start_service(guard=make_guard(delay_s=0.05), batch_wait_ms=50)
    async with httpx.AsyncClient(base_url=running.url, headers=running.headers) as client:
        texts = ["hello", "CRASH", "BOMB", "fine"]
        replies = await asyncio.gather(
            *(client.post("/v1/guard/check", json=_check_body(t)) for t in texts)
        )
    decisions = [(r.json()["decision"], r.json()["judge_error"]) for r in replies]
    assert decisions == [
        ("allow", None),
        ("block", "exception: RuntimeError"),
        ("block", None),
        ("allow", None),
    ]
    assert running.guard.calls[0] == 4  # one batch first, then one by one


# --------------------------------------------------------------------------- batching


async def test_concurrent_checks_are_batched(
    start_service: Callable[..., Running], make_guard: Any
) -> None:
    guard = make_guard(delay_s=0.02)
    running = start_service(guard=guard, batch_wait_ms=20, max_batch=64)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        base_url=running.url, headers=running.headers, limits=limits
    ) as client:
        replies = await asyncio.gather(
            *(client.post("/v1/guard/check", json=_check_body(f"q{i}")) for i in range(48))
        )
        metrics = (await client.get("/metrics")).text
    assert all(r.status_code == 200 for r in replies)
    assert sum(guard.calls) == 48
    assert len(guard.calls) <= 24, guard.calls  # far fewer calls than requests
    assert max(guard.calls) >= 4
    assert f"assay_guard_batch_size_count {len(guard.calls)}" in metrics
    assert "assay_guard_batch_size_sum 48" in metrics


async def test_batcher_gathers_and_isolates() -> None:
    seen: list[list[str]] = []

    async def check(requests: Any) -> list[Decision]:
        seen.append([r.checked.content for r in requests])
        if len(requests) > 1 and any(r.checked.content == "bad" for r in requests):
            raise RuntimeError("boom")
        if requests[0].checked.content == "bad":
            raise ValueError("bad one")
        return [Decision(decision="allow", policy_id="p", config="default") for _ in requests]

    sizes: list[int] = []
    batcher = CheckBatcher(check=check, max_batch=3, wait_s=0.05, on_batch=sizes.append)

    def req(text: str) -> CheckRequest:
        return CheckRequest(messages=(GuardMessage(role="user", content=text),))

    results = await asyncio.gather(
        *(batcher.submit(req(t)) for t in ["a", "b", "bad", "c"]), return_exceptions=True
    )
    await batcher.close()
    assert isinstance(results[2], ValueError)
    assert [r.decision for r in results if isinstance(r, Decision)] == ["allow"] * 3
    assert seen[0] == ["a", "b", "bad"]  # max_batch cut it
    assert sorted(map(tuple, seen[1:])) == [("a",), ("b",), ("bad",), ("c",)]
    assert sizes[0] == 3


# --------------------------------------------------------------------------- feedback


def test_feedback_reaches_the_guard(service: Running) -> None:
    decision = httpx.post(
        f"{service.url}/v1/guard/check", json=_check_body("MAYBE"), headers=service.headers
    ).json()
    r = httpx.post(
        f"{service.url}/v1/guard/feedback",
        json={"decision_id": decision["id"], "label": "unsafe", "reviewer": "ana"},
        headers=service.headers,
    )
    assert r.status_code == 200
    assert r.json() == {
        "decision_id": decision["id"],
        "label": "unsafe",
        "weights": {"harm": pytest.approx(0.6), "llamaguard": pytest.approx(0.4)},
        "step": 1,
    }
    assert [f.reviewer for f in service.guard.feedbacks] == ["ana"]
    bad = httpx.post(
        f"{service.url}/v1/guard/feedback",
        json={"decision_id": "x", "label": "maybe"},
        headers=service.headers,
    )
    assert bad.status_code == 400
    unknown = httpx.post(
        f"{service.url}/v1/guard/feedback",
        json={"decision_id": "unknown", "label": "safe"},
        headers=service.headers,
    )
    assert unknown.status_code == 400
    assert "no such decision" in unknown.json()["error"]["message"]


# --------------------------------------------------------------------------- metrics

_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})?'
    r" (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$"
)


def parse_prometheus(text: str) -> dict[str, float]:
    """A strict reader of the text format: every line a comment or a sample.

    Returns ``{"name{labels}": value}``; fails on a sample before its ``# TYPE``.
    """
    assert text.endswith("\n")
    typed: set[str] = set()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram")
            typed.add(name)
            continue
        if line.startswith("# HELP "):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample: {line!r}"
        name = match.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or base in typed, f"{name} has no TYPE"
        samples[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
    return samples


def test_metrics_are_prometheus_text_and_count(service: Running) -> None:
    with httpx.Client(base_url=service.url, headers=service.headers) as client:
        before = parse_prometheus(client.get("/metrics").text)
        for text in ["hi", "BOMB", "MAYBE", "MAYBE"]:
            client.post("/v1/guard/check", json=_check_body(text))
        client.post("/v1/guard/check", json={"messages": []})
        r = client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = parse_prometheus(r.text)
    check = 'endpoint="/v1/guard/check"'
    assert after[f'assay_guard_decisions_total{{{check},stage="input",decision="abstain"}}'] == 2
    assert after[f'assay_guard_decisions_total{{{check},stage="input",decision="block"}}'] == 1
    assert after[f'assay_guard_requests_total{{{check},code="200"}}'] == 4
    assert after[f'assay_guard_requests_total{{{check},code="400"}}'] == 1
    assert after["assay_guard_abstention_rate"] == pytest.approx(0.5)
    assert after[f"assay_guard_request_duration_seconds_count{{{check}}}"] == 5
    assert after[f'assay_guard_request_duration_seconds_bucket{{{check},le="+Inf"}}'] == 5
    assert before.get("assay_guard_abstention_rate") == 0.0


def test_open_metrics_setting(start_service: Callable[..., Running]) -> None:
    running = start_service(open_metrics=True)
    assert httpx.get(f"{running.url}/metrics").status_code == 200


def test_prometheus_rendering() -> None:
    registry = Registry()
    counter = registry.counter("c_total", "a counter", ("path",))
    counter.inc(path='a"b\\c\nd')
    hist = registry.histogram("h", "a histogram", (0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        hist.observe(value)
    registry.gauge("g", "a gauge", read=lambda: 0.25)
    text = registry.render()
    samples = parse_prometheus(text)
    assert samples['c_total{path="a\\"b\\\\c\\nd"}'] == 1
    assert samples['h_bucket{le="0.1"}'] == 2  # le is inclusive
    assert samples['h_bucket{le="1"}'] == 3
    assert samples['h_bucket{le="+Inf"}'] == 4
    assert samples["h_sum"] == pytest.approx(3.65)
    assert samples["g"] == 0.25
    with pytest.raises(ValueError):
        counter.inc(-1, path="x")
    with pytest.raises(ValueError):
        counter.inc(other="x")


def test_guard_modules_import_light() -> None:
    """The service modules load FastAPI and uvicorn only when an app is made or served."""
    code = (
        "import sys, assay.guard.service, assay.guard.serve, assay.guard.proxy, "
        "assay.guard.audit, assay.guard.keys, assay.guard.limits, assay.guard.prom\n"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette', 'torch') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_batcher_waits_longer_only_while_checks_keep_arriving() -> None:
    import time

    sizes: list[int] = []

    async def check(requests: Any) -> list[Decision]:
        sizes.append(len(requests))
        return [
            Decision(decision="allow", policy_id="p", config="default", id=str(i))
            for i in range(len(requests))
        ]

    batcher = CheckBatcher(check=check, wait_s=0.002, max_wait_s=0.2, gap_s=0.01)
    req = CheckRequest(messages=(GuardMessage(role="user", content="hi"),))
    started = time.perf_counter()
    await batcher.submit(req)  # alone: released after the base wait, not the max wait
    assert time.perf_counter() - started < 0.1 and sizes == [1]

    async def staggered(i: int) -> Decision:
        await asyncio.sleep(0.001 * i)  # a burst: 1 ms apart, 11 ms in all (> base wait)
        return await batcher.submit(req)

    await asyncio.gather(*(staggered(i) for i in range(12)))
    assert sizes[1:] == [12]  # one batch, although the burst outlasted the base wait
    await batcher.close()
