"""The audit log: SQLite rows of decisions, hashes by default, text only when enabled."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from assay.guard.audit import AuditLog, text_sha256
from assay.guard.types import Decision, Feedback
from assay.testing.stub import StubServer

Running = Any  # conftest.Running


def _decision(kind: Any = "block") -> Decision:
    return Decision(
        decision=kind,
        hazards=("vcr",),
        scores={"unsafe": 0.9, "vcr": 0.8},
        prediction_set=("unsafe",),
        policy_id="p1",
        calibration_id="c1",
        config="default",
        id="d1",
    )


def test_audit_log_writes_rows_without_text(tmp_path: Path) -> None:
    log = AuditLog(path=tmp_path / "a" / "audit.sqlite")
    log.record(_decision(), text="secret prompt", endpoint="/e", key_name="ci", latency_s=0.012)
    log.record_feedback(Feedback(decision_id="d1", label="safe", reviewer="r"), key_name="ci")
    log.flush()
    (row,) = log.rows()
    assert row["decision"] == "block"
    assert json.loads(row["hazards"]) == ["vcr"]
    assert json.loads(row["scores"]) == {"unsafe": 0.9, "vcr": 0.8}
    assert json.loads(row["prediction_set"]) == ["unsafe"]
    assert (row["policy_id"], row["calibration_id"], row["config"]) == ("p1", "c1", "default")
    assert (row["decision_id"], row["key_name"], row["endpoint"]) == ("d1", "ci", "/e")
    assert row["text_sha256"] == hashlib.sha256(b"secret prompt").hexdigest()
    assert row["text"] is None
    assert row["latency_ms"] == 12.0
    assert log.rows("feedback")[0]["label"] == "safe"
    log.close()
    # nothing of the text anywhere in the database files
    for file in (tmp_path / "a").iterdir():
        assert b"secret prompt" not in file.read_bytes()
    with sqlite3.connect(tmp_path / "a" / "audit.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_audit_log_stores_text_when_enabled(tmp_path: Path) -> None:
    log = AuditLog(path=tmp_path / "audit.sqlite", store_text=True)
    for i in range(300):
        log.record(_decision(), text=f"t{i}", endpoint="/e", key_name="k", latency_s=0.0)
    log.close()
    rows = log.rows()
    assert [r["text"] for r in rows] == [f"t{i}" for i in range(300)]
    assert [r["text"] for r in log.rows(limit=2)] == ["t298", "t299"]


def test_service_audits_every_decision(
    start_service: Callable[..., Running], stub: StubServer, tmp_path: Path
) -> None:
    running = start_service(upstream_url=stub.base_url, audit_path=tmp_path / "svc.sqlite")
    with httpx.Client(base_url=running.url, headers=running.headers) as client:
        client.post("/v1/guard/check", json={"messages": [{"role": "user", "content": "BOMB x"}]})
        client.post("/v1/moderations", json={"input": ["hello", "CRASH"]})
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "q"}]})
    running.server.stop()  # shutdown closes (and flushes) the audit log
    log = AuditLog(path=tmp_path / "svc.sqlite")
    rows = log.rows()
    log.close()
    summary = [(r["endpoint"], r["stage"], r["decision"], r["key_name"]) for r in rows]
    assert sorted(summary) == sorted(
        [
            ("/v1/guard/check", "input", "block", "tester"),
            ("/v1/moderations", "input", "allow", "tester"),
            ("/v1/moderations", "input", "block", "tester"),
            ("/v1/chat/completions", "input", "allow", "tester"),
            ("/v1/chat/completions", "output", "allow", "tester"),
        ]
    )
    assert all(r["text"] is None for r in rows)
    assert {r["text_sha256"] for r in rows} >= {text_sha256("BOMB x"), text_sha256("CRASH")}
    crash = next(r for r in rows if r["text_sha256"] == text_sha256("CRASH"))
    assert crash["judge_error"] == "exception: RuntimeError"
    assert all(r["policy_id"] == "policy-fake" for r in rows)
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("svc.sqlite*"))
    assert running.key.encode() not in raw
    assert b"BOMB x" not in raw


def test_service_audit_text_when_enabled(
    start_service: Callable[..., Running], tmp_path: Path
) -> None:
    running = start_service(audit_path=tmp_path / "t.sqlite", audit_text=True)
    httpx.post(f"{running.url}/v1/moderations", json={"input": "keep me"}, headers=running.headers)
    running.server.stop()
    log = AuditLog(path=tmp_path / "t.sqlite")
    assert [r["text"] for r in log.rows()] == ["keep me"]
    log.close()


def test_no_prompt_text_in_logs(
    start_service: Callable[..., Running], caplog: Any, capfd: Any
) -> None:
    caplog.set_level("DEBUG")
    running = start_service()
    with httpx.Client(base_url=running.url, headers=running.headers) as client:
        for text in ["PRIVATE-1 hello", "PRIVATE-2 CRASH"]:
            client.post("/v1/guard/check", json={"messages": [{"role": "user", "content": text}]})
        client.post(
            "/v1/guard/check", json={"messages": [{"role": "robot", "content": "PRIVATE-3"}]}
        )
    running.server.stop()
    out, err = capfd.readouterr()
    assert "PRIVATE" not in caplog.text + out + err
    assert "failing closed" in caplog.text  # the failure itself is logged, without text
