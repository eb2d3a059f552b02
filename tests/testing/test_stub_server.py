"""The stub server: real HTTP, concurrency, injected failures, the request log, -m mode."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from assay.core.records import Attempt
from assay.errors import TargetError
from assay.targets.openai import OpenAITarget
from assay.testing.stub import StubServer

MakeAttempt = Callable[[str], Attempt]


def _chat(text: str) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


async def test_64_concurrent_requests_overlap() -> None:
    """64 requests of 50 ms each must be served concurrently, not one after another."""
    with StubServer(latency_s=0.05) as stub:
        async with httpx.AsyncClient(base_url=stub.base_url) as client:
            start = time.perf_counter()
            replies = await asyncio.gather(
                *(client.post("/chat/completions", json=_chat(f"q{i}")) for i in range(64))
            )
            elapsed = time.perf_counter() - start
    assert all(r.status_code == 200 for r in replies)
    assert elapsed < 1.0
    assert {r.json()["choices"][0]["message"]["content"][-3:].strip() for r in replies} >= {"q7"}


def test_keep_alive_serves_many_requests_on_one_connection() -> None:
    with StubServer(reply="fixed") as stub, httpx.Client(base_url=stub.base_url) as client:
        for i in range(20):
            reply = client.post("/chat/completions", json=_chat(str(i)))
            assert reply.json()["choices"][0]["message"]["content"] == "fixed"
        assert len(stub.log) == 20


async def test_every_injected_failure_ends_as_an_error(make_attempt: MakeAttempt) -> None:
    """Seeded failures: each logged outcome matches what the client saw, request by request."""
    with StubServer(failure_rate=0.4, seed=3, hang_s=5.0) as stub:
        target = OpenAITarget(base_url=stub.base_url, model="m")
        target.http_timeout_s = 0.5
        prompts = [f"prompt {i}" for i in range(60)]
        results = await asyncio.gather(
            *(target.respond(make_attempt(p)) for p in prompts), return_exceptions=True
        )
        await target.aclose()
        log = {entry.marker: entry.outcome for entry in stub.log}
    expected_kind = {
        "429": "http_429",
        "500": "http_500",
        "garbage": "unparsable",
        "timeout": "timeout",
    }
    seen = {"ok": 0, "error": 0}
    for prompt, result in zip(prompts, results, strict=True):
        if log[prompt] == "ok":
            assert not isinstance(result, BaseException)
            seen["ok"] += 1
        else:
            assert isinstance(result, TargetError)
            assert result.kind == expected_kind[log[prompt]]
            seen["error"] += 1
    assert seen["ok"] > 0
    assert seen["error"] > 0
    assert set(log.values()) == {"ok", "429", "500", "garbage", "timeout"}


def test_failures_are_drawn_from_a_seeded_rng() -> None:
    def outcomes(seed: int) -> list[str]:
        with (
            StubServer(failure_rate=0.5, failures=("429", "500"), seed=seed) as stub,
            httpx.Client(base_url=stub.base_url) as client,
        ):
            for i in range(30):
                client.post("/chat/completions", json=_chat(str(i)))
            return [entry.outcome for entry in stub.log]

    first = outcomes(7)
    assert first == outcomes(7)
    assert first != outcomes(8)
    assert set(first) == {"ok", "429", "500"}


def test_a_marker_forces_failures_a_number_of_times() -> None:
    with StubServer() as stub, httpx.Client(base_url=stub.base_url) as client:
        codes = [
            client.post("/chat/completions", json=_chat("x [[stub:500*2]]")).status_code
            for _ in range(3)
        ]
        always = [
            client.post("/chat/completions", json=_chat("[[stub:429]]")).status_code
            for _ in range(2)
        ]
        reply = client.post("/chat/completions", json=_chat("[[stub:429]]"))
    assert codes == [500, 500, 200]
    assert always == [429, 429]
    assert reply.headers["retry-after"] == "0"
    assert [e.outcome for e in stub.log] == ["500", "500", "ok", "429", "429", "429"]


def test_other_routes_and_bad_requests() -> None:
    with StubServer() as stub, httpx.Client(base_url=f"http://127.0.0.1:{stub.port}") as client:
        assert client.get("/v1/models").json()["data"][0]["id"] == "stub"
        assert client.get("/health").status_code == 200
        assert client.get("/nowhere").status_code == 404
        assert client.post("/v1/chat/completions", content=b"{oops").status_code == 400
        assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 400
        client.post("/v1/chat/completions", json=_chat("hello"))
        log = client.get("/stub/log").json()
    assert [entry["outcome"] for entry in log] == ["bad_request", "bad_request", "ok"]
    assert log[-1]["marker"] == "hello"
    stub.clear_log()
    assert stub.log == []


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown failure"):
        StubServer(failures=("teapot",))
    with pytest.raises(ValueError):
        StubServer(failure_rate=1.5)


def test_runs_as_a_separate_process() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assay.testing.stub",
            "--port",
            "0",
            "--latency",
            "0.01",
            "--reply",
            "from a process",
            "--print-port",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=_chat("hi"))
        assert reply.json()["choices"][0]["message"]["content"] == "from a process"
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "served 1 requests" in err


def test_stop_drops_a_hanging_request() -> None:
    stub = StubServer(hang_s=60).start()
    with (
        httpx.Client(base_url=stub.base_url, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post("/chat/completions", json=_chat("[[stub:timeout]]"))
    start = time.perf_counter()
    stub.stop()
    assert time.perf_counter() - start < 2.0
