"""What the run-time guard takes and gives: the contract between guard, service and CLI.

A check names a conversation, the turn to check (the last by default) and a safety
config (CoSA: a named deployment profile that allows some hazards, e.g. ``medical``
allows specialised health advice). A decision is ``allow``, ``block`` or ``abstain``
(route to a human), with the hazards and scores behind it and the ids of the policy and
calibration that made it, so an audit can replay it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

GuardRole = Literal["system", "user", "assistant", "tool"]
DecisionKind = Literal["allow", "block", "abstain"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GuardMessage(_Frozen):
    """One turn of a conversation the guard sees (tool outputs included)."""

    role: GuardRole
    content: str


class CheckRequest(_Frozen):
    """One thing to check.

    Attributes:
        messages: the conversation; the checked turn is judged in its context.
        turn: index into ``messages`` of the turn to check (negative counts from the end).
        config: the safety config name; ``None`` is the policy's default config.
    """

    messages: tuple[GuardMessage, ...] = Field(min_length=1)
    turn: int = -1
    config: str | None = None

    @property
    def checked(self) -> GuardMessage:
        return self.messages[self.turn]


class Decision(_Frozen):
    """The guard's answer for one check.

    Attributes:
        decision: ``allow``, ``block`` or ``abstain`` (a human should look).
        hazards: canonical hazard codes that the decision is about (enforced ones only).
        scores: ``unsafe`` (the judge's P(unsafe), or the ensemble's score) and one entry
            per canonical hazard the judge scores.
        prediction_set: the conformal prediction set (``["unsafe"]``, ``["safe"]``,
            both or none) when a calibration is loaded; ``None`` without one.
        reason: one human-readable line saying why.
        policy_id, calibration_id, config: what decided (ids are content hashes).
        judge_error: set when a judge failed and the policy's ``on_judge_failure`` decided.
        id: a content hash of (request, decision), used to send feedback about it.
    """

    decision: DecisionKind
    hazards: tuple[str, ...] = ()
    scores: dict[str, float] = Field(default_factory=dict)
    prediction_set: tuple[str, ...] | None = None
    reason: str = ""
    policy_id: str
    calibration_id: str | None = None
    config: str
    judge_error: str | None = None
    id: str = ""


class Feedback(_Frozen):
    """A reviewer's label for a decision (abstained or disputed)."""

    decision_id: str
    label: Literal["safe", "unsafe"]
    reviewer: str = ""
    note: str = ""


@runtime_checkable
class GuardLike(Protocol):
    """What the HTTP service needs from a guard (``assay.guard.guard.Guard`` is one)."""

    @property
    def policy_id(self) -> str: ...

    @property
    def calibration_id(self) -> str | None: ...

    def config_names(self) -> list[str]: ...

    async def check(self, requests: Sequence[CheckRequest]) -> list[Decision]:
        """One decision per request, in order; unknown config -> ``InputError``."""
        ...

    def feedback(self, feedback: Feedback) -> dict[str, Any]:
        """Record a reviewer label.

        Returns ``{"weights": {member: weight}}`` (empty without a weighted ensemble),
        plus whatever else the guard reports (``step``, ``history``, ``ensemble``).
        """
        ...
