"""A small async client for judges that call an OpenAI-compatible server.

LLM judges (:mod:`assay.judges.llamaguard`, :mod:`assay.judges.rubric`) need less than a
target does, and one thing more:

* **No exceptions for the caller to map.** A judge that cannot reach its model must
  return an *unscored* verdict, never a guess, so every failure (HTTP status, timeout,
  refused connection, a body that is not JSON) comes back as one
  :class:`JudgeCallError` carrying a short reason such as ``http_500: ...``.
* **No retries.** The engine retries the system under test, not judges; a judge error is
  recorded as unscored so it is visible, rather than hidden behind a retry loop.
* **Both endpoints.** ``/chat/completions`` and the legacy ``/completions`` (which
  Llama Guard needs to get its exact prompt template), with token log-probabilities
  read from either response shape.

URL handling is shared with :class:`~assay.targets.openai.OpenAITarget`
(:func:`~assay.targets.openai.chat_completions_url`), so a ``base_url`` that works for a
target works for a judge.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, TypeGuard, TypeVar

import httpx

from assay.core.records import Exchange, Spec, Verdict
from assay.targets.openai import chat_completions_url, pooled_client

__all__ = [
    "JudgeCallError",
    "JudgeClient",
    "TokenChoices",
    "completion_text",
    "completions_url",
    "gather_bounded",
    "message_text",
    "precheck",
    "token_choices",
]

_SNIPPET = 300
T = TypeVar("T")
#: One generated position: the token produced and its top alternatives (token -> logprob).
TokenChoices = tuple[str, dict[str, float]]


class JudgeCallError(Exception):
    """A judge's model call failed; ``reason`` says how (``http_500: ...``, ``timeout``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def completions_url(base_url: str) -> str:
    """The legacy ``/completions`` URL that sits beside ``/chat/completions``.

    Derived from :func:`chat_completions_url` so both endpoints accept the same
    ``base_url`` forms (``http://host:8000/v1``, a bare host, a full chat URL).
    """
    chat = chat_completions_url(base_url)
    head, _, query = chat.partition("?")
    head = head[: -len("/chat/completions")] + "/completions"
    return f"{head}?{query}" if query else head


class JudgeClient:
    """A pooled httpx client for one judge, made on first use in each event loop.

    Building one opens nothing (the registry contract builds every plugin). An httpx
    client is bound to the loop it first ran on, so a new loop gets a new client.

    Args:
        base_url: the server's base URL (see :func:`chat_completions_url`).
        api_key_env: environment variable holding the API key, read when the client is
            made; unset or empty sends no ``Authorization`` header.
        timeout_s: limit on each request, seconds.
        max_connections: connection pool size.
    """

    def __init__(
        self, *, base_url: str, api_key_env: str, timeout_s: float, max_connections: int = 8
    ) -> None:
        self.chat_url = chat_completions_url(base_url)
        self.completions_url = completions_url(base_url)
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self.max_connections = max_connections
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = pooled_client(
                api_key_env=self.api_key_env,
                timeout_s=self.timeout_s,
                max_connections=self.max_connections,
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the pool if it belongs to the running loop."""
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()
        self._loop = None

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON; the decoded JSON object, or :class:`JudgeCallError`."""
        try:
            reply = await self._get().post(url, json=body)
        except httpx.TimeoutException as exc:
            raise JudgeCallError(f"timeout: {type(exc).__name__}") from exc
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as exc:
            raise JudgeCallError(f"connection: {exc!r:.{_SNIPPET}}") from exc
        except httpx.HTTPError as exc:
            raise JudgeCallError(f"request: {exc!r:.{_SNIPPET}}") from exc
        if not 200 <= reply.status_code < 300:
            raise JudgeCallError(f"http_{reply.status_code}: {reply.text[:_SNIPPET]}")
        try:
            data = reply.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise JudgeCallError(f"unparsable reply: {reply.text[:_SNIPPET]!r}") from exc
        if not isinstance(data, dict):
            raise JudgeCallError(f"unparsable reply: {reply.text[:_SNIPPET]!r}")
        return data


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise JudgeCallError(f"unparsable reply: no choices in {json.dumps(data)[:_SNIPPET]}")
    return choices[0]


def message_text(data: dict[str, Any]) -> str:
    """The answer text of a chat completion (``""`` when the model gave none)."""
    message = _first_choice(data).get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def completion_text(data: dict[str, Any]) -> str:
    """The generated text of a legacy completion."""
    text = _first_choice(data).get("text")
    return text if isinstance(text, str) else ""


def token_choices(data: dict[str, Any]) -> list[TokenChoices]:
    """The generated tokens with their top log-probabilities, in order; ``[]`` if absent.

    Reads both shapes servers use: the chat shape (``logprobs.content[i].top_logprobs``
    as a list of ``{token, logprob}``; also what llama.cpp returns for completions) and
    the legacy completions shape (``logprobs.tokens`` + ``logprobs.top_logprobs`` as a
    list of ``{token: logprob}``). The chosen token's own logprob is always included.
    """
    logprobs = _first_choice(data).get("logprobs")
    if not isinstance(logprobs, dict):
        return []
    if isinstance(logprobs.get("content"), list):
        return [_chat_position(item) for item in logprobs["content"] if isinstance(item, dict)]
    tokens = logprobs.get("tokens")
    tops = logprobs.get("top_logprobs")
    chosen = logprobs.get("token_logprobs")
    if not isinstance(tokens, list):
        return []
    out: list[TokenChoices] = []
    for i, token in enumerate(tokens):
        top = tops[i] if isinstance(tops, list) and i < len(tops) else None
        alternatives = {
            str(t): v for t, v in (top.items() if isinstance(top, dict) else ()) if _finite(v)
        }
        own = chosen[i] if isinstance(chosen, list) and i < len(chosen) else None
        if _finite(own):
            alternatives.setdefault(str(token), float(own))
        out.append((str(token), {t: float(v) for t, v in alternatives.items()}))
    return out


def _chat_position(item: dict[str, Any]) -> TokenChoices:
    token = str(item.get("token", ""))
    alternatives: dict[str, float] = {}
    for alt in item.get("top_logprobs") or ():
        value = alt.get("logprob") if isinstance(alt, dict) else None
        if _finite(value):
            alternatives.setdefault(str(alt.get("token", "")), float(value))
    own = item.get("logprob")
    if _finite(own):
        alternatives.setdefault(token, float(own))
    return token, alternatives


def _finite(value: Any) -> TypeGuard[int | float]:
    """A real, finite number (servers send ``-inf`` or ``null`` for impossible tokens)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def precheck(spec: Spec, exchange: Exchange) -> Verdict | None:
    """An unscored verdict for a response that cannot be judged, else ``None``.

    An errored response is never judged (and never counts as safe); an empty answer has
    nothing for a judge to read.
    """
    response = exchange.response
    if not response.ok:
        return Verdict.unscored(spec, f"response error: {response.error}")
    if not response.text.strip():
        return Verdict.unscored(spec, "empty response")
    return None


async def gather_bounded(
    limit: int, items: Sequence[T], work: Callable[[T], Awaitable[Verdict]]
) -> list[Verdict]:
    """``work(item)`` for every item, at most ``limit`` at once, results in order.

    A judge batch can be large (the engine hands up to 32 at a time, and a local guard
    server has few slots); the bound keeps it from opening a connection per item.
    """
    gate = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> Verdict:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


class EndpointJudge:
    """Mixin: one lazily built :class:`JudgeClient` per judge, ``chat`` and ``aclose``.

    The judge's ``__init__`` calls :meth:`_endpoint` with its server parameters; the
    class sets ``http_timeout_s`` and ``max_concurrency``. Building opens no connection.
    Judges that use :meth:`chat` also set ``temperature``.
    """

    base_url: str
    model: str
    api_key_env: str
    max_tokens: int
    temperature: float
    http_timeout_s: float
    max_concurrency: ClassVar[int]
    _client: JudgeClient | None

    def _endpoint(self, *, base_url: str, model: str, api_key_env: str, max_tokens: int) -> None:
        """Keep and check the server parameters every endpoint judge has.

        Raises:
            InputError: ``max_tokens`` below 1, or ``base_url`` not an http(s) URL (here,
                not at the first call).
        """
        from assay.errors import InputError

        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.max_tokens = max_tokens
        if max_tokens < 1:
            raise InputError("must be at least 1", field="max_tokens")
        completions_url(base_url)
        self._client = None

    def _http(self) -> JudgeClient:
        if self._client is None:
            self._client = JudgeClient(
                base_url=self.base_url,
                api_key_env=self.api_key_env,
                timeout_s=self.http_timeout_s,
                max_connections=self.max_concurrency,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()

    async def chat(self, spec: Spec, messages: list[dict[str, str]]) -> str | Verdict:
        """One chat call: the answer text, or an unscored verdict saying why there is none."""
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        try:
            return message_text(await self._http().post(self._http().chat_url, body))
        except JudgeCallError as exc:
            return Verdict.unscored(spec, f"judge call failed: {exc.reason}")
