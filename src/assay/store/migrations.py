"""Numbered schema migrations. Append a new entry; never edit a released one."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: runs, the attempts they planned, responses and verdicts.
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        state TEXT NOT NULL,
        spec TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        seed INTEGER NOT NULL,
        assay_version TEXT NOT NULL,
        n_attempts INTEGER NOT NULL
    );
    CREATE INDEX runs_spec_hash ON runs(spec_hash);
    CREATE TABLE attempts (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE responses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        attempt_hash TEXT NOT NULL REFERENCES attempts(hash),
        body TEXT NOT NULL,
        error TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX responses_attempt ON responses(attempt_hash);
    CREATE TABLE verdicts (
        response_id INTEGER NOT NULL REFERENCES responses(id),
        judge_key TEXT NOT NULL,
        body TEXT NOT NULL,
        outcome TEXT NOT NULL,
        PRIMARY KEY (response_id, judge_key)
    );
    CREATE TABLE run_attempts (
        run_id TEXT NOT NULL REFERENCES runs(id),
        seq INTEGER NOT NULL,
        attempt_hash TEXT NOT NULL REFERENCES attempts(hash),
        response_id INTEGER REFERENCES responses(id),
        status TEXT,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX run_attempts_pending ON run_attempts(run_id, response_id);
    """,
    # 2: judge evaluations on labelled data (assay judges eval).
    """
    CREATE TABLE judge_evals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        judge_name TEXT NOT NULL,
        judge_key TEXT NOT NULL,
        spec TEXT NOT NULL,
        data_path TEXT NOT NULL,
        data_sha256 TEXT NOT NULL,
        n INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX judge_evals_name ON judge_evals(judge_name, id);
    CREATE INDEX judge_evals_key ON judge_evals(judge_key, id);
    """,
    # 3: learned ensemble weights (assay judges feedback), one row per member per step.
    """
    CREATE TABLE ensemble_weights (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ensemble TEXT NOT NULL,
        step INTEGER NOT NULL,
        member TEXT NOT NULL,
        weight REAL NOT NULL,
        note TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (ensemble, step, member)
    );
    CREATE INDEX ensemble_weights_name ON ensemble_weights(ensemble, step);
    """,
    # 4: the run-time guard's reviewer labels, and the ensemble members' votes behind
    # its decisions (no text), so a label sent later (or from another process) can still
    # update the ensemble's Hedge weights.
    """
    CREATE TABLE guard_feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        decision_id TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        note TEXT NOT NULL,
        policy_id TEXT NOT NULL,
        ensemble TEXT,
        step INTEGER,
        created_at TEXT NOT NULL
    );
    CREATE TABLE guard_votes (
        decision_id TEXT PRIMARY KEY,
        ensemble TEXT NOT NULL,
        votes TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
)
