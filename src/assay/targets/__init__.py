"""Systems under test: an OpenAI-compatible endpoint, a local transformers model, and the
embedded SmolLM2 model that needs neither a server nor a download.

Targets are found by name through the ``assay.targets`` entry points (``openai``,
``transformers``, ``embedded``, ``mock``); this package imports nothing heavy, so the
classes are loaded only when a run asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.targets.batching import MicroBatcher
    from assay.targets.embedded import EmbeddedTarget
    from assay.targets.openai import OpenAITarget
    from assay.targets.transformers import TransformersTarget

__all__ = ["EmbeddedTarget", "MicroBatcher", "OpenAITarget", "TransformersTarget"]

_WHERE = {
    "EmbeddedTarget": "assay.targets.embedded",
    "MicroBatcher": "assay.targets.batching",
    "OpenAITarget": "assay.targets.openai",
    "TransformersTarget": "assay.targets.transformers",
}


def __getattr__(name: str) -> Any:
    """Import a target's module on first access (httpx and friends cost import time)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'assay.targets' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
