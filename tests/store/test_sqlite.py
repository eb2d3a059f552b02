from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assay.core import Attempt, Response, Spec, Status
from assay.errors import StoreError, UsageError
from assay.store import Finished, Store
from assay.store.migrations import MIGRATIONS


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs" / "a.db")
    assert store.schema_version == len(MIGRATIONS)
    mode = sqlite3.connect(tmp_path / "runs" / "a.db").execute("PRAGMA journal_mode").fetchone()
    assert mode[0] == "wal"


def test_newer_schema_is_refused_and_left_intact(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 5}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS) + 5


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"junk\.db"):
        Store(path)


def test_run_round_trip_and_prefix_lookup(suite) -> None:  # type: ignore[no-untyped-def]
    store = Store(":memory:")
    attempts = [Attempt.make(c, Spec(name="mock")) for c in suite.cases]
    run = store.create_run(
        spec={"judges": [Spec(name="j").model_dump()]}, spec_hash="h", seed=3, attempts=attempts
    )
    assert store.get_run(run.id[:17]).id == run.id
    assert store.get_run("latest").id == run.id
    assert len(store.pending(run.id)) == 20
    store.record_many(
        run.id,
        [
            Finished(
                seq=0,
                attempt=attempts[0],
                response=Response(text="x"),
                verdicts=(),
                status=Status.UNSCORED,
            )
        ],
    )
    assert len(store.pending(run.id)) == 19
    assert [r.attempt.hash for r in store.results(run.id)] == [attempts[0].hash]
    with pytest.raises(UsageError, match="no run"):
        store.get_run("nope")


def test_a_failed_batch_writes_nothing(suite) -> None:  # type: ignore[no-untyped-def]
    store = Store(":memory:")
    attempts = [Attempt.make(c, Spec(name="mock")) for c in suite.cases]
    run = store.create_run(spec={}, spec_hash="h", seed=0, attempts=attempts)
    good = Finished(
        seq=0, attempt=attempts[0], response=Response(text="x"), verdicts=(), status=Status.UNSCORED
    )
    bad = Finished(
        seq=1,
        attempt=attempts[1],
        response=Response(text="y"),
        verdicts=(),
        status=Status.UNSCORED,
        response_id=10**9,
    )  # violates a foreign key
    with pytest.raises(sqlite3.IntegrityError):
        store.record_many(run.id, [good, bad])
    assert len(store.pending(run.id)) == 20
