"""Agent scenarios: the rule judge against model judges, and native vs text tool calls.

Three measurements on ``agents/core-v1`` (80 scenarios), all offline:

1. **Tool-call protocols.** Scripted agents (``safe``, ``unsafe``, ``injection``) behind
   the local stub server (``assay.testing.stub``, real HTTP), scanned through the
   ``openai`` target with ``tool_calls=native`` and ``tool_calls=text``: the safety and
   helpfulness scores must not depend on the protocol, and we time both.
2. **Second opinions.** The stored trajectories of the scripted ``safe`` and ``unsafe``
   agents are judged again by ``-j trajectory`` (Agent-SafetyBench's ShieldAgent prompt)
   with the embedded SmolLM2-135M-Instruct as the judge model, served by the stub over
   HTTP, and by ``-j harm`` (the embedded harm classifier reading the trajectory as
   text). We report how often each agrees with the rule judge, how often it cannot
   decide, and what it flags. SmolLM2-135M is no safety judge; the point is to measure
   the pipeline with a real model and to show what an undersized judge does. A served
   ``thu-coai/ShieldAgent`` or any strong chat model takes its place with
   ``--judge-arg trajectory.base_url=... --judge-arg trajectory.model=...``.

Usage::

    python benchmarks/agent_judges.py                 # everything (~5 min on 2 CPUs)
    python benchmarks/agent_judges.py --skip-model    # protocols only (seconds)
"""

from __future__ import annotations

import argparse
import datetime
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any


def _scan(store_path: Path, target: Any, judges: list[Any]) -> tuple[list[Any], float]:
    from assay.agents.suite import core_v1
    from assay.engine.plan import RunParams, make_plan
    from assay.engine.scan import scan
    from assay.store.sqlite import Store

    plan = make_plan(suites=[core_v1()], targets=[target], judges=judges)
    store = Store(store_path)
    started = time.perf_counter()
    run = scan(plan, store, params=RunParams(max_retries=0, timeout_s=600))
    seconds = time.perf_counter() - started
    results = store.results(run.run.id)
    store.close()
    return results, seconds


def protocols(tmp: Path) -> None:
    from assay.agents.judge import AgentJudge
    from assay.agents.metrics import agent_table
    from assay.agents.suite import core_v1_scenarios
    from assay.targets.openai import OpenAITarget
    from assay.testing.agents import openai_agent
    from assay.testing.stub import StubServer

    print("| policy | tool calls | safety | helpfulness | unscored | tool calls made | s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for policy in ("safe", "unsafe", "injection"):
        with StubServer(respond=openai_agent(core_v1_scenarios(), policy)) as stub:
            for mode in ("native", "text"):
                target = OpenAITarget(base_url=stub.base_url, model="stub", tool_calls=mode)
                results, seconds = _scan(tmp / f"{policy}-{mode}.db", target, [AgentJudge()])
                o = agent_table(results).overall
                calls = sum(
                    s["kind"] == "call"
                    for r in results
                    for s in (r.response.trajectory or {}).get("steps", [])
                )
                unscored = o.harmful_unscored + o.benign_unscored
                print(
                    f"| {policy} | {mode} | {o.safety.fmt_count()} | {o.helpful.fmt_count()} "
                    f"| {unscored} | {calls} | {seconds:.2f} |"
                )


def _embedded_judge_server() -> Any:
    """A stub ``respond`` that answers each chat request with the embedded model."""
    from assay.targets.embedded import EmbeddedTarget

    target = EmbeddedTarget(max_new_tokens=24)
    target.load()

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        conversation = [
            {"role": str(m["role"]), "content": str(m.get("content") or "")}
            for m in request["messages"]
        ]
        (answer,) = target.generator.generate([conversation])
        text = answer.text if hasattr(answer, "text") else f"error: {answer}"
        return {"role": "assistant", "content": text}

    return respond


def second_opinions(tmp: Path) -> None:
    from assay.agents.judge import AgentJudge
    from assay.agents.llm_judge import TrajectoryJudge
    from assay.agents.metrics import agent_table
    from assay.judges.harm import HarmJudge
    from assay.testing.agents import ScriptedAgent
    from assay.testing.stub import StubServer

    with StubServer(respond=_embedded_judge_server()) as stub:
        for policy in ("safe", "unsafe"):
            judges = [
                AgentJudge(),
                TrajectoryJudge(base_url=stub.base_url, model="smollm2-135m", max_tokens=24),
                HarmJudge(),
            ]
            results, seconds = _scan(
                tmp / f"judged-{policy}.db", ScriptedAgent(policy=policy), judges
            )
            table = agent_table(results)
            statuses = Counter(r.status.value for r in results)
            print(
                f"\nscripted {policy} agent, 80 scenarios, {seconds:.0f} s; rule statuses: "
                f"{dict(sorted(statuses.items()))}"
            )
            print(
                "| judge | agrees with rules | flagged (rules passed) | cleared (rules "
                "found unsafe) | unscored |"
            )
            print("|---|---:|---:|---:|---:|")
            for op in table.opinions:
                print(
                    f"| {op.judge} | {op.agree}/{op.n} | {len(op.flagged)} | "
                    f"{len(op.cleared)} | {op.unscored} |"
                )
            raw = [
                v.rationale[:60].replace("\n", " ")
                for r in results
                for v in r.verdicts
                if v.judge.name == "trajectory" and v.unscored_reason
            ][:3]
            if raw:
                print("unreadable trajectory-judge answers, e.g.: " + " / ".join(map(repr, raw)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-model", action="store_true", help="protocols only")
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    print(f"# {datetime.date.today()} on {platform.node()} ({cpu})")
    with tempfile.TemporaryDirectory() as tmp:
        protocols(Path(tmp))
        if not args.skip_model:
            second_opinions(Path(tmp))


if __name__ == "__main__":
    main()
