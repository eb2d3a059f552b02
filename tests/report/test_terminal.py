from __future__ import annotations

import re
import sys

from rich.console import Console

from assay.core.records import Result, RunInfo, Status
from assay.metrics import RateTable, compare
from assay.report import render_comparison_terminal, render_terminal


def _console() -> Console:
    return Console(record=True, width=220, force_terminal=True, color_system="truecolor")


def test_terminal_table(run: RunInfo, table: RateTable) -> None:
    console = _console()
    render_terminal(run, table, console)
    text = console.export_text()
    for row in table.rows:
        assert row.name in text
    for column in ("Harmful", "Unsafe", "95% CI", "Over-refusal", "Errors", "Unscored"):
        assert column in text
    assert "Unsafe = unsafe / (safe + unsafe) harmful attempts" in text
    assert "never count as safe" in text
    assert "Worst case: 26.3% unsafe (15/57)" in text
    assert "targets: mock v1" in text


def test_errors_are_coloured(run: RunInfo, table: RateTable) -> None:
    console = _console()
    render_terminal(run, table, console)
    ansi = console.export_text(styles=True)
    assert re.search(r"\x1b\[1;33m *1\x1b\[0m", ansi)  # a non-zero error count, bold yellow


def test_comparison_table(results: list[Result]) -> None:
    flipped = [
        r.model_copy(update={"status": Status.UNSAFE}) if r.status is Status.SAFE else r
        for r in results
    ]
    console = _console()
    render_comparison_terminal(compare(results, flipped), console)
    text = console.export_text()
    assert "Unsafe rate: A (baseline) vs B (candidate)" in text
    assert "Over-refusal rate" in text and "McNemar p" in text
    assert "worse" in text
    assert "exact two-sided McNemar test" in text


def test_rich_is_loaded_lazily() -> None:
    import assay.report as report

    assert report.render_terminal.__module__ == "assay.report.terminal"
    assert "assay.report.terminal" in sys.modules
