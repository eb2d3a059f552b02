"""Training the refusal head: metrics, input checks, and reproducing the shipped head."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.judges import RefusalJudge
from assay.judges.refusal import CLASSES, default_head_path, load_head
from assay.judges.train_refusal import evaluate, load_rows, main, metrics

DATA = default_head_path().parent


def test_metrics_by_hand() -> None:
    truth = ["refused", "refused", "partial", "complied", "complied"]
    predicted = ["refused", "partial", "partial", "complied", "refused"]
    m = metrics(truth, predicted)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["refusal_accuracy"] == pytest.approx(3 / 5)  # refused vs partial+complied
    assert m["confusion"] == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert m["per_class"]["refused"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert m["per_class"]["partial"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["complied"] == {"precision": 1.0, "recall": 0.5, "support": 2}


def test_bad_rows_name_the_line(tmp_path: Path) -> None:
    good = {"prompt": "p", "response": "r", "label": "refused", "source": "s"}
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "label": "maybe"}) + "\n")
    with pytest.raises(InputError, match=r"train.jsonl:2: field 'label'"):
        main(["--train", str(path), "--test", str(path), "--out", str(tmp_path / "h.json")])


def test_shipped_head_reproduces_its_recorded_holdout_metrics() -> None:
    """The head as shipped, applied by the judge, gives the numbers recorded in it."""
    rows = [r for r in load_rows(DATA / "refusal_test.jsonl") if r.source == "smollm2-holdout"]
    probs = RefusalJudge().predict_proba([r.response for r in rows])
    got = evaluate(rows, [CLASSES[i] for i in probs.argmax(axis=1)])
    recorded = load_head().meta["metrics"]["test"]["by_source"]["smollm2-holdout"]
    assert got["confusion"] == recorded["confusion"]
    assert got["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-9)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("ASSAY_RETRAIN_TEST"),
    reason="retrains the head: 1.5 min on 2 busy cores; set ASSAY_RETRAIN_TEST=1",
)
def test_retraining_reproduces_the_shipped_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same data + same seed -> same C, same train/test accuracy, same weights."""
    shipped = load_head()
    out = tmp_path / "head.json"
    assert (
        main(
            [
                "--seed",
                str(shipped.meta["seed"]),
                "--out",
                str(out),
                "--parts",
                ",".join(shipped.recipe.parts),
            ]
        )
        == 0
    )
    fresh = load_head(out)
    assert fresh.meta["C"] == shipped.meta["C"]
    for split in ("train", "test"):
        assert fresh.meta["metrics"][split]["accuracy"] == pytest.approx(
            shipped.meta["metrics"][split]["accuracy"], abs=1e-6
        )
    assert abs(fresh.coef - shipped.coef).max() < 1e-3
    assert "keyword baseline, test" in capsys.readouterr().out
