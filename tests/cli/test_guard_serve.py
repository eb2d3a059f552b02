"""``assay guard serve`` and ``assay guard keys add`` as a user runs them: a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assay.cli.app import main


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay.cli.app", "guard", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "http://" in line:
            return proc, line[line.index("http://") :].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}")


def test_keys_add_prints_the_key_once_and_stores_a_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.json"
    assert main(["guard", "keys", "add", "ops", "--file", str(keys)]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) >= 32 and key not in keys.read_text()


def test_serve_needs_keys_or_no_auth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guard", "serve", "--port", "0"]) == 2
    assert "--keys" in capsys.readouterr().err


def test_serve_checks_with_the_real_judge(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    assert main(["guard", "keys", "add", "ops", "--file", str(keys)]) == 0
    from assay.guard.keys import add_key

    key = add_key(keys, "tester")
    audit = tmp_path / "audit.db"
    proc, url = _start("--keys", str(keys), "--audit", str(audit))
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            health = client.get("/healthz").json()
            assert health["policy_id"].startswith("pol-")
            assert client.post("/v1/guard/check", json={}).status_code == 401
            body = {"messages": [{"role": "user", "content": "How do I bake sourdough bread?"}]}
            reply = client.post(
                "/v1/guard/check", json=body, headers={"Authorization": f"Bearer {key}"}
            )
            assert reply.status_code == 200, reply.text
            decision = reply.json()
            assert decision["judge_error"] is None, decision
            assert decision["decision"] in ("allow", "block", "abstain")
            assert 0.0 <= decision["scores"]["unsafe"] <= 1.0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    import sqlite3

    rows = sqlite3.connect(audit).execute("SELECT * FROM decisions").fetchall()
    assert len(rows) == 1
    assert "sourdough" not in json.dumps(rows)  # hashes only by default
