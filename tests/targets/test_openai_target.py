"""OpenAITarget against the real local stub server: success and every failure mapping."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from assay.core.records import Attempt
from assay.errors import (
    InputError,
    ResponseFormatError,
    RetryableTargetError,
    TargetError,
)
from assay.targets.openai import (
    OpenAITarget,
    _parse_completion,
    chat_completions_url,
    parse_retry_after,
)
from assay.testing.stub import StubServer

MakeAttempt = Callable[..., Attempt]


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(reply=lambda message: f"echo: {message}") as server:
        yield server


async def test_success_returns_text_tokens_and_latency(
    stub: StubServer, make_attempt: MakeAttempt
) -> None:
    target = OpenAITarget(base_url=stub.base_url, model="stub-model")
    response = await target.respond(make_attempt("How do clouds form?"))
    await target.aclose()
    assert response.text == "echo: How do clouds form?"
    assert response.finish_reason == "stop"
    assert response.prompt_tokens == 4
    assert response.completion_tokens == 5
    assert response.latency_s > 0
    assert response.ok
    assert stub.log[0].marker == "How do clouds form?"
    assert stub.log[0].outcome == "ok"


@pytest.mark.parametrize(
    ("mode", "error", "kind"),
    [
        ("429", RetryableTargetError, "http_429"),
        ("500", RetryableTargetError, "http_500"),
        ("garbage", ResponseFormatError, "unparsable"),
        ("timeout", RetryableTargetError, "timeout"),
    ],
)
async def test_each_failure_maps_to_its_error(
    stub: StubServer, make_attempt: MakeAttempt, mode: str, error: type[Exception], kind: str
) -> None:
    target = OpenAITarget(base_url=stub.base_url, model="stub")
    target.http_timeout_s = 0.3
    with pytest.raises(error) as caught:
        await target.respond(make_attempt(f"[[stub:{mode}]] tell me"))
    await target.aclose()
    assert isinstance(caught.value, TargetError)
    assert caught.value.kind == kind
    assert stub.outcomes()[mode] == 1


async def test_429_carries_retry_after(stub: StubServer, make_attempt: MakeAttempt) -> None:
    target = OpenAITarget(base_url=stub.base_url, model="stub")
    with pytest.raises(RetryableTargetError) as caught:
        await target.respond(make_attempt("[[stub:429]]"))
    await target.aclose()
    assert caught.value.retry_after == 0.0


async def test_other_4xx_is_not_retryable_and_shows_the_body(
    stub: StubServer, make_attempt: MakeAttempt
) -> None:
    target = OpenAITarget(base_url=f"http://127.0.0.1:{stub.port}/wrong", model="stub")
    with pytest.raises(TargetError) as caught:
        await target.respond(make_attempt("hello"))
    await target.aclose()
    assert not isinstance(caught.value, RetryableTargetError)
    assert caught.value.kind == "http_404"
    assert "not found" in str(caught.value)


async def test_connection_refused_is_retryable(make_attempt: MakeAttempt) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = OpenAITarget(base_url=f"http://127.0.0.1:{port}/v1", model="x")
    with pytest.raises(RetryableTargetError) as caught:
        await target.respond(make_attempt("hello"))
    await target.aclose()
    assert caught.value.kind == "connection"


@pytest.mark.parametrize(
    "url", ["localhost:8000", "ftp://host/v1", "http://", "http:///v1", "http://h:port/v1", ""]
)
def test_bad_base_url_is_an_input_error_naming_the_field(url: str) -> None:
    with pytest.raises(InputError) as caught:
        OpenAITarget(base_url=url, model="m")
    assert caught.value.field == "base_url"
    assert "base_url" in str(caught.value)


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://h:8000/v1", "http://h:8000/v1/chat/completions"),
        ("http://h:8000/v1/", "http://h:8000/v1/chat/completions"),
        ("http://h:8000", "http://h:8000/v1/chat/completions"),
        ("https://api.example.com/openai/v1", "https://api.example.com/openai/v1/chat/completions"),
        ("http://h/v1/chat/completions", "http://h/v1/chat/completions"),
    ],
)
def test_chat_completions_url(base: str, url: str) -> None:
    assert chat_completions_url(base) == url


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (parse_retry_after(later) or 0) <= 31


def _reply(body: object) -> httpx.Response:
    request = httpx.Request("POST", "http://h/v1/chat/completions")
    if isinstance(body, bytes):
        return httpx.Response(200, content=body, request=request)
    return httpx.Response(200, json=body, request=request)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        {"choices": []},
        {"nope": 1},
        [1, 2],
        {"choices": [{"message": "hi"}]},
        {"choices": [{"message": {"content": 5}}]},
    ],
)
def test_wrong_shape_is_a_format_error(body: object) -> None:
    with pytest.raises(ResponseFormatError):
        _parse_completion(_reply(body), 0.1)


def test_reasoning_and_missing_content_are_read() -> None:
    body = {
        "choices": [
            {
                "message": {"content": None, "reasoning_content": "thinking..."},
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 3},
    }
    response = _parse_completion(_reply(body), 0.1)
    assert response.text == ""
    assert response.reasoning == "thinking..."
    assert response.finish_reason == "length"
    assert response.prompt_tokens == 3
    assert response.completion_tokens is None
    alt = {"choices": [{"message": {"content": "ok", "reasoning": "r"}}]}
    assert _parse_completion(_reply(alt), 0.1).reasoning == "r"


async def test_api_key_is_sent_but_never_in_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_TEST_KEY", "sk-secret")
    target = OpenAITarget(
        base_url="http://h/v1", model="m", api_key_env="ASSAY_TEST_KEY", extra_body={"top_p": 0.5}
    )
    client = target._get_client()
    assert client.headers["authorization"] == "Bearer sk-secret"
    assert "sk-secret" not in target.spec().model_dump_json()
    assert target.spec().params["api_key_env"] == "ASSAY_TEST_KEY"
    await target.aclose()


def test_spec_rebuilds_the_target() -> None:
    target = OpenAITarget(base_url="http://h/v1", model="m", extra_body={"seed": 1})
    spec = target.spec()
    assert spec.name == "openai"
    assert spec.version == "1"
    assert OpenAITarget(**spec.params).spec() == spec
    assert OpenAITarget.default_concurrency == 8


def test_one_target_serves_several_event_loops(stub: StubServer, make_attempt: MakeAttempt) -> None:
    target = OpenAITarget(base_url=stub.base_url, model="m")
    for prompt in ("first", "second"):
        response = asyncio.run(target.respond(make_attempt(prompt)))
        assert response.text == f"echo: {prompt}"


async def test_extra_body_is_merged_into_the_request(make_attempt: MakeAttempt) -> None:
    target = OpenAITarget(
        base_url="http://h/v1", model="m", extra_body={"top_p": 0.5, "max_tokens": 9}
    )
    body = target._body(make_attempt("hi"))
    assert body["top_p"] == 0.5
    assert body["max_tokens"] == 9
    assert body["messages"] == [{"role": "user", "content": "hi"}]
