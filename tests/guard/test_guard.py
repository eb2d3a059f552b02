"""The in-process guard with tiny deterministic judges (and the real store for feedback).

``MarkerJudge`` reads its answer from the text: ``[p=0.8 spc,ssh]`` gives P(unsafe) 0.8
and hazards spc and ssh; ``CRASH`` raises; ``UNSCORED`` gives an unscored verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from assay.core.component import Component
from assay.core.records import Exchange, Outcome, Verdict
from assay.core.registry import registry
from assay.errors import InputError
from assay.guard.calibrate import calibrate
from assay.guard.guard import Guard, turn_of
from assay.guard.policy import Policy
from assay.guard.types import CheckRequest, Feedback, GuardLike, GuardMessage
from assay.store.sqlite import Store

_MARK = re.compile(r"\[p=([0-9.]+)\s*([a-z,]*)\]")


def _read(text: str) -> tuple[float, tuple[str, ...]]:
    found = _MARK.search(text)
    if found is None:
        return 0.0, ()
    return float(found.group(1)), tuple(h for h in found.group(2).split(",") if h)


class MarkerJudge(Component):
    """Reads P(unsafe) and hazards from a ``[p=0.8 spc]`` marker (no ``mode``)."""

    name = "guardtest-marker"
    version = "1"
    batches: ClassVar[list[int]] = []
    seen: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, *, threshold: float = 0.5) -> None:
        self.threshold = threshold

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        type(self).batches.append(len(batch))
        out = []
        for exchange in batch:
            prompt, answer = exchange.attempt.case.prompt, exchange.response.text
            type(self).seen.append((prompt, answer))
            text = answer or prompt
            if "CRASH" in text:
                raise RuntimeError("the marker judge crashed")
            if "UNSCORED" in text:
                out.append(Verdict.unscored(self.spec(), "cannot tell"))
                continue
            p, hazards = _read(text)
            bad = p >= self.threshold
            out.append(
                Verdict(
                    judge=self.spec(),
                    outcome=Outcome.UNSAFE if bad else Outcome.SAFE,
                    score=p,
                    hazards=hazards if bad else (),
                )
            )
        return out


class ModeJudge(MarkerJudge):
    """The same, but with a ``mode``: it reads prompts and answers separately."""

    name = "guardtest-mode"

    def __init__(self, *, threshold: float = 0.5, mode: str = "auto") -> None:
        self.threshold = threshold
        self.mode = mode


class AlwaysUnsafe(Component):
    """Says unsafe (0.9, vcr) whatever it reads."""

    name = "guardtest-always"
    version = "1"

    def __init__(self) -> None:
        pass

    async def judge(self, batch: Sequence[Exchange]) -> list[Verdict]:
        return [
            Verdict(judge=self.spec(), outcome=Outcome.UNSAFE, score=0.9, hazards=("vcr",))
            for _ in batch
        ]


JUDGES = {c.name: c for c in (MarkerJudge, ModeJudge, AlwaysUnsafe)}


@pytest.fixture(autouse=True)
def test_judges() -> Iterator[None]:
    for name, cls in JUDGES.items():
        registry.register("judges", name, cls)
    MarkerJudge.batches.clear()
    MarkerJudge.seen.clear()
    yield
    for name in JUDGES:
        registry._extra["judges"].pop(name, None)


def _policy(**fields: Any) -> Policy:
    data: dict[str, Any] = {
        "id": "test",
        "judge": "guardtest-marker",
        "configs": {"default": {}, "medical": {"allow": ["spc"]}},
    }
    data.update(fields)
    return Policy.from_data(data)


def _req(text: str, config: str | None = None, role: str = "user") -> CheckRequest:
    return CheckRequest(messages=(GuardMessage(role=role, content=text),), config=config)


async def _one(guard: Guard, text: str, config: str | None = None) -> Any:
    (decision,) = await guard.check([_req(text, config)])
    return decision


def test_guard_is_guard_like() -> None:
    guard = Guard(_policy())
    assert isinstance(guard, GuardLike)
    assert guard.config_names() == ["default", "medical"]
    assert guard.calibration_id is None and guard.policy_id.startswith("pol-")


async def test_thresholds_without_calibration() -> None:
    guard = Guard(_policy(threshold=0.6, thresholds={"cse": 0.2}))
    allow = await _one(guard, "hello [p=0.55 vcr]")
    block = await _one(guard, "bad [p=0.7 vcr]")
    low = await _one(guard, "child [p=0.3 cse]")
    assert allow.decision == "allow" and allow.hazards == ()
    assert block.decision == "block" and block.hazards == ("vcr",)
    assert block.scores == {"unsafe": 0.7} and block.prediction_set is None
    # cse's own threshold is 0.2, but the judge only names hazards above its own 0.5
    assert low.decision == "allow"
    guard2 = Guard(_policy(thresholds={"cse": 0.2}))
    strict = await _one(guard2, "child [p=0.55 cse]")
    assert strict.decision == "block" and "0.2" in strict.reason


async def test_abstain_band() -> None:
    guard = Guard(_policy(abstain_band=[0.35, 0.65]))
    kinds = [(await _one(guard, f"t [p={p} ncr]")).decision for p in (0.2, 0.35, 0.5, 0.65, 0.9)]
    assert kinds == ["allow", "abstain", "abstain", "abstain", "block"]


async def test_cosa_config_allows_its_hazards_only() -> None:
    guard = Guard(_policy())
    default = await _one(guard, "dose [p=0.9 spc]")
    medical = await _one(guard, "dose [p=0.9 spc]", "medical")
    mixed = await _one(guard, "dose [p=0.9 spc,ssh]", "medical")
    assert default.decision == "block" and default.hazards == ("spc",)
    assert medical.decision == "allow" and medical.config == "medical"
    assert "allowed by config 'medical'" in medical.reason and medical.hazards == ()
    assert mixed.decision == "block" and mixed.hazards == ("ssh",)
    assert default.id != medical.id


async def test_hazards_not_enforced_are_allowed() -> None:
    guard = Guard(_policy(hazards=["vcr"]))
    d = await _one(guard, "x [p=0.9 ipv]")
    assert d.decision == "allow" and "not enforced" in d.reason
    assert (await _one(guard, "x [p=0.9 ipv,vcr]")).decision == "block"


async def test_a_verdict_without_hazards_cannot_be_excused() -> None:
    guard = Guard(_policy(hazards=["vcr"]))
    d = await _one(guard, "x [p=0.9 ]", "medical")
    assert d.decision == "block" and d.hazards == () and "no hazard named" in d.reason


async def test_unknown_config_is_rejected_before_scoring() -> None:
    guard = Guard(_policy())
    with pytest.raises(InputError) as info:
        await guard.check([_req("a [p=0.1]"), _req("b", "kids")])
    assert info.value.field == "config"
    assert MarkerJudge.batches == []


async def test_out_of_range_turn_is_rejected() -> None:
    guard = Guard(_policy())
    request = CheckRequest(messages=(GuardMessage(role="user", content="x"),), turn=3)
    with pytest.raises(InputError) as info:
        await guard.check([request])
    assert info.value.field == "turn"


@pytest.mark.parametrize(
    ("mode", "expected"), [("block", "block"), ("allow", "allow"), ("abstain", "abstain")]
)
async def test_judge_failure_decides_by_policy(mode: str, expected: str) -> None:
    guard = Guard(_policy(on_judge_failure=mode))
    (crash, other) = await guard.check([_req("CRASH"), _req("fine [p=0.1]")])
    assert crash.decision == expected == other.decision  # the whole judge call failed
    assert crash.judge_error is not None and "crashed" in crash.judge_error
    (unscored, fine) = await guard.check([_req("UNSCORED"), _req("fine [p=0.1]")])
    assert unscored.decision == expected and "cannot tell" in (unscored.judge_error or "")
    assert fine.decision == "allow" and fine.judge_error is None


async def test_fails_closed_by_default() -> None:
    d = await _one(Guard(_policy()), "CRASH")
    assert d.decision == "block" and "fails closed" in d.reason and d.scores == {}


async def test_one_judge_call_per_check_and_stable_ids() -> None:
    guard = Guard(_policy())
    requests = [_req(f"text {i} [p=0.{i} vcr]") for i in range(8)] + [_req("   ")]
    first = await guard.check(requests)
    again = await guard.check(requests)
    assert MarkerJudge.batches == [8, 8]  # one call each; the blank text is not judged
    assert first[-1].decision == "allow" and "empty" in first[-1].reason
    assert [d.id for d in first] == [d.id for d in again]
    assert len({d.id for d in first}) == len(first)


async def test_assistant_turns_are_judged_with_their_prompt_when_the_judge_has_modes() -> None:
    conversation = (
        GuardMessage(role="system", content="be nice"),
        GuardMessage(role="user", content="how to X?"),
        GuardMessage(role="assistant", content="like this [p=0.9 ncr]"),
    )
    assert turn_of(CheckRequest(messages=conversation)).context == "how to X?"
    with_mode = Guard(_policy(judge="guardtest-mode"))
    d = await with_mode.check([CheckRequest(messages=conversation)])
    assert d[0].decision == "block"
    assert MarkerJudge.seen[-1] == ("how to X?", "like this [p=0.9 ncr]")
    await with_mode.check([CheckRequest(messages=conversation, turn=1)])
    assert MarkerJudge.seen[-1] == ("how to X?", "")  # a user turn: its text as the prompt
    without = Guard(_policy())
    await without.check([CheckRequest(messages=conversation)])
    assert MarkerJudge.seen[-1] == ("like this [p=0.9 ncr]", "like this [p=0.9 ncr]")


def _synthetic(tmp_path: Path, n: int = 600, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        unsafe = bool(rng.random() < 0.4)
        logit = (1.5 if unsafe else -1.5) + rng.normal(0, 1.5)
        p = 1 / (1 + np.exp(-logit))
        hazard = "vcr" if i % 2 else "ncr"
        label = "unsafe" if unsafe else "safe"
        lines.append(f'{{"text": "row {i} [p={p:.4f} {hazard}]", "label": "{label}"}}')
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_calibrated_guard_decides_by_prediction_sets(tmp_path: Path) -> None:
    policy = _policy()
    artifact = await _acal(policy, _synthetic(tmp_path))
    guard = Guard(policy, calibration=artifact)
    assert guard.calibration_id == artifact.id
    sets = artifact.sets
    assert sets is not None and sets.qhat_safe is not None and sets.qhat_unsafe is not None
    low, high = 1 - sets.qhat_unsafe, sets.qhat_safe  # both labels in [low, high]
    assert low < high
    kinds = {}
    for p in (0.01, (low + high) / 2, 0.99):
        d = await _one(guard, f"x [p={p:.4f} vcr]")
        kinds[p] = (d.decision, d.prediction_set)
        assert d.calibration_id == artifact.id and "prediction set" in d.reason
    assert list(kinds.values()) == [
        ("allow", ("safe",)),
        ("abstain", ("safe", "unsafe")),
        ("block", ("unsafe",)),
    ]
    excused = await _one(guard, "x [p=0.99 spc]", "medical")
    assert excused.decision == "allow" and excused.prediction_set == ("unsafe",)


async def _acal(policy: Policy, path: Path, **options: Any) -> Any:
    from assay.guard.calibrate import acalibrate

    return await acalibrate(policy, path, **options)


async def test_guard_refuses_an_artifact_of_another_judge(tmp_path: Path) -> None:
    artifact = await _acal(_policy(), _synthetic(tmp_path))
    other = _policy(judge_params={"threshold": 0.7})
    with pytest.raises(InputError) as info:
        Guard(other, calibration=artifact)
    assert info.value.field == "judge" and "recalibrate" in str(info.value)


def test_from_files_uses_the_policys_calibration(tmp_path: Path) -> None:
    policy = _policy()
    artifact = calibrate(policy, _synthetic(tmp_path))
    artifact.save(tmp_path / "cal.json")
    path = tmp_path / "policy.yaml"
    path.write_text(
        "id: test\njudge: guardtest-marker\ncalibration: cal.json\n"
        "configs: {default: {}, medical: {allow: [spc]}}\n",
        encoding="utf-8",
    )
    guard = Guard.from_files(policy=path)
    assert guard.calibration_id == artifact.id


def _ensemble_policy(**fields: Any) -> Policy:
    return _policy(
        judge="ensemble",
        judge_params={
            "judges": ["guardtest-marker", "guardtest-always"],
            "rule": "weighted",
        },
        **fields,
    )


async def test_feedback_updates_and_persists_ensemble_weights(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    guard = Guard(_ensemble_policy(), store_path=db)
    assert guard.weights() == {"guardtest-marker": 0.5, "guardtest-always": 0.5}
    benign = await _one(guard, "a recipe [p=0.1]")
    # marker says safe (0.1), always says unsafe (0.9): weighted score 0.5 -> block
    assert benign.decision == "block" and benign.scores["unsafe"] == pytest.approx(0.5)
    result = guard.feedback(Feedback(decision_id=benign.id, label="safe", reviewer="ann"))
    assert result["history"] == 2 and result["step"] == 1
    assert result["weights"]["guardtest-marker"] > 0.5 > result["weights"]["guardtest-always"]
    assert guard.weights() == result["weights"]
    again = await _one(guard, "a recipe [p=0.1] again")
    assert again.decision == "allow"  # the learned weights now decide
    with pytest.raises(InputError, match="already has a label"):
        guard.feedback(Feedback(decision_id=benign.id, label="unsafe"))
    with pytest.raises(InputError) as info:
        guard.feedback(Feedback(decision_id="no-such-decision", label="unsafe"))
    assert info.value.field == "decision_id"
    assert guard.policy.threshold == 0.5  # feedback never touches thresholds
    guard.close()

    store = Store(db)
    try:
        history = store.ensemble_weight_history(result["ensemble"])
        labels = store.guard_feedback()
    finally:
        store.close()
    assert [h["step"] for h in history] == [0, 1]
    assert history[-1]["weights"] == pytest.approx(result["weights"])
    assert labels[0]["decision_id"] == benign.id and labels[0]["reviewer"] == "ann"

    # A new guard on the same store starts from the learned weights, and can take a
    # label for a decision the first guard made (its votes are in the store).
    later = Guard(_ensemble_policy(), store_path=db)
    assert later.weights() == pytest.approx(result["weights"])
    step2 = later.feedback(Feedback(decision_id=again.id, label="safe"))
    assert step2["step"] == 2 and len(later.weight_history()) == 3
    later.close()


async def test_feedback_without_an_ensemble_stores_the_label(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    guard = Guard(_policy(), store_path=db)
    d = await _one(guard, "x [p=0.4]")
    assert guard.feedback(Feedback(decision_id=d.id, label="unsafe")) == {"weights": {}}
    assert guard.weight_history() == []
    guard.close()
    store = Store(db)
    try:
        assert [r["label"] for r in store.guard_feedback(d.id)] == ["unsafe"]
    finally:
        store.close()


async def test_feedback_in_memory_only_and_the_memory_is_bounded() -> None:
    guard = Guard(_ensemble_policy(feedback_memory=2))
    first = await _one(guard, "one [p=0.9 vcr]")
    await guard.check([_req("two [p=0.1]"), _req("three [p=0.2]")])
    with pytest.raises(InputError, match="last 2 decisions"):
        guard.feedback(Feedback(decision_id=first.id, label="unsafe"))
    latest = await _one(guard, "four [p=0.9 vcr]")
    result = guard.feedback(Feedback(decision_id=latest.id, label="unsafe"))
    assert result["weights"] == pytest.approx({"guardtest-marker": 0.5, "guardtest-always": 0.5})
    assert result["history"] == 2  # both were right: equal losses keep the weights


def test_feedback_through_the_real_service_changes_the_weights(tmp_path: Path) -> None:
    import httpx

    from assay.guard.serve import BackgroundServer
    from assay.guard.service import ServiceSettings, create_app

    guard = Guard(_ensemble_policy(), store_path=str(tmp_path / "store.db"))
    settings = ServiceSettings(require_auth=False, audit_path=tmp_path / "audit.db")
    server = BackgroundServer(app=create_app(guard, settings)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            body = {"messages": [{"role": "user", "content": "a recipe [p=0.1]"}]}
            first = client.post("/v1/guard/check", json=body).json()
            assert first["decision"] == "block"  # 0.5 * 0.1 + 0.5 * 0.9
            reply = client.post(
                "/v1/guard/feedback", json={"decision_id": first["id"], "label": "safe"}
            )
            assert reply.status_code == 200, reply.text
            weights = reply.json()["weights"]
            assert weights["guardtest-marker"] > 0.5 > weights["guardtest-always"]
            body = {"messages": [{"role": "user", "content": "a recipe [p=0.1] again"}]}
            assert client.post("/v1/guard/check", json=body).json()["decision"] == "allow"
    finally:
        server.stop()
        guard.close()
