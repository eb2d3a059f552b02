"""The shared lazy embedder."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from assay.errors import MissingDependencyError
from assay.judges import embedder


def test_embeddings_are_unit_vectors() -> None:
    vectors = embedder.embed(["I can't help with that.", "Here is the recipe."], batch_size=2)
    assert vectors.shape == (2, embedder.EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.9


def test_loaded_once_across_threads() -> None:
    seen: list[object] = []
    threads = [
        threading.Thread(target=lambda: seen.append(embedder.get_embedder())) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(model) for model in seen}) == 1


def test_empty_input_needs_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder, "get_embedder", lambda: pytest.fail("model loaded"))
    assert embedder.embed([]).shape == (0, embedder.EMBEDDING_DIM)


def test_missing_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder, "_model", None)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingDependencyError) as info:
        embedder.get_embedder()
    assert info.value.extra == "embedded"
    assert info.value.package == "sentence-transformers"
