"""The four contracts. Each has ONE required method; a new kind of thing is a new class.

* ``Target.respond``: the system under test answers one attempt.
* ``Judge.judge``: decide the outcome of a batch of exchanges (batches let embedding
  judges run efficiently; the engine feeds them as responses arrive).
* ``Attack.apply``: turn one case (as mutated so far) into variants, seeded.
* ``Metric.compute``: reduce scored results to numbers.

Timeouts and retries are the engine's job, not the target's: a target raises
``RetryableTargetError`` for 429/5xx and ``TargetError`` for the rest.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from assay.core.records import Attempt, Case, Exchange, Message, Mutation, Response, Spec, Verdict


@runtime_checkable
class Target(Protocol):
    """The system under test."""

    def spec(self) -> Spec: ...

    async def respond(self, attempt: Attempt) -> Response:
        """Answer one attempt; raise ``TargetError`` (or a subclass) on failure."""
        ...


@runtime_checkable
class Judge(Protocol):
    """Decides outcomes. Returns *unscored* verdicts when it cannot decide; never guesses."""

    def spec(self) -> Spec: ...

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        """One verdict per exchange, in order."""
        ...


@runtime_checkable
class Attack(Protocol):
    """Mutates a case; records what it did in each mutation's note."""

    def spec(self) -> Spec: ...

    def apply(
        self, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Sequence[Mutation]:
        """Variants of ``messages`` (the case as mutated by earlier attacks).

        ``rng`` is seeded from (run seed, case, attack), so the same seed gives the same
        variants whatever the order or the other attacks of the run.
        """
        ...


@runtime_checkable
class Metric(Protocol):
    """Reduces results to numbers."""

    def spec(self) -> Spec: ...

    def compute(self, results: Sequence[Any]) -> Any:
        """Compute the metric over scored results."""
        ...
