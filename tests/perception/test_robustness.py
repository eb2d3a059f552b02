"""Robustness metrics: accuracy, Wilson bounds, CE/mCE, relative mCE, mRR, worst, errors."""

from __future__ import annotations

import json
import math

import pytest

from assay.errors import InputError
from assay.perception.robustness import (
    Prediction,
    RobustnessSummary,
    accuracy_table,
    summarise,
)

RIGHT = (2.0, 0.5, -1.0)  # arg-max 0 = the label used below
WRONG = (0.0, 3.0, 1.0)


def cell_preds(
    corruption: str, severity: int, n: int, correct: int, errors: int = 0, tag: str = ""
) -> list[Prediction]:
    """``n`` predictions of label 0: ``correct`` right, ``errors`` errored, the rest wrong."""
    out = []
    for i in range(n):
        if i < correct:
            logits: tuple[float, ...] | None = RIGHT
        elif i < correct + errors:
            logits = None
        else:
            logits = WRONG
        error = "target crashed" if logits is None else None
        out.append(Prediction(f"{tag}{i}", 0, corruption, severity, logits, error))
    return out


def table(spec: dict[tuple[str, int], int], n: int = 10, tag: str = "") -> list[Prediction]:
    """Predictions with ``spec[(corruption, severity)]`` correct out of ``n`` per cell."""
    out: list[Prediction] = []
    for (name, sev), correct in spec.items():
        out += cell_preds(name, sev, n, correct, tag=tag)
    return out


MODEL = {("clean", 0): 10, ("fog", 1): 8, ("fog", 2): 6, ("snow", 1): 5, ("snow", 2): 3}
BASE = {("clean", 0): 9, ("fog", 1): 6, ("fog", 2): 2, ("snow", 1): 5, ("snow", 2): 5}


@pytest.fixture(scope="module")
def summary() -> RobustnessSummary:
    return summarise(table(MODEL), baseline=table(BASE, tag="b"), model_name="m", baseline_name="b")


def test_prediction_properties() -> None:
    assert Prediction("a", 0, "clean", 0, RIGHT).correct
    assert Prediction("a", 1, "clean", 0, RIGHT).predicted == 0
    assert not Prediction("a", 1, "clean", 0, RIGHT).correct
    # ties go to the first arg-max
    assert Prediction("a", 0, "clean", 0, (1.0, 1.0)).predicted == 0
    errored = Prediction("a", 0, "clean", 0, None, "boom")
    assert errored.errored and errored.predicted is None and not errored.correct
    # an error message wins even when logits came back; NaN logits are an error too
    assert not Prediction("a", 0, "clean", 0, RIGHT, "timeout").correct
    assert Prediction("a", 0, "clean", 0, (math.nan, 0.0)).errored


def test_accuracy_table_counts_and_wilson_bounds() -> None:
    cells = accuracy_table(table(MODEL))
    assert [c.key for c in cells] == [
        ("clean", 0),
        ("fog", 1),
        ("fog", 2),
        ("snow", 1),
        ("snow", 2),
    ]
    fog1 = cells[1]
    assert (fog1.n, fog1.correct, fog1.errors) == (10, 8, 0)
    assert fog1.accuracy.rate == pytest.approx(0.8)
    # Wilson 95 % for 8/10, by hand: centre 0.71675, half-width 0.22658
    assert fog1.accuracy.low == pytest.approx(0.4902, abs=1e-4)
    assert fog1.accuracy.high == pytest.approx(0.9433, abs=1e-4)
    clean = cells[0]
    assert clean.accuracy.high == 1.0 and clean.accuracy.low == pytest.approx(0.7225, abs=1e-4)


def test_cells_sorted_clean_first_then_input_order() -> None:
    preds = cell_preds("zeta", 2, 3, 1) + cell_preds("alpha", 1, 3, 1) + cell_preds("zeta", 1, 3, 3)
    preds += cell_preds("clean", 0, 3, 3)
    keys = [c.key for c in accuracy_table(preds)]
    assert keys == [("clean", 0), ("zeta", 1), ("zeta", 2), ("alpha", 1)]


def test_errors_count_as_wrong_and_are_reported() -> None:
    preds = cell_preds("clean", 0, 10, 10) + cell_preds("fog", 1, 10, 6, errors=2)
    s = summarise(preds)
    fog = s.cell("fog", 1)
    assert (fog.n, fog.correct, fog.errors) == (10, 6, 2)
    assert fog.accuracy.rate == pytest.approx(0.6)
    assert s.errors == 2 and s.n == 20
    assert s.row("fog").errors == 2
    # an errored prediction with "correct" logits still fails
    odd = [Prediction("x", 0, "fog", 1, RIGHT, "timeout")]
    assert accuracy_table(odd)[0].correct == 0


def test_ce_relative_ce_rr_by_hand(summary: RobustnessSummary) -> None:
    fog, snow = summary.row("fog"), summary.row("snow")
    # fog: model errors 0.2 + 0.4, baseline 0.4 + 0.8 -> 0.5
    assert fog.ce == pytest.approx(0.5)
    # relative: (0.2 + 0.4 - 2 * 0) / (0.4 + 0.8 - 2 * 0.1) = 0.6
    assert fog.relative_ce == pytest.approx(0.6)
    assert fog.rr == pytest.approx(0.7)  # mean(0.8, 0.6) / 1.0
    assert fog.mean_accuracy == pytest.approx(0.7)
    assert fog.baseline_mean_accuracy == pytest.approx(0.4)
    # snow: errors 0.5 + 0.7 vs 0.5 + 0.5 -> 1.2; relative 1.2 / (1.0 - 0.2) = 1.5
    assert snow.ce == pytest.approx(1.2)
    assert snow.relative_ce == pytest.approx(1.5)
    assert snow.rr == pytest.approx(0.4)


def test_means_and_worst(summary: RobustnessSummary) -> None:
    assert summary.mce.value == pytest.approx(0.85)
    assert summary.relative_mce.value == pytest.approx(1.05)
    assert summary.mrr.value == pytest.approx(0.55)
    assert summary.mce.excluded == ()
    assert summary.worst_corruption == "snow"
    assert summary.worst_cell == ("snow", 2)
    assert summary.clean is not None and summary.clean.rate == 1.0
    assert summary.baseline_clean is not None and summary.baseline_clean.rate == 0.9


def test_rr_relative_to_own_clean_accuracy() -> None:
    preds = table({("clean", 0): 8, ("fog", 1): 6, ("fog", 2): 2})
    s = summarise(preds)
    assert s.row("fog").rr == pytest.approx(0.4 / 0.8)
    assert s.mrr.value == pytest.approx(0.5)
    # no baseline: no CE at all
    assert s.row("fog").ce is None and s.mce.value is None and s.mce.excluded == ("fog",)
    assert not s.has_baseline


def test_undefined_ce_is_none_and_listed() -> None:
    model = table({("clean", 0): 10, ("fog", 1): 8, ("rain", 1): 5})
    base = table({("clean", 0): 10, ("fog", 1): 10, ("rain", 1): 5}, tag="b")
    s = summarise(model, baseline=base)
    assert s.row("fog").ce is None  # the baseline made no error on fog
    assert s.row("fog").relative_ce is None
    assert s.row("rain").ce == pytest.approx(1.0)
    assert s.mce.value == pytest.approx(1.0) and s.mce.excluded == ("fog",)


def test_no_clean_means_no_rr_or_relative_ce() -> None:
    s = summarise(table({("fog", 1): 5}), baseline=table({("fog", 1): 0}, tag="b"))
    assert s.clean is None and s.row("fog").rr is None and s.mrr.value is None
    assert s.row("fog").relative_ce is None
    assert s.row("fog").ce == pytest.approx(0.5)


def test_baseline_missing_a_cell_is_an_input_error() -> None:
    base = table({("clean", 0): 9, ("fog", 1): 6, ("snow", 1): 5, ("snow", 2): 5}, tag="b")
    with pytest.raises(InputError, match="fog@2") as err:
        summarise(table(MODEL), baseline=base)
    assert err.value.field == "baseline"


@pytest.mark.parametrize(
    ("preds", "needle"),
    [
        ([], "no predictions"),
        ([Prediction("a", 0, "clean", 1, RIGHT)], "severity 0"),
        ([Prediction("a", 0, "fog", 0, RIGHT)], "severity >= 1"),
        ([Prediction("a", -1, "fog", 1, RIGHT)], "label"),
        ([Prediction("a", 0, "fog", 1, RIGHT)] * 2, "duplicate"),
    ],
)
def test_bad_predictions_raise_input_error(preds: list[Prediction], needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        summarise(preds)


def test_abstention_blocks_attach_and_validate() -> None:
    preds = table({("clean", 0): 9, ("fog", 1): 6})
    block = {"coverage": 0.9, "set_size": 1.4, "abstention": 0.2, "selective_accuracy": 0.95}
    s = summarise(preds, abstention={("fog", 1): block})
    fog = s.cell("fog", 1).abstention
    assert fog is not None and fog.mean_set_size == 1.4 and fog.abstention_rate == 0.2
    assert s.cell("clean", 0).abstention is None and s.has_abstention
    # the dict of assay.perception.abstain.evaluate passes as is (n, accuracy dropped)
    full = {
        "n": 10, "coverage": 0.9, "min_class_coverage": 0.8, "mean_set_size": 1.5,
        "empty_rate": 0.0, "accuracy": 0.6, "abstention_rate": 0.3, "selective_accuracy": None,
    }  # fmt: skip
    got = summarise(preds, abstention={("fog", 1): full}).cell("fog", 1).abstention
    assert got is not None and got.min_class_coverage == 0.8 and got.selective_accuracy is None
    with pytest.raises(InputError, match="unknown abstention figure"):
        summarise(preds, abstention={("fog", 1): {"cover": 0.9}})
    with pytest.raises(InputError, match=r"in \[0, 1\]"):
        summarise(preds, abstention={("fog", 1): {"coverage": 1.5}})
    with pytest.raises(InputError, match="no predictions for cell"):
        summarise(preds, abstention={("fog", 3): block})


def test_per_class_accuracy() -> None:
    preds = cell_preds("clean", 0, 4, 3) + cell_preds("fog", 1, 4, 1)
    preds += [Prediction("c", 1, "clean", 0, WRONG), Prediction("c", 1, "fog", 1, RIGHT)]
    s = summarise(preds, per_class=True, class_names=["cube", "sphere"])
    zero, one = s.per_class
    assert (zero.name, zero.clean.k, zero.clean.n, zero.corrupted.k) == ("cube", 3, 4, 1)
    assert (one.name, one.clean.k, one.clean.n, one.corrupted.k) == ("sphere", 1, 1, 0)
    assert summarise(preds).per_class == ()


def test_to_dict_is_plain_json(summary: RobustnessSummary) -> None:
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["mce"]["value"] == pytest.approx(0.85)
    assert data["worst_cell"] == ["snow", 2]
    assert data["cells"][1]["accuracy"]["low"] == pytest.approx(0.4902, abs=1e-4)
    assert len(data["baseline_cells"]) == 5
    assert data["corruptions"][0]["ce"] == pytest.approx(0.5)
