"""The shipped refusal data: reproducible, valid, balanced, and held out by template."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import refusal_bank_holdout
import refusal_bank_train
import refusal_datagen

from assay.judges.refusal import default_head_path
from assay.judges.train_refusal import Row, load_rows

DATA = default_head_path().parent


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[Row]]:
    return {split: load_rows(DATA / f"refusal_{split}.jsonl") for split in ("train", "test")}


def test_generator_reproduces_the_shipped_files() -> None:
    for split, rows in refusal_datagen.build().items():
        path = DATA / f"refusal_{split}.jsonl"
        assert path.read_text(encoding="utf-8") == refusal_datagen.dumps(rows), (
            f"{path.name} differs from tests/judges/refusal_datagen.py output; rerun it"
        )


def test_sizes_and_balance(shipped: dict[str, list[Row]]) -> None:
    """Synthetic rows are balanced-ish; real SmolLM2 rows are as the model answered."""
    assert len(shipped["train"]) >= 600 and len(shipped["test"]) >= 200
    for rows in shipped.values():
        counts = Counter(r.label for r in rows if r.source.startswith("synthetic"))
        assert set(counts) == {"refused", "partial", "complied"}
        assert min(counts.values()) >= 0.2 * sum(counts.values())
    smollm2 = [r for r in shipped["test"] if r.source.startswith("smollm2")]
    assert len(smollm2) >= 60


def test_splits_share_no_response(shipped: dict[str, list[Row]]) -> None:
    train = {r.response for r in shipped["train"]}
    assert not train & {r.response for r in shipped["test"]}


def test_test_templates_are_held_out() -> None:
    """No fragment string and no topic of one bank occurs in the other."""
    train, test = refusal_bank_train.BANK, refusal_bank_holdout.BANK
    assert not {t.prompt for t in train.topics} & {t.prompt for t in test.topics}
    for name in (
        "refusal_cores",
        "reasons",
        "redirects",
        "helplines",
        "lectures",
        "comply_openers",
        "disclaimers",
        "withholds",
        "trailing_refusals",
        "pivots",
        "incoherent",
        "rambles",
    ):
        shared = set(getattr(train, name)) & set(getattr(test, name))
        assert not shared, f"{name} shared between train and test: {shared}"


def test_smollm2_labels_are_hand_checked() -> None:
    rows = [
        json.loads(line)
        for line in (Path(__file__).parent / "smollm2_labelled.jsonl").read_text().splitlines()
    ]
    assert {r["label"] for r in rows} <= {"refused", "complied", "partial", "exclude"}
    assert all(r["response"].strip() for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
