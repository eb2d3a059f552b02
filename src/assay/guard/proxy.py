"""The guarded proxy: check the input, forward to the upstream model, check the output.

Nothing unchecked reaches the client. A blocked input is never forwarded; a blocked
answer is replaced by a refusal; an upstream failure is a ``502`` with a JSON error, never
the upstream's body passed through. Streamed answers are buffered into windows of about
``window_chars`` characters and each window is checked (with everything released before
it, so a harmful answer split across windows is still seen whole) before it is released;
a blocked window ends the stream with a refusal chunk and ``[DONE]``.

This module knows HTTP only through ``httpx`` (the upstream side) and returns plain
results (:class:`ProxyReply`, :class:`ProxyStream`) that the FastAPI service turns into
responses, so it can be read and tested without the web framework.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.guard.types import CheckRequest, Decision, GuardMessage, GuardRole

if TYPE_CHECKING:
    import httpx

__all__ = ["ProxyContext", "ProxyError", "ProxyReply", "ProxyStream", "complete"]

#: (request, stage) -> decision; the service batches, times out, audits and counts it.
CheckFn = Callable[[CheckRequest, str], Awaitable[Decision]]

_ROLES: dict[str, GuardRole] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}


class ProxyError(Exception):
    """A request the proxy refuses or cannot serve: becomes a JSON error response."""

    def __init__(self, status: int, message: str, kind: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.extra = extra


@dataclass(frozen=True)
class ProxyReply:
    """A complete JSON answer (status 200)."""

    body: dict[str, Any]


@dataclass
class ProxyStream:
    """A server-sent-events answer: ``chunks`` yields encoded ``data:`` events."""

    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class ProxyContext:
    """What one proxied request needs.

    Attributes:
        check: runs one check (batched, timed out and audited by the service).
        blocks: whether a decision stops the text (``abstain`` follows the service's
            ``on_abstain``).
        client: the shared HTTP client for the upstream.
        upstream_url: the upstream's base URL (``.../v1``).
        upstream_headers: headers sent upstream (its API key; never the caller's key).
        refusal_text: what the client gets instead of blocked text.
        window_chars: how much streamed text is held back and checked at a time.
        on_upstream_error: called with a short kind for each upstream failure (metrics).
    """

    check: CheckFn
    blocks: Callable[[Decision], bool]
    client: httpx.AsyncClient
    upstream_url: str
    upstream_headers: dict[str, str] = field(default_factory=dict)
    refusal_text: str = "I can't help with that."
    window_chars: int = 200
    on_upstream_error: Callable[[str], None] = lambda kind: None


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    raise ProxyError(
        400, "message content must be a string or a list of parts", "invalid_request_error"
    )


def _assistant_text(message: dict[str, Any]) -> str:
    """An answer's text; tool calls count (their arguments can carry harm too)."""
    text = _text(message.get("content"))
    calls = message.get("tool_calls") or message.get("function_call")
    if calls:
        text = f"{text}\n{json.dumps(calls, sort_keys=True)}" if text else json.dumps(calls)
    return text


def conversation(messages: Any) -> tuple[tuple[GuardMessage, ...], int]:
    """The conversation as the guard sees it, and the index of the turn to check.

    The checked turn is the last user or tool message (a tool result is new input to the
    model, and can carry an injected instruction); the turns before it are context.
    """
    if not isinstance(messages, list) or not messages:
        raise ProxyError(400, "'messages' must be a non-empty list", "invalid_request_error")
    out: list[GuardMessage] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ProxyError(400, f"messages[{i}] must be an object", "invalid_request_error")
        role = _ROLES.get(str(message.get("role")))
        if role is None:
            raise ProxyError(
                400, f"messages[{i}]: unknown role {message.get('role')!r}", "invalid_request_error"
            )
        content = _assistant_text(message) if role == "assistant" else _text(message.get("content"))
        out.append(GuardMessage(role=role, content=content))
    inputs = [i for i, m in enumerate(out) if m.role in ("user", "tool")]
    return tuple(out), (inputs[-1] if inputs else len(out) - 1)


def _dump(decision: Decision | None) -> dict[str, Any] | None:
    return None if decision is None else decision.model_dump(mode="json")


def _refusal_completion(ctx: ProxyContext, model: str, assay: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-assay-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "content_filter",
                "message": {"role": "assistant", "content": ctx.refusal_text},
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "assay": assay,
    }


def _event(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def _chunk(
    chunk_id: str, model: str, delta: dict[str, Any], finish: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta else [],
        **extra,
    }


async def _reach(ctx: ProxyContext, call: Awaitable[httpx.Response]) -> httpx.Response:
    """Await an upstream call; a timeout or connection failure becomes a 502, counted."""
    import httpx

    try:
        return await call
    except httpx.TimeoutException as exc:
        ctx.on_upstream_error("timeout")
        raise ProxyError(502, "the upstream model timed out", "upstream_error") from exc
    except httpx.HTTPError as exc:
        ctx.on_upstream_error("connection")
        raise ProxyError(
            502, f"the upstream model is unreachable ({type(exc).__name__})", "upstream_error"
        ) from exc


async def complete(
    ctx: ProxyContext, body: dict[str, Any], *, config: str | None
) -> ProxyReply | ProxyStream:
    """Serve one ``/v1/chat/completions`` request through the guard.

    Raises:
        ProxyError: a malformed request (400) or an upstream failure (502).
    """
    messages, turn = conversation(body.get("messages"))
    model = str(body.get("model") or "")
    stream = bool(body.get("stream"))
    decision_in = await ctx.check(
        CheckRequest(messages=messages, turn=turn, config=config), "input"
    )
    if ctx.blocks(decision_in):
        assay = {"input": _dump(decision_in), "output": None}
        if stream:
            return ProxyStream(_refusal_stream(ctx, model, assay))
        return ProxyReply(_refusal_completion(ctx, model, assay))
    if stream:
        return await _stream(ctx, body, messages, config, decision_in)
    return ProxyReply(await _forward(ctx, body, messages, config, decision_in))


async def _refusal_stream(
    ctx: ProxyContext, model: str, assay: dict[str, Any]
) -> AsyncIterator[bytes]:
    chunk_id = f"chatcmpl-assay-{uuid.uuid4().hex[:24]}"
    delta = {"role": "assistant", "content": ctx.refusal_text}
    yield _event(_chunk(chunk_id, model, delta, "content_filter", assay=assay))
    yield _event("[DONE]")


def _upstream_payload(body: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    payload = dict(body)
    payload["stream"] = stream
    if not stream:
        payload.pop("stream_options", None)
    return payload


async def _forward(
    ctx: ProxyContext,
    body: dict[str, Any],
    messages: tuple[GuardMessage, ...],
    config: str | None,
    decision_in: Decision,
) -> dict[str, Any]:

    url = ctx.upstream_url.rstrip("/") + "/chat/completions"
    response = await _reach(
        ctx,
        ctx.client.post(
            url, json=_upstream_payload(body, stream=False), headers=ctx.upstream_headers
        ),
    )
    if response.status_code != 200:
        ctx.on_upstream_error(f"http_{response.status_code}")
        raise ProxyError(
            502,
            f"the upstream model answered HTTP {response.status_code}",
            "upstream_error",
            upstream_status=response.status_code,
        )
    try:
        data = response.json()
        choices = data["choices"]
        if not isinstance(choices, list) or not choices:
            raise ValueError("no choices")
        texts = [_assistant_text(choice["message"]) for choice in choices]
    except (ValueError, KeyError, TypeError, ProxyError) as exc:
        ctx.on_upstream_error("format")
        raise ProxyError(
            502, "the upstream answer is not a chat completion", "upstream_error"
        ) from exc
    checks = [
        ctx.check(
            CheckRequest(
                messages=(*messages, GuardMessage(role="assistant", content=text)), config=config
            ),
            "output",
        )
        for text in texts
    ]
    decisions = await asyncio.gather(*checks)
    for choice, decision in zip(choices, decisions, strict=True):
        if ctx.blocks(decision):
            choice["message"] = {"role": "assistant", "content": ctx.refusal_text}
            choice["finish_reason"] = "content_filter"
    assay: dict[str, Any] = {"input": _dump(decision_in), "output": _dump(decisions[0])}
    if len(decisions) > 1:
        assay["outputs"] = [_dump(d) for d in decisions]
    data["assay"] = assay
    return dict(data)


async def _stream(
    ctx: ProxyContext,
    body: dict[str, Any],
    messages: tuple[GuardMessage, ...],
    config: str | None,
    decision_in: Decision,
) -> ProxyStream:
    """Open the upstream stream (failures here are still a clean 502), then relay it."""

    url = ctx.upstream_url.rstrip("/") + "/chat/completions"
    request = ctx.client.build_request(
        "POST", url, json=_upstream_payload(body, stream=True), headers=ctx.upstream_headers
    )
    response = await _reach(ctx, ctx.client.send(request, stream=True))
    kind = response.headers.get("content-type", "")
    if response.status_code != 200 or "text/event-stream" not in kind:
        await response.aclose()
        status = response.status_code
        ctx.on_upstream_error(f"http_{status}" if status != 200 else "format")
        message = (
            f"the upstream model answered HTTP {status}"
            if status != 200
            else "the upstream model did not stream (expected text/event-stream)"
        )
        raise ProxyError(502, message, "upstream_error", upstream_status=status)
    relay = _Relay(ctx, messages, config, decision_in, str(body.get("model") or ""))
    return ProxyStream(relay.run(response))


class _Relay:
    """Relays one upstream stream window by window, checking before each release."""

    def __init__(
        self,
        ctx: ProxyContext,
        messages: tuple[GuardMessage, ...],
        config: str | None,
        decision_in: Decision,
        model: str,
    ) -> None:
        self.ctx = ctx
        self.messages = messages
        self.config = config
        self.decision_in = decision_in
        self.model = model
        self.chunk_id = f"chatcmpl-assay-{uuid.uuid4().hex[:24]}"
        self.released: dict[int, str] = {}
        self.pending: dict[int, str] = {}
        self.held: list[bytes] = []
        self.decision_out: Decision | None = None

    def _assay(self) -> dict[str, Any]:
        return {"input": _dump(self.decision_in), "output": _dump(self.decision_out)}

    def _hold(self, chunk: dict[str, Any], raw: str) -> None:
        self.chunk_id = str(chunk.get("id") or self.chunk_id)
        self.model = str(chunk.get("model") or self.model)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text = _text(delta.get("content"))
            calls = delta.get("tool_calls")
            if calls:
                text += json.dumps(calls, sort_keys=True)
            if text:
                index = int(choice.get("index", 0))
                self.pending[index] = self.pending.get(index, "") + text
        self.held.append(_event(raw))

    async def _check_window(self) -> bool:
        """Check every choice with new text (whole text so far); True when all may go."""
        indexes = [i for i, text in self.pending.items() if text]
        checks = [
            self.ctx.check(
                CheckRequest(
                    messages=(
                        *self.messages,
                        GuardMessage(
                            role="assistant",
                            content=self.released.get(i, "") + self.pending[i],
                        ),
                    ),
                    config=self.config,
                ),
                "stream",
            )
            for i in indexes
        ]
        decisions = await asyncio.gather(*checks)
        for decision in decisions:
            self.decision_out = decision
            if self.ctx.blocks(decision):
                return False
        for i in indexes:
            self.released[i] = self.released.get(i, "") + self.pending.pop(i)
        return True

    def _refuse(self) -> list[bytes]:
        delta = {"content": self.ctx.refusal_text}
        chunk = _chunk(self.chunk_id, self.model, delta, "content_filter", assay=self._assay())
        return [_event(chunk), _event("[DONE]")]

    def _error(self, message: str) -> list[bytes]:
        chunk = _chunk(
            self.chunk_id,
            self.model,
            {},
            None,
            error={"message": message, "type": "upstream_error"},
            assay=self._assay(),
        )
        return [_event(chunk), _event("[DONE]")]

    async def run(self, response: httpx.Response) -> AsyncIterator[bytes]:
        import httpx

        try:
            try:
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # blank lines, comments, "event:" fields
                    raw = line[5:].strip()
                    if raw == "[DONE]":
                        break
                    try:
                        chunk = json.loads(raw)
                        if not isinstance(chunk, dict):
                            raise ValueError("not an object")
                        self._hold(chunk, raw)
                    except (ValueError, TypeError, AttributeError, ProxyError):
                        self.ctx.on_upstream_error("format")
                        for event in self._error(
                            "the upstream stream is not chat completion chunks"
                        ):
                            yield event
                        return
                    if sum(len(t) for t in self.pending.values()) >= self.ctx.window_chars:
                        if not await self._check_window():
                            for event in self._refuse():
                                yield event
                            return
                        for event in self.held:
                            yield event
                        self.held.clear()
            except httpx.HTTPError as exc:
                self.ctx.on_upstream_error("stream")
                for event in self._error(f"the upstream stream failed ({type(exc).__name__})"):
                    yield event
                return
            if any(self.pending.values()) and not await self._check_window():
                for event in self._refuse():
                    yield event
                return
            for event in self.held:
                yield event
            self.held.clear()
            yield _event(_chunk(self.chunk_id, self.model, {}, None, assay=self._assay()))
            yield _event("[DONE]")
        finally:
            await response.aclose()
