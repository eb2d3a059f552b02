"""The base of every built-in attack: a family of named variants, chosen and seeded.

An attack family (``encoding``, ``template``, ``seval``...) knows a fixed, ordered list
of variants (``base64``, ``rot13``...). ``--attack encoding`` applies all of them,
``--attack encoding:base64`` one, and ``--attack encoding,sample=2`` two drawn per case
with the case's seeded ``rng``, so that large families spread over a suite instead of
multiplying it. Every mutation records ``variant`` (and whatever else the family wants
reports to see) in its ``detail``; the engine stores it with the attempt.

Subclasses implement :meth:`mutate` for one variant. They may list extra keyword-only
constructor parameters (they are part of the spec) and must pass ``variants`` and
``sample`` on to ``super().__init__``.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Sequence
from typing import Any, ClassVar

from assay.core.component import Component
from assay.core.records import Case, Message, Mutation
from assay.errors import InputError


class VariantAttack(Component):
    """An attack plugin made of named variants; see the module docstring."""

    #: The attack family reports group by (``encoding``); defaults to ``name``.
    family: ClassVar[str] = ""
    #: Every variant, in a fixed order. Subclasses may compute it (``variant_names``).
    VARIANTS: ClassVar[tuple[str, ...]] = ()
    #: Applied to benign cases too (a mitigation's cost is over-refusal); attacks proper
    #: apply to harmful cases only unless the scan asks for ``--attack-benign``.
    benign_too: ClassVar[bool] = False
    #: What the attack mutates: ``chat`` prompts, or ``perception`` samples.
    applies_to: ClassVar[str] = "chat"

    def __init__(self, *, variants: Sequence[str] | None = None, sample: int | None = None):
        self.variants = list(variants) if variants else None
        self.sample = sample
        if sample is not None and sample < 1:
            raise InputError(f"sample must be >= 1, got {sample}", field="--attack")

    # -- what subclasses provide ------------------------------------------------------

    def variant_names(self) -> tuple[str, ...]:
        """Every variant this instance can make (override when loaded from data)."""
        return self.VARIANTS

    def mutate(
        self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Mutation | None:
        """One variant of ``messages``; ``None`` when this variant cannot apply here."""
        raise NotImplementedError

    # -- the protocol --------------------------------------------------------------

    @property
    def family_name(self) -> str:
        return self.family or self.name

    def chosen(self, rng: random.Random) -> list[str]:
        """The variants to apply to one case: all asked for, or ``sample`` of them."""
        known = self.variant_names()
        pool = list(self.variants) if self.variants else list(known)
        for variant in pool:
            if variant not in known:
                close = difflib.get_close_matches(variant, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InputError(
                    f"attack {self.family_name!r} has no variant {variant!r}{hint} "
                    f"(known: {', '.join(known)})",
                    field="--attack",
                )
        if self.sample is not None and self.sample < len(pool):
            picked = set(rng.sample(range(len(pool)), self.sample))
            pool = [v for i, v in enumerate(pool) if i in picked]
        return pool

    def apply(
        self, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> list[Mutation]:
        out: list[Mutation] = []
        for variant in self.chosen(rng):
            made = self.mutate(variant, case, messages, rng)
            if made is None:
                continue
            detail: dict[str, Any] = {"variant": variant, **made.detail}
            out.append(made.model_copy(update={"detail": detail}))
        return out


# -- helpers shared by the families ----------------------------------------------------


def last_user_index(messages: Sequence[Message]) -> int:
    """Index of the last user message (the request an attack rewrites)."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i
    raise ValueError("no user message to attack")


def request_text(messages: Sequence[Message]) -> str:
    """The text of the last user message."""
    return messages[last_user_index(messages)].content


def with_request(messages: Sequence[Message], text: str) -> tuple[Message, ...]:
    """``messages`` with the last user message replaced by ``text``."""
    i = last_user_index(messages)
    out = list(messages)
    out[i] = Message(role="user", content=text)
    return tuple(out)


def with_system(
    messages: Sequence[Message], text: str, *, mode: str = "prepend"
) -> tuple[Message, ...]:
    """Add a system prompt: ``prepend`` it to an existing one, or ``replace`` it."""
    rest = [m for m in messages if m.role != "system"]
    old = "\n\n".join(m.content for m in messages if m.role == "system")
    content = text if (mode == "replace" or not old) else f"{text}\n\n{old}"
    return (Message(role="system", content=content), *rest)


def fill(template: str, prompt: str) -> str:
    """Put ``prompt`` into a template's single ``{prompt}`` slot (other braces kept)."""
    return template.replace("{prompt}", prompt)
