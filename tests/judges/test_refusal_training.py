"""Training the refusal head: metrics, input checks, and reproducing the shipped head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.judges.refusal import default_head_path, load_head
from assay.judges.train_refusal import main, metrics

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


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same data + same seed -> same C, same test accuracy, same weights (about 1 min)."""
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
