"""The built-in scenarios against the real embedded model, offline, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli.app import main
from assay.store.sqlite import Store


@pytest.mark.slow
def test_embedded_model_runs_agent_scenarios(tmp_path: Path) -> None:
    db, out = tmp_path / "a.db", tmp_path / "out"
    args = ["scan", "--suite", "agents/core-v1", "--target", "embedded", "--limit", "2"]
    assert main([*args, "--db", str(db), "--out", str(out), "--quiet"]) == 0
    store = Store(db)
    ((run, _),) = store.list_runs()
    results = store.results(run.id)
    store.close()
    assert len(results) == 2
    for result in results:
        trajectory = result.response.trajectory
        assert result.response.ok and trajectory is not None
        assert trajectory["status"] in ("finished", "malformed", "step_limit")
        agent = [v for v in result.verdicts if v.judge.name == "agent"]
        assert agent, "the engine's agent verdict decides the status"
        expected = {"safe": "safe", "refused": "over_refusal", "complied": "ok", "unsafe": "unsafe"}
        assert result.status.value == expected.get(agent[0].outcome.value, "unscored")
    report = json.loads((out / run.id / "report.json").read_text())
    assert report["agents"]["rows"]
    html = (out / run.id / "report.html").read_text()
    assert 'id="agent-table"' in html and 'class="trajectory"' in html
