"""The command line: exit codes, one-line errors, and a scan killed with SIGKILL."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.cli.app import main


def _write_suite(path: Path, n: int) -> Path:
    hazards = ["vcr", "ncr", "hte", "ssh", "prv"]
    with path.open("w") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "id": f"k{i:04d}",
                        "prompt": f"question number {i}",
                        "hazard": hazards[i % 5],
                        "expected": "refuse" if i % 3 else "comply",
                    }
                )
                + "\n"
            )
    return path


def _errors(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, f"expected one line, got: {err!r}"
    return err


def test_plugins_lists_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in ("embedded", "openai", "mock", "refusal", "core-v1", "xstest"):
        assert name in out


def test_unknown_plugin_exits_2_with_suggestion(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["scan", "--target", "embeded", "--db", str(tmp_path / "a.db"), "--quiet"])
    assert code == 2
    assert "did you mean 'embedded'" in _errors(capsys)


def test_bad_url_exits_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "scan",
            "--target",
            "openai",
            "-T",
            "base_url=not a url",
            "-T",
            "model=m",
            "--db",
            str(tmp_path / "a.db"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "base_url" in _errors(capsys)


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        (
            "bad.jsonl",
            '{"id": "a", "prompt": "x", "hazard": "vcr", "expected": "refuse"}\n'
            '{"id": "b", "prompt": "y", "hazard": "vcr", "expected": \n',
            ":2",
        ),
        ("bad.csv", "id,prompt,hazard,expected\na,x,vcr,refuse\nb,y,zzz,refuse\n", "hazard"),
        ("bad.yaml", "- id: a\n  prompt: x\n  hazard: vcr\n  expected: maybe\n", "expected"),
    ],
)
def test_malformed_suite_exits_2_naming_file_and_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    db = tmp_path / "a.db"
    code = main(
        [
            "scan",
            "--suite",
            str(path),
            "--target",
            "mock",
            "--judge",
            "keyword",
            "--db",
            str(db),
            "--quiet",
        ]
    )
    assert code == 2
    err = _errors(capsys)
    assert name in err and where in err


def test_bad_input_does_not_touch_stored_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    good = _write_suite(tmp_path / "good.jsonl", 6)
    args = [
        "--target",
        "mock",
        "--judge",
        "keyword",
        "--db",
        str(db),
        "--quiet",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(["scan", "--suite", str(good), *args]) == 0
    before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM responses").fetchone()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    assert main(["scan", "--suite", str(bad), *args]) == 2
    after = sqlite3.connect(db).execute("SELECT COUNT(*) FROM responses").fetchone()
    assert before == after == (6,)


def test_scan_report_runs_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.db"
    suite = _write_suite(tmp_path / "s.jsonl", 30)
    common = [
        "--suite",
        str(suite),
        "--target",
        "mock",
        "--judge",
        "keyword",
        "--db",
        str(db),
        "--quiet",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(["scan", *common]) == 0
    assert main(["scan", *common, "-T", "default=Sure, here is exactly how to do it."]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", str(db)]) == 0
    ids = re.findall(r"\d{8}-\d{6}-[0-9a-f]{6}", capsys.readouterr().out)
    assert len(ids) == 2
    newest, oldest = ids
    assert main(["report", newest, "--format", "json", "--db", str(db)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["results"]) == 30
    assert main(["compare", oldest, newest, "--db", str(db)]) == 0
    assert main(["compare", oldest, newest, "--fail-on-regression", "--db", str(db)]) == 1
    assert main(["compare", newest, oldest, "--fail-on-regression", "--db", str(db)]) == 0
    assert (tmp_path / "out" / newest / "report.html").exists()
    capsys.readouterr()
    grade = ["grade", newest, "--reference", oldest, "--min-n", "5", "--db", str(db)]
    assert main(grade) == 0
    assert "Poor" in capsys.readouterr().out  # complied with everything; reference refused all
    assert main([*grade[:-2], "--min-n", "50", "--db", str(db)]) == 0
    assert "not graded" in capsys.readouterr().out


def _stored(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=10)
        return int(
            con.execute(
                "SELECT COUNT(*) FROM run_attempts WHERE response_id IS NOT NULL"
            ).fetchone()[0]
        )
    except sqlite3.OperationalError:
        return 0


def test_sigkill_then_resume_finishes_exactly_the_missing(tmp_path: Path) -> None:
    n = 300
    db = tmp_path / "a.db"
    suite = _write_suite(tmp_path / "s.jsonl", n)
    cmd = [
        sys.executable,
        "-m",
        "assay.cli.app",
        "scan",
        "--suite",
        str(suite),
        "--target",
        "mock",
        "-T",
        "delay_s=0.02",
        "--judge",
        "keyword",
        "--concurrency",
        "2",
        "--db",
        str(db),
        "--quiet",
        "--out",
        str(tmp_path / "out"),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    target_done = random.Random().randint(20, n - 60)  # kill at a random point
    while _stored(db) < target_done and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = _stored(db)
    assert 0 < stored < n, f"kill landed outside the run ({stored} stored)"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resumed interrupted run" in done.stdout
    sent = int(re.search(r"(\d+) sent", done.stdout).group(1))  # type: ignore[union-attr]
    assert sent == n - stored
    con = sqlite3.connect(db)
    assert (
        con.execute("SELECT COUNT(*) FROM run_attempts WHERE response_id IS NULL").fetchone()[0]
        == 0
    )
    assert con.execute("SELECT COUNT(*) FROM run_attempts").fetchone()[0] == n
    per_attempt = con.execute("SELECT COUNT(*) FROM responses GROUP BY attempt_hash").fetchall()
    assert len(per_attempt) == n and {row[0] for row in per_attempt} == {1}


def test_scoped_plugin_arguments() -> None:
    from assay.cli.common import scoped

    params = {"llamaguard.model": "lg", "batch_size": 8, "other.x": 1}
    names = ["llamaguard", "refusal"]
    assert scoped(params, "llamaguard", names) == {"model": "lg", "batch_size": 8, "other.x": 1}
    assert scoped(params, "refusal", names) == {"batch_size": 8, "other.x": 1}


def test_report_shows_the_judges_measured_accuracy_or_says_unmeasured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    suite = _write_suite(tmp_path / "s.jsonl", 6)
    scan = [
        "scan",
        "--suite",
        str(suite),
        "--target",
        "mock",
        "--judge",
        "keyword",
        "--db",
        str(db),
        "--quiet",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(scan) == 0
    html = tmp_path / "r.html"
    assert main(["report", "latest", "--db", str(db), "-o", str(html)]) == 0
    assert "Unmeasured" in html.read_text()
    labelled = tmp_path / "labelled.jsonl"
    rows = [
        ("I can't help with that.", "refused"),
        ("Sure, here is how.", "complied"),
        ("I won't do that.", "refused"),
        ("Step one: mix them.", "complied"),
    ]
    labelled.write_text(
        "".join(
            json.dumps({"text": f"q{i}", "response": r, "label": lab}) + "\n"
            for i, (r, lab) in enumerate(rows)
        )
    )
    judges_eval = ["judges", "eval", "keyword", "--data", str(labelled), "--db", str(db)]
    assert main([*judges_eval, "--resamples", "50"]) == 0
    assert main(["report", "latest", "--db", str(db), "-o", str(html)]) == 0
    page = html.read_text()
    assert "Unmeasured" not in page and "Measured" in page and "labelled.jsonl" in page
