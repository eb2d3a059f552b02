"""The Markdown report: for pull requests, issues and wikis.

It carries the run spec, the summary, the per-hazard table and a list of the cases that
need a reviewer's attention, by id only. Prompts and responses are left out on purpose:
Markdown ends up in places (PR comments, chat) where harmful text should not be pasted
without a warning; the HTML and JSON reports carry them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assay.core.records import Result, RunInfo
from assay.metrics.intervals import Estimate
from assay.metrics.rates import RateRow, RateTable
from assay.report.json_report import SPEC_SECTIONS, case_sort_key, spec_items, spec_label

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")

DENOMINATORS = (
    "Unsafe rate = unsafe / (safe + unsafe) over harmful cases; over-refusal = "
    "over_refusal / (ok + over_refusal) over benign cases. Errors (no answer) and unscored "
    "attempts (no judge could decide) are left out of both denominators, never count as "
    "safe, and are reported as shares of all attempts."
)


def md_escape(text: str) -> str:
    """Escape Markdown syntax and inline HTML, and fold newlines, for one table cell."""
    text = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _pct_ci(est: Estimate, digits: int) -> tuple[str, str]:
    return est.fmt_rate(digits), est.fmt_interval(digits)


def _hazard_table(table: RateTable) -> list[str]:
    ci = f"{round(100 * table.confidence)}% CI"
    lines = [
        f"| Hazard | Harmful n | Unsafe | {ci} | Benign n | Over-refusal | {ci} "
        "| Errors | Unscored |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in table.rows:
        unsafe, unsafe_ci = _pct_ci(row.unsafe, 1)
        over, over_ci = _pct_ci(row.over_refusal, 1)
        name = md_escape(row.name)
        name = f"**{name}**" if row.hazard == "overall" else f"{name} (`{row.hazard}`)"
        lines.append(
            f"| {name} | {row.n_harmful} | {unsafe} | {unsafe_ci} | {row.n_benign} | {over} "
            f"| {over_ci} | {row.error.k} | {row.unscored.k} |"
        )
    return lines


def _summary(row: RateRow) -> list[str]:
    ci = f"{round(100 * row.unsafe.confidence)}% CI"
    lines = [
        f"- **Unsafe rate:** {row.unsafe.fmt_rate()} ({ci} {row.unsafe.fmt_interval()}), "
        f"{row.unsafe.k} of {row.unsafe.n} scored harmful attempts.",
        f"- **Over-refusal rate:** {row.over_refusal.fmt_rate()} "
        f"({ci} {row.over_refusal.fmt_interval()}), {row.over_refusal.k} of "
        f"{row.over_refusal.n} scored benign attempts.",
        f"- **Errors:** {row.error.k} of {row.n_attempts} attempts; **unscored:** "
        f"{row.unscored.k}.",
    ]
    if row.unsafe_worst.k > row.unsafe.k:
        lines.append(
            f"- **Worst case:** if every errored or unscored harmful attempt were unsafe, the "
            f"unsafe rate would be {row.unsafe_worst.fmt_rate()} "
            f"({row.unsafe_worst.k} of {row.unsafe_worst.n})."
        )
    return lines


def _run_section(run: RunInfo) -> list[str]:
    lines = [
        "| | |",
        "|---|---|",
        f"| Run | `{run.id}` |",
        f"| State | {md_escape(run.state)} |",
        f"| Created | {md_escape(run.created_at)} |",
    ]
    if run.finished_at:
        lines.append(f"| Finished | {md_escape(run.finished_at)} |")
    for key, title in SPEC_SECTIONS:
        labels = [
            md_escape(spec_label(item, params=key != "judges")) for item in spec_items(run, key)
        ]
        lines.append(f"| {title} | {', '.join(labels) or 'none'} |")
    lines += [f"| Seed | {run.seed} |", f"| assay | {md_escape(run.assay_version or '?')} |"]
    return lines


def _cases(results: Sequence[Result], max_cases: int) -> list[str]:
    flagged = sorted(
        (r for r in results if r.status.value not in ("safe", "ok")), key=case_sort_key
    )
    if not flagged:
        return ["No unsafe, over-refused, errored or unscored attempts."]
    lines = ["| Case | Suite | Hazard | Expected | Status | Error |", "|---|---|---|---|---|---|"]
    for r in flagged[:max_cases]:
        case = r.attempt.case
        lines.append(
            f"| {md_escape(case.id)} | {md_escape(case.suite)} | {case.hazard} | "
            f"{case.expected} | **{r.status.value}** | {md_escape(r.response.error or '')} |"
        )
    if len(flagged) > max_cases:
        lines.append(f"\n…and {len(flagged) - max_cases} more; see the JSON or HTML report.")
    return lines


def render_markdown(
    run: RunInfo, results: Sequence[Result], table: RateTable, *, max_cases: int = 100
) -> str:
    """The report as GitHub-flavoured Markdown.

    Args:
        max_cases: at most this many flagged cases are listed (by id, no text).
    """
    judges = spec_items(run, "judges")
    parts = [
        f"# assay report: run `{run.id}`",
        "",
        *_run_section(run),
        "",
        "## Summary",
        "",
        *_summary(table.overall),
        "",
        "## Per hazard",
        "",
        *_hazard_table(table),
        "",
        f"_{DENOMINATORS}_",
        "",
        "## Judges",
        "",
        *([f"- {md_escape(spec_label(j))}" for j in judges] or ["- none recorded"]),
        "",
        "The first judge is primary: statuses come from its verdicts.",
        "",
        "## Cases needing attention",
        "",
        "Listed by id only; prompts and responses are in the HTML and JSON reports.",
        "",
        *_cases(results, max_cases),
        "",
    ]
    return "\n".join(parts)
