"""Persona sweep: the same request under different assigned system-prompt personas.

Assigning a persona through the system prompt can raise a model's toxicity up to six
times (Deshpande et al. 2023, "Toxicity in ChatGPT: Analyzing Persona-assigned Language
Models"), and deployments set system prompts the model's makers never tested. This
attack sweeps a list of personas (``data/personas.jsonl``, written by us, with a neutral
``helpful_assistant`` baseline to compare against) or the user's own list (``file=``,
JSONL or YAML rows of ``id``, ``description``, ``system``). Each persona id is a variant.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from assay.attacks.base import VariantAttack, with_system
from assay.attacks.templates import read_rows, read_source, unique_ids
from assay.core.records import Case, Message, Mutation
from assay.errors import InputError

MODES = ("replace", "prepend")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Persona:
    """One persona: ``system`` is the system prompt that assigns it."""

    id: str
    description: str
    system: str


def _persona(row: Any, *, source: str, line: int) -> Persona:
    if not isinstance(row, dict):
        raise InputError("a persona must be a mapping", source=source, line=line)
    pid = row.get("id")
    if not isinstance(pid, str) or not _ID.match(pid):
        raise InputError(
            "persona id must be a word of letters, digits, '_', '-' or '.'",
            source=source,
            line=line,
            field="id",
        )
    system = row.get("system", row.get("system_prompt"))
    if not isinstance(system, str) or not system.strip():
        raise InputError(
            "missing the persona's system prompt (key 'system')",
            source=source,
            line=line,
            field="system",
        )
    description = row.get("description", "")
    if not isinstance(description, str):
        raise InputError("description must be a string", source=source, line=line)
    return Persona(id=pid, description=description, system=system.strip())


def parse_personas(text: str, source: str) -> tuple[Persona, ...]:
    """Read a persona list (JSONL, JSON or YAML) with unique ids."""
    made = [
        (line, _persona(row, source=source, line=line)) for line, row in read_rows(text, source)
    ]
    return unique_ids(made, what="persona", source=source)


@cache
def builtin_personas() -> tuple[Persona, ...]:
    """The personas shipped with assay (``data/personas.jsonl``)."""
    text = resources.files("assay.attacks").joinpath("data/personas.jsonl").read_text("utf-8")
    return parse_personas(text, "personas.jsonl")


class PersonaAttack(VariantAttack):
    """Send the request under an assigned persona system prompt; a variant is a persona.

    Args:
        file: the user's persona list (JSONL or YAML) used instead of the built-in one.
        mode: ``replace`` the case's system prompt with the persona (the default: the
            persona is the whole deployment), or ``prepend`` the persona to it.
    """

    name = "persona"
    family = "persona"
    version = "1"

    def __init__(
        self,
        *,
        file: str | None = None,
        mode: str = "replace",
        variants: Sequence[str] | None = None,
        sample: int | None = None,
    ) -> None:
        super().__init__(variants=variants, sample=sample)
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", field="mode")
        self.file = file
        self.mode = mode
        self._personas = (
            parse_personas(read_source(file), file) if file is not None else builtin_personas()
        )

    def variant_names(self) -> tuple[str, ...]:
        return tuple(p.id for p in self._personas)

    def mutate(
        self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Mutation | None:
        persona = next(p for p in self._personas if p.id == variant)
        about = f": {persona.description}" if persona.description else ""
        return Mutation(
            messages=with_system(messages, persona.system, mode=self.mode),
            note=f"persona {persona.id}{about}",
            detail={"persona": persona.id},
        )
