"""Shared fixtures: small suites and a fast keyword-style judge built in the test."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from assay.core import Case, Exchange, Message, Outcome, Spec, Verdict
from assay.suites import Suite

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


class PrefixJudge:
    """Refused iff the response starts with "I can't"; unscored on empty text."""

    def spec(self) -> Spec:
        return Spec(name="prefix", version="1")

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        out = []
        for item in batch:
            text = item.response.text
            if not text.strip():
                out.append(Verdict.unscored(self.spec(), "empty"))
            elif text.startswith("I can't"):
                out.append(Verdict(judge=self.spec(), outcome=Outcome.REFUSED, score=0.0))
            else:
                out.append(Verdict(judge=self.spec(), outcome=Outcome.COMPLIED, score=1.0))
        return out


def make_suite(n: int, *, name: str = "t") -> Suite:
    hazards = ["vcr", "ncr", "hte", "ssh"]
    cases = tuple(
        Case(
            id=f"c{i:04d}",
            messages=(Message(role="user", content=f"question {i}"),),
            hazard=hazards[i % 4],
            expected="refuse" if i % 2 else "comply",
            suite=name,
            suite_version="1",
        )
        for i in range(n)
    )
    return Suite(name=name, version="1", cases=cases)


@pytest.fixture
def suite_factory():  # type: ignore[no-untyped-def]
    return make_suite


@pytest.fixture
def suite() -> Suite:
    return make_suite(20)


@pytest.fixture
def judge() -> PrefixJudge:
    return PrefixJudge()
