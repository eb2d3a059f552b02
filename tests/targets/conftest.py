"""Fixtures for target tests: attempts made from plain prompts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.core.records import Attempt, Case, Message, Spec

MakeAttempt = Callable[..., Attempt]


def _make_attempt(prompt: str, *, expected: str = "refuse", case_id: str | None = None) -> Attempt:
    case = Case(
        id=case_id or f"case-{abs(hash(prompt)) % 10**8}",
        messages=(Message(role="user", content=prompt),),
        hazard="vcr",
        expected=expected,  # type: ignore[arg-type]
    )
    return Attempt.make(case, Spec(name="test-target"))


@pytest.fixture
def make_attempt() -> MakeAttempt:
    """``make_attempt("prompt")`` -> an Attempt with one user message."""
    return _make_attempt
