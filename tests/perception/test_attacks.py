"""Perception attacks: what they record, how it replays, and what they refuse."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from assay.core.records import AttackStep, Attempt, Case, Message, Spec
from assay.errors import InputError
from assay.perception.attacks import (
    AdversarialAttack,
    CameraAttack,
    LidarAttack,
    PointCloudAttack,
    apply_step,
)
from assay.perception.cases import input_of, suite_of
from assay.perception.data import Samples, save_npz, synthetic


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return list(suite_of(synthetic(1, seed=0, n_points=128)).cases)


def _attempt(case: Case, attack: object, rng_seed: int = 3) -> list[Attempt]:
    out = []
    for m in attack.apply(case, case.messages, random.Random(rng_seed)):  # type: ignore[attr-defined]
        step = AttackStep(attack=attack.spec(), family=attack.spec().name, detail=m.detail)  # type: ignore[attr-defined]
        out.append(Attempt.make(case, Spec(name="t"), (step,), m.messages))
    return out


def test_one_mutation_per_kind_and_severity(cases: list[Case]) -> None:
    attack = PointCloudAttack(variants=["jitter", "cutout"], severity="2-4")
    made = attack.apply(cases[0], cases[0].messages, random.Random(0))
    got = [(m.detail["variant"], m.detail["severity"]) for m in made]
    assert got == [(k, s) for k in ("jitter", "cutout") for s in (2, 3, 4)]
    assert len({m.detail["seed"] for m in made}) == 6


def test_severity_forms_and_errors() -> None:
    assert PointCloudAttack(severity=3)._levels == [3]
    assert PointCloudAttack(severity="1|5")._levels == [1, 5]
    assert PointCloudAttack(severity=[2, 1])._levels == [2, 1]
    with pytest.raises(InputError, match="severity"):
        PointCloudAttack(severity="0-2")
    with pytest.raises(InputError, match="severity"):
        LidarAttack(severity=4)  # LiDAR has three
    with pytest.raises(InputError, match="severity"):
        PointCloudAttack(severity="heavy")


def test_replay_is_deterministic_and_severity_grows(cases: list[Case]) -> None:
    attempts = _attempt(cases[0], PointCloudAttack(variants=["jitter"]))
    clean = input_of(Attempt.make(cases[0], Spec(name="t")))
    moved = []
    for attempt in attempts:
        a, b = input_of(attempt), input_of(attempt)
        assert np.array_equal(a, b) and a.dtype == np.float32
        moved.append(float(np.abs(a - clean).mean()))
    assert moved == sorted(moved) and moved[0] > 0


def test_refuses_chat_prompts() -> None:
    chat = Case(
        id="c", messages=(Message(role="user", content="hi"),), hazard="vcr", expected="refuse"
    )
    with pytest.raises(InputError, match="perception samples only"):
        PointCloudAttack().apply(chat, chat.messages, random.Random(0))


def test_lidar_ring_kinds_on_scanned_objects_and_weather_refused(cases: list[Case]) -> None:
    attempts = _attempt(cases[0], LidarAttack(variants=["beam_missing"], severity=3))
    clean = input_of(Attempt.make(cases[0], Spec(name="t")))
    assert input_of(attempts[0]).shape[0] < clean.shape[0]
    with pytest.raises(InputError, match="intensity"):
        LidarAttack(variants=["fog"]).apply(cases[0], cases[0].messages, random.Random(0))


def test_camera_attack_on_an_image_set(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = Samples(
        x=rng.integers(0, 255, size=(4, 24, 32, 3), dtype=np.uint8),
        labels=np.array([0, 1, 0, 1]),
        classes=("a", "b"),
    )
    source = save_npz(images, tmp_path / "img.npz")
    loaded = Samples(images.x, images.labels, images.classes, source=source)
    case = suite_of(loaded).cases[0]
    (attempt,) = _attempt(case, CameraAttack(variants=["gaussian_noise"], severity=5))
    out = input_of(attempt)
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - images.x[0].astype(int)).mean() > 5


def test_adversarial_steps_are_left_to_the_target(cases: list[Case]) -> None:
    attempts = _attempt(cases[0], AdversarialAttack(variants=["pgd"], severity=1))
    detail = attempts[0].attacks[0].detail
    assert detail["adversarial"] == "pgd" and detail["budget"] == 0.01
    clean = input_of(Attempt.make(cases[0], Spec(name="t")))
    assert np.array_equal(input_of(attempts[0]), clean)
    with pytest.raises(InputError, match="replay"):
        apply_step(clean, None, detail)
    with pytest.raises(InputError, match="norm"):
        AdversarialAttack(norm="l1")
