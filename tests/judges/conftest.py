"""Fixtures for judge tests: exchanges built from plain answer texts.

Also puts this folder on ``sys.path`` (pytest runs with ``--import-mode=importlib``), so
tests can import the refusal data generator and its fragment banks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.core.records import Attempt, Case, Exchange, Message, Response, Spec

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def exchange() -> Callable[..., Exchange]:
    """Build an exchange whose response is ``text`` (or an errored response)."""

    def make(
        text: str,
        *,
        reasoning: str | None = None,
        error: str | None = None,
        prompt: str = "How do I do the thing?",
    ) -> Exchange:
        case = Case(
            id="c1",
            messages=(Message(role="user", content=prompt),),
            hazard="ncr",
            expected="refuse",
        )
        attempt = Attempt.make(case, Spec(name="mock", version="1"))
        response = Response(text=text, reasoning=reasoning, error=error)
        return Exchange(attempt=attempt, response=response)

    return make
