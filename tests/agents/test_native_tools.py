"""Native tool calling: the ``openai`` target sends ``tools``, reads ``tool_calls`` and
gets ``role: tool`` results back, over real HTTP to the local stub server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.agents.judge import AgentJudge
from assay.agents.suite import core_v1, core_v1_scenarios
from assay.core.records import Message, Result, Status, ToolCall
from assay.engine.plan import RunParams, make_plan
from assay.engine.scan import scan
from assay.errors import InputError
from assay.store.sqlite import Store
from assay.suites.base import Suite
from assay.targets.openai import OpenAITarget, wire_message
from assay.testing.agents import ScriptedAgent, openai_agent, regex_example
from assay.testing.stub import StubServer

#: Scenarios whose goal and system prompt are their own (the HTTP agent can tell them
#: apart); fin-01 and its twin share both, so only the harmful one is served over HTTP.
IDS = ("fin-01", "priv-02", "prop-01", "prop-01-ok", "sec-01", "sec-01-ok")


def _suite(ids: tuple[str, ...] = IDS) -> Suite:
    cases = tuple(c for c in core_v1().cases if c.id in ids)
    return Suite(name="agents-native", version="1", cases=cases)


def _scan(tmp_path: Path, target: Any, suite: Suite, name: str = "a.db") -> list[Result]:
    plan = make_plan(suites=[suite], targets=[target], judges=[AgentJudge()])
    store = Store(tmp_path / name)
    result = scan(plan, store, params=RunParams(max_retries=0, timeout_s=10))
    out = store.results(result.run.id)
    store.close()
    return out


def _captured(requests: list[dict[str, Any]], policy: str) -> Any:
    serve = openai_agent(core_v1_scenarios(), policy)

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        requests.append(request)
        return serve(request)

    return respond


@pytest.mark.parametrize("policy", ["safe", "unsafe", "injection"])
def test_native_http_agent_gets_the_same_verdicts_as_the_text_protocol(
    tmp_path: Path, policy: str
) -> None:
    requests: list[dict[str, Any]] = []
    with StubServer(respond=_captured(requests, policy)) as stub:
        native = _scan(tmp_path, OpenAITarget(base_url=stub.base_url, model="m"), _suite())
        text = _scan(
            tmp_path,
            OpenAITarget(base_url=stub.base_url, model="m", tool_calls="text"),
            _suite(),
            "b.db",
        )
    by_native = {r.attempt.case.id: r for r in native}
    by_text = {r.attempt.case.id: r for r in text}
    assert set(by_native) == set(IDS)
    for case_id in IDS:
        a, b = by_native[case_id], by_text[case_id]
        assert a.status is b.status, case_id
        assert a.response.trajectory["protocol"] == "native"  # type: ignore[index]
        assert b.response.trajectory["protocol"] == "text"  # type: ignore[index]
        calls = [
            (s["tool"], s["arguments"])
            for s in a.response.trajectory["steps"]  # type: ignore[index]
            if s["kind"] == "call"
        ]
        assert calls == [
            (s["tool"], s["arguments"])
            for s in b.response.trajectory["steps"]  # type: ignore[index]
            if s["kind"] == "call"
        ]
    statuses = {r.status for r in native}
    if policy == "safe":
        assert statuses <= {Status.SAFE, Status.OK}
        assert by_native["sec-01-ok"].status is Status.OK
    else:
        assert by_native["fin-01"].status is Status.UNSAFE
    # What went over the wire: tools on native requests only, results as role "tool"
    # messages answering the call ids, no tool list in the system prompt.
    with_tools = [r for r in requests if r.get("tools")]
    without = [r for r in requests if not r.get("tools")]
    assert with_tools and without
    spec = with_tools[0]["tools"][0]
    assert spec["type"] == "function" and {"name", "description", "parameters"} <= set(
        spec["function"]
    )
    assert "<tool_call>" not in with_tools[0]["messages"][0]["content"]
    assert "<tool_call>" in without[0]["messages"][0]["content"]
    followups = [r for r in with_tools if any(m["role"] == "tool" for m in r["messages"])]
    assert followups
    messages = followups[-1]["messages"]
    asked = {c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls", [])}
    answered = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
    assert answered and answered <= asked
    if policy == "injection":
        result = by_native["priv-02"]
        assert result.status is Status.UNSAFE
        assert result.response.trajectory["injected"]  # type: ignore[index]


def test_broken_native_arguments_are_unscored_with_the_reason(tmp_path: Path) -> None:
    with StubServer(respond=openai_agent(core_v1_scenarios(), "malformed")) as stub:
        results = _scan(
            tmp_path, OpenAITarget(base_url=stub.base_url, model="m"), _suite(("fin-01",))
        )
    (result,) = results
    assert result.status is Status.UNSCORED  # never safe
    trajectory = result.response.trajectory
    assert trajectory is not None and trajectory["status"] == "malformed"
    assert "not a JSON object" in trajectory["malformed_reason"]
    assert "not a JSON object" in (result.verdicts[0].unscored_reason or "")


def test_a_tool_call_written_as_text_in_native_mode_is_malformed(tmp_path: Path) -> None:
    """A server without a tool-call parser returns the call as text: never guessed."""
    text_agent = openai_agent(core_v1_scenarios(), "unsafe")

    def ignore_tools(request: dict[str, Any]) -> dict[str, Any]:
        return text_agent({**request, "tools": None})

    with StubServer(respond=ignore_tools) as stub:
        (result,) = _scan(
            tmp_path, OpenAITarget(base_url=stub.base_url, model="m"), _suite(("fin-01",))
        )
    assert result.status is Status.UNSCORED
    assert "tool_calls=text" in result.response.trajectory["malformed_reason"]  # type: ignore[index]


def test_in_process_native_and_text_agents_agree_on_the_whole_suite(tmp_path: Path) -> None:
    for policy in ("safe", "unsafe"):
        native = _scan(
            tmp_path, ScriptedAgent(policy=policy, tool_calls="native"), core_v1(), f"n{policy}"
        )
        text = _scan(tmp_path, ScriptedAgent(policy=policy), core_v1(), f"t{policy}")
        assert {r.attempt.case.id: r.status for r in native} == {
            r.attempt.case.id: r.status for r in text
        }
        if policy == "unsafe":  # every harmful scenario's forbidden call is made and caught
            harmful = [r for r in native if not r.attempt.case.metadata["scenario"]["benign"]]
            assert len(harmful) == 40
            assert all(r.status is Status.UNSAFE for r in harmful)


def test_wire_format_of_tool_messages() -> None:
    call = ToolCall(id="c1", name="get_balance", arguments="{}")
    assert wire_message(Message(role="assistant", content="", tool_calls=(call,))) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_balance", "arguments": "{}"}}
        ],
    }
    assert wire_message(Message(role="tool", content="42", tool_call_id="c1")) == {
        "role": "tool",
        "content": "42",
        "tool_call_id": "c1",
    }
    # A plain message serialises as before, so stored attempt hashes do not move.
    assert Message(role="user", content="hi").model_dump() == {"role": "user", "content": "hi"}
    with pytest.raises(InputError, match="native"):
        OpenAITarget(base_url="http://127.0.0.1:1/v1", model="m", tool_calls="json")  # type: ignore[arg-type]


def test_server_tool_calls_are_read_as_written() -> None:
    """Arguments decoded to an object by the server are re-encoded; a bad shape is an
    unparsable response (an error), not an empty answer."""
    import asyncio

    from assay.core.records import Attempt, Case, Spec

    answers: list[dict[str, Any]] = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": {"a": 1}}}],
        },
        {"role": "assistant", "content": None, "tool_calls": [{"id": "y"}]},
    ]
    replies = iter(answers)
    case = Case(
        id="c", messages=(Message(role="user", content="q"),), hazard="prv", expected="comply"
    )
    attempt = Attempt.make(case, Spec(name="openai"))
    with StubServer(respond=lambda request: next(replies)) as stub:
        target = OpenAITarget(base_url=stub.base_url, model="m")
        response = asyncio.run(target.respond(attempt))
        assert response.tool_calls == (ToolCall(id="x", name="f", arguments='{"a": 1}'),)
        assert response.finish_reason == "tool_calls"
        from assay.errors import ResponseFormatError

        with pytest.raises(ResponseFormatError, match="no function name"):
            asyncio.run(target.respond(attempt))
    assert json.loads(response.tool_calls[0].arguments) == {"a": 1}


@pytest.mark.parametrize(
    "pattern",
    [
        r"^(photos|backups)/",
        r"\d{4}[ -]?\d{4}[ -]?\d{4}",
        r"^(off|false|0|disabled?|no)$",
        r"rm\s+-rf",
        "id_ed25519$",
        "bo@mail|cy@mail",
        "[A-Z][a-z]+ [0-9]+",
    ],
)
def test_regex_example_matches_its_pattern(pattern: str) -> None:
    import re

    assert re.search(pattern, regex_example(pattern))
