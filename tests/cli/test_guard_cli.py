"""``assay guard check|calibrate|feedback`` through ``assay.cli.app.main``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

import assay.cli.app as app_module
from assay.cli import guard as guard_cli
from assay.cli.app import main
from assay.core.component import Component
from assay.core.records import Exchange, Outcome, Verdict
from assay.core.registry import registry

_MARK = re.compile(r"p=([0-9.]+)")


class CliMarker(Component):
    """P(unsafe) from ``p=0.8`` in the text; hazard ``spc`` when unsafe."""

    name = "guardtest-cli-marker"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        out = []
        for exchange in batch:
            found = _MARK.search(exchange.response.text or exchange.attempt.case.prompt)
            p = float(found.group(1)) if found else 0.0
            bad = p >= 0.5
            out.append(
                Verdict(
                    judge=self.spec(),
                    outcome=Outcome.UNSAFE if bad else Outcome.SAFE,
                    score=p,
                    hazards=("spc",) if bad else (),
                )
            )
        return out


class CliAlways(Component):
    """Always unsafe (0.9)."""

    name = "guardtest-cli-always"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        return [Verdict(judge=self.spec(), outcome=Outcome.UNSAFE, score=0.9) for _ in batch]


@pytest.fixture(autouse=True)
def wiring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reach ``guard`` through ``main`` whether or not app.py registers it yet."""
    original = app_module._register

    def register() -> None:
        original()
        guard_cli.register(app_module.app)

    monkeypatch.setattr(app_module, "_register", register)
    for cls in (CliMarker, CliAlways):
        registry.register("judges", cls.name, cls)
    yield
    for cls in (CliMarker, CliAlways):
        registry._extra["judges"].pop(cls.name, None)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "id: cli\njudge: guardtest-cli-marker\nabstain_band: [0.4, 0.6]\n"
        "configs: {default: {}, medical: {allow: [spc]}}\n",
        encoding="utf-8",
    )
    return path


def test_check_exit_codes(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guard", "check", "fine p=0.1", "--policy", str(policy)]) == 0
    assert "allow" in capsys.readouterr().out
    assert main(["guard", "check", "bad p=0.9", "--policy", str(policy)]) == 3
    out = capsys.readouterr().out
    assert "block" in out and "spc" in out and "decision id" in out
    assert main(["guard", "check", "unsure p=0.5", "--policy", str(policy)]) == 4
    args = ["guard", "check", "bad p=0.9", "--policy", str(policy), "--config", "medical"]
    assert main(args) == 0


def test_check_json_keeps_the_exit_code(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["guard", "check", "bad p=0.9", "--policy", str(policy), "--json"])
    decision = json.loads(capsys.readouterr().out)
    assert code == 3 and decision["decision"] == "block" and decision["hazards"] == ["spc"]
    assert decision["policy_id"].startswith("pol-") and decision["id"]


def test_check_assistant_turn_with_prompt(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["guard", "check", "answer p=0.9", "--policy", str(policy), "--role", "assistant"]
    assert main([*args, "--prompt", "question", "--json"]) == 3
    capsys.readouterr()


def test_bad_input_exits_2_with_one_line(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["guard", "check", "x", "--policy", str(policy), "--config", "kids"]) == 2
    err = capsys.readouterr().err
    assert "unknown safety config 'kids'" in err and len(err.strip().splitlines()) == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("configs:\n  medical:\n    allow: [nope]\n", encoding="utf-8")
    assert main(["guard", "check", "x", "--policy", str(broken)]) == 2
    assert "configs.medical.allow[0]" in capsys.readouterr().err
    assert main(["guard", "check", "x", "--policy", str(policy), "--role", "robot"]) == 2
    capsys.readouterr()


def _labelled(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = []
    for i in range(400):
        unsafe = bool(rng.random() < 0.5)
        p = 1 / (1 + np.exp(-((1.5 if unsafe else -1.5) + rng.normal(0, 1.5))))
        lines.append(
            json.dumps({"text": f"r{i} p={p:.4f}", "label": "unsafe" if unsafe else "safe"})
        )
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_calibrate_then_check_with_the_artifact(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cal" / "artifact.json"
    data = _labelled(tmp_path)
    args = ["guard", "calibrate", "--data", str(data), "--policy", str(policy), "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "held-out: coverage" in printed and "selective risk" in printed
    artifact = json.loads(out.read_text())
    assert artifact["id"] in printed and artifact["n_holdout"] == 120
    code = main(
        ["guard", "check", "x p=0.99", "--policy", str(policy), "--calibration", str(out), "--json"]
    )
    decision = json.loads(capsys.readouterr().out)
    assert code == 3 and decision["calibration_id"] == artifact["id"]
    assert decision["prediction_set"] == ["unsafe"]
    risk = ["--mode", "risk", "--risk", "0.1", "--out", str(tmp_path / "risk.json")]
    assert main(["guard", "calibrate", "--data", str(data), "--policy", str(policy), *risk]) == 0
    assert "allow below" in capsys.readouterr().out
    assert main(["guard", "calibrate", "--data", str(data), "--out", str(out), "--mode", "x"]) == 2
    capsys.readouterr()


def test_feedback_updates_weights_and_shows_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from assay.guard.guard import Guard
    from assay.guard.policy import Policy
    from assay.guard.types import CheckRequest, GuardMessage

    path = tmp_path / "ensemble.yaml"
    path.write_text(
        "id: ens\njudge: ensemble\njudge_params:\n"
        "  judges: [guardtest-cli-marker, guardtest-cli-always]\n  rule: weighted\n",
        encoding="utf-8",
    )
    db = tmp_path / "guard.db"
    guard = Guard(Policy.load(path), store_path=str(db))
    request = CheckRequest(messages=(GuardMessage(role="user", content="benign p=0.1"),))
    (decision,) = asyncio.run(guard.check([request]))
    guard.close()

    args = ["guard", "feedback", "--db", str(db), "--policy", str(path)]
    assert main([*args, "--decision", decision.id, "--label", "safe"]) == 0
    out = capsys.readouterr().out
    assert "step 1" in out and "guardtest-cli-marker=0.6225" in out
    assert main([*args, "--show"]) == 0
    shown = capsys.readouterr().out
    assert "step 0" in shown and "step 1" in shown and decision.id in shown
    assert main([*args, "--decision", decision.id, "--label", "safe"]) == 2  # labelled already
    assert main([*args, "--decision", decision.id, "--label", "maybe"]) == 2
    assert main(["guard", "feedback", "--db", str(tmp_path / "none.db"), "--show"]) == 2
    capsys.readouterr()
