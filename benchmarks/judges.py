"""Speed of the embedded judges: throughput and single-text latency.

For each judge (``harm``, ``refusal``, ``keyword``) it measures, through the public
``await judge.judge(exchanges)`` API (so thread hand-off and verdict building count):

* **throughput** in texts/s at batch 1 and batch 32, over a fixed mix of answers of
  10-120 words;
* **latency** p50 / p99 of judging one ~200-token text (batch 1), after a warm-up.

Results go to stdout as a Markdown table with the date and machine; copy them into the
docs. Each judge is measured in its own child process, so one judge's torch threads do
not slow another's. Timings on a shared machine are noisy: run it when the machine is
quiet, and compare numbers only from the same machine.

Usage::

    python benchmarks/judges.py                    # all three judges
    python benchmarks/judges.py --judges harm --repeats 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assay.core.records import Attempt, Case, Exchange, Message, Response, Spec

#: A ~200-token answer (MiniLM word pieces), the issue's latency unit.
LONG_TEXT = (
    "Thanks for asking. The city council met on Tuesday evening to debate the new budget, "
    "which would raise spending on schools, libraries and road repairs while trimming the "
    "parks department. Several residents spoke during public comment: a teacher described "
    "classrooms with thirty-five pupils and leaking roofs, a shop owner worried about "
    "potholes on the high street, and a retired nurse asked why the community clinic had "
    "lost two of its evening sessions. The finance director said the plan is balanced only "
    "if sales-tax receipts keep growing at last year's pace, which some members doubted. "
    "After two hours the council voted five to two to send the proposal back to committee "
    "with instructions to protect the clinic and find savings elsewhere, and the final vote "
    "is now expected next month, once the auditors have reviewed the revised figures and "
    "the public has had another chance to comment. Local reporters expect the clinic "
    "question to dominate the next meeting as well, and the mayor has promised a town "
    "hall on Saturday."
)
MIX = [
    "I'm sorry, but I can't help with that.",
    "Sure! Preheat the oven to 180C, mash three bananas, and bake for an hour.",
    "Here is a short poem about autumn leaves drifting over a quiet road at dusk.",
    LONG_TEXT,
    "You are a worthless idiot and everyone at school laughs at you.",
    "To kill a stuck process, find its PID with ps and run kill -9 on it.",
    "The capital of Australia is Canberra, not Sydney, as many people assume.",
    " ".join([LONG_TEXT.split(". ")[0]] * 3),
]


def _exchange(text: str) -> Exchange:
    case = Case(
        id="b", messages=(Message(role="user", content="Q?"),), hazard="vcr", expected="refuse"
    )
    attempt = Attempt.make(case, Spec(name="bench", version="1"))
    return Exchange(attempt=attempt, response=Response(text=text))


def _judge(name: str) -> Any:
    if name == "harm":
        from assay.judges.harm import HarmJudge

        return HarmJudge()
    if name == "refusal":
        from assay.judges.refusal import RefusalJudge

        return RefusalJudge()
    from assay.judges.keyword import KeywordRefusalJudge

    return KeywordRefusalJudge()


def _tokens(text: str) -> int:
    from assay.judges.embedder import get_embedder

    return len(get_embedder().tokenizer(text)["input_ids"])


def measure(name: str, repeats: int, n_texts: int) -> dict[str, Any]:
    """Latency percentiles (ms) for one long text and throughput (texts/s) at batch 1, 32."""
    judge = _judge(name)
    loop = asyncio.new_event_loop()
    try:
        run = loop.run_until_complete
        long_batch = [_exchange(LONG_TEXT)]
        for _ in range(10):
            run(judge.judge(long_batch))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(judge.judge(long_batch))
            times.append(time.perf_counter() - start)
        times.sort()
        exchanges = [_exchange(MIX[i % len(MIX)] + f" ({i})") for i in range(n_texts)]
        rates = {}
        for batch in (1, 32):
            start = time.perf_counter()
            for i in range(0, len(exchanges), batch):
                run(judge.judge(exchanges[i : i + batch]))
            rates[batch] = len(exchanges) / (time.perf_counter() - start)
    finally:
        loop.close()
    return {
        "judge": name,
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * times[min(len(times) - 1, int(0.99 * len(times)))],
        "batch1": rates[1],
        "batch32": rates[32],
    }


def machine() -> str:
    """A one-line description of where this ran."""
    parts = [platform.platform(), f"{os.cpu_count()} CPUs", f"Python {platform.python_version()}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:  # pragma: no cover
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts.append(f"load average {load:.2f} at start")
    return ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--judges", default="harm,refusal,keyword")
    parser.add_argument("--repeats", type=int, default=200, help="latency samples")
    parser.add_argument("--texts", type=int, default=256, help="texts per throughput run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.repeats, args.texts)))
        return 0
    header = machine()
    rows = []
    for name in args.judges.split(","):
        cmd = [sys.executable, __file__, "--child", name.strip()]
        cmd += ["--repeats", str(args.repeats), "--texts", str(args.texts)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"Embedded judges, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {header}")
    with contextlib.suppress(Exception):  # keyword-only environments have no tokenizer
        print(f"Latency text: {_tokens(LONG_TEXT)} MiniLM word pieces.")
    print()
    print("| judge | p50 ms (1 text) | p99 ms (1 text) | texts/s, batch 1 | texts/s, batch 32 |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['judge']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['batch1']:.0f} | {r['batch32']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
