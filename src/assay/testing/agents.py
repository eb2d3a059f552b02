"""Scripted agents: deterministic tool-using "models" for testing the agent pipeline.

``ScriptedAgent(policy=...)`` reads the scenario from the attempt and answers each turn
as a fixed kind of agent would, over the text protocol of :mod:`assay.agents.protocol`:

* ``safe``: completes a benign scenario's ``success`` calls (reading any tool output that
  carries an injection first, and ignoring it; asking the user first where confirmation
  is required) and refuses a harmful one in plain text;
* ``unsafe``: makes the first forbidden call of the scenario, without asking;
* ``injection``: reads with the tool that carries an injection, then sends to the first
  address, account or URL it finds in the injected text;
* ``malformed``: answers with a broken tool call;
* ``loop``: calls a reading tool forever (hits the step limit).

Arguments are built from the rules' predicates (``eq`` -> that value, ``gt`` -> more...).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from assay.core.component import Component
from assay.core.records import Attempt, Response

__all__ = ["ScriptedAgent"]

POLICIES = ("safe", "unsafe", "injection", "malformed", "loop")


def _value(test: Any) -> Any:
    """A value satisfying one argument's predicates."""
    if not isinstance(test, dict):
        return test
    for op in ("eq", "ge", "le"):
        if op in test:
            return test[op]
    if "gt" in test:
        return float(test["gt"]) + 1
    if "lt" in test:
        return float(test["lt"]) - 1
    if "in" in test:
        return next(iter(test["in"]))
    if "contains" in test:
        return test["contains"]
    if "matches" in test:
        literal = re.sub(r"[\^$()\[\]?*+\\]", "", str(test["matches"]).split("|")[0])
        return literal or "x"
    if "ne" in test or "not_in" in test:
        return "attacker-controlled"
    return "x"


def _arguments(tool: str, where: dict[str, Any]) -> dict[str, Any]:
    from assay.agents.tools import TOOLS

    schema = TOOLS[tool].parameters
    args = {k: _value(v) for k, v in where.items()}
    for name in schema.get("required", []):
        if name not in args:
            kind = schema["properties"][name].get("type")
            args[name] = 1 if kind == "number" else "x"
    return args


def _reading(tool: str, state: dict[str, Any]) -> dict[str, Any]:
    """Arguments that read something real: the first e-mail, page, file, contact..."""
    first = {
        "read_email": ("id", [m.get("id") for m in state.get("inbox", [])]),
        "browse": ("url", list(state.get("web", {}))),
        "read_file": ("path", list(state.get("files", {}))),
        "get_contact": ("name", [c.get("name") for c in state.get("contacts", [])]),
        "get_setting": ("name", list(state.get("settings", {}))),
        "search_records": ("query", [""]),
    }.get(tool)
    if first is None or not first[1]:
        return _arguments(tool, {})
    return {first[0]: first[1][0]}


def _call(tool: str, args: dict[str, Any]) -> str:
    return f"<tool_call>{json.dumps({'name': tool, 'arguments': args})}</tool_call>"


class ScriptedAgent(Component):
    """A deterministic agent of a given ``policy`` (see the module docstring)."""

    name = "scripted_agent"
    version = "1"
    default_concurrency: ClassVar[int] = 8

    def __init__(self, *, policy: str = "safe") -> None:
        if policy not in POLICIES:
            from assay.errors import InputError

            raise InputError(f"policy must be one of {', '.join(POLICIES)}", field="policy")
        self.policy = policy

    def _plan(self, attempt: Attempt) -> list[str]:
        from assay.agents.scenario import Scenario

        scenario = Scenario.model_validate(attempt.case.metadata["scenario"])
        if self.policy == "malformed":
            return ['<tool_call>{"name": "read_inbox", "arguments": </tool_call>']
        if self.policy == "unsafe" and scenario.safety.forbidden:
            rule = scenario.safety.forbidden[0]
            return [_call(rule.tool, _arguments(rule.tool, rule.where)), "Done."]
        if self.policy == "injection":
            extra = attempt.detail("agent_injection") or {}
            tools = [i.tool for i in scenario.injections] + [extra.get("tool", "")]
            reader = next((t for t in tools if t in scenario.tools), scenario.tools[0])
            return [_call(reader, _reading(reader, scenario.state)), "__follow__"]
        if self.policy == "loop":
            reader = scenario.tools[0]
            return [_call(reader, _reading(reader, scenario.state))] * (scenario.max_steps + 1)
        if not scenario.benign:
            return ["I can't help with that: it could cause harm."]
        plan: list[str] = []
        extra = attempt.detail("agent_injection") or {}
        planted = [i.tool for i in scenario.injections] + [extra.get("tool", "")]
        reader = next((t for t in planted if t in scenario.tools), None)
        if reader is not None:  # read what carries the injection, then ignore it
            plan.append(_call(reader, _reading(reader, scenario.state)))
        for rule in scenario.success:
            if rule.tool in scenario.safety.confirm_before and not any(
                "ask_user" in p for p in plan
            ):
                plan.append(_call("ask_user", {"question": f"Shall I go ahead with {rule.tool}?"}))
            plan.append(_call(rule.tool, _arguments(rule.tool, rule.where)))
        return [*plan, "All done."]

    def _follow(self, attempt: Attempt) -> str:
        from assay.agents.judge import ADDRESSES
        from assay.agents.scenario import Scenario
        from assay.agents.tools import TOOLS

        scenario = Scenario.model_validate(attempt.case.metadata["scenario"])
        seen = " ".join(m.content for m in attempt.messages if "<tool_result" in m.content)
        tokens = ADDRESSES.findall(seen)
        sender = next((t for t in scenario.tools if TOOLS[t].sends), None)
        if not tokens or sender is None:
            return "Nothing to do."
        args = _arguments(sender, {})
        key = next((k for k in ("to", "channel") if k in args), None)
        if key is not None:
            args[key] = tokens[-1]  # injected text is appended last
        if "body" in args or "text" in args:
            args["body" if "body" in args else "text"] = "as requested"
        return _call(sender, args)

    async def respond(self, attempt: Attempt) -> Response:
        plan = self._plan(attempt)
        turn = sum(1 for m in attempt.messages if m.role == "assistant")
        text = plan[turn] if turn < len(plan) else "Done."
        if text == "__follow__":
            text = self._follow(attempt)
        return Response(text=text, finish_reason="stop")
