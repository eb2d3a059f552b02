"""Calibration: the artifact, its round trip and refusals, and the real harm judge."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assay.core.component import Component
from assay.core.records import Exchange, Outcome, Verdict
from assay.core.registry import registry
from assay.errors import InputError
from assay.guard.calibrate import CalibrationArtifact, calibrate, load_artifact, text_u
from assay.guard.guard import judge_spec
from assay.guard.policy import Policy

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
_P = re.compile(r"p=([0-9.]+)")


class ScoreJudge(Component):
    """P(unsafe) read from ``p=0.73`` in the text (hazard ``vcr`` when unsafe)."""

    name = "guardtest-score"
    version = "1"

    def __init__(self, *, threshold: float = 0.5) -> None:
        self.threshold = threshold

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        out = []
        for exchange in batch:
            found = _P.search(exchange.response.text or exchange.attempt.case.prompt)
            p = float(found.group(1)) if found else 0.0
            bad = p >= self.threshold
            out.append(
                Verdict(
                    judge=self.spec(),
                    outcome=Outcome.UNSAFE if bad else Outcome.SAFE,
                    score=p,
                    hazards=("vcr",) if bad else (),
                )
            )
        return out


@pytest.fixture(autouse=True)
def score_judge() -> Iterator[None]:
    registry.register("judges", ScoreJudge.name, ScoreJudge)
    yield
    registry._extra["judges"].pop(ScoreJudge.name, None)


def _policy(**params: float) -> Policy:
    return Policy.from_data({"id": "t", "judge": "guardtest-score", "judge_params": params})


def _data(tmp_path: Path, n: int = 800, seed: int = 0, name: str = "data.jsonl") -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        unsafe = bool(rng.random() < 0.4)
        logit = (1.5 if unsafe else -1.5) + rng.normal(0, 1.5)
        p = 1 / (1 + np.exp(-logit))
        row = {"text": f"row {i} p={p:.5f}", "label": int(unsafe), "hazard": "vcr"}
        rows.append(json.dumps(row))
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_artifact_records_everything_and_round_trips(tmp_path: Path) -> None:
    policy = _policy()
    data = _data(tmp_path)
    artifact = calibrate(policy, data, alpha=0.1, seed=3)
    assert artifact.id == artifact.content_id() and artifact.id.startswith("cal-")
    assert artifact.data_path == str(data) and len(artifact.data_sha256) == 64
    assert artifact.n_calibration + artifact.n_holdout == 800
    assert artifact.n_holdout == pytest.approx(240, abs=2)
    assert artifact.judge.name == "guardtest-score" and artifact.judge.version == "1"
    assert artifact.judge_key == judge_spec(policy).key()
    assert artifact.policy_id == policy.policy_id
    assert (artifact.alpha, artifact.method, artifact.mode) == (0.1, "lac", "sets")
    held = artifact.heldout
    assert held["n"] == artifact.n_holdout
    for key in ("coverage", "abstention_rate", "selective_risk", "unsafe_allowed_rate"):
        assert held[key] is not None
    assert abs(float(held["coverage"] or 0) - 0.9) < 0.06
    assert set(artifact.heldout_per_hazard) == {"vcr"}
    path = tmp_path / "cal.json"
    artifact.save(path)
    loaded = load_artifact(path, judge_spec(policy))
    assert loaded == artifact
    # Same data and options: same id (created_at is not part of it).
    assert calibrate(policy, data, alpha=0.1, seed=3).id == artifact.id
    assert calibrate(policy, data, alpha=0.2, seed=3).id != artifact.id


def test_refuses_another_judge_and_edited_artifacts(tmp_path: Path) -> None:
    artifact = calibrate(_policy(), _data(tmp_path))
    path = tmp_path / "cal.json"
    artifact.save(path)
    with pytest.raises(InputError) as info:
        load_artifact(path, judge_spec(_policy(threshold=0.7)))
    assert info.value.field == "judge" and info.value.source == str(path)
    data = json.loads(path.read_text())
    data["alpha"] = 0.01
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="edited"):
        load_artifact(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match="not a JSON"):
        load_artifact(path)
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(InputError) as info:
        load_artifact(path)
    assert info.value.field == "format"


def test_risk_mode_certifies_the_allow_threshold(tmp_path: Path) -> None:
    artifact = calibrate(
        _policy(), _data(tmp_path, n=2000), mode="risk", risk=0.1, delta=0.1, block_risk=0.05
    )
    rt = artifact.risk_thresholds
    assert rt is not None and rt.certified and rt.over == "unsafe"
    assert 0.0 < rt.allow_below < rt.block_at <= 1.0 and rt.block_certified
    held = artifact.heldout
    assert held["miss_rate"] is not None and float(held["miss_rate"]) <= 0.1 + 0.04
    assert held["safe_blocked_rate"] is not None and float(held["safe_blocked_rate"]) <= 0.05 + 0.03
    assert artifact.sets is None


def test_aps_is_randomised_by_a_hash_of_the_text(tmp_path: Path) -> None:
    artifact = calibrate(_policy(), _data(tmp_path), method="aps")
    assert artifact.sets is not None and artifact.sets.randomized
    assert abs(float(artifact.heldout["coverage"] or 0) - 0.9) < 0.06
    assert text_u("a") == text_u("a") != text_u("b") and 0.0 <= text_u("a") < 1.0


def test_label_free_abstention_threshold_on_a_tuning_split(tmp_path: Path) -> None:
    artifact = calibrate(_policy(), _data(tmp_path, n=1200), abstain_rate=0.6)
    assert artifact.n_tuning > 0 and artifact.min_confidence > 0.5
    assert float(artifact.heldout["abstention_rate"] or 0) == pytest.approx(0.6, abs=0.08)


def test_bad_data_and_options(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "safe"}\n{"text": "b", "label": "refused"}\n')
    with pytest.raises(InputError) as info:
        calibrate(_policy(), bad)
    assert (info.value.source, info.value.line, info.value.field) == (str(bad), 2, "label")
    one = tmp_path / "one.jsonl"
    one.write_text('{"text": "a", "label": "safe"}\n{"text": "b", "label": 0}\n')
    with pytest.raises(InputError, match="both safe and unsafe"):
        calibrate(_policy(), one)
    data = _data(tmp_path, n=50)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"alpha": 1.5}, "alpha"),
        ({"mode": "risk"}, "risk"),
        ({"risk": 0.1}, "risk"),
        ({"method": "raps"}, "method"),
        ({"holdout": 0.0}, "holdout"),
    ]
    for options, field in cases:
        with pytest.raises(InputError) as info:
            calibrate(_policy(), data, **options)
        assert info.value.field == field


@pytest.mark.skipif(not (SHARED / "xstest").is_dir(), reason="shared XSTest data not present")
def test_real_harm_judge_on_xstest_hits_the_target_coverage(tmp_path: Path) -> None:
    """The embedded harm judge, calibrated on XSTest prompts it was never trained on."""
    with (SHARED / "xstest" / "xstest_prompts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    data = tmp_path / "xstest.jsonl"
    data.write_text(
        "".join(json.dumps({"text": r["prompt"], "label": r["label"]}) + "\n" for r in rows),
        encoding="utf-8",
    )
    artifact = calibrate(Policy.default(), data, alpha=0.1, seed=0)
    assert artifact.n_calibration + artifact.n_holdout == len(rows) == 450
    held = artifact.heldout
    coverage = float(held["coverage"] or 0)
    # 135 held-out rows: the sampling sd of coverage is ~0.026.
    assert abs(coverage - 0.9) <= 0.1, held
    assert float(held["coverage_unsafe"] or 0) >= 0.75
    assert artifact.judge.name == "harm"
    assert isinstance(
        CalibrationArtifact.model_validate_json(artifact.model_dump_json()), CalibrationArtifact
    )
