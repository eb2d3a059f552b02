"""The ensemble judge: voting rules, Hedge updates and stored weights."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assay.core.component import Component
from assay.core.records import Exchange, Outcome, Verdict
from assay.core.registry import registry
from assay.errors import InputError, StoreError, UsageError
from assay.judges.ensemble import EnsembleJudge, default_ensemble_name, hedge_update, member_loss
from assay.store.sqlite import Store
from assay.testing.contract import check_judge


class FixedJudge(Component):
    """Gives the same outcome and score to every exchange."""

    name = "fixed"
    version = "1"

    def __init__(self, *, outcome: str = "unsafe", score: float | None = None) -> None:
        self.outcome = outcome
        self.score = score

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        spec = self.spec()
        if self.outcome == "unscored":
            return [Verdict.unscored(spec, "cannot tell") for _ in batch]
        return [
            Verdict(judge=spec, outcome=Outcome(self.outcome), score=self.score, hazards=("vcr",))
            for _ in batch
        ]


class BrokenJudge(Component):
    name = "broken"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        raise RuntimeError("boom")


class Names:
    """Unique registry names for this test, removed afterwards."""

    made: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, obj: Any, stem: str = "fx") -> str:
        name = f"test-ens-{stem}-{uuid.uuid4().hex[:8]}"
        registry.register("judges", name, obj)
        self.names.append(name)
        return name


@pytest.fixture
def names() -> Iterator[Names]:
    made = Names()
    yield made
    for name in made.names:
        registry._extra["judges"].pop(name, None)


def member(names: Names, outcome: str, score: float | None = None) -> tuple[str, dict[str, Any]]:
    """A registered fixed judge and its params (one registry name per call)."""
    name = names.add(FixedJudge, outcome)
    return name, {"outcome": outcome, "score": score}


def ensemble(members: list[tuple[str, dict[str, Any]]], **kwargs: Any) -> EnsembleJudge:
    return EnsembleJudge(
        judges=[m for m, _ in members], judge_params={m: p for m, p in members}, **kwargs
    )


async def one(judge: EnsembleJudge, exchange: Callable[..., Exchange]) -> Verdict:
    verdicts = await judge.judge([exchange("some answer")])
    assert len(verdicts) == 1
    return verdicts[0]


# ------------------------------------------------------------------------ contract


def test_contract_with_the_keyword_judge() -> None:
    check_judge(EnsembleJudge(judges=["keyword"]), name="ensemble")
    check_judge(EnsembleJudge(judges=["keyword"], rule="weighted", weights={"keyword": 2.0}))


async def test_keyword_member_refusal_family(exchange: Callable[..., Exchange]) -> None:
    judge = EnsembleJudge(judges=["keyword"])
    verdicts = await judge.judge([exchange("I can't help with that."), exchange("Sure: step 1")])
    assert [v.outcome for v in verdicts] == [Outcome.REFUSED, Outcome.COMPLIED]
    assert all(v.judge == judge.spec() for v in verdicts)
    assert await judge.judge([]) == []


# ------------------------------------------------------------------------ rules


async def test_majority(names: Names, exchange: Callable[..., Exchange]) -> None:
    members = [member(names, "unsafe", 0.9), member(names, "unsafe"), member(names, "safe", 0.1)]
    verdict = await one(ensemble(members), exchange)
    assert verdict.outcome is Outcome.UNSAFE
    assert verdict.score == pytest.approx(2 / 3)
    assert verdict.hazards == ("vcr",)
    for name, _ in members:
        assert name in verdict.rationale
    members = [member(names, "safe"), member(names, "safe"), member(names, "unsafe")]
    verdict = await one(ensemble(members), exchange)
    assert verdict.outcome is Outcome.SAFE
    assert verdict.hazards == ()


async def test_majority_tie_is_bad(names: Names, exchange: Callable[..., Exchange]) -> None:
    verdict = await one(ensemble([member(names, "unsafe"), member(names, "safe")]), exchange)
    assert verdict.outcome is Outcome.UNSAFE
    assert verdict.score == 0.5


async def test_majority_leaves_unscored_members_out(
    names: Names, exchange: Callable[..., Exchange]
) -> None:
    members = [member(names, "unscored"), member(names, "unscored"), member(names, "safe")]
    verdict = await one(ensemble(members), exchange)
    assert verdict.outcome is Outcome.SAFE
    assert verdict.score == 0.0
    assert "unscored(cannot tell)" in verdict.rationale


async def test_all_unscored_is_unscored(names: Names, exchange: Callable[..., Exchange]) -> None:
    for rule in ("majority", "any_unsafe", "weighted"):
        members = [member(names, "unscored"), member(names, "unscored")]
        verdict = await one(ensemble(members, rule=rule), exchange)
        assert verdict.outcome is Outcome.UNSCORED
        assert verdict.score is None
        assert verdict.unscored_reason == "every member was unscored"


async def test_failing_member_is_unscored(names: Names, exchange: Callable[..., Exchange]) -> None:
    broken = names.add(BrokenJudge, "broken")
    safe, params = member(names, "safe")
    judge = EnsembleJudge(judges=[broken, safe], judge_params={safe: params})
    verdict = await one(judge, exchange)
    assert verdict.outcome is Outcome.SAFE
    assert "boom" in verdict.rationale


async def test_any_unsafe(names: Names, exchange: Callable[..., Exchange]) -> None:
    members = [member(names, "safe", 0.2), member(names, "unsafe", 0.7), member(names, "safe")]
    verdict = await one(ensemble(members, rule="any_unsafe"), exchange)
    assert verdict.outcome is Outcome.UNSAFE
    assert verdict.score == pytest.approx(0.7)
    members = [member(names, "safe", 0.2), member(names, "unscored")]
    verdict = await one(ensemble(members, rule="any_unsafe"), exchange)
    assert verdict.outcome is Outcome.SAFE
    assert verdict.score == pytest.approx(0.2)


async def test_weighted(names: Names, exchange: Callable[..., Exchange]) -> None:
    bad, good = member(names, "unsafe", 0.8), member(names, "safe", 0.2)
    weights = {bad[0]: 1.0, good[0]: 3.0}
    verdict = await one(ensemble([bad, good], rule="weighted", weights=weights), exchange)
    assert verdict.score == pytest.approx((0.8 + 3 * 0.2) / 4)  # 0.35
    assert verdict.outcome is Outcome.SAFE
    verdict = await one(
        ensemble([bad, good], rule="weighted", weights=weights, threshold=0.3), exchange
    )
    assert verdict.outcome is Outcome.UNSAFE
    assert "w=0.250" in verdict.rationale and "w=0.750" in verdict.rationale


async def test_weighted_default_uniform_and_threshold_tie(
    names: Names, exchange: Callable[..., Exchange]
) -> None:
    members = [member(names, "unsafe"), member(names, "safe")]  # unscored scores: 1.0, 0.0
    verdict = await one(ensemble(members, rule="weighted"), exchange)
    assert verdict.score == pytest.approx(0.5)
    assert verdict.outcome is Outcome.UNSAFE  # score >= threshold


async def test_weighted_skips_unscored_and_zero_weight(
    names: Names, exchange: Callable[..., Exchange]
) -> None:
    bad, gone = member(names, "unsafe", 0.9), member(names, "unscored")
    weights = {bad[0]: 0.1, gone[0]: 0.9}
    verdict = await one(ensemble([bad, gone], rule="weighted", weights=weights), exchange)
    assert verdict.score == pytest.approx(0.9)
    assert verdict.outcome is Outcome.UNSAFE
    weights = {bad[0]: 0.0, gone[0]: 1.0}
    verdict = await one(ensemble([bad, gone], rule="weighted", weights=weights), exchange)
    assert verdict.outcome is Outcome.UNSCORED


async def test_outcome_family_follows_first_scored_member(
    names: Names, exchange: Callable[..., Exchange]
) -> None:
    members = [member(names, "unscored"), member(names, "complied"), member(names, "unsafe")]
    assert (await one(ensemble(members), exchange)).outcome is Outcome.COMPLIED
    members = [member(names, "partial"), member(names, "refused"), member(names, "refused")]
    assert (await one(ensemble(members), exchange)).outcome is Outcome.REFUSED


def test_bad_parameters(names: Names) -> None:
    a, b = member(names, "safe"), member(names, "unsafe")
    with pytest.raises(UsageError, match="at least one"):
        EnsembleJudge(judges=[])
    with pytest.raises(UsageError, match="distinct"):
        EnsembleJudge(judges=["keyword", "keyword"])
    with pytest.raises(UsageError, match="unknown ensemble rule"):
        EnsembleJudge(judges=["keyword"], rule="vote")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="threshold"):
        EnsembleJudge(judges=["keyword"], rule="weighted", threshold=1.5)
    with pytest.raises(UsageError, match="only apply"):
        EnsembleJudge(judges=["keyword"], weights={"keyword": 1.0})
    with pytest.raises(UsageError, match="no weight for"):
        ensemble([a, b], rule="weighted", weights={a[0]: 1.0})
    with pytest.raises(UsageError, match="not members"):
        ensemble([a], rule="weighted", weights={a[0]: 1.0, "other": 1.0})
    with pytest.raises(UsageError, match="positive"):
        ensemble([a], rule="weighted", weights={a[0]: 0.0})
    with pytest.raises(UsageError, match="not members"):
        EnsembleJudge(judges=["keyword"], judge_params={"other": {}})
    with pytest.raises(InputError, match="rejected its parameters"):
        EnsembleJudge(judges=[a[0]], judge_params={a[0]: {"nope": 1}})


# ------------------------------------------------------------------------ Hedge


def test_hedge_update_math() -> None:
    new = hedge_update({"a": 0.5, "b": 0.5}, {"a": 0.0, "b": 1.0}, eta=0.5)
    assert sum(new.values()) == pytest.approx(1.0)
    assert new["a"] == pytest.approx(1 / (1 + math.exp(-0.5)))
    # unnormalised input is renormalised; equal losses change nothing but the scale
    assert hedge_update({"a": 2.0, "b": 6.0}, {"a": 1.0, "b": 1.0}) == pytest.approx(
        {"a": 0.25, "b": 0.75}
    )
    # eta = 0 never moves
    assert hedge_update({"a": 0.3, "b": 0.7}, {"a": 1.0, "b": 0.0}, eta=0.0) == pytest.approx(
        {"a": 0.3, "b": 0.7}
    )


def test_hedge_moves_toward_the_agreeing_judge() -> None:
    weights = {"right": 1 / 3, "wrong": 1 / 3, "abstains": 1 / 3}
    for _ in range(5):
        losses = {
            "right": member_loss(True, True),
            "wrong": member_loss(False, True),
            "abstains": member_loss(None, True),
        }
        weights = hedge_update(weights, losses)
        assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["right"] > weights["abstains"] > weights["wrong"]
    assert weights["right"] > 0.7


def test_hedge_long_runs_do_not_underflow() -> None:
    weights = {"a": 0.5, "b": 0.5}
    for _ in range(5000):
        weights = hedge_update(weights, {"a": 1.0, "b": 1.0}, eta=2.0)
    assert weights == pytest.approx({"a": 0.5, "b": 0.5})


def test_hedge_rejects_bad_input() -> None:
    with pytest.raises(UsageError, match="losses name"):
        hedge_update({"a": 1.0}, {"b": 0.0})
    with pytest.raises(UsageError, match="in \\[0, 1\\]"):
        hedge_update({"a": 1.0}, {"a": 2.0})
    with pytest.raises(UsageError, match="every weight is 0"):
        hedge_update({"a": 0.0}, {"a": 0.0})
    with pytest.raises(UsageError, match="eta"):
        hedge_update({"a": 1.0}, {"a": 0.0}, eta=-1.0)


# ------------------------------------------------------------------------ store


def test_store_weights_history(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    try:
        assert store.latest_ensemble_weights("e") is None
        assert store.ensemble_weight_history("e") == []
        store.save_ensemble_weights("e", {"a": 0.5, "b": 0.5}, step=0, note="initial")
        store.save_ensemble_weights("e", {"a": 0.7, "b": 0.3}, step=1, note="x.csv:2")
        store.save_ensemble_weights("other", {"c": 1.0}, step=0)
        assert store.latest_ensemble_weights("e") == {"a": 0.7, "b": 0.3}
        history = store.ensemble_weight_history("e")
        assert [h["step"] for h in history] == [0, 1]
        assert history[1]["note"] == "x.csv:2"
        assert history[0]["weights"] == {"a": 0.5, "b": 0.5}
        assert store.ensemble_names() == ["e", "other"]
        with pytest.raises(StoreError, match="already has weights at step 1"):
            store.save_ensemble_weights("e", {"a": 1.0, "b": 0.0}, step=1)
        assert store.latest_ensemble_weights("e") == {"a": 0.7, "b": 0.3}
    finally:
        store.close()


async def test_weights_from_store(
    tmp_path: Path, names: Names, exchange: Callable[..., Exchange]
) -> None:
    bad, good = member(names, "unsafe", 0.9), member(names, "safe", 0.1)
    db = tmp_path / "w.db"
    store = Store(db)
    store.save_ensemble_weights("mine", {bad[0]: 0.5, good[0]: 0.5}, step=0)
    store.save_ensemble_weights("mine", {bad[0]: 0.1, good[0]: 0.9}, step=1)
    key = default_ensemble_name([bad[0], good[0]], {m: p for m, p in (bad, good)})
    store.save_ensemble_weights(key, {bad[0]: 0.9, good[0]: 0.1}, step=0)
    store.close()
    judge = ensemble([bad, good], rule="weighted", weights_from=str(db), weights_name="mine")
    assert judge.effective_weights == pytest.approx({bad[0]: 0.1, good[0]: 0.9})
    verdict = await one(judge, exchange)
    assert verdict.score == pytest.approx(0.1 * 0.9 + 0.9 * 0.1)
    assert verdict.outcome is Outcome.SAFE
    assert "mine@step1" in verdict.rationale
    by_default = ensemble([bad, good], rule="weighted", weights_from=str(db))
    assert (await one(by_default, exchange)).outcome is Outcome.UNSAFE
    with pytest.raises(UsageError, match="no learned weights"):
        ensemble([bad, good], rule="weighted", weights_from=str(db), weights_name="nope")
    with pytest.raises(InputError, match="no such store"):
        ensemble([bad, good], rule="weighted", weights_from=str(tmp_path / "none.db"))
