"""Mitigations, measured with the attack machinery: a safety prompt, a reminder, a demo.

A mitigation is "an attack" that should make the target safer, so it runs through the
same chains, reports and lift tables; its mutations carry ``detail["mitigation"] = True``
so reports can show the change as a (hopefully negative) lift instead of an attack
success. SimpleSafetyTests (Vidgen et al. 2023) found that a safety-emphasising system
prompt reduces, but does not remove, unsafe responses; this family lets users check
that claim for their own system, alone or chained after an attack
(``--attack 'template:roleplay>mitigation:self_reminder'``).

Variants (texts in ``data/mitigations.jsonl``, written by us):

* ``safety_system_prompt``: prepend a safety-emphasising system prompt.
* ``self_reminder``: a system prompt plus a reminder after the user's message (Xie et al.
  2023, "Defending ChatGPT against jailbreak attack via self-reminders").
* ``in_context_defense``: a refusal demonstration before the request (Wei et al. 2023,
  "Jailbreak and Guard Aligned Language Models with Only Few In-Context Demonstrations").
"""

from __future__ import annotations

import json
import random
from functools import cache
from importlib import resources
from typing import Any, ClassVar

from assay.attacks.base import (
    VariantAttack,
    last_user_index,
    request_text,
    with_request,
    with_system,
)
from assay.core.records import Case, Message, Mutation


@cache
def mitigation_texts() -> dict[str, dict[str, Any]]:
    """The shipped mitigation texts, by variant (``data/mitigations.jsonl``)."""
    text = resources.files("assay.attacks").joinpath("data/mitigations.jsonl").read_text("utf-8")
    rows = (json.loads(line) for line in text.splitlines() if line.strip())
    return {row["id"]: row for row in rows}


class MitigationAttack(VariantAttack):
    """Apply a mitigation to the case; see the module docstring for the variants."""

    name = "mitigation"
    #: A mitigation's cost is over-refusal on benign cases: measure it by default.
    benign_too = True
    family = "mitigation"
    version = "1"
    VARIANTS: ClassVar[tuple[str, ...]] = (
        "safety_system_prompt",
        "self_reminder",
        "in_context_defense",
    )

    def mutate(
        self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Mutation | None:
        texts = mitigation_texts()[variant]
        if variant == "safety_system_prompt":
            out = with_system(messages, texts["system"], mode="prepend")
            note = "safety-emphasising system prompt"
        elif variant == "self_reminder":
            reminded = f"{request_text(messages)}\n\n{texts['suffix']}"
            out = with_system(with_request(messages, reminded), texts["system"], mode="prepend")
            note = "self-reminder system prompt and suffix"
        else:
            i = last_user_index(messages)
            demo = (
                Message(role="user", content=texts["demo_user"]),
                Message(role="assistant", content=texts["demo_assistant"]),
            )
            out = (*messages[:i], *demo, *messages[i:])
            note = "refusal demonstration before the request"
        return Mutation(messages=out, note=note, detail={"mitigation": True})
