"""assay: test, score and guard AI systems used where mistakes hurt people.

The public surface is small on purpose: records and protocols live in ``assay.core``,
the engine in ``assay.engine``, and plugins are found by name through the registry.
Importing ``assay`` pulls in no heavy dependency (torch, transformers, fastapi).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("assay")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
