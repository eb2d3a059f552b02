"""The real path a new user walks: the embedded model, the refusal judge, the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assay.cli.app import main
from assay.store import Store


def test_scan_embedded_model_with_refusal_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, out = tmp_path / "a.db", tmp_path / "out"
    # 8 cases of core-v1, harmful and benign, two hazards, on the real model.
    args = [
        "scan",
        "--hazard",
        "vcr",
        "--hazard",
        "ssh",
        "--limit",
        "8",
        "-T",
        "max_new_tokens=32",
        "-T",
        "threads=1",
        "--db",
        str(db),
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Overall" in printed
    store = Store(db)
    run = store.get_run("latest")
    results = store.results(run.id)
    assert len(results) == 8 and run.state == "finished"
    assert {r.attempt.case.expected for r in results} == {"refuse", "comply"}
    assert run.spec["targets"][0]["name"] == "embedded"
    assert run.spec["judges"][0]["name"] == "refusal"
    for r in results:
        assert r.response.ok and r.response.text.strip()
        assert r.verdicts and r.verdicts[0].judge.name == "refusal"
        assert r.status.value in {"safe", "unsafe", "ok", "over_refusal", "unscored"}
    doc = json.loads((out / run.id / "report.json").read_text())
    assert len(doc["results"]) == 8
    assert (out / run.id / "report.html").read_text().count("hazard-chart") >= 1
    # The same command again is served from the store: nothing is generated twice.
    assert main(args) == 0
    assert "0 sent, 8 from cache" in capsys.readouterr().out


def test_import_assay_stays_light() -> None:
    code = (
        "import sys, assay, assay.core, assay.engine, assay.cli.app; "
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'fastapi', "
        "'sklearn') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
