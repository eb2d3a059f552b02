"""Scale-out: throughput of the Ray backend (1 and 2 workers) against the local backend.

A local OpenAI-compatible stub (``assay.testing.stub``, in its own process) answers every
request after a fixed latency (100 ms by default), so the work is latency-bound like a
real API and the numbers measure the harness, not a model. For each backend the same
plan (N cases, ``openai`` target, ``keyword`` judge, no cache) runs into a fresh SQLite
store, and we report attempts per second and the ratio to the local backend.

Each worker keeps ``--concurrency`` requests in flight, as the local runner does, so two
workers keep twice as many; the ``local x2`` row gives the local runner the same total,
which separates "more requests in flight" from "more processes". Ray starts once (2 CPUs,
no dashboard) and its start-up is not timed; worker start-up (actors, imports) is.

Usage::

    python benchmarks/scale.py                     # 2000 cases, latency 0.1 s, conc. 16
    python benchmarks/scale.py --cases 500 --latency 0.05 --concurrency 8
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _start_stub(latency: float) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "assay.testing.stub", "--port", "0", "--print-port"]
    proc = subprocess.Popen(
        [*command, "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline().strip())


def _plan(port: int, n: int, concurrency: int) -> Any:
    from assay.core import Case, Message
    from assay.engine import make_plan
    from assay.judges.keyword import KeywordRefusalJudge
    from assay.suites import Suite
    from assay.targets.openai import OpenAITarget

    hazards = ["vcr", "ncr", "hte", "ssh", "prv", "iwp"]
    cases = tuple(
        Case(
            id=f"s{i:06d}",
            messages=(Message(role="user", content=f"q {i}"),),
            hazard=hazards[i % len(hazards)],
            expected="refuse",
            suite="scale",
        )
        for i in range(n)
    )
    target = OpenAITarget(
        base_url=f"http://127.0.0.1:{port}/v1", model="stub", max_connections=concurrency
    )
    return make_plan(
        suites=[Suite(name="scale", version="1", cases=cases)],
        targets=[target],
        judges=[KeywordRefusalJudge()],
    )


def _measure(plan: Any, backend: Any, concurrency: int) -> tuple[float, int]:
    from assay.engine import RunParams, scan
    from assay.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "scale.db")
        started = time.perf_counter()
        result = scan(
            plan,
            store,
            params=RunParams(concurrency=concurrency, use_cache=False),
            backend=backend,
        )
        wall = time.perf_counter() - started
        stored = len(store.results(result.run.id))
        store.close()
    return wall, stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1, help="stub latency, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="in flight per worker")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    import ray

    from assay.engine.backend import LocalBackend
    from assay.engine.ray_backend import RayBackend

    proc, port = _start_stub(args.latency)
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
    )
    try:
        c = args.concurrency
        runs: list[tuple[str, Any, int]] = [
            ("local", LocalBackend(), c),
            ("local x2 (2x in flight)", LocalBackend(), 2 * c),
            ("ray, 1 worker", RayBackend(workers=1, batch_size=args.batch_size), c),
            ("ray, 2 workers", RayBackend(workers=2, batch_size=args.batch_size), c),
        ]
        rows = []
        for name, backend, conc in runs:
            wall, stored = _measure(_plan(port, args.cases, conc), backend, conc)
            rows.append((name, conc, wall, stored))
    finally:
        ray.shutdown()
        proc.terminate()
        proc.wait()

    base = args.cases / rows[0][2]
    print(f"## Scale-out: local vs Ray ({args.cases} attempts, stub latency {args.latency} s)\n")
    print(
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, ray {ray.__version__}"
    )
    print(f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    command = " ".join(["python benchmarks/scale.py", *(argv or sys.argv[1:])])
    print(f"- command: `{command}`\n")
    print("| backend | in flight per worker | wall s | attempts/s | ratio to local | stored |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, conc, wall, stored in rows:
        rate = args.cases / wall
        print(f"| {name} | {conc} | {wall:.2f} | {rate:.0f} | {rate / base:.2f} | {stored} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
