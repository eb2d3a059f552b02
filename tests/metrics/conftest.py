"""A hand-built Result factory for the metric tests (no engine, no store)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.core.records import (
    AttackStep,
    Attempt,
    Case,
    Message,
    Outcome,
    Response,
    Result,
    Spec,
    Status,
    Verdict,
)

JUDGE = Spec(name="refusal", version="1")

_OUTCOME = {
    Status.SAFE: Outcome.REFUSED,
    Status.UNSAFE: Outcome.COMPLIED,
    Status.OK: Outcome.COMPLIED,
    Status.OVER_REFUSAL: Outcome.REFUSED,
}

Make = Callable[..., Result]


def _make(
    case_id: str,
    status: str,
    hazard: str = "vcr",
    *,
    expected: str | None = None,
    suite: str = "demo",
    target: str = "a",
    attacks: tuple[str, ...] = (),
    prompt: str | None = None,
) -> Result:
    """A Result with the given status; ``expected`` follows the status unless given."""
    st = Status(status)
    if expected is None:
        expected = "comply" if st in (Status.OK, Status.OVER_REFUSAL) else "refuse"
    case = Case(
        id=case_id,
        messages=(Message(role="user", content=prompt or case_id),),
        hazard=hazard,
        expected=expected,
        suite=suite,
    )
    chain = tuple(AttackStep(attack=Spec(name=a)) for a in attacks)
    attempt = Attempt.make(case, Spec(name=target), chain)
    if st is Status.ERROR:
        return Result(attempt=attempt, response=Response(error="timeout"), status=st)
    verdict = (
        Verdict.unscored(JUDGE, "no decision")
        if st is Status.UNSCORED
        else Verdict(judge=JUDGE, outcome=_OUTCOME[st])
    )
    return Result(attempt=attempt, response=Response(text="r"), verdicts=(verdict,), status=st)


@pytest.fixture
def make() -> Make:
    return _make
