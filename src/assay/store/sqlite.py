"""The SQLite store: every run, planned attempt, response and verdict.

WAL mode, so a report can be read while a scan writes; writes are batched in
transactions by the engine (``record_many``), so a SIGKILL loses at most the last
uncommitted batch and never leaves half a result: a response and its verdicts are
committed together. Responses are keyed by the attempt's content hash, so a later scan
reuses them (the cache) unless asked not to; errored responses are never reused.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay import __version__
from assay.core.records import Attempt, Response, Result, RunInfo, Spec, Status, Verdict
from assay.errors import StoreError, UsageError
from assay.store.migrations import MIGRATIONS

DEFAULT_DB = Path("assay-runs") / "assay.db"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Finished:
    """One finished attempt, as the engine hands it to the store."""

    seq: int
    attempt: Attempt
    response: Response
    verdicts: tuple[Verdict, ...]
    status: Status
    response_id: int | None = None  # set when the response came from the cache


@dataclass(frozen=True)
class Cached:
    """A reusable response (and the verdicts already given on it, by judge key)."""

    response_id: int
    response: Response
    verdicts: dict[str, Verdict]


class Store:
    """A SQLite file holding runs and their results.

    Args:
        path: the database file; its folder is created. ``:memory:`` works for tests.
    """

    def __init__(self, path: str | Path = DEFAULT_DB) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable assay store ({exc})") from exc

    # -- schema -----------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this assay "
                f"({len(MIGRATIONS)}); upgrade assay"
            )
        for number in range(current, len(MIGRATIONS)):
            with self._transaction():
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={number + 1}")

    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    def close(self) -> None:
        self._db.close()

    # -- runs -------------------------------------------------------------------------

    def create_run(
        self, *, spec: dict[str, Any], spec_hash: str, seed: int, attempts: Sequence[Attempt]
    ) -> RunInfo:
        """Store a new run and its whole plan in one transaction."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        run_id = f"{stamp}-{secrets.token_hex(3)}"
        created = _now()
        with self._transaction():
            self._db.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    created,
                    None,
                    "running",
                    json.dumps(spec),
                    spec_hash,
                    seed,
                    __version__,
                    len(attempts),
                ),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO attempts VALUES (?,?)",
                ((a.hash, a.model_dump_json()) for a in attempts),
            )
            self._db.executemany(
                "INSERT INTO run_attempts (run_id, seq, attempt_hash) VALUES (?,?,?)",
                ((run_id, seq, a.hash) for seq, a in enumerate(attempts)),
            )
        return self.get_run(run_id)

    def set_state(self, run_id: str, state: str) -> None:
        finished = _now() if state == "finished" else None
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET state=?, finished_at=? WHERE id=?", (state, finished, run_id)
            )

    def _run_from_row(self, row: tuple[Any, ...]) -> RunInfo:
        return RunInfo(
            id=row[0],
            created_at=row[1],
            finished_at=row[2],
            state=row[3],
            spec=json.loads(row[4]),
            seed=row[6],
            assay_version=row[7],
            n_attempts=row[8],
        )

    def get_run(self, run_id: str) -> RunInfo:
        """The run ``run_id``; a unique prefix or ``latest`` also works."""
        if run_id == "latest":
            row = self._db.execute(
                "SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise UsageError(f"{self.path}: no runs stored yet")
            return self._run_from_row(row)
        rows = self._db.execute("SELECT * FROM runs WHERE id LIKE ? || '%'", (run_id,)).fetchall()
        if len(rows) != 1:
            what = "no run" if not rows else f"{len(rows)} runs"
            raise UsageError(f"{self.path}: {what} matching {run_id!r}; see 'assay runs'")
        return self._run_from_row(rows[0])

    def list_runs(self) -> list[tuple[RunInfo, int]]:
        """Every run, newest first, with how many of its attempts are done."""
        rows = self._db.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM run_attempts ra WHERE ra.run_id=r.id "
            "AND ra.response_id IS NOT NULL) FROM runs r ORDER BY created_at DESC, rowid DESC"
        ).fetchall()
        return [(self._run_from_row(row), int(row[9])) for row in rows]

    def find_unfinished(self, spec_hash: str) -> RunInfo | None:
        """The newest run with this spec that did not finish (to resume it)."""
        row = self._db.execute(
            "SELECT * FROM runs WHERE spec_hash=? AND state!='finished' "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (spec_hash,),
        ).fetchone()
        return None if row is None else self._run_from_row(row)

    def pending(self, run_id: str) -> list[tuple[int, Attempt]]:
        """The planned attempts of a run that have no stored result yet, in order."""
        rows = self._db.execute(
            "SELECT ra.seq, a.body FROM run_attempts ra JOIN attempts a "
            "ON a.hash = ra.attempt_hash WHERE ra.run_id=? AND ra.response_id IS NULL "
            "ORDER BY ra.seq",
            (run_id,),
        ).fetchall()
        return [(int(seq), Attempt.model_validate_json(body)) for seq, body in rows]

    # -- cache ------------------------------------------------------------------------

    def cached(self, hashes: Iterable[str]) -> dict[str, Cached]:
        """The newest error-free response per attempt hash, with its verdicts."""
        found: dict[str, Cached] = {}
        hash_list = list(hashes)
        for start in range(0, len(hash_list), 500):
            chunk = hash_list[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT attempt_hash, id, body FROM responses WHERE error IS NULL "
                f"AND attempt_hash IN ({marks}) ORDER BY id",
                chunk,
            ).fetchall()
            for attempt_hash, response_id, body in rows:
                found[attempt_hash] = Cached(response_id, Response.model_validate_json(body), {})
        for item in found.values():
            for key, body in self._db.execute(
                "SELECT judge_key, body FROM verdicts WHERE response_id=?", (item.response_id,)
            ):
                item.verdicts[key] = Verdict.model_validate_json(body)
        return found

    # -- results ----------------------------------------------------------------------

    def record_many(self, run_id: str, outcomes: Sequence[Finished]) -> None:
        """Store finished attempts in ONE transaction (all or nothing)."""
        with self._transaction():
            for item in outcomes:
                response_id = item.response_id
                if response_id is None:
                    cursor = self._db.execute(
                        "INSERT INTO responses (attempt_hash, body, error, created_at) "
                        "VALUES (?,?,?,?)",
                        (
                            item.attempt.hash,
                            item.response.model_dump_json(),
                            item.response.error,
                            _now(),
                        ),
                    )
                    response_id = cursor.lastrowid
                self._db.executemany(
                    "INSERT OR REPLACE INTO verdicts VALUES (?,?,?,?)",
                    (
                        (response_id, v.key(), v.model_dump_json(), v.outcome.value)
                        for v in item.verdicts
                    ),
                )
                self._db.execute(
                    "UPDATE run_attempts SET response_id=?, status=? WHERE run_id=? AND seq=?",
                    (response_id, item.status.value, run_id, item.seq),
                )

    def results(self, run_id: str) -> list[Result]:
        """Every finished attempt of a run, in plan order, with the run's judges' verdicts."""
        run = self.get_run(run_id)
        judge_keys = [_spec_key(j) for j in run.spec.get("judges", [])]
        rows = self._db.execute(
            "SELECT ra.response_id, ra.status, a.body, r.body FROM run_attempts ra "
            "JOIN attempts a ON a.hash = ra.attempt_hash "
            "JOIN responses r ON r.id = ra.response_id "
            "WHERE ra.run_id=? ORDER BY ra.seq",
            (run.id,),
        ).fetchall()
        verdicts: dict[tuple[int, str], Verdict] = {}
        first_checks: dict[int, Verdict] = {}
        for response_id, key, body in self._db.execute(
            "SELECT v.response_id, v.judge_key, v.body FROM verdicts v JOIN run_attempts ra "
            "ON ra.response_id = v.response_id WHERE ra.run_id=?",
            (run.id,),
        ):
            verdict = Verdict.model_validate_json(body)
            verdicts[(response_id, key)] = verdict
            if verdict.judge.name in ENGINE_CHECKS and verdict.part == "answer":
                first_checks[response_id] = verdict  # the engine's own checks (canary, echo, agent)
        out = []
        for response_id, status, attempt_body, response_body in rows:
            keys = [*judge_keys, *(f"{k}@trace" for k in judge_keys)]
            found = tuple(verdicts[(response_id, k)] for k in keys if (response_id, k) in verdicts)
            first = first_checks.get(response_id)
            if first is not None and first not in found:
                found = (first, *found)
            out.append(
                Result(
                    attempt=Attempt.model_validate_json(attempt_body),
                    response=Response.model_validate_json(response_body),
                    verdicts=found,
                    status=Status(status),
                )
            )
        return out

    def iter_responses(self, attempt_hash: str) -> Iterator[Response]:
        """Every stored response for an attempt hash, oldest first (for audits and tests)."""
        for (body,) in self._db.execute(
            "SELECT body FROM responses WHERE attempt_hash=? ORDER BY id", (attempt_hash,)
        ):
            yield Response.model_validate_json(body)

    # -- judge evaluations --------------------------------------------------------------

    _JUDGE_EVAL_COLUMNS = (
        "id, judge_name, judge_key, spec, data_path, data_sha256, n, metrics, created_at"
    )

    def save_judge_eval(
        self,
        *,
        judge: Spec,
        data_path: str,
        data_sha256: str,
        n: int,
        metrics: dict[str, Any],
    ) -> int:
        """Store one judge evaluation (``metrics`` is any JSON object); returns its id."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO judge_evals (judge_name, judge_key, spec, data_path, "
                "data_sha256, n, metrics, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    judge.name,
                    judge.key(),
                    judge.model_dump_json(),
                    data_path,
                    data_sha256,
                    n,
                    json.dumps(metrics),
                    _now(),
                ),
            )
        return int(cursor.lastrowid or 0)

    def latest_judge_eval(self, judge_key_or_name: str) -> dict[str, Any] | None:
        """The newest evaluation of a judge, by spec key or by name; ``None`` if none."""
        row = self._db.execute(
            f"SELECT {self._JUDGE_EVAL_COLUMNS} FROM judge_evals "
            "WHERE judge_key=? OR judge_name=? ORDER BY id DESC LIMIT 1",
            (judge_key_or_name, judge_key_or_name),
        ).fetchone()
        return None if row is None else self._judge_eval_from_row(row)

    def list_judge_evals(self, *, latest_only: bool = False) -> list[dict[str, Any]]:
        """Stored judge evaluations, newest first; ``latest_only`` keeps the newest one
        per (judge spec key, data file hash, ``metrics["threshold"]``).

        Each is a dict: ``id``, ``judge_name``, ``judge_key``, ``spec`` (the judge's spec
        dump), ``data_path``, ``data_sha256``, ``n``, ``metrics`` (the stored JSON object)
        and ``created_at``.
        """
        rows = self._db.execute(
            f"SELECT {self._JUDGE_EVAL_COLUMNS} FROM judge_evals ORDER BY id DESC"
        ).fetchall()
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str, str]] = set()
        for row in rows:
            item = self._judge_eval_from_row(row)
            if latest_only:
                threshold = item["metrics"].get("threshold")
                key = (item["judge_key"], item["data_sha256"], json.dumps(threshold))
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
        return out

    @staticmethod
    def _judge_eval_from_row(row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "id": int(row[0]),
            "judge_name": row[1],
            "judge_key": row[2],
            "spec": json.loads(row[3]),
            "data_path": row[4],
            "data_sha256": row[5],
            "n": int(row[6]),
            "metrics": json.loads(row[7]),
            "created_at": row[8],
        }

    # -- ensemble weights -------------------------------------------------------------

    def save_ensemble_weights(
        self, name: str, weights: dict[str, float], *, step: int, note: str = ""
    ) -> None:
        """Store one step of an ensemble's learned weights (one row per member).

        Steps are append-only: storing a step that already exists is an error.
        """
        if not weights:
            raise UsageError("no weights to store")
        try:
            with self._transaction():
                self._db.executemany(
                    "INSERT INTO ensemble_weights (ensemble, step, member, weight, note, "
                    "created_at) VALUES (?,?,?,?,?,?)",
                    (
                        (name, step, member, float(weight), note, _now())
                        for member, weight in weights.items()
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"{self.path}: ensemble {name!r} already has weights at step {step}"
            ) from exc

    def latest_ensemble_weights(self, name: str) -> dict[str, float] | None:
        """The newest stored weights of an ensemble (member -> weight); ``None`` if none."""
        history = self.ensemble_weight_history(name, last_only=True)
        return history[-1]["weights"] if history else None

    def ensemble_weight_history(
        self, name: str, *, last_only: bool = False
    ) -> list[dict[str, Any]]:
        """Every stored step of an ensemble's weights, oldest first.

        Each is a dict: ``step``, ``weights`` (member -> weight), ``note`` and
        ``created_at``. ``last_only`` keeps only the newest step.
        """
        query = (
            "SELECT step, member, weight, note, created_at FROM ensemble_weights WHERE ensemble=?"
        )
        args: tuple[Any, ...] = (name,)
        if last_only:
            query += " AND step=(SELECT MAX(step) FROM ensemble_weights WHERE ensemble=?)"
            args = (name, name)
        out: list[dict[str, Any]] = []
        for step, member, weight, note, created_at in self._db.execute(
            query + " ORDER BY step, id", args
        ):
            if not out or out[-1]["step"] != step:
                out.append(
                    {"step": int(step), "weights": {}, "note": note, "created_at": created_at}
                )
            out[-1]["weights"][member] = float(weight)
        return out

    def ensemble_names(self) -> list[str]:
        """The names of every ensemble with stored weights, sorted."""
        return [
            row[0]
            for row in self._db.execute(
                "SELECT DISTINCT ensemble FROM ensemble_weights ORDER BY ensemble"
            )
        ]

    # -- guard feedback ---------------------------------------------------------------

    def save_guard_votes(self, rows: Sequence[tuple[str, str, dict[str, bool | None]]]) -> None:
        """Store ensemble member votes behind guard decisions: (decision id, ensemble,
        member -> bad vote or None). A decision already stored is kept as it was."""
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO guard_votes (decision_id, ensemble, votes, created_at) "
                "VALUES (?,?,?,?)",
                ((d, e, json.dumps(v, sort_keys=True), _now()) for d, e, v in rows),
            )

    def guard_votes(self, decision_id: str) -> tuple[str, dict[str, bool | None]] | None:
        """The ensemble name and member votes stored for a guard decision, or ``None``."""
        row = self._db.execute(
            "SELECT ensemble, votes FROM guard_votes WHERE decision_id=?", (decision_id,)
        ).fetchone()
        return None if row is None else (str(row[0]), json.loads(row[1]))

    def save_guard_feedback(
        self,
        *,
        decision_id: str,
        label: str,
        reviewer: str,
        note: str,
        policy_id: str,
        ensemble: str | None = None,
        step: int | None = None,
    ) -> None:
        """Store a reviewer's label for a guard decision (one label per decision).

        Raises:
            UsageError: the decision already has a label.
        """
        try:
            with self._transaction():
                self._db.execute(
                    "INSERT INTO guard_feedback (decision_id, label, reviewer, note, policy_id, "
                    "ensemble, step, created_at) VALUES (?,?,?,?,?,?,?,?)",
                    (decision_id, label, reviewer, note, policy_id, ensemble, step, _now()),
                )
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"decision {decision_id!r} already has a reviewer label") from exc

    def guard_feedback(self, decision_id: str | None = None) -> list[dict[str, Any]]:
        """Stored guard labels, oldest first (only ``decision_id``'s when given)."""
        query = (
            "SELECT decision_id, label, reviewer, note, policy_id, ensemble, step, created_at "
            "FROM guard_feedback"
        )
        args: tuple[Any, ...] = ()
        if decision_id is not None:
            query += " WHERE decision_id=?"
            args = (decision_id,)
        keys = ("decision_id", "label", "reviewer", "note", "policy_id", "ensemble", "step")
        return [
            {**dict(zip(keys, row[:7], strict=True)), "created_at": row[7]}
            for row in self._db.execute(query + " ORDER BY id", args)
        ]


#: Verdicts the engine adds itself, first, whatever the run's judges: see engine.run.
ENGINE_CHECKS = frozenset({"canary", "echo", "agent"})


def _spec_key(spec_dump: dict[str, Any]) -> str:
    return Spec.model_validate(spec_dump).key()


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
