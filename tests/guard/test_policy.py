"""Guard policies: parsing, defaults, identity, and errors that name the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.core.taxonomy import HAZARDS
from assay.errors import InputError
from assay.guard.policy import Policy, SafetyConfig, field_path


def _write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_enforces_every_hazard_and_fails_closed() -> None:
    policy = Policy.default()
    assert policy.judge == "harm"
    assert policy.hazards == tuple(HAZARDS)
    assert policy.threshold == 0.5
    assert policy.on_judge_failure == "block"
    assert policy.default_config == "default"
    assert policy.allowed("default") == frozenset()
    assert policy.allowed("medical") == frozenset({"spc"})
    assert policy.policy_id.startswith("pol-")
    assert policy.source.endswith("default_policy.yaml")


def test_minimal_file_implies_a_default_config_and_defaults(tmp_path: Path) -> None:
    policy = Policy.load(_write(tmp_path, "id: tiny\n"))
    assert policy.config_names() == ["default"]
    assert policy.allowed("default") == frozenset()
    assert policy.hazards == tuple(HAZARDS)
    assert policy.abstain_band is None


def test_full_file_is_normalised(tmp_path: Path) -> None:
    text = """
id: clinic
hazards: [ssh, spc_hlt, vcr, ssh]
threshold: 0.6
thresholds: {cse: 0.1}
abstain_band: [0.35, 0.65]
on_judge_failure: abstain
calibration: cal.json
default_config: public
configs:
  public: {allow: []}
  medical: {allow: [spc_fin], description: clinicians}
"""
    policy = Policy.load(_write(tmp_path, text))
    assert policy.hazards == ("vcr", "spc", "ssh")  # canonical order, folded, no repeats
    assert policy.configs["medical"] == SafetyConfig(allow=("spc",), description="clinicians")
    assert policy.threshold_for("cse") == 0.1 and policy.threshold_for("vcr") == 0.6
    assert policy.abstain_band == (0.35, 0.65)
    assert policy.calibration_path() == tmp_path / "cal.json"
    assert policy.config_names() == ["medical", "public"]  # no implied default: not needed


def test_json_policies_load_too(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps({"id": "j", "threshold": 0.7}), "p.json")
    assert Policy.load(path).threshold == 0.7


def test_policy_id_is_a_content_hash(tmp_path: Path) -> None:
    a = Policy.load(_write(tmp_path, "id: x\nthreshold: 0.5\n", "a.yaml"))
    b = Policy.load(
        _write(tmp_path, "threshold: 0.5\nid: x\ncalibration: elsewhere.json\n", "b.yaml")
    )
    c = Policy.load(_write(tmp_path, "id: x\nthreshold: 0.55\n", "c.yaml"))
    assert a.policy_id == b.policy_id  # key order and the artifact's path do not matter
    assert a.policy_id != c.policy_id


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("configs:\n  medical:\n    allow: [xyz]\n", "configs.medical.allow[0]", "unknown hazard"),
        ("configs:\n  medical:\n    allow: [spc, nope]\n", "configs.medical.allow[1]", "nope"),
        ("hazards: [vcr, zzz]\n", "hazards[1]", "unknown hazard"),
        ("thresholds: {qqq: 0.2}\n", "thresholds.qqq", "unknown hazard"),
        ("thresholds: {spc: 1.5}\n", "thresholds.spc", "[0, 1]"),
        ("threshold: -0.1\n", "threshold", "[0, 1]"),
        ("abstain_band: [0.8, 0.2]\n", "abstain_band", "above"),
        ("on_judge_failure: ignore\n", "on_judge_failure", "block"),
        ("default_config: kids\n", "default_config", "not among the configs"),
        ("judge: no-such-judge\n", "judge", "unknown judge"),
        ("judge: ensemble\n", "judge_params.judges", "member judges"),
        (
            "judge: ensemble\njudge_params: {judges: [harm, nope]}\n",
            "judge_params.judges[1]",
            "unknown judge",
        ),
        ("colour: blue\n", "colour", "unknown field"),
        ("configs:\n  'a b': {}\n", "configs.a b", "config name"),
    ],
)
def test_errors_name_the_file_and_field(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        Policy.load(path)
    assert info.value.source == str(path)
    assert info.value.field == field
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        Policy.load(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="not valid YAML") as info:
        Policy.load(_write(tmp_path, "id: [unclosed\n"))
    assert info.value.line is not None
    with pytest.raises(InputError, match="mapping"):
        Policy.load(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(InputError, match="not valid JSON"):
        Policy.load(_write(tmp_path, "{", "bad.json"))


def test_unknown_config_is_an_input_error_on_field_config() -> None:
    with pytest.raises(InputError) as info:
        Policy.default().allowed("kids")
    assert info.value.field == "config"


def test_policies_are_frozen() -> None:
    policy = Policy.default()
    with pytest.raises(ValueError, match="frozen"):
        policy.threshold = 0.1  # type: ignore[misc]


def test_field_path() -> None:
    assert field_path(("configs", "medical", "allow", 0)) == "configs.medical.allow[0]"
    assert field_path(("thresholds", "x", "[key]")) == "thresholds.x"
