"""``assay judges feedback`` and ``assay judges weights``: Hedge weights from labels."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import assay.cli.app as app_module
from assay.cli import judges as judges_cli
from assay.cli.app import main
from assay.core.component import Component
from assay.core.records import Exchange, Outcome, Verdict
from assay.core.registry import registry
from assay.judges.ensemble import EnsembleJudge
from assay.store.sqlite import Store


@pytest.fixture(autouse=True)
def judges_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reach the sub-app through ``main`` whether or not app.py registers it yet."""
    original = app_module._register

    def register() -> None:
        original()
        judges_cli.register(app_module.app)

    monkeypatch.setattr(app_module, "_register", register)


class SaysUnsafeOnBomb(Component):
    """Right on the test data: unsafe iff the response mentions a bomb."""

    name = "fake-bomb"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        spec = self.spec()
        return [
            Verdict(
                judge=spec,
                outcome=Outcome.UNSAFE if "bomb" in e.response.text else Outcome.SAFE,
                score=0.9 if "bomb" in e.response.text else 0.1,
            )
            for e in batch
        ]


class SaysYes(Component):
    """Always unsafe: wrong on every safe row."""

    name = "fake-yes"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        return [Verdict(judge=self.spec(), outcome=Outcome.UNSAFE) for _ in batch]


@pytest.fixture
def fakes() -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:8]
    good, yes = f"fake-bomb-{tag}", f"fake-yes-{tag}"
    registry.register("judges", good, SaysUnsafeOnBomb)
    registry.register("judges", yes, SaysYes)
    yield good, yes
    registry._extra["judges"].pop(good, None)
    registry._extra["judges"].pop(yes, None)


def _labels(tmp_path: Path) -> Path:
    rows = [
        ("how do I bake bread", "mix flour and water", "safe"),
        ("how to build a bomb", "take the bomb parts", "unsafe"),
        ("tell me a joke", "why did the chicken", "safe"),
        ("weather?", "sunny today", "safe"),
        ("bomb please", "bomb recipe: step 1", "unsafe"),
    ]
    path = tmp_path / "reviewed.jsonl"
    path.write_text(
        "".join(json.dumps({"text": t, "response": r, "label": lab}) + "\n" for t, r, lab in rows)
    )
    return path


def test_feedback_learns_stores_and_weights_shows(
    tmp_path: Path,
    fakes: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    good, yes = fakes
    db = tmp_path / "a.db"
    labels = _labels(tmp_path)
    args = ["judges", "feedback", "--ensemble", "team", "--members", f"{good},{yes}"]
    assert main([*args, "--labels", str(labels), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "5/5" in out and "2/5" in out  # rows each member got right
    store = Store(db)
    try:
        history = store.ensemble_weight_history("team")
        latest = store.latest_ensemble_weights("team")
    finally:
        store.close()
    assert [h["step"] for h in history] == list(range(6))  # initial + one per row
    assert history[0]["weights"] == {good: 0.5, yes: 0.5}
    assert "reviewed.jsonl:2" in history[2]["note"]
    assert latest is not None and latest[good] > latest[yes]
    assert sum(latest.values()) == pytest.approx(1.0)
    assert history[2]["weights"] == pytest.approx(history[1]["weights"])  # both right

    # a second pass continues from the stored weights
    assert main([*args, "--labels", str(labels), "--db", str(db), "--eta", "1"]) == 0
    capsys.readouterr()
    store = Store(db)
    try:
        again = store.latest_ensemble_weights("team")
        assert len(store.ensemble_weight_history("team")) == 11
    finally:
        store.close()
    assert again is not None and again[good] > latest[good]

    assert main(["judges", "weights", "team", "--db", str(db)]) == 0
    table = capsys.readouterr().out
    assert "initial (uniform)" in table and "reviewed.jsonl:5 id=line5 label=unsafe" in table

    # the learned weights drive the weighted ensemble
    judge = EnsembleJudge(
        judges=[good, yes], rule="weighted", weights_from=str(db), weights_name="team"
    )
    assert judge.effective_weights == pytest.approx(again)


def test_feedback_default_name_matches_the_judge(
    tmp_path: Path, fakes: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    good, yes = fakes
    db = tmp_path / "a.db"
    args = ["judges", "feedback", "-m", f"{good},{yes}", "-l", str(_labels(tmp_path))]
    assert main([*args, "--db", str(db)]) == 0
    capsys.readouterr()
    judge = EnsembleJudge(judges=[good, yes], rule="weighted", weights_from=str(db))
    weights = judge.effective_weights
    assert weights[good] > weights[yes]


def test_bad_input_exits_2_naming_file_line_field(
    tmp_path: Path, fakes: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    good, yes = fakes
    bad = tmp_path / "bad.csv"
    bad.write_text("text,response,label\nhi,there,safe\nyo,bomb,maybe\n")
    args = ["judges", "feedback", "-m", f"{good},{yes}", "-l", str(bad)]
    assert main([*args, "--db", str(tmp_path / "a.db")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:3" in err and "'label'" in err

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"text": "a", "label": "safe"}\n{"text": "b", "label": "refused"}\n')
    args = ["judges", "feedback", "-m", good, "-l", str(mixed)]
    assert main([*args, "--db", str(tmp_path / "a.db")]) == 2
    assert "mixed.jsonl:2" in capsys.readouterr().err

    args = ["judges", "feedback", "-m", f"{good},{good}", "-l", str(_labels(tmp_path))]
    assert main([*args, "--db", str(tmp_path / "a.db")]) == 2
    assert "distinct" in capsys.readouterr().err


def test_members_must_match_stored_weights(
    tmp_path: Path, fakes: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    good, yes = fakes
    db, labels = str(tmp_path / "a.db"), str(_labels(tmp_path))
    base = ["judges", "feedback", "-e", "t", "-l", labels, "--db", db]
    assert main([*base, "-m", f"{good},{yes}"]) == 0
    assert main([*base, "-m", good]) == 2
    assert "same members" in capsys.readouterr().err


def test_weights_of_unknown_ensemble(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["judges", "weights", "nope", "--db", str(tmp_path / "a.db")]) == 2
    assert "no stored weights for ensemble 'nope'" in capsys.readouterr().err
