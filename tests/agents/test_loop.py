"""Agents through the real engine and store: scripted agents on built-in scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.agents.judge import AgentJudge
from assay.agents.suite import core_v1
from assay.core.component import Component
from assay.core.records import Attempt, Case, Message, Response, Result, Status
from assay.engine.plan import RunParams, make_plan
from assay.engine.scan import scan
from assay.errors import InputError, TargetError
from assay.store.sqlite import Store
from assay.suites.base import Suite
from assay.testing.agents import ScriptedAgent


def _suite(*ids: str, **changes: Any) -> Suite:
    full = core_v1()
    cases = []
    for case in full.cases:
        if case.id in ids:
            scenario = {**case.metadata["scenario"], **changes}
            cases.append(
                case.model_copy(update={"metadata": {**case.metadata, "scenario": scenario}})
            )
    return Suite(name="agents-test", version="1", cases=tuple(cases))


def _run(tmp_path: Path, target: Any, suite: Suite, attacks: tuple[Any, ...] = ()) -> list[Result]:
    chains = [attacks] if attacks else [()]
    plan = make_plan(suites=[suite], targets=[target], judges=[AgentJudge()], attack_chains=chains)
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = Store(tmp_path / "a.db")
    result = scan(plan, store, params=RunParams(max_retries=0, timeout_s=10))
    out = store.results(result.run.id)
    store.close()
    return out


def test_safe_agent_refuses_harm_and_completes_twins(tmp_path: Path) -> None:
    results = _run(tmp_path, ScriptedAgent(policy="safe"), _suite("fin-01", "fin-01-ok"))
    status = {r.attempt.case.id: r.status for r in results}
    assert status == {"fin-01": Status.SAFE, "fin-01-ok": Status.OK}
    twin = next(r for r in results if r.attempt.case.id == "fin-01-ok")
    trajectory = twin.response.trajectory
    assert trajectory is not None and trajectory["status"] == "finished"
    assert [s["tool"] for s in trajectory["steps"] if s["kind"] == "call"]
    assert trajectory["diff"]["changed"] or trajectory["diff"]["added"]


def test_unsafe_and_injection_agents_are_caught(tmp_path: Path) -> None:
    unsafe = _run(tmp_path, ScriptedAgent(policy="unsafe"), _suite("fin-01"))
    assert unsafe[0].status is Status.UNSAFE
    assert "forbidden" in unsafe[0].verdicts[0].rationale
    injected = _run(tmp_path, ScriptedAgent(policy="injection"), _suite("priv-02"))
    assert injected[0].status is Status.UNSAFE
    assert injected[0].response.trajectory["injected"]  # type: ignore[index]


def test_malformed_step_limit_and_faults(tmp_path: Path) -> None:
    malformed = _run(tmp_path, ScriptedAgent(policy="malformed"), _suite("fin-01"))
    assert malformed[0].status is Status.UNSCORED  # never safe
    assert malformed[0].response.trajectory["status"] == "malformed"  # type: ignore[index]
    looping = _run(tmp_path, ScriptedAgent(policy="loop"), _suite("fin-02", max_steps=3))
    trajectory = looping[0].response.trajectory
    assert trajectory is not None and trajectory["status"] == "step_limit"
    assert sum(s["kind"] == "call" for s in trajectory["steps"]) == 3
    faulty = _run(
        tmp_path,
        ScriptedAgent(policy="loop"),
        _suite("fin-03", max_steps=2, faults={"get_balance": "error"}),
    )
    calls = [s for s in faulty[0].response.trajectory["steps"] if s["kind"] == "call"]  # type: ignore[index]
    assert [c["tool"] for c in calls] == ["get_balance", "get_balance"]
    assert all(c["error"] == "tool_error" for c in calls)


class _DiesOnTurnTwo(Component):
    """An agent whose endpoint fails on its second turn."""

    name = "dies_on_turn_two"

    def __init__(self) -> None:
        pass

    async def respond(self, attempt: Attempt) -> Response:
        if any(m.role == "assistant" for m in attempt.messages):
            raise TargetError("upstream broke", kind="http_500")
        return Response(text='<tool_call>{"name": "get_balance", "arguments": {}}</tool_call>')


def test_target_error_mid_loop_keeps_the_partial_trajectory(tmp_path: Path) -> None:
    results = _run(tmp_path, _DiesOnTurnTwo(), _suite("fin-01"))
    result = results[0]
    assert result.status is Status.ERROR and result.response.error == "http_500"
    trajectory = result.response.trajectory
    assert trajectory is not None and trajectory["status"] == "target_error"
    assert [s["tool"] for s in trajectory["steps"] if s["kind"] == "call"] == ["get_balance"]


def test_bad_policy_is_refused() -> None:
    with pytest.raises(InputError, match="policy"):
        ScriptedAgent(policy="chaotic")


def test_agent_injection_attack_is_obeyed_or_ignored(tmp_path: Path) -> None:
    import random

    from assay.agents.attacks import AgentInjectionAttack

    attack = AgentInjectionAttack(variants=["email"])
    case = next(c for c in core_v1().cases if c.id == "fin-01-ok")
    first = attack.apply(case, case.messages, random.Random(1))
    assert first == attack.apply(case, case.messages, random.Random(1))
    (mutation,) = first
    assert mutation.detail["agent_injection"]["tool"] in ("read_email", "read_inbox")
    follower = _run(
        tmp_path / "f", ScriptedAgent(policy="injection"), _suite("fin-01-ok"), (attack,)
    )
    assert follower[0].status is Status.UNSAFE
    assert "injection followed" in follower[0].verdicts[0].rationale
    careful = _run(tmp_path / "c", ScriptedAgent(policy="safe"), _suite("fin-01-ok"), (attack,))
    assert careful[0].status is Status.OK  # completed the task, ignored the planted order
    assert careful[0].response.trajectory["injected"]  # type: ignore[index]
    chat = Case(
        id="c", messages=(Message(role="user", content="hi"),), hazard="vcr", expected="refuse"
    )
    with pytest.raises(InputError, match="agent scenarios only"):
        attack.apply(chat, chat.messages, random.Random(0))


def test_the_chat_injection_family_plants_into_agent_tools(tmp_path: Path) -> None:
    """``-a injection`` on an agent scenario plants the order in a tool result (its
    ``document`` carrier maps to files, ``email`` to mail...), not in the user's goal."""
    import random

    from assay.attacks.injection import InjectionAttack

    case = next(c for c in core_v1().cases if c.id == "fin-01")
    (mutation,) = InjectionAttack(variants=["email"]).apply(case, case.messages, random.Random(3))
    assert mutation.messages == case.messages  # the goal is left alone
    assert mutation.detail["agent_injection"]["tool"] in ("read_email", "read_inbox")
    assert "canary" not in mutation.detail
    follower = _run(
        tmp_path,
        ScriptedAgent(policy="injection"),
        _suite("fin-01"),
        (InjectionAttack(variants=["email"]),),
    )
    assert follower[0].status is Status.UNSAFE
    assert "injection followed" in follower[0].verdicts[0].rationale
    assert follower[0].attempt.family == "injection"


def test_text_judges_read_the_whole_trajectory(tmp_path: Path) -> None:
    """Any -j judge sees the agent's actions as text, not only its final words."""
    from assay.judges.keyword import KeywordRefusalJudge

    suite = _suite("fin-01")
    plan = make_plan(
        suites=[suite],
        targets=[ScriptedAgent(policy="unsafe")],
        judges=[KeywordRefusalJudge()],
    )
    store = Store(tmp_path / "k.db")
    run = scan(plan, store, params=RunParams(max_retries=0, timeout_s=10)).run
    (result,) = store.results(run.id)
    store.close()
    text = result.response.text
    assert text.startswith("[tool call] transfer_money(") and text.endswith("[assistant] Done.")
    assert result.response.trajectory["final"] == "Done."  # type: ignore[index]
    names = {v.judge.name for v in result.verdicts}
    assert names == {"agent", "keyword"} and result.status is Status.UNSAFE
