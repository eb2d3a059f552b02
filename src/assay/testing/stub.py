"""A real, local, OpenAI-compatible HTTP server for tests and benchmarks.

It answers ``POST /v1/chat/completions`` after a fixed latency and, with a seeded
probability, fails the way real servers fail: ``429`` (with ``Retry-After: 0``),
``500``, a ``timeout`` (it holds the request for 30 s or until the client hangs up) or
``garbage`` (``200`` with a body that is not JSON). It logs every request, so a test can
check that each injected failure ended up stored as an error.

It is a minimal HTTP/1.1 keep-alive server on ``asyncio.start_server`` (no framework),
fast enough to serve 10,000 requests at concurrency 32 without being the bottleneck.

Use it from sync or async tests (it runs its own loop in a thread)::

    with StubServer(latency_s=0.05, failure_rate=0.1) as stub:
        target = OpenAITarget(base_url=stub.base_url, model="stub")
        ...
        assert stub.outcomes()["ok"] > 0

or as a separate process, so it does not share a CPU-bound loop with the client::

    python -m assay.testing.stub --port 0 --latency 0.05 --print-port

A request can force its own outcome: a last user message containing ``[[stub:500]]``
always fails with 500; ``[[stub:429*2]]`` fails the first two times that exact message is
seen and then succeeds (for testing retries). ``GET /stub/log`` returns the log as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["FAILURES", "StubRequest", "StubServer", "default_reply", "main"]

#: The failure modes the stub can inject.
FAILURES = ("429", "500", "timeout", "garbage")
_FORCE = re.compile(r"\[\[stub:(429|500|timeout|garbage)(?:\*(\d+))?\]\]")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
_MAX_BODY = 64 * 1024 * 1024


class StubRequest(NamedTuple):
    """One logged request: its number, its last user message, and what the stub did.

    ``outcome`` is ``ok``, one of :data:`FAILURES`, ``bad_request`` or ``not_found``.
    """

    request_id: int
    marker: str
    outcome: str


def default_reply(message: str) -> str:
    """A short, plausible answer that echoes the question (so tests can match them up)."""
    return f"Here is a short answer to your question: {message[:80]}"


class _Handler:
    """The server's logic: parse HTTP/1.1 requests, pick an outcome, answer, log.

    Shared by the threaded :class:`StubServer` and the ``python -m`` process.
    """

    def __init__(
        self,
        *,
        latency_s: float,
        failure_rate: float,
        failures: Sequence[str],
        seed: int,
        reply: Callable[[str], str] | str,
        hang_s: float = 30.0,
        respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        unknown = set(failures) - set(FAILURES)
        if unknown:
            raise ValueError(f"unknown failure modes {sorted(unknown)}; choose from {FAILURES}")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be in [0, 1]")
        if failure_rate > 0 and not failures:
            raise ValueError("failure_rate > 0 needs at least one failure mode")
        self.latency_s = latency_s
        self.failure_rate = failure_rate
        self.failures = tuple(failures)
        self.hang_s = hang_s
        self._reply = reply
        self._respond = respond
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._log: list[StubRequest] = []
        self._forced: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()

    def log(self) -> list[StubRequest]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()
            self._forced.clear()

    def _decide(self, marker: str | None) -> tuple[int, str]:
        """Number the request, draw its outcome and log it, in one step.

        The outcome is forced by a ``[[stub:...]]`` marker, else drawn by the seeded RNG;
        ``marker=None`` logs a request that could not be read (``bad_request``).
        """
        with self._lock:
            request_id = len(self._log)
            outcome = "ok"
            forced = _FORCE.search(marker) if marker is not None else None
            if marker is None:
                outcome = "bad_request"
            elif forced is not None:
                self._forced[marker] += 1
                limit = forced.group(2)
                if limit is None or self._forced[marker] <= int(limit):
                    outcome = forced.group(1)
            elif self.failure_rate and self._rng.random() < self.failure_rate:
                outcome = self._rng.choice(self.failures)
            self._log.append(StubRequest(request_id, marker or "", outcome))
            return request_id, outcome

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: answer requests until the client closes or asks to close."""
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, path, headers, body = request
                keep = await self._dispatch(method, path, body, reader, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            return
        except asyncio.CancelledError:
            # The server is stopping. Ending normally instead of re-raising avoids Python
            # 3.11's streams callback calling exception() on a cancelled task and logging
            # a spurious traceback; nobody awaits this task but the shutdown itself.
            return
        finally:
            if task is not None:
                self.tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _dispatch(
        self,
        method: str,
        path: str,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request; returns whether the connection may be kept open."""
        route = path.split("?", 1)[0].rstrip("/")
        if method == "POST" and route in ("/v1/chat/completions", "/chat/completions"):
            return await self._complete(body, reader, writer)
        if method == "GET" and route == "/stub/log":
            entries = [entry._asdict() for entry in self.log()]
            await _send(writer, 200, json.dumps(entries).encode())
        elif method == "GET" and route in ("/v1/models", "/models"):
            models = {"object": "list", "data": [{"id": "stub", "object": "model"}]}
            await _send(writer, 200, json.dumps(models).encode())
        elif method == "GET" and route in ("/health", ""):
            await _send(writer, 200, b'{"status":"ok"}')
        else:
            await _send(writer, 404, _error_body("not found", "not_found"))
        return True

    async def _complete(
        self, body: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        try:
            request = json.loads(body)
            marker = _last_user_message(request["messages"])
        except (ValueError, KeyError, TypeError):
            self._decide(None)
            await _send(
                writer,
                400,
                _error_body("expected a chat completion request", "invalid_request_error"),
            )
            return True
        request_id, outcome = self._decide(marker)
        if outcome == "timeout":
            # Hold the request until the client gives up (closes) or hang_s passes.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(1), self.hang_s)
            return False
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if outcome == "429":
            await _send(
                writer,
                429,
                _error_body("rate limited", "rate_limit_exceeded"),
                extra=b"Retry-After: 0\r\n",
            )
        elif outcome == "500":
            await _send(writer, 500, _error_body("injected failure", "server_error"))
        elif outcome == "garbage":
            await _send(
                writer, 200, b"<html>502 Bad Gateway</html> not json {", content_type=b"text/html"
            )
        else:
            await _send(writer, 200, self._completion(request_id, request, marker))
        return True

    def _completion(self, request_id: int, request: dict[str, Any], marker: str) -> bytes:
        if self._respond is not None:
            message = self._respond(request)
        else:
            text = self._reply if isinstance(self._reply, str) else self._reply(marker)
            message = {"role": "assistant", "content": text}
        text = str(message.get("content") or "")
        prompt_tokens = sum(
            len(str(m.get("content", "")).split())
            for m in request["messages"]
            if isinstance(m, dict)
        )
        completion_tokens = len(text.split())
        return json.dumps(
            {
                "id": f"chatcmpl-stub-{request_id}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": str(request.get("model", "stub")),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                        "message": message,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        ).encode()


def _last_user_message(messages: Any) -> str:
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages must be a non-empty list")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content", ""))
    return str(messages[-1].get("content", "")) if isinstance(messages[-1], dict) else ""


def _error_body(message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind}}).encode()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    """One request (method, path, lower-cased headers, body), or None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = int(headers.get("content-length", "0"))
    if not 0 <= length <= _MAX_BODY:
        raise ValueError(f"bad Content-Length {length}")
    body = await reader.readexactly(length) if length else b""
    return method, path, headers, body


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    *,
    content_type: bytes = b"application/json",
    extra: bytes = b"",
) -> None:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n".encode()
        + b"Content-Type: "
        + content_type
        + b"\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
    )
    writer.write(head + body)
    await writer.drain()


class StubServer:
    """The stub, running on 127.0.0.1 (OS-chosen port) in its own thread and event loop.

    Args:
        latency_s: delay before every answer (failures included), seconds.
        failure_rate: probability that a request fails, drawn per request.
        failures: the failure modes drawn from, uniformly (see :data:`FAILURES`).
        seed: seeds the failure draws. Under concurrency the order in which requests
            arrive, and so which ones fail, can still vary between runs.
        reply: the answer text, or a function of the last user message returning it.
        hang_s: how long a ``timeout`` failure holds the request, seconds.
        respond: a function of the whole request body returning the assistant message
            (``content``, ``tool_calls``); overrides ``reply``. Used to serve scripted
            tool-calling agents (:func:`assay.testing.agents.openai_agent`).
    """

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        failure_rate: float = 0.0,
        failures: Sequence[str] = FAILURES,
        seed: int = 0,
        reply: Callable[[str], str] | str = default_reply,
        hang_s: float = 30.0,
        respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._handler = _Handler(
            latency_s=latency_s,
            failure_rate=failure_rate,
            failures=failures,
            seed=seed,
            reply=reply,
            hang_s=hang_s,
            respond=respond,
        )
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """The URL to give :class:`~assay.targets.openai.OpenAITarget` (``.../v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def log(self) -> list[StubRequest]:
        """Every request so far, in arrival order (a copy)."""
        return self._handler.log()

    def outcomes(self) -> Counter[str]:
        """How many requests ended each way (``ok``, ``429`` ...)."""
        return Counter(entry.outcome for entry in self._handler.log())

    def clear_log(self) -> None:
        """Forget logged requests (and counts of forced failures)."""
        self._handler.clear()

    def start(self) -> StubServer:
        """Start serving; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("the stub server is already running")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="assay-stub", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, and wait for the thread to end."""
        if self._thread is None or self._loop is None or self._stop is None:
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # report a failed bind to start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await serve(self._handler, self.host, self.port, self._stop, self._bound)

    def _bound(self, port: int) -> None:
        self.port = port
        self._ready.set()


async def serve(
    handler: _Handler, host: str, port: int, stop: asyncio.Event, on_bound: Callable[[int], None]
) -> None:
    """Serve until ``stop`` is set, then cancel the connections still open."""
    server = await asyncio.start_server(handler.serve, host, port, backlog=1024)
    on_bound(server.sockets[0].getsockname()[1])
    try:
        await stop.wait()
    finally:
        server.close()
        for task in list(handler.tasks):
            task.cancel()
        await asyncio.gather(*handler.tasks, return_exceptions=True)
        await server.wait_closed()


def _agent_responder(policy: str, suite: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from pathlib import Path

    from assay.agents.scenario import load_scenarios
    from assay.agents.suite import core_v1_scenarios
    from assay.testing.agents import openai_agent

    scenarios = load_scenarios(Path(suite)) if suite else core_v1_scenarios()
    return openai_agent(scenarios, policy)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m assay.testing.stub``: serve until interrupted (SIGINT/SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="python -m assay.testing.stub", description="A local OpenAI-compatible stub server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument(
        "--failures", default=",".join(FAILURES), help="comma-separated failure modes"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reply", default=None, help="fixed answer text")
    parser.add_argument(
        "--agent",
        default=None,
        metavar="POLICY",
        help="answer agent scenarios as a scripted tool-calling agent "
        "(safe, unsafe, injection, malformed, loop); native tool_calls when tools are sent",
    )
    parser.add_argument(
        "--agent-suite",
        default=None,
        metavar="PATH",
        help="scenario file or folder the --agent answers (default: agents/core-v1)",
    )
    parser.add_argument(
        "--print-port", action="store_true", help="print the bound port on stdout once listening"
    )
    args = parser.parse_args(argv)
    handler = _Handler(
        latency_s=args.latency,
        failure_rate=args.failure_rate,
        failures=[f for f in args.failures.split(",") if f],
        seed=args.seed,
        reply=args.reply if args.reply is not None else default_reply,
        respond=_agent_responder(args.agent, args.agent_suite) if args.agent else None,
    )

    def bound(port: int) -> None:
        if args.print_port:
            print(port, flush=True)
        print(f"stub serving on http://{args.host}:{port}/v1", file=sys.stderr, flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(handler, args.host, args.port, stop, bound)
        outcomes = Counter(entry.outcome for entry in handler.log())
        print(
            f"stub served {sum(outcomes.values())} requests: {dict(outcomes)}",
            file=sys.stderr,
            flush=True,
        )

    asyncio.run(run())


if __name__ == "__main__":
    main()
