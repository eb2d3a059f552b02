"""Test helpers shipped to users: a scripted target and plugin contract checks."""

from assay.testing.mock import MockTarget

__all__ = ["MockTarget"]
