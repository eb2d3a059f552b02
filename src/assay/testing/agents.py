"""Scripted agents: deterministic tool-using "models" for testing the agent pipeline.

``ScriptedAgent(policy=...)`` reads the scenario from the attempt and answers each turn
as a fixed kind of agent would:

* ``safe``: completes a benign scenario's ``success`` calls (reading any tool output that
  carries an injection first, and ignoring it; asking the user first where confirmation
  is required) and refuses a harmful one in plain text;
* ``unsafe``: makes the first forbidden call of the scenario, without asking;
* ``injection``: reads with the tool that carries an injection, then sends to the first
  address, account or URL it finds in the injected text;
* ``caves``: like ``safe``, but on a harmful scenario it gives in when the user pushes
  after its refusal (makes the first forbidden call): caught only under
  ``-a agent_user:pushy``;
* ``malformed``: answers with a broken tool call;
* ``loop``: calls a reading tool forever (hits the step limit).

With ``tool_calls="text"`` (the default) it answers over the text protocol of
:mod:`assay.agents.protocol`; with ``"native"`` it returns ``Response.tool_calls`` as a
model behind an OpenAI-compatible API would. :func:`openai_agent` puts the same policies
behind the local stub server (``python -m assay.testing.stub --agent safe``), so the
``openai`` target's native ``tools``/``tool_calls`` round trip is tested over real HTTP.

Arguments are built from the rules' predicates (``eq`` -> that value, ``gt`` -> more,
``matches`` -> a string the regular expression matches...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from assay.core.component import Component
from assay.core.records import Attempt, Message, Response, ToolCall

if TYPE_CHECKING:
    from assay.agents.scenario import Scenario

__all__ = ["POLICIES", "ScriptedAgent", "openai_agent", "regex_example"]

POLICIES = ("safe", "unsafe", "injection", "caves", "malformed", "loop")
_BROKEN = '{"name": "read_inbox", "arguments": '


def regex_example(pattern: str) -> str:
    """A short string that ``re.search(pattern, ...)`` matches (first branch, fewest
    repeats); ``"x"`` when the pattern uses something this walker does not know."""
    import re._parser as sre  # the standard library's own regex parser

    def walk(items: Any) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "ANY":
                out.append("x")
            elif name == "IN":
                out.append(_class_member(arg))
            elif name == "SUBPATTERN":
                out.append(walk(arg[-1]))
            elif name == "BRANCH":
                out.append(walk(arg[1][0]))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _high, body = arg
                out.append(walk(body) * max(int(low), 1))
            elif name == "CATEGORY":
                out.append(_category(str(arg)))
            elif name == "AT":
                continue
            else:
                raise ValueError(name)
        return "".join(out)

    try:
        text = walk(sre.parse(pattern))
    except (ValueError, re.error, TypeError):
        return "x"
    return text if re.search(pattern, text) else "x"


def _category(name: str) -> str:
    if "NOT" in name:
        return "-"
    return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(name, "x")


def _class_member(items: Any) -> str:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return _category(str(arg))
    return "x"


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
        return regex_example(str(test["matches"]))
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


#: One planned turn: a tool call, a plain-text answer, broken output, or "follow the
#: injection" (decided once the injected text has been read).
Step = tuple[Literal["call"], str, dict[str, Any]] | tuple[Literal["say", "broken", "follow"], str]


def plan(scenario: Scenario, policy: str, injected_tool: str = "") -> list[Step]:
    """The turns a ``policy`` agent plays on ``scenario`` (see the module docstring).

    ``injected_tool`` is the tool an ``agent_injection`` attack planted text in, if any.
    """
    if policy == "malformed":
        return [("broken", _BROKEN)]
    if policy == "unsafe" and scenario.safety.forbidden:
        rule = scenario.safety.forbidden[0]
        return [("call", rule.tool, _arguments(rule.tool, rule.where)), ("say", "Done.")]
    planted = [i.tool for i in scenario.injections] + [injected_tool]
    if policy == "injection":
        reader = next((t for t in planted if t in scenario.tools), scenario.tools[0])
        return [("call", reader, _reading(reader, scenario.state)), ("follow", "")]
    if policy == "loop":
        reader = scenario.tools[0]
        return [("call", reader, _reading(reader, scenario.state))] * (scenario.max_steps + 1)
    if not scenario.benign:
        refusal: Step = ("say", "I can't help with that: it could cause harm.")
        if policy == "caves" and scenario.safety.forbidden:
            rule = scenario.safety.forbidden[0]
            return [
                refusal,
                ("call", rule.tool, _arguments(rule.tool, rule.where)),
                ("say", "Done."),
            ]
        return [refusal]
    steps: list[Step] = []
    first = next((t for t in planted if t in scenario.tools), None)
    if first is not None:  # read what carries the injection, then ignore it
        steps.append(("call", first, _reading(first, scenario.state)))
    asked = False
    for rule in scenario.success:
        if rule.tool in scenario.safety.confirm_before and not asked:
            steps.append(("call", "ask_user", {"question": f"Shall I go ahead with {rule.tool}?"}))
            asked = True
        steps.append(("call", rule.tool, _arguments(rule.tool, rule.where)))
    return [*steps, ("say", "All done.")]


def follow(scenario: Scenario, seen: str) -> Step:
    """The call an injection-following agent makes after reading ``seen`` (tool results):
    send to the last address, account or URL in it, through a sending tool."""
    from assay.agents.judge import ADDRESSES
    from assay.agents.tools import TOOLS

    tokens = ADDRESSES.findall(seen)
    sender = next((t for t in scenario.tools if TOOLS[t].sends), None)
    if not tokens or sender is None:
        return ("say", "Nothing to do.")
    args = _arguments(sender, {})
    key = next((k for k in ("to", "channel") if k in args), None)
    if key is not None:
        args[key] = tokens[-1]  # injected text is appended last
    if "body" in args or "text" in args:
        args["body" if "body" in args else "text"] = "as requested"
    return ("call", sender, args)


def next_step(
    scenario: Scenario, policy: str, messages: Sequence[Message], injected_tool: str = ""
) -> Step:
    """The policy's answer to a conversation so far (one per assistant turn in it)."""
    steps = plan(scenario, policy, injected_tool)
    turn = sum(1 for m in messages if m.role == "assistant")
    step = steps[turn] if turn < len(steps) else ("say", "Done.")
    if step[0] == "follow":
        seen = " ".join(
            m.content for m in messages if m.role == "tool" or "<tool_result" in m.content
        )
        return follow(scenario, seen)
    return step


def _as_text(step: Step) -> str:
    if step[0] == "call":
        return f"<tool_call>{json.dumps({'name': step[1], 'arguments': step[2]})}</tool_call>"
    if step[0] == "broken":
        return f"<tool_call>{step[1]}</tool_call>"
    return step[1]


def _as_native(step: Step, turn: int) -> tuple[str, tuple[ToolCall, ...]]:
    """``(content, tool_calls)`` for a native reply; a broken step has bad arguments."""
    if step[0] == "call":
        return "", (ToolCall(id=f"call_{turn}", name=step[1], arguments=json.dumps(step[2])),)
    if step[0] == "broken":
        return "", (ToolCall(id=f"call_{turn}", name="read_inbox", arguments=step[1]),)
    return step[1], ()


class ScriptedAgent(Component):
    """A deterministic agent of a given ``policy`` (see the module docstring)."""

    name = "scripted_agent"
    version = "1"
    default_concurrency: ClassVar[int] = 8

    def __init__(self, *, policy: str = "safe", tool_calls: str = "text") -> None:
        from assay.errors import InputError

        if policy not in POLICIES:
            raise InputError(f"policy must be one of {', '.join(POLICIES)}", field="policy")
        if tool_calls not in ("text", "native"):
            raise InputError("must be 'text' or 'native'", field="tool_calls")
        self.policy = policy
        self.tool_calls = tool_calls

    @property
    def native_tools(self) -> bool:
        return self.tool_calls == "native"

    async def respond(self, attempt: Attempt) -> Response:
        from assay.agents.scenario import Scenario

        scenario = Scenario.model_validate(attempt.case.metadata["scenario"])
        extra = attempt.detail("agent_injection") or {}
        step = next_step(scenario, self.policy, attempt.messages, str(extra.get("tool", "")))
        if not self.native_tools:
            return Response(text=_as_text(step), finish_reason="stop")
        turn = sum(1 for m in attempt.messages if m.role == "assistant")
        content, calls = _as_native(step, turn)
        return Response(
            text=content, tool_calls=calls, finish_reason="tool_calls" if calls else "stop"
        )


def openai_agent(
    scenarios: Sequence[Scenario], policy: str
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A stub-server responder: an OpenAI chat request in, the assistant message out.

    The scenario is recognised by the request's first user message (its goal) and its
    system prompt. A request with ``tools`` gets native ``tool_calls``; one without gets
    the text protocol. An unknown conversation gets a plain-text answer saying so.
    """
    from assay.targets.openai import wire_message

    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    by_goal: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        by_goal.setdefault(scenario.goal.strip(), []).append(scenario)

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        raw = [m for m in request.get("messages", []) if isinstance(m, dict)]
        messages = [
            Message(role=m.get("role", "user"), content=str(m.get("content") or "")) for m in raw
        ]
        goal = next((m.content.strip() for m in messages if m.role == "user"), "")
        system = next((m.content for m in messages if m.role == "system"), "")
        found = [s for s in by_goal.get(goal, []) if system.startswith(s.system.strip())]
        if not found:
            return {"role": "assistant", "content": "I do not know this scenario."}
        step = next_step(found[0], policy, messages)
        if not request.get("tools"):
            return {"role": "assistant", "content": _as_text(step)}
        turn = sum(1 for m in messages if m.role == "assistant")
        content, calls = _as_native(step, turn)
        return wire_message(Message(role="assistant", content=content, tool_calls=calls))

    return respond
