"""Training the PointNet: learns, is deterministic, and each augmentation mode runs."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.model import Classifier
from assay.perception.saliency import point_saliency
from assay.perception.synthetic import CLASSES, make_dataset
from assay.perception.train import Augment, evaluate, fixed_size, train

torch = pytest.importorskip("torch")


TINY = {"arch": {"widths": [32, 64], "head": [32], "dropout": 0.1}}
N_POINTS = 128


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y, _ = make_dataset(12, 3, n_points=N_POINTS)
    xt, yt, _ = make_dataset(6, 4, n_points=N_POINTS)
    return x, y, xt, yt


@pytest.fixture(scope="module")
def tiny(data: tuple[np.ndarray, ...]) -> Classifier:
    x, y, _, _ = data
    clf, _ = train(x, y, classes=CLASSES, epochs=15, seed=0, batch_size=16, lr=3e-3, options=TINY)
    return clf


def test_tiny_model_beats_chance(tiny: Classifier, data: tuple[np.ndarray, ...]) -> None:
    _, _, xt, yt = data
    accuracy = evaluate(tiny, xt, yt)
    assert accuracy > 0.6, accuracy  # chance is 0.1


def test_same_seed_same_weights_other_seed_differs(data: tuple[np.ndarray, ...]) -> None:
    x, y, xt, _ = data
    x, y = x[::3], y[::3]
    runs = [
        train(x, y, classes=CLASSES, epochs=2, seed=s, batch_size=8, options=TINY)[0]
        for s in (5, 5, 6)
    ]
    np.testing.assert_array_equal(runs[0].logits(xt), runs[1].logits(xt))
    assert not np.allclose(runs[0].logits(xt), runs[2].logits(xt))
    torch.manual_seed(123)  # the caller's global torch RNG is left alone
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(x, y, classes=CLASSES, epochs=1, seed=5, batch_size=8, options=TINY)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("augment", ["corrupt", "saliency"])
def test_augmented_training_runs_and_learns(
    augment: Augment, tiny: Classifier, data: tuple[np.ndarray, ...]
) -> None:
    x, y, xt, yt = data
    history: list[dict[str, object]] = []
    clf, rows = train(
        x,
        y,
        classes=CLASSES,
        epochs=10,
        seed=1,
        batch_size=16,
        lr=3e-3,
        augment=augment,
        teacher=tiny,
        progress=history.append,
        options=TINY,
    )
    assert rows == history and len(rows) == 10
    accuracy = evaluate(clf, xt, yt)
    assert accuracy > 0.4, accuracy
    if augment == "saliency":
        assert [r["severity"] for r in rows] == pytest.approx([(e + 1) / 10 for e in range(10)])


def test_saliency_drop_hurts_more_than_random_drop(
    tiny: Classifier, data: tuple[np.ndarray, ...]
) -> None:
    _, _, xt, yt = data
    scores = point_saliency(tiny, xt, yt)
    assert scores.shape == xt.shape[:2] and np.all(np.isfinite(scores))
    k = N_POINTS // 2
    salient_keep = np.argsort(-scores, axis=1)[:, k:]
    random_keep = np.argsort(np.random.default_rng(0).random(scores.shape), axis=1)[:, k:]

    def loss(keep: np.ndarray) -> float:
        clouds = np.take_along_axis(xt, keep[:, :, None], axis=1)
        logits = tiny.logits(clouds)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(yt)), yt].mean())

    assert loss(salient_keep) > loss(random_keep) + 0.1


def test_fixed_size_and_bad_input() -> None:
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(10, 3))
    assert fixed_size(cloud, 4, rng).shape == (4, 3)
    grown = fixed_size(cloud, 25, rng)
    assert grown.shape == (25, 3)
    assert {tuple(r) for r in grown.tolist()} == {tuple(r) for r in cloud.tolist()}
    x = rng.normal(size=(4, 16, 3))
    with pytest.raises(InputError, match="teacher"):
        train(x, np.arange(4), classes=CLASSES, epochs=1, augment="saliency")
    with pytest.raises(InputError, match="labels"):
        train(x, np.array([0, 1, 2, 99]), classes=CLASSES, epochs=1)
    with pytest.raises(InputError, match="epochs"):
        train(x, np.arange(4), classes=CLASSES, epochs=0)
