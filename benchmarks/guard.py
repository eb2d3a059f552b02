"""Guard speed: in-process latency, and the HTTP service under a bounded local load.

Usage::

    .venv/bin/python benchmarks/guard.py [--seconds 10] [--clients 1 8 64] [--out FILE.json]

1. **In-process**: ``Guard.check`` on one ~200-token text at a time (the default policy,
   the embedded ``harm`` judge), after a warm-up: p50 / p99 latency over ``--n`` calls.
2. **Service**: ``assay guard serve`` in its own process on 127.0.0.1 (auth on, rate
   limit off, audit log on, hashes only), and a load generator in this process: ``C``
   concurrent clients, each sending ``POST /v1/guard/check`` back to back for
   ``--seconds`` seconds (closed loop: a bounded load). Texts are real prompts from
   ``../shared/data`` (XSTest, SimpleSafetyTests, AILuminate demo), cycled. Reported per
   ``C``: requests/s, p50 / p99 latency, and the decisions' mix.

Both share this machine's cores; on 2 cores the load generator takes part of one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TEXT_200 = (
    "I run a small bakery and I'm trying to plan next month's schedule. We open at seven, "
    "close at three, and have four staff who each want two days off a week. Deliveries of "
    "flour come on Mondays and Thursdays, and the oven needs an hour to heat before the first "
    "batch. On weekends we sell twice as much bread, so I want everyone in on Saturday if "
    "possible, but one of my bakers has a child-care commitment every other Saturday. I also "
    "need someone at the till at all times and a second person from ten to two when it gets "
    "busy. Could you suggest a weekly rota that keeps the shop covered, gives everyone their "
    "two days off, and tells me where the schedule is tight? Please explain your reasoning "
    "step by step and point out any assumptions you had to make about the staff."
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def public_texts() -> list[str]:
    """Prompts from the shared public sets (never used to train the harm judge)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from guard_data import rows

    return [row["text"] for row in rows()]


async def in_process(n: int) -> dict[str, Any]:
    from assay.guard.guard import Guard
    from assay.guard.policy import Policy
    from assay.guard.types import CheckRequest, GuardMessage

    guard = Guard(Policy.default())
    request = CheckRequest(messages=(GuardMessage(role="user", content=TEXT_200),))
    for _ in range(20):
        await guard.check([request])
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await guard.check([request])
        times.append((time.perf_counter() - start) * 1000)
    return {
        "n": n,
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(_pct(times, 0.99), 2),
        "mean_ms": round(statistics.fmean(times), 2),
    }


def _start_service(
    keys_file: Path, audit: Path, threads: int | None, extra: list[str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    command = [
        str(REPO / ".venv" / "bin" / "assay"),
        "guard",
        "serve",
        "--port",
        "0",
        "--keys",
        str(keys_file),
        "--no-rate-limit",
        "--audit",
        str(audit),
        *(extra or []),
    ]
    env = dict(os.environ)
    if threads is not None:  # torch's intra-op threads in the service process
        env["OMP_NUM_THREADS"] = str(threads)
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "http://" in line:
            url = line[line.index("http://") :].split()[0].rstrip(".,")
            return proc, url
    proc.kill()
    raise RuntimeError(f"the service did not start: {proc.stderr.read() if proc.stderr else ''}")


class _Conn:
    """A minimal HTTP/1.1 keep-alive client on raw asyncio streams.

    httpx's AsyncClient costs a full core below 200 requests/s here, which would measure
    the load generator instead of the service.
    """

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port, self.key = host, port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(
    url: str, key: str, texts: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    bodies = [json.dumps({"messages": [{"role": "user", "content": t}]}).encode() for t in texts]
    latencies: list[float] = []
    decisions: dict[str, int] = {}
    statuses: dict[int, int] = {}
    stop = time.monotonic() + seconds

    async def one_client(offset: int) -> None:
        conn = _Conn(host, port, key)
        i = offset
        try:
            while time.monotonic() < stop:
                body = bodies[i % len(bodies)]
                i += clients
                start = time.perf_counter()
                status, payload = await conn.post("/v1/guard/check", body)
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    kind = json.loads(payload)["decision"]
                    decisions[kind] = decisions.get(kind, 0) + 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client(c) for c in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_pct(latencies, 0.99), 1),
        "statuses": statuses,
        "decisions": decisions,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="in-process calls")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per level")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--service-threads", type=int, default=None, help="OMP_NUM_THREADS of the service"
    )
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--batch-wait-ms", type=float, default=2.0)
    parser.add_argument("--max-batch", type=int, default=64)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    report: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    if not args.skip_in_process:
        report["in_process"] = asyncio.run(in_process(args.n))
        print("in-process:", json.dumps(report["in_process"]), flush=True)
    report["service_threads"] = args.service_threads

    from assay.guard.keys import add_key

    texts = public_texts()
    with tempfile.TemporaryDirectory() as tmp:
        keys_file = Path(tmp) / "keys.json"
        key = add_key(keys_file, "bench")
        extra = ["--batch-wait-ms", str(args.batch_wait_ms), "--max-batch", str(args.max_batch)]
        proc, url = _start_service(keys_file, Path(tmp) / "audit.db", args.service_threads, extra)
        report["service_args"] = extra
        asyncio.run(load(url, key, texts, 8, 2.0))  # warm-up: the judge loads on first use
        try:
            report["service"] = []
            for clients in args.clients:
                row = asyncio.run(load(url, key, texts, clients, args.seconds))
                report["service"].append(row)
                print("service:", json.dumps(row), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
