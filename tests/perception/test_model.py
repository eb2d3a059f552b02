"""The PointNet classifier wrapper: shapes, save/load round trip and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception.model import Classifier, PointNet

torch = pytest.importorskip("torch")


CLASSES = ("a", "b", "c")
ARCH = {"widths": [8, 16], "head": [8], "dropout": 0.1}


def _classifier(seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    module = PointNet(len(CLASSES), widths=(8, 16), head=(8,), dropout=0.1)
    module.eval()
    return Classifier(module, CLASSES, 64, {"arch": ARCH}, seed)


def _clouds(b: int = 5, n: int = 64) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(b, n, 3)).astype(np.float32)


def test_logits_shape_batching_and_order_invariance() -> None:
    clf = _classifier()
    x = _clouds()
    logits = clf.logits(x)
    assert logits.shape == (5, 3) and logits.dtype == np.float32
    np.testing.assert_allclose(clf.logits(x, batch_size=2), logits, rtol=1e-5, atol=1e-6)
    shuffled = x[:, np.random.default_rng(2).permutation(64)]
    np.testing.assert_allclose(clf.logits(shuffled), logits, rtol=1e-5, atol=1e-6)
    assert clf.predict(x).shape == (5,)


def test_save_load_round_trip(tmp_path: Path) -> None:
    clf = _classifier()
    path = tmp_path / "model.pt"
    clf.save(path)
    back = Classifier.load(path)
    assert back.classes == CLASSES and back.n_points == 64 and back.seed == 0
    assert back.spec == {"arch": ARCH}
    np.testing.assert_array_equal(back.logits(_clouds()), clf.logits(_clouds()))


def test_load_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        Classifier.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file at all")
    with pytest.raises(InputError, match="not a saved classifier"):
        Classifier.load(junk)
    other = tmp_path / "other.pt"
    torch.save({"metadata": '{"format": "something else"}', "state_dict": {}}, other)
    with pytest.raises(InputError, match="format"):
        Classifier.load(other)


def test_bad_points_and_settings() -> None:
    clf = _classifier()
    with pytest.raises(InputError, match="points"):
        clf.logits(np.zeros((4, 3)))
    bad = _clouds()
    bad[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        clf.logits(bad)
    with pytest.raises(InputError, match="n_classes"):
        PointNet(1)
