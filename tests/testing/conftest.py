"""Fixtures for tests of assay.testing: attempts made from plain prompts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.core.records import Attempt, Case, Message, Spec


def _make_attempt(prompt: str) -> Attempt:
    case = Case(
        id=f"case-{abs(hash(prompt)) % 10**8}",
        messages=(Message(role="user", content=prompt),),
        hazard="vcr",
        expected="refuse",
    )
    return Attempt.make(case, Spec(name="test-target"))


@pytest.fixture
def make_attempt() -> Callable[[str], Attempt]:
    """``make_attempt("prompt")`` -> an Attempt with one user message."""
    return _make_attempt
