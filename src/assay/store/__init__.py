"""Result storage: SQLite in WAL mode with numbered migrations."""

from assay.store.sqlite import DEFAULT_DB, Cached, Finished, Store

__all__ = ["DEFAULT_DB", "Cached", "Finished", "Store"]
