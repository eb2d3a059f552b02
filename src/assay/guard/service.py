"""The guard's HTTP service: moderation, checks, a guarded proxy, feedback, metrics.

:func:`create_app` wraps any :class:`~assay.guard.types.GuardLike` in a FastAPI app.
Around every endpoint but ``/healthz`` sits one small ASGI gate that checks the API key
(401), the per-key rate limit (429 with ``Retry-After``) and the body size (413, from
``Content-Length`` and from the bytes actually read), and counts requests and latency.

Every check goes through a :class:`CheckBatcher`, which gathers the checks that arrive
together into one ``guard.check(list)`` call (the judge is much faster per text in a
batch), and through a timeout. The service **fails closed**: when the guard raises or
times out, the answer is a ``block`` decision with ``judge_error`` set and status 200.
A 500 would leave the choice to the client, and a client that treats "no answer" as
"allow" would let anything through.

FastAPI is imported inside :func:`create_app`, so importing this module stays light; for
the same reason this module does not use ``from __future__ import annotations`` (FastAPI
reads the handlers' annotations at run time).
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from assay.guard.audit import AuditLog
from assay.guard.keys import KeyStore, load_keys
from assay.guard.limits import RateLimiter
from assay.guard.prom import CONTENT_TYPE, GuardMetrics
from assay.guard.types import CheckRequest, Decision, Feedback, GuardLike, GuardMessage

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

__all__ = [
    "HAZARD_TO_OPENAI",
    "OPENAI_CATEGORIES",
    "CheckBatcher",
    "ServiceSettings",
    "create_app",
    "fail_closed",
]

_log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The categories of OpenAI's moderation API (omni-moderation), all present in every result.
OPENAI_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

#: Canonical hazard -> the OpenAI categories it sets. ``spc`` (specialised advice) has no
#: OpenAI counterpart: it shows in ``hazards`` only. Finer OpenAI categories (``/intent``,
#: ``/instructions``, ``/graphic``, ``/threatening``) are never set: our hazards do not
#: tell them apart.
HAZARD_TO_OPENAI: dict[str, tuple[str, ...]] = {
    "vcr": ("violence", "illicit/violent"),
    "ncr": ("illicit",),
    "src": ("sexual", "illicit/violent"),
    "cse": ("sexual/minors",),
    "dfm": ("harassment",),
    "spc": (),
    "prv": ("illicit",),
    "ipv": ("illicit",),
    "iwp": ("illicit/violent", "violence"),
    "hte": ("hate",),
    "ssh": ("self-harm",),
    "sxc": ("sexual",),
}

ENDPOINTS = (
    "/v1/moderations",
    "/v1/guard/check",
    "/v1/chat/completions",
    "/v1/guard/feedback",
    "/healthz",
    "/metrics",
)


class ServiceSettings(BaseModel):
    """How the service runs (the guard itself is configured by its policy).

    Attributes:
        require_auth: require ``Authorization: Bearer <key>`` (all but ``/healthz``).
        keys_file: the hashed keys (see :mod:`assay.guard.keys`); needed with auth.
        open_metrics: serve ``/metrics`` without a key (for a scraper on a private net).
        max_body_bytes: larger request bodies get 413.
        rate_per_s, burst: per-key token bucket; ``rate_per_s=None`` turns it off.
        check_timeout_s: a check taking longer fails closed (``judge_error="timeout"``).
        batch_wait_ms: how long the first check of a batch waits for others to join.
        batch_max_wait_ms: past that, how long it may wait while others keep arriving
            (each within 4 ms of the last): fuller batches under load only.
        max_batch: the most checks per ``guard.check`` call.
        max_concurrent_batches: ``guard.check`` calls running at once. One is right for a
            CPU-bound judge: checks arriving meanwhile form the next, larger batch.
        on_abstain: what the proxy (and ``flagged``) does with ``abstain``.
        upstream_url: the model behind the proxy (``http://host:port/v1``).
        upstream_api_key: sent upstream as a bearer token (never the caller's key).
        upstream_timeout_s: per upstream request (per read while streaming).
        stream_window_chars: streamed text held back and checked at a time.
        refusal_text: what a client gets instead of blocked text.
        audit_path: the SQLite audit log; ``None`` for none.
        audit_text: also store checked texts in the audit log (hashes only by default).
        model_name: the ``model`` reported by ``/v1/moderations`` when none is asked.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    require_auth: bool = True
    keys_file: Path | None = None
    open_metrics: bool = False
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    rate_per_s: float | None = Field(default=50.0, gt=0)
    burst: int = Field(default=100, ge=1)
    check_timeout_s: float = Field(default=5.0, gt=0)
    batch_wait_ms: float = Field(default=2.0, ge=0)
    batch_max_wait_ms: float = Field(default=12.0, ge=0)
    max_batch: int = Field(default=64, ge=1)
    max_concurrent_batches: int = Field(default=1, ge=1)
    on_abstain: Literal["block", "allow"] = "block"
    upstream_url: str | None = None
    upstream_api_key: SecretStr | None = None
    upstream_timeout_s: float = Field(default=60.0, gt=0)
    stream_window_chars: int = Field(default=200, ge=1)
    refusal_text: str = "I can't help with that."
    audit_path: Path | None = None
    audit_text: bool = False
    model_name: str = "assay-guard"


class HTTPProblem(Exception):
    """An error answer: ``{"error": {"message", "type", ...}}`` (OpenAI's shape)."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> bytes:
        return json.dumps(
            {"error": {"message": self.message, "type": self.kind, **self.extra}}
        ).encode()


def fail_closed(guard: GuardLike, request: CheckRequest, error: str) -> Decision:
    """The decision the service makes when the guard could not: block, saying why."""
    digest = hashlib.sha256(
        json.dumps([request.model_dump(mode="json"), error], sort_keys=True).encode()
    ).hexdigest()[:32]
    return Decision(
        decision="block",
        reason=f"the guard failed ({error}); the service fails closed",
        policy_id=guard.policy_id,
        calibration_id=guard.calibration_id,
        config=request.config or "default",
        judge_error=error,
        id=digest,
    )


# --------------------------------------------------------------------------- batching


@dataclass(eq=False)
class _Waiting:
    request: CheckRequest
    future: "asyncio.Future[Decision]"
    enqueued: float


class CheckBatcher:
    """Gathers concurrent checks into batched ``check(list)`` calls on one event loop.

    The first waiting check waits at most ``wait_s`` for others (or until ``max_batch``
    wait); at most ``max_concurrent`` batches run at once, and checks arriving while they
    run form the next batch, so batches grow with load by themselves. A batch that raises
    is retried one check at a time, so one bad request cannot fail its neighbours; a
    batch that times out fails all its checks (with ``TimeoutError``).

    Args:
        check: the batched check (``guard.check``).
        max_batch, wait_s, max_concurrent: see above.
        max_wait_s: past ``wait_s``, keep collecting while checks keep arriving (one
            within ``gap_s`` of the last), up to this long after the first: fuller batches
            under load at no cost to a lone check. ``0``: off.
        timeout_s: the longest one ``check`` call may run.
        on_batch: called with each call's size (metrics).
    """

    def __init__(
        self,
        *,
        check: Callable[[Sequence[CheckRequest]], Awaitable[list[Decision]]],
        max_batch: int = 64,
        wait_s: float = 0.002,
        max_concurrent: int = 1,
        timeout_s: float = 5.0,
        on_batch: Callable[[int], None] = lambda size: None,
        max_wait_s: float = 0.0,
        gap_s: float = 0.004,
    ) -> None:
        self.check = check
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.max_wait_s = max_wait_s
        self.gap_s = gap_s
        self.max_concurrent = max_concurrent
        self.timeout_s = timeout_s
        self.on_batch = on_batch
        self._pending: list[_Waiting] = []
        self._wake: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, request: CheckRequest) -> Decision:
        """Queue ``request`` and wait for its decision (the guard's errors propagate)."""
        loop = asyncio.get_running_loop()
        if self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._slots = asyncio.Semaphore(self.max_concurrent)
            self._worker = loop.create_task(self._collect(), name="assay-guard-batcher")
        assert self._wake is not None
        waiting = _Waiting(request, loop.create_future(), loop.time())
        self._pending.append(waiting)
        self._wake.set()
        return await waiting.future

    async def close(self) -> None:
        """Stop collecting, cancel running batches, fail what still waits."""
        tasks = [t for t in (self._worker, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for waiting in self._pending:
            if not waiting.future.done():
                waiting.future.set_exception(RuntimeError("the service is stopping"))
        self._pending.clear()
        self._worker = None

    async def _collect(self) -> None:
        assert self._wake is not None and self._slots is not None
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._wake.clear()
                await self._wake.wait()
            await self._slots.acquire()
            first = self._pending[0].enqueued if self._pending else 0.0
            deadline, hard = first + self.wait_s, first + max(self.wait_s, self.max_wait_s)
            while len(self._pending) < self.max_batch:
                now = loop.time()
                # Past the base wait, keep waiting only while others have joined and
                # still arrive (the last within ``gap_s``): a burst under load fills the
                # batch, a lone check at low load is not held back.
                limit = deadline
                if now >= deadline and len(self._pending) > 1:
                    limit = min(hard, self._pending[-1].enqueued + self.gap_s)
                remaining = limit - now
                if remaining <= 0:
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), remaining)
            batch = [w for w in self._pending[: self.max_batch] if not w.future.done()]
            del self._pending[: self.max_batch]
            if not batch:
                self._slots.release()
                continue
            task = loop.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _call(self, requests: list[CheckRequest]) -> list[Decision]:
        self.on_batch(len(requests))
        decisions = await asyncio.wait_for(self.check(requests), self.timeout_s)
        if len(decisions) != len(requests):
            raise RuntimeError(f"the guard gave {len(decisions)} decisions for {len(requests)}")
        return decisions

    async def _run(self, batch: list[_Waiting]) -> None:
        assert self._slots is not None
        try:
            try:
                decisions = await self._call([w.request for w in batch])
            except TimeoutError as exc:
                for waiting in batch:
                    _settle(waiting, exc)
                return
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0], exc)
                    return
                singles = await asyncio.gather(
                    *(self._call([w.request]) for w in batch), return_exceptions=True
                )
                for waiting, single in zip(batch, singles, strict=True):
                    _settle(waiting, single if isinstance(single, BaseException) else single[0])
                return
            for waiting, decision in zip(batch, decisions, strict=True):
                _settle(waiting, decision)
        finally:
            self._slots.release()


def _settle(waiting: _Waiting, result: Decision | BaseException) -> None:
    if waiting.future.done():  # its caller timed out or went away
        return
    if isinstance(result, BaseException):
        waiting.future.set_exception(result)
    else:
        waiting.future.set_result(result)


# --------------------------------------------------------------------------- the gate


class _Gate:
    """ASGI middleware: auth, rate limit, body size, and request metrics.

    Written against raw ASGI (no ``BaseHTTPMiddleware``) because it runs on every request
    and must stay cheap. On success it stores the key's name in ``scope["assay.key"]``
    and hands the app a replay of the body it has already read and measured.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: ServiceSettings,
        keys: KeyStore | None,
        limiter: RateLimiter | None,
        metrics: GuardMetrics,
    ) -> None:
        self.app = app
        self.settings = settings
        self.keys = keys
        self.limiter = limiter
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        endpoint = path if path in ENDPOINTS else "other"
        started = time.perf_counter()
        status = [500]

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self._gate(scope, receive, send_counted, path)
        finally:
            self.metrics.requests.inc(endpoint=endpoint, code=str(status[0]))
            self.metrics.latency.observe(time.perf_counter() - started, endpoint=endpoint)

    async def _gate(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        open_path = path == "/healthz" or (path == "/metrics" and self.settings.open_metrics)
        try:
            key_name = "anonymous" if open_path else self._authenticate(scope)
            scope["assay.key"] = key_name
            if not open_path and self.limiter is not None:
                wait = self.limiter.acquire(key_name)
                if wait > 0:
                    raise HTTPProblem(
                        429,
                        f"rate limit exceeded; retry in {wait:.2f} s",
                        "rate_limit_exceeded",
                        headers={"Retry-After": RateLimiter.retry_after(wait)},
                    )
            body = await self._read_body(scope, receive)
        except HTTPProblem as problem:
            await _send_problem(send, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _authenticate(self, scope: Scope) -> str:
        if not self.settings.require_auth:
            client = scope.get("client")
            return f"ip:{client[0]}" if client else "anonymous"
        header = ""
        for field, value in scope.get("headers", ()):
            if field == b"authorization":
                header = bytes(value).decode("latin-1")
                break
        scheme, _, key = header.partition(" ")
        if not header:
            raise HTTPProblem(
                401,
                "missing API key: send 'Authorization: Bearer <key>'",
                "authentication_error",
                headers={"WWW-Authenticate": "Bearer"},
            )
        name = None
        if scheme.lower() == "bearer" and self.keys is not None:
            name = self.keys.verify(key.strip())
        if name is None:
            raise HTTPProblem(
                401,
                "invalid API key",
                "authentication_error",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return name

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        too_large = HTTPProblem(413, f"request body larger than {limit} bytes", "request_too_large")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise HTTPProblem(400, "bad Content-Length", "invalid_request_error") from None
                if declared > limit:
                    raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # a lying Content-Length or a chunked body
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _send_problem(send: Send, problem: HTTPProblem) -> None:
    body = problem.body()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in problem.headers.items()),
    ]
    if problem.status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is never read
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- bodies


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TextPart(_Strict):
    type: Literal["text"]
    text: str


class ModerationBody(BaseModel):
    """OpenAI's moderation request (unknown fields are ignored, as OpenAI does)."""

    input: str | list[str | _TextPart]
    model: str | None = None
    config: str | None = None


class CheckBody(_Strict):
    """``POST /v1/guard/check``."""

    messages: list[GuardMessage] = Field(min_length=1)
    turn: int = -1
    config: str | None = None


def _parse(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate_json(body or b"null")
    except ValidationError as exc:
        # Name the fields, never echo the input (it may be a harmful prompt).
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise HTTPProblem(400, f"invalid request: {problems}", "invalid_request_error") from None


# --------------------------------------------------------------------------- the service


class _Service:
    """Per-app state: the guard and everything around its calls."""

    def __init__(self, guard: GuardLike, settings: ServiceSettings) -> None:
        self.guard = guard
        self.settings = settings
        self.metrics = GuardMetrics()
        self.audit = (
            AuditLog(path=settings.audit_path, store_text=settings.audit_text)
            if settings.audit_path is not None
            else None
        )
        self.batcher = CheckBatcher(
            check=guard.check,
            max_batch=settings.max_batch,
            wait_s=settings.batch_wait_ms / 1000.0,
            max_wait_s=settings.batch_max_wait_ms / 1000.0,
            max_concurrent=settings.max_concurrent_batches,
            timeout_s=settings.check_timeout_s,
            on_batch=lambda size: self.metrics.batch_size.observe(size),
        )
        self.client: httpx.AsyncClient | None = None

    def blocks(self, decision: Decision) -> bool:
        """Whether a decision stops the text (abstain follows ``on_abstain``)."""
        return decision.decision == "block" or (
            decision.decision == "abstain" and self.settings.on_abstain == "block"
        )

    def config(self, header: str | None, body: str | None) -> str | None:
        """The safety config asked for (header or body); unknown or conflicting -> 400."""
        if header is not None and body is not None and header != body:
            raise HTTPProblem(
                400,
                f"X-Assay-Config {header!r} and body field config {body!r} disagree",
                "invalid_request_error",
            )
        name = header if header is not None else body
        if name is None:
            return None
        known = self.guard.config_names()
        if name not in known:
            raise HTTPProblem(
                400,
                f"unknown safety config {name!r}; known: {', '.join(known) or 'none'}",
                "invalid_request_error",
                param="config",
            )
        return name

    async def check(
        self, request: CheckRequest, *, endpoint: str, stage: str, key_name: str
    ) -> Decision:
        """One check through the batcher; a failure or timeout becomes a block."""
        started = time.perf_counter()
        try:
            decision = await asyncio.wait_for(
                self.batcher.submit(request), self.settings.check_timeout_s
            )
        except TimeoutError:
            self.metrics.failures.inc(cause="timeout")
            decision = fail_closed(self.guard, request, "timeout")
        except Exception as exc:
            # The type only: messages and tracebacks can quote the checked text.
            _log.warning("guard check failed (%s); failing closed", type(exc).__name__)
            self.metrics.failures.inc(cause="exception")
            decision = fail_closed(self.guard, request, f"exception: {type(exc).__name__}")
        latency = time.perf_counter() - started
        self.metrics.check_latency.observe(latency)
        self.metrics.decisions.inc(endpoint=endpoint, stage=stage, decision=decision.decision)
        if self.audit is not None:
            self.audit.record(
                decision,
                text=request.checked.content,
                endpoint=endpoint,
                key_name=key_name,
                latency_s=latency,
                stage=stage,
            )
        return decision

    async def close(self) -> None:
        await self.batcher.close()
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.audit is not None:
            await asyncio.to_thread(self.audit.close)


def _moderation_result(decision: Decision, flagged: bool) -> dict[str, Any]:
    hit = {c for h in decision.hazards for c in HAZARD_TO_OPENAI.get(h, ())}
    scores = {c: 0.0 for c in OPENAI_CATEGORIES}
    for hazard, categories in HAZARD_TO_OPENAI.items():
        for category in categories:
            scores[category] = max(scores[category], float(decision.scores.get(hazard, 0.0)))
    return {
        "flagged": flagged,
        "categories": {c: flagged and c in hit for c in OPENAI_CATEGORIES},
        "category_scores": scores,
        "decision": decision.decision,
        "hazards": list(decision.hazards),
        "scores": decision.scores,
        "prediction_set": None
        if decision.prediction_set is None
        else list(decision.prediction_set),
        "reason": decision.reason,
        "policy_id": decision.policy_id,
        "calibration_id": decision.calibration_id,
        "config": decision.config,
        "judge_error": decision.judge_error,
        "decision_id": decision.id,
    }


def _texts(inputs: str | list[str | _TextPart]) -> list[str]:
    if isinstance(inputs, str):
        return [inputs]
    if not inputs:
        raise HTTPProblem(400, "input: must not be empty", "invalid_request_error", param="input")
    return [item if isinstance(item, str) else item.text for item in inputs]


def create_app(guard: GuardLike, settings: ServiceSettings | None = None) -> "FastAPI":
    """The guard's HTTP app (serve it with uvicorn; see :mod:`assay.guard.serve`).

    Raises:
        InputError: auth is required but no keys file is set, or it is malformed.
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse

    from assay.errors import AssayError, InputError
    from assay.guard.proxy import ProxyContext, ProxyError, ProxyReply, complete

    settings = settings or ServiceSettings()
    keys: KeyStore | None = None
    if settings.require_auth:
        if settings.keys_file is None:
            raise InputError(
                "the service requires API keys but no keys file is set "
                "(create one with add_key, or turn auth off)",
                field="keys_file",
            )
        keys = load_keys(settings.keys_file)
    service = _Service(guard, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import httpx

        if settings.upstream_url is not None:
            service.client = httpx.AsyncClient(
                timeout=httpx.Timeout(settings.upstream_timeout_s),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            )
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="assay guard",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    async def problem_response(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPProblem)
        return Response(
            exc.body(), status_code=exc.status, headers=exc.headers, media_type="application/json"
        )

    app.add_exception_handler(HTTPProblem, problem_response)

    def key_name(request: Request) -> str:
        return str(request.scope.get("assay.key", "anonymous"))

    @app.post("/v1/moderations")
    async def moderations(request: Request) -> Response:
        body: ModerationBody = _parse(ModerationBody, await request.body())
        config = service.config(request.headers.get("x-assay-config"), body.config)
        who = key_name(request)
        texts = _texts(body.input)
        decisions = await asyncio.gather(
            *(
                service.check(
                    CheckRequest(messages=(GuardMessage(role="user", content=t),), config=config),
                    endpoint="/v1/moderations",
                    stage="input",
                    key_name=who,
                )
                for t in texts
            )
        )
        return JSONResponse(
            {
                "id": f"modr-{uuid.uuid4().hex}",
                "model": body.model or settings.model_name,
                "results": [_moderation_result(d, service.blocks(d)) for d in decisions],
            }
        )

    @app.post("/v1/guard/check")
    async def check(request: Request) -> Response:
        body: CheckBody = _parse(CheckBody, await request.body())
        config = service.config(request.headers.get("x-assay-config"), body.config)
        if not -len(body.messages) <= body.turn < len(body.messages):
            raise HTTPProblem(
                400,
                f"turn {body.turn} is out of range for {len(body.messages)} messages",
                "invalid_request_error",
                param="turn",
            )
        decision = await service.check(
            CheckRequest(messages=tuple(body.messages), turn=body.turn, config=config),
            endpoint="/v1/guard/check",
            stage="input",
            key_name=key_name(request),
        )
        return JSONResponse(decision.model_dump(mode="json"))

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        if service.client is None or settings.upstream_url is None:
            raise HTTPProblem(
                503, "no upstream model is configured (settings.upstream_url)", "upstream_error"
            )
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            raise HTTPProblem(400, "the body is not JSON", "invalid_request_error") from None
        if not isinstance(body, dict):
            raise HTTPProblem(400, "the body must be a JSON object", "invalid_request_error")
        config = service.config(request.headers.get("x-assay-config"), None)
        who = key_name(request)

        async def check_one(req: CheckRequest, stage: str) -> Decision:
            return await service.check(
                req, endpoint="/v1/chat/completions", stage=stage, key_name=who
            )

        headers = {}
        if settings.upstream_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.upstream_api_key.get_secret_value()}"
        ctx = ProxyContext(
            check=check_one,
            blocks=service.blocks,
            client=service.client,
            upstream_url=settings.upstream_url,
            upstream_headers=headers,
            refusal_text=settings.refusal_text,
            window_chars=settings.stream_window_chars,
            on_upstream_error=lambda kind: service.metrics.upstream_errors.inc(kind=kind),
        )
        try:
            result = await complete(ctx, body, config=config)
        except ProxyError as exc:
            raise HTTPProblem(exc.status, str(exc), exc.kind, **exc.extra) from None
        if isinstance(result, ProxyReply):
            return JSONResponse(result.body)
        return StreamingResponse(
            result.chunks,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/v1/guard/feedback")
    async def feedback(request: Request) -> Response:
        fb: Feedback = _parse(Feedback, await request.body())
        try:
            weights = guard.feedback(fb)
        except AssayError as exc:
            raise HTTPProblem(400, str(exc), "invalid_request_error") from None
        if service.audit is not None:
            service.audit.record_feedback(fb, key_name=key_name(request))
        return JSONResponse({"decision_id": fb.decision_id, "label": fb.label, **weights})

    @app.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "policy_id": guard.policy_id,
                "calibration_id": guard.calibration_id,
                "configs": guard.config_names(),
            }
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(service.metrics.registry.render(), media_type=CONTENT_TYPE)

    app.add_middleware(
        _Gate,
        settings=settings,
        keys=keys,
        limiter=RateLimiter(rate_per_s=settings.rate_per_s, burst=settings.burst)
        if settings.rate_per_s is not None
        else None,
        metrics=service.metrics,
    )
    return app
