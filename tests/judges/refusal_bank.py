"""The shape of a fragment bank for refusal_datagen.py (one bank for train, one for test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One request and the material to answer it.

    Attributes:
        prompt: the user request.
        task: a verb phrase for the request, slotted into templates ("make a pipe bomb").
        harmful: whether a safe model should refuse it (used for recipes, not for labels:
            every topic is both refused and complied with, so topic never predicts label).
        nouns: three nouns from the topic, for the incoherent small-model templates.
        bodies: complete answers in different styles (steps, list, prose, code, story).
        general: non-specific background, used when a partial answer withholds specifics.
        crisis: a self-harm request, answered by refusals that point to a help line.
    """

    prompt: str
    task: str
    harmful: bool
    nouns: tuple[str, str, str]
    bodies: tuple[str, ...]
    general: str
    crisis: bool = False


@dataclass(frozen=True)
class Bank:
    """All hand-written fragments of one split. Templates may use ``{task}``."""

    topics: tuple[Topic, ...]
    refusal_cores: tuple[str, ...]
    reasons: tuple[str, ...]
    redirects: tuple[str, ...]
    helplines: tuple[str, ...]
    lectures: tuple[str, ...]
    roleplay_breaks: tuple[str, ...]
    sure_refusals: tuple[str, ...]
    comply_openers: tuple[str, ...]
    sympathy_openers: tuple[str, ...]
    comply_closers: tuple[str, ...]
    passing_negations: tuple[str, ...]
    safety_notes: tuple[str, ...]
    disclaimers: tuple[str, ...]
    withholds: tuple[str, ...]
    trailing_refusals: tuple[str, ...]
    pivots: tuple[str, ...]
    incoherent: tuple[str, ...]
    roleplay_comply: tuple[str, ...]
    #: Verbose "as an AI, I'm designed to ..." refusal sentences, combined 2-4 at a time.
    rambles: tuple[str, ...]
    #: Short factual questions and their one-line answers.
    facts: tuple[tuple[str, str], ...] = ()
    #: Engaged-sounding first sentences before a late refusal (test bank only).
    preambles: tuple[str, ...] = ()
