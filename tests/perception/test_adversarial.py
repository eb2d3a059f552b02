"""White-box attacks: budgets hold, the loss rises, accuracy falls, saliency drop beats random."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.adversarial import Norm, fgsm, loss_per_cloud, pgd, saliency_drop
from assay.perception.model import Classifier
from assay.perception.synthetic import CLASSES, make_dataset
from assay.perception.train import evaluate, train

torch = pytest.importorskip("torch")


TINY = {"arch": {"widths": [32, 64], "head": [32], "dropout": 0.1}}
N_POINTS = 128


@pytest.fixture(scope="module")
def setup() -> tuple[Classifier, np.ndarray, np.ndarray]:
    x, y, _ = make_dataset(12, 5, n_points=N_POINTS)
    xt, yt, _ = make_dataset(5, 6, n_points=N_POINTS)
    clf, _ = train(x, y, classes=CLASSES, epochs=15, seed=0, batch_size=16, lr=3e-3, options=TINY)
    return clf, xt, yt


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_fgsm_within_budget_and_raises_loss(
    norm: Norm, setup: tuple[Classifier, np.ndarray, np.ndarray]
) -> None:
    clf, x, y = setup
    eps = 0.02 if norm == "linf" else 0.5
    adv = fgsm(clf, x, y, eps=eps, norm=norm)
    assert adv.shape == x.shape and adv.dtype == np.float32
    delta = (adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps * (1 + 1e-4) + 1e-6)
    assert np.all(size >= eps * 0.5)  # it actually used the budget
    assert loss_per_cloud(clf, adv, y).mean() > loss_per_cloud(clf, x, y).mean() + 0.05


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_within_budget_raises_loss_and_lowers_accuracy(
    norm: Norm, setup: tuple[Classifier, np.ndarray, np.ndarray]
) -> None:
    clf, x, y = setup
    eps = 0.05 if norm == "linf" else 1.0
    rng = np.random.default_rng(0)
    adv = pgd(clf, x, y, eps=eps, steps=10, norm=norm, rng=rng)
    delta = (adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(axis=1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert np.all(size <= eps * (1 + 1e-4) + 1e-6)
    clean_acc = evaluate(clf, x, y)
    adv_acc = evaluate(clf, adv, y)
    assert adv_acc < clean_acc - 0.2, (clean_acc, adv_acc)
    one_step = fgsm(clf, x, y, eps=eps, norm=norm)
    assert loss_per_cloud(clf, adv, y).mean() >= loss_per_cloud(clf, one_step, y).mean()
    again = pgd(clf, x, y, eps=eps, steps=10, norm=norm, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(adv, again)


def test_saliency_drop_beats_random_drop(setup: tuple[Classifier, np.ndarray, np.ndarray]) -> None:
    clf, x, y = setup
    n_drop = N_POINTS // 2
    adv = saliency_drop(clf, x, y, n_drop=n_drop, steps=4)
    assert adv.shape == (len(x), N_POINTS - n_drop, 3)
    # the kept points are rows of the input, in input order
    assert all(set(map(tuple, adv[i].tolist())) <= set(map(tuple, x[i].tolist())) for i in range(3))
    keep = np.sort(np.argsort(np.random.default_rng(0).random(x.shape[:2]), axis=1), axis=1)
    random = np.take_along_axis(x, keep[:, n_drop:, None], axis=1)
    assert loss_per_cloud(clf, adv, y).mean() > loss_per_cloud(clf, random, y).mean() + 0.2
    assert evaluate(clf, adv, y) < evaluate(clf, random, y)


def test_bad_input(setup: tuple[Classifier, np.ndarray, np.ndarray]) -> None:
    clf, x, y = setup
    with pytest.raises(InputError, match="norm"):
        fgsm(clf, x, y, eps=0.1, norm="l1")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="eps"):
        pgd(clf, x, y, eps=-1.0)
    with pytest.raises(InputError, match="labels"):
        fgsm(clf, x, y[:-1], eps=0.1)
    with pytest.raises(InputError, match="n_drop"):
        saliency_drop(clf, x, y, n_drop=N_POINTS)


def test_model_without_class_names(setup: tuple[Classifier, np.ndarray, np.ndarray]) -> None:
    """A wrapped TorchScript model has no class names: labels are then only checked >= 0."""
    clf, x, y = setup
    bare = Classifier(clf.module, (), clf.n_points)
    np.testing.assert_array_equal(fgsm(bare, x, y, eps=0.02), fgsm(clf, x, y, eps=0.02))
    with pytest.raises(InputError, match="labels"):
        fgsm(bare, x, -1 - y, eps=0.02)
