"""The guard's audit log: every decision the service makes, in SQLite.

One row per decision says when, through which endpoint, for which key (its name, never
the key), what was decided and why (hazards, scores, prediction set), by which policy,
calibration and safety config, the decision id reviewers send feedback about, the SHA-256
of the checked text and the check's latency. The text itself is stored only when
``store_text`` is set: an audit log full of prompts is a privacy liability, while the hash
still lets an auditor confirm which text a decision was about.

Writes go through a queue to one writer thread that commits in batches, so the event
loop never waits on the disk. The database is in WAL mode so readers (an auditor's
``sqlite3`` shell, :meth:`AuditLog.rows`) do not block the writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.guard.types import Decision, Feedback

__all__ = ["AuditLog", "text_sha256"]

_log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    endpoint TEXT NOT NULL,
    stage TEXT NOT NULL,
    key_name TEXT NOT NULL,
    decision TEXT NOT NULL,
    hazards TEXT NOT NULL,
    scores TEXT NOT NULL,
    prediction_set TEXT,
    policy_id TEXT NOT NULL,
    calibration_id TEXT,
    config TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    judge_error TEXT,
    text_sha256 TEXT NOT NULL,
    text TEXT,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_decision_id ON decisions (decision_id);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    key_name TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    label TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    note TEXT NOT NULL
);
"""

_DECISION_COLUMNS = (
    "time, endpoint, stage, key_name, decision, hazards, scores, prediction_set, policy_id, "
    "calibration_id, config, decision_id, judge_error, text_sha256, text, latency_ms"
)
_STOP = object()


def text_sha256(text: str) -> str:
    """The hash stored for a checked text (hex SHA-256 of its UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Row:
    table: str
    values: tuple[Any, ...]


class AuditLog:
    """An append-only SQLite log of decisions and reviewer feedback.

    Args:
        path: the database file (created with its folder if missing).
        store_text: also store each checked text (off by default: hashes only).
        batch_max: the most rows committed in one transaction.
    """

    def __init__(self, *, path: str | Path, store_text: bool = False, batch_max: int = 512) -> None:
        self.path = path
        self.store_text = store_text
        self.batch_max = batch_max
        self._file = Path(path)
        self._file.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as conn:
            conn.executescript(_SCHEMA)
        self._queue: queue.Queue[_Row | object] = queue.Queue()
        self._thread = threading.Thread(target=self._write, name="assay-audit", daemon=True)
        self._closed = False
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._file, timeout=30.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def record(
        self,
        decision: Decision,
        *,
        text: str,
        endpoint: str,
        key_name: str,
        latency_s: float,
        stage: str = "",
    ) -> None:
        """Queue one decision for writing (returns at once)."""
        values = (
            time.time(),
            endpoint,
            stage,
            key_name,
            decision.decision,
            json.dumps(list(decision.hazards)),
            json.dumps(decision.scores, sort_keys=True),
            None if decision.prediction_set is None else json.dumps(list(decision.prediction_set)),
            decision.policy_id,
            decision.calibration_id,
            decision.config,
            decision.id,
            decision.judge_error,
            text_sha256(text),
            text if self.store_text else None,
            latency_s * 1000.0,
        )
        self._put(_Row("decisions", values))

    def record_feedback(self, feedback: Feedback, *, key_name: str) -> None:
        """Queue one reviewer label for writing."""
        values = (
            time.time(),
            key_name,
            feedback.decision_id,
            feedback.label,
            feedback.reviewer,
            feedback.note,
        )
        self._put(_Row("feedback", values))

    def _put(self, row: _Row) -> None:
        if self._closed:
            raise RuntimeError("the audit log is closed")
        self._queue.put(row)

    def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        self._queue.join()

    def close(self) -> None:
        """Commit what is queued and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def rows(self, table: str = "decisions", limit: int | None = None) -> list[dict[str, Any]]:
        """The latest rows of ``decisions`` or ``feedback``, oldest first (for tests, CLI)."""
        if table not in ("decisions", "feedback"):
            raise ValueError(f"unknown audit table {table!r}")
        sql = f"SELECT * FROM {table} ORDER BY id"
        params: Sequence[Any] = ()
        if limit is not None:
            sql = f"SELECT * FROM (SELECT * FROM {table} ORDER BY id DESC LIMIT ?) ORDER BY id"
            params = (limit,)
        with contextlib.closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params)]

    def _write(self) -> None:
        """The writer thread: drain the queue in batches, one transaction each."""
        conn = self._connect()
        try:
            while True:
                first = self._queue.get()
                batch = [first]
                while len(batch) < self.batch_max:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                rows = [item for item in batch if isinstance(item, _Row)]
                try:
                    self._commit(conn, rows)
                except sqlite3.Error:  # a full disk must not kill the service
                    _log.exception("audit log: could not write %d rows", len(rows))
                finally:
                    for _ in batch:
                        self._queue.task_done()
                if any(item is _STOP for item in batch):
                    return
        finally:
            conn.close()

    @staticmethod
    def _commit(conn: sqlite3.Connection, rows: list[_Row]) -> None:
        decisions = [r.values for r in rows if r.table == "decisions"]
        feedback = [r.values for r in rows if r.table == "feedback"]
        with conn:
            if decisions:
                conn.executemany(
                    f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES ({','.join('?' * 16)})",
                    decisions,
                )
            if feedback:
                conn.executemany(
                    "INSERT INTO feedback (time, key_name, decision_id, label, reviewer, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    feedback,
                )
