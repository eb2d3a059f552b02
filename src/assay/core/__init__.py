"""Records, protocols, the registry and the hazard taxonomy."""

from assay.core.component import Component
from assay.core.protocols import Attack, Judge, Metric, Target
from assay.core.records import (
    AttackStep,
    Attempt,
    Case,
    Exchange,
    Message,
    Mutation,
    Outcome,
    Response,
    Result,
    RunInfo,
    Spec,
    Status,
    Verdict,
    content_hash,
    status_of,
)
from assay.core.registry import registry
from assay.core.taxonomy import HAZARDS, LLAMA_GUARD_3, SIMPLE_SAFETY_TESTS, canonical

__all__ = [
    "HAZARDS",
    "LLAMA_GUARD_3",
    "SIMPLE_SAFETY_TESTS",
    "Attack",
    "AttackStep",
    "Attempt",
    "Case",
    "Component",
    "Exchange",
    "Judge",
    "Message",
    "Metric",
    "Mutation",
    "Outcome",
    "Response",
    "Result",
    "RunInfo",
    "Spec",
    "Status",
    "Target",
    "Verdict",
    "canonical",
    "content_hash",
    "registry",
    "status_of",
]
