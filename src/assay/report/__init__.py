"""Reports of a run: JSON (machine-readable), Markdown, one-page HTML, and the terminal.

``render_json``, ``render_markdown`` and ``render_html`` take ``(run, results, table)``
and return a string. The terminal renderers need rich, so they load on first use:
``from assay.report import render_terminal`` works, but importing ``assay.report`` alone
does not import rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.report.html import render_html
from assay.report.json_report import SCHEMA_VERSION, render_json, report_dict
from assay.report.markdown import render_markdown

if TYPE_CHECKING:
    from assay.report.terminal import render_comparison_terminal, render_terminal

__all__ = [
    "SCHEMA_VERSION",
    "render_comparison_terminal",
    "render_html",
    "render_json",
    "render_markdown",
    "render_terminal",
    "report_dict",
]

_LAZY = {"render_terminal", "render_comparison_terminal"}


def __getattr__(name: str) -> Any:
    """Load the rich-based terminal renderers only when asked for."""
    if name in _LAZY:
        from assay.report import terminal

        return getattr(terminal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
