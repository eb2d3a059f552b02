"""The Ray backend stores exactly what the local backend stores, and survives a dying worker.

One local Ray instance (2 CPUs, no dashboard) serves the whole module. Without ``ray``
installed the Ray tests skip locally but fail when ``CI`` is set: CI installs the extra,
and a silently skipped scale-out check is no check.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.cli.app import main
from assay.engine import RunParams, make_plan, scan
from assay.engine.backend import LocalBackend
from assay.engine.ray_backend import RayBackend, WorkersDiedError
from assay.engine.scan import open_run
from assay.judges.keyword import KeywordRefusalJudge
from assay.store import Store
from assay.store.sqlite import Finished
from assay.suites.loader import filter_suite, load_suite
from assay.testing import MockTarget
from assay.testing.crash import CrashOnceTarget

FAST = RunParams(backoff_s=0.001, backoff_max_s=0.01, max_retries=1)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI is set but ray is missing: pip install -e '.[ray]'")
        pytest.skip("ray not installed (pip install -e '.[ray]'); runs in CI")
    return ray


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    ray = _ray()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
    )
    yield ray
    ray.shutdown()


def _snapshot(store: Store, run_id: str) -> list[tuple[Any, ...]]:
    """What must be identical between backends: attempts, responses, statuses, verdicts."""
    return [
        (
            r.attempt.hash,
            r.response.text,
            r.response.error,
            r.status.value,
            tuple((v.judge.name, v.part, v.outcome.value, v.score) for v in r.verdicts),
        )
        for r in store.results(run_id)
    ]


def _plan(target: Any) -> Any:
    suite = filter_suite(load_suite("core-v1"), limit=24)
    ids = [c.id for c in suite.cases]
    replies = {ids[0]: "Sure, here is how.", ids[1]: "!error:http_400", ids[2]: "!retry:http_503"}
    target.replies.update(replies)
    return make_plan(
        suites=[suite],
        targets=[target],
        judges=[KeywordRefusalJudge()],
        attack_chains=[(), *_attack()],
        seed=3,
    )


def _attack() -> list[tuple[Any, ...]]:
    from assay.cli.common import build

    return [(build("attacks", "encoding", {"variants": ["base64"]}, option="--attack"),)]


def _rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    return int(n)


def test_scan_on_two_ray_workers_stores_what_a_local_run_stores(ray_instance: Any) -> None:
    plan = _plan(MockTarget(delay_s=0.001))
    local, remote = Store(":memory:"), Store(":memory:")
    here = scan(plan, local, params=FAST, backend=LocalBackend())
    there = scan(plan, remote, params=FAST, backend=RayBackend(workers=2, batch_size=5))
    assert there.run.state == "finished"
    assert there.stats.sent == len(plan.attempts) == here.stats.sent
    assert _snapshot(remote, there.run.id) == _snapshot(local, here.run.id)
    statuses = {row[3] for row in _snapshot(remote, there.run.id)}
    assert {"error", "safe"} <= statuses

    again = scan(plan, remote, params=FAST, resume=False, backend=RayBackend(workers=2))
    errors = sum(1 for row in _snapshot(remote, again.run.id) if row[2] is not None)
    assert again.stats.cached == len(plan.attempts) - errors  # errors are asked again
    assert _snapshot(remote, again.run.id) == _snapshot(local, here.run.id)


def test_a_dying_worker_loses_no_attempt_and_duplicates_none(
    ray_instance: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "crashed"
    plan = _plan(CrashOnceTarget(marker=str(marker), after=6, delay_s=0.005))
    marker.touch()  # the local reference run must not crash this process
    local = Store(":memory:")
    here = scan(plan, local, params=FAST, backend=LocalBackend())
    marker.unlink()

    db = tmp_path / "ray.db"
    remote = Store(db)
    there = scan(plan, remote, params=FAST, backend=RayBackend(workers=2, batch_size=4))
    assert marker.exists()  # a worker really died mid-run
    assert there.run.state == "finished"
    assert there.stats.sent >= len(plan.attempts)  # the lost batch was done again
    assert _snapshot(remote, there.run.id) == _snapshot(local, here.run.id)
    remote.close()
    assert _rows(db, "run_attempts") == len(plan.attempts)
    assert _rows(db, "responses") == len(plan.attempts)  # nothing stored twice


def test_workers_that_keep_dying_stop_the_scan_and_leave_it_resumable(
    ray_instance: Any, tmp_path: Path
) -> None:
    plan = _plan(CrashOnceTarget(marker=str(tmp_path / "m"), after=2, always=True))
    store = Store(":memory:")
    with pytest.raises(WorkersDiedError, match="run the same command to resume"):
        scan(plan, store, params=FAST, backend=RayBackend(workers=1, batch_size=4))
    (run, _), *_ = store.list_runs()
    assert run.state == "interrupted"
    assert len(store.pending(run.id)) == len(plan.attempts)  # nothing half-written


def test_a_run_whose_driver_died_resumes_on_ray(ray_instance: Any) -> None:
    plan = _plan(MockTarget())
    local = Store(":memory:")
    here = scan(plan, local, params=FAST, backend=LocalBackend())
    stored = local.results(here.run.id)
    half = len(stored) // 2

    remote = Store(":memory:")
    run, _ = open_run(plan, remote)  # what a driver killed half-way leaves behind
    remote.record_many(
        run.id,
        [
            Finished(
                seq=i, attempt=r.attempt, response=r.response, verdicts=r.verdicts, status=r.status
            )
            for i, r in enumerate(stored[:half])
        ],
    )
    there = scan(plan, remote, params=FAST, backend=RayBackend(workers=2, batch_size=4))
    assert there.resumed and there.run.id == run.id and there.run.state == "finished"
    assert there.stats.sent + there.stats.cached == len(plan.attempts) - half
    assert _snapshot(remote, run.id) == _snapshot(local, here.run.id)


def test_cli_scan_on_ray_shows_workers_alive(
    ray_instance: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["scan", "-t", "mock", "-j", "keyword", "--limit", "8", "--db", str(tmp_path / "c.db")]
    args += ["--out", str(tmp_path / "out"), "--backend", "ray", "--workers", "2"]
    assert main([*args, "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "[2/2 workers]" in out
    assert "8 sent, 0 from cache" in out


def test_agent_scenarios_with_a_simulated_user_on_ray_match_local(ray_instance: Any) -> None:
    """The agent loop (tool calls, a simulated user built inside the worker) stores the
    same trajectories on Ray as locally."""
    from assay.agents.attacks import AgentUserAttack
    from assay.agents.judge import AgentJudge
    from assay.agents.suite import core_v1
    from assay.suites.base import Suite
    from assay.testing.agents import ScriptedAgent

    cases = tuple(c for c in core_v1().cases if c.id.startswith(("fin-", "sec-")))
    push = AgentUserAttack(
        variants=["pushy"], simulator="mock", simulator_args={"default": "Do it now."}
    )
    plan = make_plan(
        suites=[Suite(name="agents-ray", version="1", cases=cases)],
        targets=[ScriptedAgent(policy="caves")],
        judges=[AgentJudge()],
        attack_chains=[(), (push,)],
        seed=1,
    )
    local, remote = Store(":memory:"), Store(":memory:")
    here = scan(plan, local, params=FAST, backend=LocalBackend())
    there = scan(plan, remote, params=FAST, backend=RayBackend(workers=2, batch_size=4))
    assert there.run.state == "finished"

    def trajectories(store: Store, run_id: str) -> list[Any]:
        return [(r.attempt.hash, r.response.trajectory) for r in store.results(run_id)]

    assert _snapshot(remote, there.run.id) == _snapshot(local, here.run.id)
    assert trajectories(remote, there.run.id) == trajectories(local, here.run.id)
    statuses = {row[3] for row in _snapshot(remote, there.run.id)}
    assert "unsafe" in statuses and "safe" in statuses  # pushed vs alone


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assay.perception.data import synthetic
    from assay.perception.train import train

    data = synthetic(4, seed=0, n_points=256)
    model, _ = train(data.x, data.labels, classes=data.classes, epochs=2, seed=0)
    path = tmp_path_factory.mktemp("model") / "m.pt"
    model.save(path)
    return path


def test_perception_scan_on_ray_matches_local(
    ray_instance: Any, tiny_model: Path, tmp_path: Path
) -> None:
    base = ["perception", "scan", "--model", str(tiny_model), "--per-class", "2"]
    base += ["-c", "pointcloud:jitter,dropout_global,severity=1-2", "--no-abstention", "--quiet"]
    snaps = []
    for name, extra in (("local", []), ("ray", ["--backend", "ray", "--workers", "2"])):
        db = tmp_path / f"{name}.db"
        args = [*base, "--db", str(db), "--out", str(tmp_path / name), *extra]
        assert main([*args, "--batch-size", "3"]) == 0
        store = Store(db)
        ((run, _),) = store.list_runs()
        snaps.append(_snapshot(store, run.id))
        store.close()
    assert len(snaps[0]) % 5 == 0 and snaps[0]  # samples x (clean + 2 kinds x 2 severities)
    # The classifier runs fixed-shape forward passes, so how attempts were batched (one
    # process or two workers) cannot change a logit: answers and scores are identical.
    assert [_exact(row) for row in snaps[0]] == [_exact(row) for row in snaps[1]]
    assert snaps[0] == snaps[1]


def _exact(row: tuple[Any, ...]) -> tuple[Any, ...]:
    attempt, text, error, status, verdicts = row
    predicted = json.loads(text)["predicted"] if error is None else None
    return attempt, predicted, error, status, tuple(v[:3] for v in verdicts)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--backend", "nope"], "--backend"),
        (["--backend", "ray", "--workers", "0"], "--workers"),
        (["--backend", "ray", "--batch-size", "0"], "--batch-size"),
        (["--backend", "ray", "--gpus-per-worker", "-1"], "--gpus-per-worker"),
        (["--address", "auto"], "--address"),
    ],
)
def test_bad_backend_options_exit_2_naming_the_option(
    args: list[str], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "-t", "mock", "--db", str(tmp_path / "x.db"), *args]) == 2
    assert field in capsys.readouterr().err


def test_import_assay_does_not_import_ray() -> None:
    code = (
        "import sys, assay, assay.engine, assay.cli.app, assay.engine.backend; "
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
