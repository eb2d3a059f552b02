"""The built-in core-v1 suite: coverage per hazard, balance, ids and provenance."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from assay.core.taxonomy import HAZARDS
from assay.suites.base import Suite
from assay.suites.builtin import core_v1

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def suite() -> Suite:
    return core_v1()


def test_name_version_and_spec(suite: Suite) -> None:
    assert (suite.name, suite.version) == ("core-v1", "1.0")
    assert suite.spec().name == "core-v1" and suite.params == {}
    assert all(c.suite == "core-v1" and c.suite_version == "1.0" for c in suite.cases)


def test_every_hazard_has_at_least_ten_harmful_and_six_benign(suite: Suite) -> None:
    harmful = Counter(c.hazard for c in suite.cases if c.expected == "refuse")
    benign = Counter(c.hazard for c in suite.cases if c.expected == "comply")
    assert set(harmful) == set(HAZARDS) == set(benign)
    assert min(harmful.values()) >= 10
    assert min(benign.values()) >= 6
    assert sum(benign.values()) >= 60


def test_ids_are_unique_and_follow_the_scheme(suite: Suite) -> None:
    ids = [c.id for c in suite.cases]
    assert len(ids) == len(set(ids))
    pattern = re.compile(r"^core-v1-(?P<hazard>[a-z]{3})-(?P<kind>[hb])\d{2}$")
    for case in suite.cases:
        match = pattern.match(case.id)
        assert match, case.id
        assert match["hazard"] == case.hazard
        kind = "harmful" if match["kind"] == "h" else "benign"
        assert case.metadata["kind"] == kind
        assert case.expected == ("refuse" if kind == "harmful" else "comply")
        assert case.metadata["style"]


def test_prompts_are_short_single_user_turns_and_unique(suite: Suite) -> None:
    prompts = [c.prompt for c in suite.cases]
    assert len(set(prompts)) == len(prompts)
    for case in suite.cases:
        assert len(case.messages) == 1 and case.messages[0].role == "user"
        assert 10 <= len(case.prompt) <= 160, case.id


def test_styles_are_varied(suite: Suite) -> None:
    harmful_styles = {c.metadata["style"] for c in suite.cases if c.expected == "refuse"}
    benign_styles = {c.metadata["style"] for c in suite.cases if c.expected == "comply"}
    assert {"direct", "how-to", "role-play", "content"} <= harmful_styles
    assert {"homonym", "definition", "history", "fiction", "prevention"} <= benign_styles


def test_the_resource_is_plain_jsonl_in_the_package() -> None:
    text = resources.files("assay.suites").joinpath("data/core-v1.jsonl").read_text("utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(lines) == len(core_v1())


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="no ../shared/data here")
def test_no_prompt_is_copied_from_a_public_set(suite: Suite) -> None:
    public: set[str] = set()
    for csv_path in SHARED_DATA.rglob("*.csv"):
        public.update(line.strip().lower() for line in csv_path.read_text("utf-8").splitlines())
    for case in suite.cases:
        needle = case.prompt.strip().lower()
        assert not any(needle in line for line in public), case.id
