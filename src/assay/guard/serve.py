"""Running the guard service: in the foreground (``assay guard serve``) or in a thread.

:func:`serve` blocks until interrupted; :class:`BackgroundServer` runs the same uvicorn
server in a thread on a free port, for tests and benchmarks that need a real server.

uvicorn's access log is off: a request line can carry a query string, and the guard
promises no prompt text in its logs. Bodies are never logged anywhere.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.guard.service import ServiceSettings, create_app
from assay.guard.types import GuardLike

if TYPE_CHECKING:
    import uvicorn

__all__ = ["BackgroundServer", "ServeSettings", "serve"]


class ServeSettings(BaseModel):
    """Where and how to serve (what the CLI's ``assay guard serve`` options fill in).

    Attributes:
        host, port: the address to listen on (``port=0``: the OS picks one).
        log_level: uvicorn's log level (``warning`` keeps startup chatter out).
        service: the app's settings (auth, limits, upstream, audit ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "warning"
    service: ServiceSettings = ServiceSettings()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
    # so, and without it every keep-alive response waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _server(app: Any, settings: ServeSettings, *, log_config: Any) -> uvicorn.Server:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        log_config=log_config,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def serve(
    guard: GuardLike,
    settings: ServeSettings,
    *,
    on_started: Callable[[str], None] | None = None,
) -> None:
    """Serve ``guard`` until SIGINT/SIGTERM.

    Args:
        on_started: called with the base URL (``http://host:port``) once listening,
            e.g. to print it (useful with ``port=0``).
    """
    import uvicorn.config

    app = create_app(guard, settings.service)
    sock = _bind(settings.host, settings.port)
    server = _server(app, settings, log_config=uvicorn.config.LOGGING_CONFIG)
    if on_started is not None:
        port = sock.getsockname()[1]
        on_started(f"http://{settings.host}:{port}")
    server.run(sockets=[sock])


class BackgroundServer:
    """A uvicorn server for an app, in its own thread and event loop, on 127.0.0.1.

    It binds the port before starting, so ``url`` is known at once; ``start`` returns
    when the app has started (its lifespan ran). Logging is left as the caller set it.

    Args:
        app: any ASGI app (the guard's, or a test's fake upstream).
        host, port: the address (``port=0``: a free port).
    """

    def __init__(self, *, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._sock is None:
            raise RuntimeError("the server is not started")
        return f"http://{self.host}:{self._sock.getsockname()[1]}"

    def start(self, timeout_s: float = 10.0) -> BackgroundServer:
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        self._sock = _bind(self.host, self.port)
        settings = ServeSettings(host=self.host, port=0, log_level="warning")
        self._server = _server(self.app, settings, log_config=None)
        server, sock = self._server, self._sock
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="assay-guard-server", daemon=True
        )
        self._thread.start()
        for _ in range(int(timeout_s / 0.01)):
            if server.started or not self._thread.is_alive():
                break
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise RuntimeError("the server did not start")
        return self

    def stop(self) -> None:
        """Shut down (lifespan shutdown included) and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15.0)
        if self._sock is not None:
            self._sock.close()
        self._server = None
        self._thread = None
        self._sock = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
