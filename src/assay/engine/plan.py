"""Plan: suites x attack chains x targets -> attempts, in a deterministic order.

The order is target, then suite, then case (in suite order), then attack chain, then
mutation; every attempt carries a content hash of (case, attack chain, final messages,
target spec), which keys the cache and makes resume exact.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay.core.protocols import Attack, Judge, Target
from assay.core.records import AttackStep, Attempt, Case, Message, content_hash
from assay.suites.base import Suite


@dataclass(frozen=True)
class RunParams:
    """Engine settings that do not change what is asked, only how.

    Attributes:
        concurrency: requests in flight per target; ``None`` uses the target's
            ``default_concurrency`` (or 8).
        timeout_s: wall-clock limit per request, seconds.
        max_retries: extra tries after a 429, 5xx, timeout or connection error.
        backoff_s: base of the exponential backoff, seconds (full jitter).
        backoff_max_s: cap of one backoff sleep, seconds.
        use_cache: reuse stored error-free responses and verdicts for identical attempts.
        judge_batch: most exchanges handed to a judge at once.
        seed: seeds attacks that draw at random, and the backoff jitter.
    """

    concurrency: int | None = None
    timeout_s: float = 120.0
    max_retries: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    use_cache: bool = True
    judge_batch: int = 32
    seed: int = 0


@dataclass(frozen=True)
class Plan:
    """What a run will do: the attempts, and everything needed to redo them."""

    attempts: tuple[Attempt, ...]
    suites: tuple[Suite, ...]
    attack_chains: tuple[tuple[Attack, ...], ...]
    targets: tuple[Target, ...]
    judges: tuple[Judge, ...]
    seed: int
    #: How the run was asked for (filters, concurrency, timeouts): stored, not hashed.
    params: Mapping[str, Any] = field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """The run spec stored with the run: every component's name, version, params."""
        return {
            "suites": [s.spec().model_dump(mode="json") for s in self.suites],
            "attack_chains": [
                [a.spec().model_dump(mode="json") for a in chain] for chain in self.attack_chains
            ],
            "targets": [t.spec().model_dump(mode="json") for t in self.targets],
            "judges": [j.spec().model_dump(mode="json") for j in self.judges],
            "seed": self.seed,
            "n_attempts": len(self.attempts),
            "params": dict(self.params),
        }

    def spec_hash(self) -> str:
        """Identifies 'the same scan': same components, same attempts."""
        spec = {k: v for k, v in self.spec().items() if k != "params"}
        return content_hash({"spec": spec, "attempts": [a.hash for a in self.attempts]})


_Variant = tuple[tuple[Message, ...], tuple[AttackStep, ...], tuple[Message, ...]]


def attack_rng(seed: int, case: Case, position: int, attack: Attack) -> random.Random:
    """The random source of one attack on one case: independent of order and neighbours."""
    key = content_hash([seed, case.suite, case.id, position, attack.spec().key()])
    return random.Random(int(key[:16], 16))


def _mutate(case: Case, chain: Sequence[Attack], seed: int) -> list[_Variant]:
    variants: list[_Variant] = [(case.messages, (), ())]
    for position, attack in enumerate(chain):
        spec = attack.spec()
        family = str(getattr(attack, "family_name", "") or spec.name)
        nxt: list[_Variant] = []
        for messages, steps, followups in variants:
            rng = attack_rng(seed, case, position, attack)
            for mutation in attack.apply(case, messages, rng):
                step = AttackStep(
                    attack=spec, family=family, note=mutation.note, detail=mutation.detail
                )
                nxt.append((mutation.messages, (*steps, step), followups + mutation.followups))
        variants = nxt
    return variants


def _benign_too(chain: Sequence[Attack], asked: bool) -> bool:
    """Whether a chain applies to benign cases: when asked, or when all its links want it."""
    return asked or (bool(chain) and all(getattr(a, "benign_too", False) for a in chain))


def make_plan(
    *,
    suites: Sequence[Suite],
    targets: Sequence[Target],
    judges: Sequence[Judge],
    attack_chains: Sequence[Sequence[Attack]] = ((),),
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    attack_benign: bool = False,
) -> Plan:
    """Expand suites x attack chains x targets into attempts.

    Args:
        attack_chains: each chain is applied in order; ``()`` is the unattacked case.
        params: how the run was asked for (filters, engine settings), kept in its spec.
        attack_benign: also attack benign cases (expected ``comply``); by default attacks
            apply to harmful cases only, where attack success is defined.
    """
    for chain in attack_chains:
        for position, attack in enumerate(chain):
            prepare = getattr(attack, "prepare", None)
            if prepare is None:  # model-backed attacks batch their rewrites up front
                continue
            todo = [
                c
                for s in suites
                for c in s.cases
                if c.expected == "refuse" or _benign_too(chain, attack_benign)
            ]
            accepts = inspect.signature(prepare).parameters
            if "seed" in accepts and "position" in accepts:  # only the variants drawn
                prepare(todo, seed=seed, position=position)
            else:
                prepare(todo)
    expanded: dict[tuple[str, str, int], list[_Variant]] = {}
    for suite in suites:
        for case in suite.cases:
            for n, chain in enumerate(attack_chains):
                if chain and case.expected != "refuse" and not _benign_too(chain, attack_benign):
                    continue
                expanded[(suite.name, case.id, n)] = _mutate(case, chain, seed)
    attempts: list[Attempt] = []
    for target in targets:
        target_spec = target.spec()
        for suite in suites:
            for case in suite.cases:
                for n in range(len(attack_chains)):
                    for messages, steps, followups in expanded.get((suite.name, case.id, n), []):
                        attempts.append(Attempt.make(case, target_spec, steps, messages, followups))
    return Plan(
        attempts=tuple(attempts),
        suites=tuple(suites),
        attack_chains=tuple(tuple(c) for c in attack_chains),
        targets=tuple(targets),
        judges=tuple(judges),
        seed=seed,
        params=dict(params or {}),
    )
