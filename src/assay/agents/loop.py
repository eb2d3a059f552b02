"""The agent loop: model -> tool call -> simulated result -> model, up to a step limit.

:func:`run_agent` plays one scenario against any chat target through the text protocol
of :mod:`assay.agents.protocol`. Each model turn goes through the engine's
``call_with_retries`` (same timeout, retries and error handling as any attempt). The loop
ends on a final answer (``finished``), on output that claims a tool call but cannot be
parsed (``malformed``), at ``max_steps`` (``step_limit``), or on a target error, which is
returned as that error with the partial trajectory kept (``target_error``).

The response's ``text`` is the whole trajectory as text (:func:`trajectory_text`), so any
text judge added with ``-j`` reads the agent's actions and words; the final answer alone
is ``trajectory["final"]``. The ``agent`` rule judge reads the structured trajectory.
"""

from __future__ import annotations

import json
import random
from typing import Any

from assay.agents.protocol import parse_reply, system_prompt, tool_result
from assay.agents.scenario import Injection, Scenario
from assay.agents.tools import World
from assay.core.protocols import Target
from assay.core.records import Attempt, Message, Response

__all__ = ["run_agent", "trajectory_text"]


def trajectory_text(steps: list[dict[str, Any]], *, limit: int = 400) -> str:
    """The trajectory as plain text: what every text judge (``-j harm``, ``llamaguard``,
    ``rubric``...) reads for an agent attempt, so it judges what the agent did, not only
    its last words. Tool results are cut at ``limit`` characters."""
    lines = []
    for step in steps:
        if step["kind"] == "call":
            args = json.dumps(step.get("arguments", {}), ensure_ascii=False, sort_keys=True)
            got = f"error: {step['error']}" if step.get("error") else str(step.get("result", ""))
            lines.append(f"[tool call] {step['tool']}({args}) -> {got[:limit]}")
        elif step["kind"] == "user":
            lines.append(f"[user] {step['text']}")
        else:
            lines.append(f"[assistant] {step['text']}")
    return "\n".join(lines)


def _scenario(attempt: Attempt) -> Scenario:
    scenario = Scenario.model_validate(attempt.case.metadata["scenario"])
    extra = attempt.detail("agent_injection")
    if isinstance(extra, dict) and extra.get("tool") and extra.get("text"):
        added = Injection(tool=str(extra["tool"]), text=str(extra["text"]))
        scenario = scenario.model_copy(update={"injections": (*scenario.injections, added)})
    return scenario


async def run_agent(
    target: Target, attempt: Attempt, params: Any, rng: random.Random, stats: Any = None
) -> Response:
    """Run the attempt's scenario; the trajectory goes into ``Response.trajectory``."""
    from assay.engine.run import call_with_retries

    scenario = _scenario(attempt)
    world = World(scenario)
    system = system_prompt(scenario.system, world.tool_specs())
    goal = next((m.content for m in attempt.messages if m.role == "user"), scenario.goal)
    conversation: list[Message] = [
        Message(role="system", content=system),
        Message(role="user", content=goal),
    ]
    steps: list[dict[str, Any]] = []
    status, final, malformed = "step_limit", "", None
    latency, tries = 0.0, 0
    last: Response | None = None
    for step in range(scenario.max_steps):
        turn = Attempt.make(attempt.case, attempt.target, attempt.attacks, tuple(conversation))
        last = await call_with_retries(target, turn, params, rng, stats)
        latency += last.latency_s
        tries += last.tries
        if not last.ok:
            status = "target_error"
            break
        reply = parse_reply(last.text)
        conversation.append(Message(role="assistant", content=last.text))
        if reply.kind == "final":
            steps.append({"kind": "assistant", "text": last.text})
            status, final = "finished", last.text.strip()
            break
        if reply.kind == "malformed":
            steps.append({"kind": "assistant", "text": last.text})
            status, malformed = "malformed", last.text
            break
        if reply.remark:
            steps.append({"kind": "assistant", "text": reply.remark})
        record = world.call(reply.name, reply.arguments, step=step)
        steps.append({"kind": "call", **record.to_dict()})
        if reply.name == "ask_user" and record.error is None:
            steps.append({"kind": "user", "text": record.result})
        conversation.append(Message(role="user", content=tool_result(reply.name, record.result)))
    trajectory = {
        "scenario": scenario.id,
        "status": status,
        "steps": steps,
        "final": final,
        "malformed": malformed,
        "state": world.state,
        "diff": world.diff(),
        "injected": list(world.injected),
    }
    if status == "target_error" and last is not None:
        return last.model_copy(
            update={
                "trajectory": trajectory,
                "transcript": tuple(conversation),
                "latency_s": latency,
                "tries": tries,
            }
        )
    return Response(
        text=trajectory_text(steps),
        finish_reason=status,
        latency_s=latency,
        tries=max(tries, 1),
        transcript=tuple(conversation),
        trajectory=trajectory,
    )
