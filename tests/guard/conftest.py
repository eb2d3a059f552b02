"""Fixtures for the guard service: a deterministic fake guard and real servers.

``FakeGuard`` decides by keywords, so every test knows the answer in advance:
``BOMB`` -> block (``iwp``), ``PILLS`` -> block (``spc``) unless the config is
``medical`` (a CoSA config that allows specialised advice), ``MAYBE`` -> abstain,
``CRASH`` -> ``check`` raises (a judge failure), ``SLOW`` -> ``check`` hangs; anything
else -> allow. It records every ``check`` call's batch size and every feedback.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from assay.errors import InputError
from assay.guard.keys import add_key
from assay.guard.serve import BackgroundServer
from assay.guard.service import ServiceSettings, create_app
from assay.guard.types import CheckRequest, Decision, Feedback
from assay.testing.stub import StubServer


class FakeGuard:
    """A GuardLike that decides by keywords (see the module docstring)."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[int] = []
        self.checked: list[str] = []
        self.feedbacks: list[Feedback] = []
        self.weights = {"harm": 0.5, "llamaguard": 0.5}

    @property
    def policy_id(self) -> str:
        return "policy-fake"

    @property
    def calibration_id(self) -> str | None:
        return "cal-fake"

    def config_names(self) -> list[str]:
        return ["default", "medical"]

    async def check(self, requests: Sequence[CheckRequest]) -> list[Decision]:
        self.calls.append(len(requests))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        out = []
        for request in requests:
            text = request.checked.content
            self.checked.append(text)
            config = request.config or "default"
            if config not in self.config_names():
                raise InputError(f"unknown config {config!r}", field="config")
            if "CRASH" in text:
                raise RuntimeError(f"the judge crashed on {text!r}")
            if "SLOW" in text:
                await asyncio.sleep(30)
            kind: Any = "allow"
            hazards: tuple[str, ...] = ()
            scores = {"unsafe": 0.02}
            if "BOMB" in text:
                kind, hazards, scores = "block", ("iwp",), {"unsafe": 0.97, "iwp": 0.91}
            elif "PILLS" in text and config != "medical":
                kind, hazards, scores = "block", ("spc",), {"unsafe": 0.8, "spc": 0.85}
            elif "MAYBE" in text:
                kind, hazards, scores = "abstain", ("ncr",), {"unsafe": 0.5, "ncr": 0.4}
            out.append(
                Decision(
                    decision=kind,
                    hazards=hazards,
                    scores=scores,
                    prediction_set=("unsafe",) if kind == "block" else ("safe",),
                    reason=f"fake: {kind}",
                    policy_id=self.policy_id,
                    calibration_id=self.calibration_id,
                    config=config,
                    id=hashlib.sha256(f"{config}|{text}".encode()).hexdigest()[:16],
                )
            )
        return out

    def feedback(self, feedback: Feedback) -> dict[str, Any]:
        if feedback.decision_id == "unknown":
            raise InputError("no such decision", field="decision_id")
        self.feedbacks.append(feedback)
        shift = 0.1 if feedback.label == "unsafe" else -0.1
        self.weights = {"harm": self.weights["harm"] + shift, "llamaguard": 0.5 - shift}
        return {"weights": dict(self.weights), "step": len(self.feedbacks)}


class Running:
    """A started guard service: its URL, a valid key, its guard and settings."""

    def __init__(
        self, server: BackgroundServer, guard: FakeGuard, settings: ServiceSettings, key: str
    ) -> None:
        self.server = server
        self.guard = guard
        self.settings = settings
        self.key = key
        self.url = server.url

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def fake_guard() -> FakeGuard:
    return FakeGuard()


@pytest.fixture
def make_guard() -> type[FakeGuard]:
    """The fake guard's class (test modules cannot import conftest by name)."""
    return FakeGuard


@pytest.fixture
def keys_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "keys.json"
    return path, add_key(path, "tester")


@pytest.fixture
def start_service(tmp_path: Path, keys_file: tuple[Path, str]) -> Iterator[Callable[..., Running]]:
    """Start the real app on uvicorn (127.0.0.1, free port) with settings overrides."""
    started: list[BackgroundServer] = []

    def start(guard: FakeGuard | None = None, **overrides: Any) -> Running:
        guard = guard or FakeGuard()
        values: dict[str, Any] = {
            "keys_file": keys_file[0],
            "rate_per_s": 1000.0,
            "burst": 1000,
            "audit_path": tmp_path / "audit.sqlite",
        }
        values.update(overrides)
        settings = ServiceSettings(**values)
        server = BackgroundServer(app=create_app(guard, settings)).start()
        started.append(server)
        return Running(server, guard, settings, keys_file[1])

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def service(start_service: Callable[..., Running]) -> Running:
    return start_service()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server
