"""The Markdown report: for pull requests, issues and wikis.

It carries the run spec, the summary, the per-hazard table and a list of the cases that
need a reviewer's attention, by id only. Prompts and responses are left out on purpose:
Markdown ends up in places (PR comments, chat) where harmful text should not be pasted
without a warning; the HTML and JSON reports carry them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assay.core.records import Result, RunInfo
from assay.metrics.attacks import AttackRow, AttackTable
from assay.metrics.intervals import Estimate
from assay.metrics.rates import RateRow, RateTable
from assay.report.json_report import (
    SPEC_SECTIONS,
    attack_name,
    attack_notes,
    attack_table,
    case_sort_key,
    lift_text,
    spec_items,
    spec_label,
)

if TYPE_CHECKING:
    from assay.agents.metrics import AgentTable

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


ATTACKS_NOTE = (
    "ASR (attack success rate) = unsafe / (safe + unsafe) over harmful cases; errors and "
    "unscored attempts are counted but left out. Lift = ASR(attack) − ASR(direct), paired "
    "over the cases (and target) run both ways; its interval is a case-level paired "
    "bootstrap."
)


def _attack_rows(rows: Sequence[AttackRow], pct: int, baseline: bool) -> list[str]:
    lines = [
        f"| Attack | Harmful n | ASR | {pct}% CI | Lift | {pct}% CI | Shared cases "
        "| Errors | Unscored |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        lift, lift_ci = lift_text(row, baseline=baseline)
        shared = str(row.lift.n_cases) if row.lift else ""
        lines.append(
            f"| {md_escape(attack_name(row))} | {row.n_attempts} | {row.asr.fmt_rate()} "
            f"| {row.asr.fmt_interval()} | {lift} | {lift_ci} | {shared} | {row.errors} "
            f"| {row.unscored} |"
        )
    return lines


def _matrix_cell(est: Estimate, n_attempts: int) -> str:
    if n_attempts == 0:
        return "—"
    return f"{est.fmt_rate(0)} ({est.fmt_count()})" if est.n else f"n/a (0/0 of {n_attempts})"


def _coverage(attacks: AttackTable) -> list[str]:
    cov = attacks.coverage
    lines = [
        "| Hazard | " + " | ".join(md_escape(f) for f in cov.families) + " |",
        "|---|" + "--:|" * len(cov.families),
    ]
    for hazard in cov.hazards:
        cells = [cov.cell(hazard, f) for f in cov.families]
        lines.append(
            f"| `{hazard}` | " + " | ".join(_matrix_cell(c.asr, c.n_attempts) for c in cells) + " |"
        )
    return lines


def _styles(attacks: AttackTable) -> list[str]:
    matrix = attacks.style_persuasion
    if matrix is None:
        return []
    lines = [
        "### Style × persuasion",
        "",
        "| Style / persuasion | " + " | ".join(md_escape(p) for p in matrix.persuasions) + " |",
        "|---|" + "--:|" * len(matrix.persuasions),
    ]
    for style in matrix.styles:
        cells = [matrix.cell(style, p) for p in matrix.persuasions]
        lines.append(
            f"| {md_escape(style)} | "
            + " | ".join(_matrix_cell(c.asr, c.n_attempts) for c in cells)
            + " |"
        )
    return [*lines, ""]


def _top(attacks: AttackTable) -> list[str]:
    if not attacks.top:
        return [f"No attack label has {attacks.min_n} or more scored attempts in any hazard."]
    return [
        f"- `{top.hazard}`: "
        + "; ".join(
            f"{md_escape(row.name)} {row.asr.fmt_rate()} ({row.asr.fmt_count()})"
            for row in top.rows
        )
        for top in attacks.top
    ]


def _benign_rows(attacks: AttackTable, pct: int) -> list[str]:
    """Over-refusal per family on benign cases (a mitigation's cost), when measured."""
    if not attacks.benign:
        return []
    lines = [
        "### Benign cases: over-refusal per family",
        "",
        f"| Family | Benign n | Over-refusal | {pct}% CI | Errors | Unscored |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for b in attacks.benign:
        tag = " (mitigation)" if b.mitigation else ""
        lines.append(
            f"| {md_escape(b.family)}{tag} | {b.n_attempts} | {b.over_refusal.fmt_rate()} | "
            f"{b.over_refusal.fmt_interval()} | {b.errors} | {b.unscored} |"
        )
    return [*lines, ""]


def attack_section(attacks: AttackTable) -> list[str]:
    """The Markdown lines of the "Attacks" section."""
    pct = round(100 * attacks.confidence)
    baseline = attacks.baseline is not None
    notes = [f"_{md_escape(n[0].upper() + n[1:])}._" for n in attack_notes(attacks)]
    return [
        "## Attacks",
        "",
        *[line for n in notes for line in (n, "")],
        *_attack_rows(attacks.families, pct, baseline),
        "",
        f"_{ATTACKS_NOTE}_",
        "",
        *_benign_rows(attacks, pct),
        "### Per attack variant",
        "",
        *_attack_rows(attacks.labels, pct, baseline),
        "",
        "### Coverage (hazard × attack family)",
        "",
        "ASR (unsafe/scored harmful attempts) per cell; — marks a combination never tried.",
        "",
        *_coverage(attacks),
        "",
        *_styles(attacks),
        f"### Most effective attacks per hazard (at least {attacks.min_n} scored)",
        "",
        *_top(attacks),
        "",
    ]


def render_markdown(
    run: RunInfo,
    results: Sequence[Result],
    table: RateTable,
    *,
    max_cases: int = 100,
    attacks: AttackTable | None = None,
    agents: AgentTable | None = None,
) -> str:
    """The report as GitHub-flavoured Markdown.

    Args:
        max_cases: at most this many flagged cases are listed (by id, no text).
        attacks: the attack table; computed with defaults when the run has attacks.
        agents: the agent-scenario table; adds its section when given.
    """
    judges = spec_items(run, "judges")
    found = attack_table(results, attacks)
    attack_lines = attack_section(found) if found is not None and found.attacked else []
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
        *attack_lines,
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
    if agents is not None:
        from assay.agents.report import render_agents_markdown

        parts += [render_agents_markdown(agents)]
    return "\n".join(parts)
