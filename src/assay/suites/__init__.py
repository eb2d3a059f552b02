"""Suites: file formats, readers for public sets, and the built-in suites."""

from assay.suites.base import Suite

__all__ = ["Suite"]
