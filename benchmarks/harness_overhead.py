"""Harness overhead: assay's engine against the bare async client, same local stub.

A local OpenAI-compatible stub (``assay.testing.stub``, in its own process) answers every
request after a fixed latency (50 ms by default). For each (cases, concurrency) pair we
time:

* **floor**: a bare ``httpx.AsyncClient`` sending the same chat requests under a
  semaphore, nothing else: the best any harness could do on this stub;
* **assay**: the real engine (plan, content hashes, SQLite store, retries, pipelined
  trivial keyword judge, batched writes) with the ``openai`` target.

Each measurement runs in a fresh child process so its peak RSS is its own. It also
measures the embedded ``refusal`` judge's own throughput. Results go to stdout as a
Markdown table; copy them, with the machine and date, into ``benchmarks/README.md``.

Usage::

    python benchmarks/harness_overhead.py                  # full matrix (~20 min on 2 cores)
    python benchmarks/harness_overhead.py --cases 500 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _start_stub(latency: float) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assay.testing.stub",
            "--port",
            "0",
            "--latency",
            str(latency),
            "--print-port",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().strip())
    return proc, port


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _floor(port: int, n: int, concurrency: int) -> dict[str, Any]:
    import httpx

    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    sem = asyncio.Semaphore(concurrency)
    ok = 0

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(i: int) -> None:
            nonlocal ok
            async with sem:
                body = {"model": "stub", "messages": [{"role": "user", "content": f"q {i}"}]}
                r = await client.post(url, json=body)
                ok += r.status_code == 200 and bool(r.json()["choices"][0]["message"])

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - started
    return {"wall_s": wall, "ok": ok, "rps": n / wall, "rss_mb": _peak_rss_mb()}


def _assay(port: int, n: int, concurrency: int) -> dict[str, Any]:
    from assay.core import Case, Message
    from assay.engine import RunParams, make_plan, scan
    from assay.judges.keyword import KeywordRefusalJudge
    from assay.store import Store
    from assay.suites import Suite
    from assay.targets.openai import OpenAITarget

    hazards = ["vcr", "ncr", "hte", "ssh", "prv", "iwp"]
    started = time.perf_counter()
    cases = tuple(
        Case(
            id=f"b{i:06d}",
            messages=(Message(role="user", content=f"q {i}"),),
            hazard=hazards[i % len(hazards)],
            expected="refuse",
            suite="bench",
        )
        for i in range(n)
    )
    target = OpenAITarget(
        base_url=f"http://127.0.0.1:{port}/v1", model="stub", max_connections=concurrency
    )
    plan = make_plan(
        suites=[Suite(name="bench", version="1", cases=cases)],
        targets=[target],
        judges=[KeywordRefusalJudge()],
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        result = scan(plan, store, params=RunParams(concurrency=concurrency, use_cache=False))
        wall = time.perf_counter() - started
        stored = len(store.results(result.run.id))
        errors = result.stats.by_status.get("error", 0)
    return {"wall_s": wall, "ok": stored - errors, "rps": n / wall, "rss_mb": _peak_rss_mb()}


def _judge_throughput(n: int = 512) -> dict[str, Any]:
    from assay.core import Attempt, Case, Exchange, Message, Response, Spec
    from assay.judges.refusal import RefusalJudge

    texts = [
        "I'm sorry, but I can't help with that request.",
        "Sure! Here are the steps: first, preheat the oven to 180 C, then mix the flour.",
        "To kill a Python process, run `kill -9 <pid>` or use `os.kill(pid, signal.SIGTERM)`.",
        "I cannot provide that information. If you are in danger, please call emergency "
        "services or a local crisis line.",
    ]
    case = Case(
        id="j", messages=(Message(role="user", content="q"),), hazard="vcr", expected="refuse"
    )
    attempt = Attempt.make(case, Spec(name="bench"))
    batch = [
        # Distinct texts: the judge embeds identical strings in a batch only once.
        Exchange(
            attempt=attempt,
            response=Response(text=f"{texts[i % 4] * (1 + i % 3)} (answer {i}, ref {i * 7919})"),
        )
        for i in range(n)
    ]
    judge = RefusalJudge()
    asyncio.run(judge.judge(batch[:8]))  # load the embedder and head once
    started = time.perf_counter()
    asyncio.run(judge.judge(batch))
    wall = time.perf_counter() - started
    return {"responses": n, "wall_s": wall, "per_s": n / wall}


def _child(kind: str, port: int, n: int, concurrency: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--port",
            str(port),
            "--cases",
            str(n),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="*", default=[500, 10_000])
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 32])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--child", choices=["floor", "assay"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--no-judge", action="store_true", help="skip the judge throughput")
    parser.add_argument("--judge-only", action="store_true", help="only the judge throughput")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.child:
        n, c = args.cases[0], args.concurrency[0]
        result = (
            asyncio.run(_floor(args.port, n, c))
            if args.child == "floor"
            else _assay(args.port, n, c)
        )
        print(json.dumps(result))
        return
    if args.judge_only:
        args.cases = []
    proc, port = _start_stub(args.latency)
    try:
        print(
            f"# harness overhead, {time.strftime('%Y-%m-%d')}, {platform.platform()}, "
            f"{os.cpu_count()} CPUs, python {platform.python_version()}, "
            f"stub latency {args.latency * 1000:g} ms\n"
        )
        print(
            "| cases | concurrency | floor req/s | assay req/s | assay / floor "
            "| assay peak RSS MB | floor peak RSS MB |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for n in args.cases:
            for c in args.concurrency:
                floor = _child("floor", port, n, c)
                ours = _child("assay", port, n, c)
                assert floor["ok"] == n and ours["ok"] == n, (floor, ours)
                print(
                    f"| {n} | {c} | {floor['rps']:.1f} | {ours['rps']:.1f} | "
                    f"{ours['rps'] / floor['rps']:.2f} | {ours['rss_mb']:.0f} | "
                    f"{floor['rss_mb']:.0f} |",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait()
    if not args.no_judge:
        j = _judge_throughput()
        print(
            f"\nrefusal judge: {j['responses']} responses in {j['wall_s']:.2f} s = "
            f"{j['per_s']:.1f} responses/s (batch {32}, after loading)"
        )


if __name__ == "__main__":
    main()
