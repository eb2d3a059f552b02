"""Any OpenAI-compatible chat endpoint as a target: OpenAI, vLLM, Ollama, llama.cpp, TGI.

The target sends ``attempt.messages`` to ``POST {base_url}/chat/completions`` and maps
the outcome onto assay's error tree, so the engine can decide what to retry:

=====================================  ==================================================
what happened                          what ``respond`` does
=====================================  ==================================================
2xx with ``choices[0].message``        returns a :class:`~assay.core.records.Response`
429                                    ``RetryableTargetError(kind="http_429")`` with the
                                       Retry-After header as ``retry_after``
5xx                                    ``RetryableTargetError(kind="http_5xx")``
other status                           ``TargetError(kind="http_4xx")`` with a body snippet
timeout (connect, read, write, pool)   ``RetryableTargetError(kind="timeout")``
connection refused / reset             ``RetryableTargetError(kind="connection")``
body not JSON or not a completion      ``ResponseFormatError`` (kind ``unparsable``)
=====================================  ==================================================

Timeouts and retries are the engine's job; the HTTP timeout here is only a backstop.

Tool calls. With ``tool_calls="native"`` (the default) an attempt that offers tools
(``Attempt.tools``, set by the agent loop) is sent with OpenAI's ``tools`` field; the
reply's ``tool_calls`` come back in ``Response.tool_calls`` with their arguments exactly
as the model wrote them, and the loop answers each with a ``role: tool`` message carrying
its ``tool_call_id``. With ``tool_calls="text"`` the target never sends ``tools``, and the
agent loop uses its text protocol instead (for servers without a tool-call parser).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx

from assay.core.component import Component
from assay.core.records import Attempt, Message, Response, ToolCall
from assay.errors import InputError, ResponseFormatError, RetryableTargetError, TargetError

__all__ = ["OpenAITarget", "chat_completions_url", "parse_retry_after", "wire_message"]

_SNIPPET = 300


def chat_completions_url(base_url: str) -> str:
    """The chat-completions URL for a base URL, following the OpenAI SDK's convention.

    ``http://host:8000/v1`` -> ``http://host:8000/v1/chat/completions``; a bare host
    gets ``/v1`` added; a URL already ending in ``/chat/completions`` is kept.

    Raises:
        InputError: (field ``base_url``) not an http(s) URL with a host.
    """
    try:
        parts = urlsplit(base_url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise InputError(f"{base_url!r} is not a valid URL: {exc}", field="base_url") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(
            f"{base_url!r} must be an http:// or https:// URL with a host", field="base_url"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        return base_url
    if not path:
        path = "/v1"
    return parts._replace(path=f"{path}/chat/completions").geturl()


def pooled_client(*, api_key_env: str, timeout_s: float, max_connections: int) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for an OpenAI-compatible server: JSON, bearer key read
    from ``api_key_env`` (if set), one pool of ``max_connections`` kept alive."""
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(api_key_env, "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.AsyncClient(
        headers=headers,
        timeout=httpx.Timeout(timeout_s, connect=min(30.0, timeout_s)),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAITarget(Component):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        base_url: e.g. ``http://localhost:8000/v1`` (vLLM), ``http://localhost:11434/v1``
            (Ollama), ``https://api.openai.com/v1``.
        model: the model name the server expects.
        api_key_env: the environment variable holding the API key. The key itself is
            read when the client is made and is never part of the spec. Unset or empty
            means no ``Authorization`` header (local servers).
        temperature: sampling temperature sent with each request.
        max_tokens: the most tokens the model may generate per answer.
        max_connections: the size of the connection pool (requests beyond it queue).
        extra_body: more JSON fields merged into each request body (``top_p``, ``seed``,
            ``stop``, server-specific options).
        tool_calls: ``native`` sends agent tools as OpenAI ``tools`` and reads the
            reply's ``tool_calls``; ``text`` makes agent scenarios use assay's prompted
            text protocol (for servers that reject or ignore ``tools``).
    """

    name = "openai"
    version = "1"
    #: Requests the engine keeps in flight when the user sets no concurrency. Modest,
    #: because a remote API rate-limits and a local server has few slots.
    default_concurrency: ClassVar[int] = 8
    #: A backstop on each HTTP request, seconds; the engine's own timeout fires first.
    http_timeout_s: float = 600.0

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.0,
        max_tokens: int = 256,
        max_connections: int = 64,
        extra_body: dict[str, Any] | None = None,
        tool_calls: Literal["native", "text"] = "native",
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_connections = max_connections
        self.extra_body = extra_body
        if tool_calls not in ("native", "text"):
            raise InputError("must be 'native' or 'text'", field="tool_calls")
        self.tool_calls = tool_calls
        self._url = chat_completions_url(base_url)
        if max_connections < 1:
            raise InputError("must be at least 1", field="max_connections")
        if max_tokens < 1:
            raise InputError("must be at least 1", field="max_tokens")
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _get_client(self) -> httpx.AsyncClient:
        """The pooled client of the running event loop, made on first use.

        An httpx client is bound to the loop it first ran on; used from a new loop (a
        new ``asyncio.run``, a new test) it is replaced rather than reused.
        """
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            self._client = pooled_client(
                api_key_env=self.api_key_env,
                timeout_s=self.http_timeout_s,
                max_connections=self.max_connections,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool (if it belongs to the running loop)."""
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.aclose()
        self._client_loop = None

    @property
    def native_tools(self) -> bool:
        """Whether the agent loop should offer tools natively (see the module docstring)."""
        return self.tool_calls == "native"

    def _body(self, attempt: Attempt) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [wire_message(m) for m in attempt.messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if attempt.tools and self.native_tools:
            body["tools"] = [{"type": "function", "function": spec} for spec in attempt.tools]
        body.update(self.extra_body or {})
        return body

    async def respond(self, attempt: Attempt) -> Response:
        """Send the attempt's messages; return the answer or raise a mapped TargetError."""
        client = self._get_client()
        start = time.perf_counter()
        try:
            reply = await client.post(self._url, json=self._body(attempt))
        except httpx.TimeoutException as exc:
            raise RetryableTargetError(f"timed out: {exc!r}", kind="timeout") from exc
        except (
            httpx.ConnectError,
            httpx.ReadError,
            httpx.WriteError,
            httpx.RemoteProtocolError,
        ) as exc:
            raise RetryableTargetError(f"connection failed: {exc!r}", kind="connection") from exc
        except httpx.HTTPError as exc:
            raise TargetError(f"request failed: {exc!r}", kind="request") from exc
        latency = time.perf_counter() - start
        _raise_for_status(reply)
        return _parse_completion(reply, latency)


def wire_message(message: Message) -> dict[str, Any]:
    """A message in OpenAI's chat format, native tool calls and results included."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def _tool_calls(message: dict[str, Any], raw: str) -> tuple[ToolCall, ...]:
    """The reply's native tool calls; a shape no OpenAI-compatible server sends raises.

    Arguments already decoded to an object (some servers do) are re-encoded; a string is
    kept as is, even when it is not valid JSON, for the agent loop to judge.
    """
    calls = message.get("tool_calls")
    if calls is None:
        return ()
    if not isinstance(calls, list):
        raise ResponseFormatError(f"tool_calls is not a list: {raw[:_SNIPPET]!r}")
    out = []
    for i, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(function, dict) or not isinstance(name, str):
            raise ResponseFormatError(f"tool_calls[{i}] has no function name: {raw[:_SNIPPET]!r}")
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        call_id = call.get("id")
        out.append(
            ToolCall(
                id=call_id if isinstance(call_id, str) and call_id else f"call_{i}",
                name=name,
                arguments=arguments,
            )
        )
    return tuple(out)


def _raise_for_status(reply: httpx.Response) -> None:
    """Map a non-2xx reply onto the error tree (retryable for 429 and 5xx)."""
    code = reply.status_code
    if 200 <= code < 300:
        return
    snippet = reply.text[:_SNIPPET]
    message = f"HTTP {code} from {reply.request.url}: {snippet}"
    if code == 429 or code >= 500:
        retry_after = parse_retry_after(reply.headers.get("retry-after"))
        raise RetryableTargetError(message, kind=f"http_{code}", retry_after=retry_after)
    raise TargetError(message, kind=f"http_{code}")


def _parse_completion(reply: httpx.Response, latency_s: float) -> Response:
    """Read a chat completion body, or raise ResponseFormatError saying what is wrong."""
    try:
        data = reply.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResponseFormatError(f"body is not JSON: {reply.text[:_SNIPPET]!r}") from exc
    try:
        choice = data["choices"][0]
        message = choice["message"]
        content = message.get("content")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ResponseFormatError(f"not a chat completion: {reply.text[:_SNIPPET]!r}") from exc
    if content is None:
        content = message.get("refusal") or ""  # no text: a tool call, or all reasoning
    if not isinstance(content, str):
        raise ResponseFormatError(f"message content is not text: {content!r:.{_SNIPPET}}")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    calls = _tool_calls(message, reply.text) if isinstance(message, dict) else ()
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    finish = choice.get("finish_reason")
    return Response(
        text=content,
        reasoning=reasoning if isinstance(reasoning, str) else None,
        finish_reason=finish if isinstance(finish, str) else None,
        latency_s=latency_s,
        prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
        completion_tokens=_int_or_none(usage.get("completion_tokens")),
        tool_calls=calls,
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
