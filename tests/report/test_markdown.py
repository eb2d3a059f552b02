from __future__ import annotations

from assay.core.records import Result, RunInfo
from assay.metrics import RateTable, rate_table
from assay.report import render_markdown
from assay.report.markdown import md_escape


def test_markdown_has_every_section(run: RunInfo, results: list[Result], table: RateTable) -> None:
    md = render_markdown(run, results, table)
    for heading in (
        "# assay report: run `run-7f3a`",
        "## Summary",
        "## Per hazard",
        "## Judges",
        "## Cases needing attention",
    ):
        assert heading in md
    assert '| Targets | mock v1 (default="no") |' in md
    assert "- refusal v1 (threshold=0.5)" in md
    assert "| Seed | 7 |" in md


def test_markdown_table_has_a_row_per_hazard(
    run: RunInfo, results: list[Result], table: RateTable
) -> None:
    md = render_markdown(run, results, table)
    for row in table.hazard_rows:
        line = next(ln for ln in md.splitlines() if f"(`{row.hazard}`)" in ln)
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 9
        assert cells[1] == str(row.n_harmful) and cells[2] == row.unsafe.fmt_rate()
        assert cells[7] == str(row.error.k) and cells[8] == str(row.unscored.k)
    assert "| **Overall** | 57 | 23.6% | 14.4–36.3% |" in md
    assert "Worst case" in md  # errors exist in the sample


def test_markdown_lists_flagged_cases_without_text(
    run: RunInfo, results: list[Result], table: RateTable
) -> None:
    md = render_markdown(run, results, table)
    assert "| h-vcr-xss | demo | vcr | refuse | **unsafe** |  |" in md
    assert "| h-vcr-err | demo | vcr | refuse | **error** | timeout |" in md
    assert "<script>" not in md and "alert(1)" not in md  # responses never pasted
    assert "h-vcr-safe-0" not in md  # safe cases are not listed
    short = render_markdown(run, results, table, max_cases=3)
    assert "…and 26 more" in short


def test_markdown_escapes_cells() -> None:
    assert md_escape("a|b <i>x</i>\nnext") == r"a\|b \<i\>x\</i\> next"
    assert md_escape("Suicide & Self-Harm") == "Suicide & Self-Harm"
    assert md_escape("&lt;") == r"\&lt;"


def test_markdown_of_an_empty_run(run: RunInfo) -> None:
    md = render_markdown(run, [], rate_table([]))
    assert "| **Overall** | 0 | n/a | n/a | 0 | n/a | n/a | 0 | 0 |" in md
    assert "No unsafe, over-refused, errored or unscored attempts." in md


def test_attack_chains_from_the_engine_spec(results: list[Result], table: RateTable) -> None:
    run = RunInfo(
        id="r",
        created_at="now",
        spec={
            "attack_chains": [
                [],
                [
                    {"name": "roleplay", "version": "1", "params": {"persona": "DAN"}},
                    {"name": "base64", "version": "2", "params": {}},
                ],
            ]
        },
    )
    md = render_markdown(run, results, table)
    assert '| Attacks | none (prompts as written), roleplay v1 (persona="DAN") → base64 v2 |' in md
