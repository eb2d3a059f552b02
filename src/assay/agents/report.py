"""The agent section of a run's reports: the per-category table and a trajectory viewer.

HTML follows the run report's rules (:mod:`assay.report.html`): inline CSS, no
JavaScript, nothing fetched, and every piece of text escaped: tool arguments, tool
results and injected instructions are written by the model or by an attacker and may
carry markup meant to run. Each trajectory is a collapsed ``<details>`` so a reader sees
the numbers first and opens a trajectory on purpose.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from assay.agents.metrics import (
    FAILURE_MODES,
    OVERALL,
    AgentCase,
    AgentRow,
    AgentTable,
    agent_results,
)
from assay.core.records import Result
from assay.metrics.intervals import Estimate

__all__ = [
    "AGENT_CSS",
    "MAX_TRAJECTORIES",
    "agent_terminal_table",
    "print_agents",
    "render_agents_html",
    "render_agents_markdown",
]

#: Trajectories shown in the HTML viewer; more would make the page unwieldy.
MAX_TRAJECTORIES = 200

#: Short column labels of the failure modes.
MODE_LABELS = {
    "forbidden_action": "Forbidden",
    "unconfirmed_action": "Unconfirmed",
    "canary_leak": "Canary leak",
    "injection_followed": "Injection followed",
}

#: Extra CSS the run report adds to its ``<style>`` when the agent section is present.
AGENT_CSS = """
.agent-wrap { overflow-x: auto; }
#agent-table th { white-space: normal; }
#agent-table th, #agent-table td { padding: 6px 6px; font-size: 12.5px; }
#agent-table th.group { text-align: center; border-left: 2px solid #9aa5b1; }
#agent-table td.first { border-left: 2px solid #9aa5b1; }
details.trajectory { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; }
details.trajectory > summary { cursor: pointer; padding: 8px 12px; font-size: 13.5px; }
details.trajectory[open] > summary { border-bottom: 1px solid var(--line); }
details.trajectory .body { padding: 6px 14px 12px; }
ol.steps { margin: 4px 0; padding-left: 22px; } ol.steps > li { margin: 6px 0; }
.step-kind { font-size: 12px; font-weight: 650; color: var(--muted); }
.step.call .tool { font-weight: 650; }
.step .err { color: var(--unsafe); font-weight: 650; font-size: 12.5px; }
.violations li { color: var(--unsafe); }
"""


def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _json(value: Any) -> str:
    """Indented JSON text of a value (anything not JSON-able as its ``str``)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _pct(est: Estimate) -> str:
    return est.fmt_rate() if est.n else "n/a"


def _cell(est: Estimate) -> str:
    title = f"{est.fmt_count()}; {round(100 * est.confidence)}% CI {est.fmt_interval()}"
    return (
        f'<td title="{_e(title)}">{_e(_pct(est))}'
        f'<span class="code">{_e(est.fmt_count())}</span></td>'
        f"<td>{_e(est.fmt_interval())}</td>"
    )


def _n(k: int) -> str:
    return f'<td class="warn">{k}</td>' if k else f"<td>{k}</td>"


def _label(category: str) -> str:
    return "Overall" if category == OVERALL else category.replace("_", " ")


def _table_html(table: AgentTable) -> str:
    pct = round(100 * table.confidence)
    modes = [*FAILURE_MODES, *sorted(set(table.overall.modes) - set(FAILURE_MODES))]
    head = (
        '<tr><th rowspan="2">Category</th>'
        '<th class="group" colspan="5">Harmful scenarios</th>'
        '<th class="group" colspan="6">Benign twins</th>'
        f'<th class="group" colspan="{len(modes)}">Failure modes (attempts)</th></tr>'
        f"<tr><th>n</th><th>Safety score</th><th>{pct}% CI</th><th>Unsafe</th>"
        "<th>Err / unsc.</th>"
        f"<th>n</th><th>Helpfulness</th><th>{pct}% CI</th><th>Gave up</th>"
        "<th>Unsafe</th><th>Err / unsc.</th>"
        + "".join(f"<th>{_e(MODE_LABELS.get(m, m))}</th>" for m in modes)
        + "</tr>"
    )

    def row(r: AgentRow) -> str:
        cls = ' class="overall"' if r.category == OVERALL else ""
        return (
            f'<tr{cls} data-category="{_e(r.category)}"><td>{_e(_label(r.category))}</td>'
            f'<td class="first">{r.harmful_n}</td>{_cell(r.safety)}'
            f"<td>{_e(_pct(r.unsafe))}</td>"
            + _n(r.harmful_errors + r.harmful_unscored)
            + f'<td class="first">{r.benign_n}</td>{_cell(r.helpful)}'
            f"<td>{_e(_pct(r.gave_up))}</td><td>{_e(_pct(r.benign_unsafe))}</td>"
            f"{_n(r.benign_errors + r.benign_unscored)}"
            + "".join(
                f'<td{" class=first" if i == 0 else ""} data-mode="{_e(m)}">'
                f"{r.modes.get(m, 0)}</td>"
                for i, m in enumerate(modes)
            )
            + "</tr>"
        )

    body = "".join(row(r) for r in table.rows)
    return (
        f'<div class="agent-wrap"><table id="agent-table"><thead>{head}</thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _step(step: Mapping[str, Any]) -> str:
    kind = str(step.get("kind", "?"))
    if kind == "call":
        error = step.get("error")
        return (
            f'<li class="step call" data-tool="{_e(step.get("tool", ""))}">'
            f'<span class="step-kind">tool call</span> '
            f'<code class="tool">{_e(step.get("tool", ""))}</code>'
            f'<div class="k">Arguments</div><pre class="args">'
            f"{_e(_json(step.get('arguments', {})))}</pre>"
            + (
                f'<div class="k">Result</div><pre class="result">{_e(step.get("result", ""))}</pre>'
                if step.get("result") or not error
                else ""
            )
            + (f'<div class="err">error: {_e(error)}</div>' if error else "")
            + "</li>"
        )
    label = {"assistant": "assistant", "user": "simulated user"}.get(kind, kind)
    return (
        f'<li class="step {_e(kind)}"><span class="step-kind">{_e(label)}</span>'
        f"<pre>{_e(step.get('text', ''))}</pre></li>"
    )


def _verdict_html(result: Result, case: AgentCase | None) -> str:
    items = []
    for v in result.verdicts:
        why = v.rationale or v.unscored_reason or ""
        items.append(
            f"<li><code>{_e(v.judge.name)}</code>: {_e(v.outcome.value)}"
            + (f" — {_e(why)}" if why else "")
            + "</li>"
        )
    out = f"<ul>{''.join(items)}</ul>" if items else '<p class="note">No verdict.</p>'
    if case is not None and case.violations:
        out += (
            '<div class="k">Violations</div><ul class="violations">'
            + "".join(f"<li>{_e(v)}</li>" for v in case.violations)
            + "</ul>"
        )
    if case is not None and case.unassessed:
        out += f'<p class="note">Not re-assessed: {_e(case.unassessed)}</p>'
    return out


def _trajectory(result: Result, case: AgentCase | None) -> str:
    c = result.attempt.case
    scenario = c.metadata.get("scenario")
    scenario = scenario if isinstance(scenario, Mapping) else {}
    traj = result.response.trajectory or {}
    status = result.status.value
    benign = case.benign if case is not None else c.expected == "comply"
    modes = ", ".join(case.modes) if case is not None and case.modes else ""
    summary = (
        f"<summary><strong>{_e(c.id)}</strong> · {_e(c.hazard)} · "
        f"{'benign' if benign else 'harmful'} · "
        f'<span class="badge {_e(status)}">{_e(status.replace("_", " "))}</span>'
        + (f" · {_e(modes)}" if modes else "")
        + (f" · {_e(traj.get('status', ''))}" if traj.get("status") else "")
        + (f" · {_e(traj['protocol'])} tool calls" if traj.get("protocol") else "")
        + "</summary>"
    )
    steps = traj.get("steps") or []
    parts = [
        f'<div class="k">Goal</div><pre class="goal">{_e(scenario.get("goal", c.prompt))}</pre>',
        '<div class="k">Steps</div>'
        + (
            f'<ol class="steps">{"".join(_step(s) for s in steps if isinstance(s, Mapping))}</ol>'
            if steps
            else '<p class="note">No steps.</p>'
        ),
    ]
    injected = traj.get("injected") or []
    if injected:
        parts.append(
            '<div class="k">Injections seen</div><ul class="injections">'
            + "".join(f"<li><pre>{_e(t)}</pre></li>" for t in injected)
            + "</ul>"
        )
    if traj.get("malformed"):
        why = f" ({traj['malformed_reason']})" if traj.get("malformed_reason") else ""
        parts.append(
            f'<div class="k">Malformed call{_e(why)}</div><pre>{_e(traj["malformed"])}</pre>'
        )
    final = traj.get("final", result.response.text)
    parts.append(f'<div class="k">Final answer</div><pre class="final">{_e(final)}</pre>')
    if traj.get("diff"):
        parts.append(
            f'<div class="k">State diff</div><pre class="diff">{_e(_json(traj["diff"]))}</pre>'
        )
    if result.response.error is not None:
        detail = f": {result.response.error_detail}" if result.response.error_detail else ""
        parts.append(f'<div class="k">Error</div><pre>{_e(result.response.error + detail)}</pre>')
    parts.append(f'<div class="k">Verdict</div>{_verdict_html(result, case)}')
    return (
        f'<details class="trajectory" data-case="{_e(c.id)}" data-status="{_e(status)}">'
        f'{summary}<div class="body">{"".join(parts)}</div></details>'
    )


def _opinions_html(table: AgentTable) -> str:
    """Other judges against the rule judge: agreement, and the cases they disagree on."""
    if not table.opinions:
        return ""

    def ids(found: tuple[str, ...]) -> str:
        return ", ".join(f"<code>{_e(i)}</code>" for i in found) or "none"

    rows = "".join(
        f'<tr data-judge="{_e(o.judge)}"><td><code>{_e(o.judge)}</code></td>'
        f'<td class="num">{o.agree}/{o.n}</td><td class="num">{len(o.flagged)}</td>'
        f'<td class="num">{len(o.cleared)}</td><td class="num">{o.unscored}</td>'
        f"<td>{ids(o.flagged)}</td><td>{ids(o.cleared)}</td></tr>"
        for o in table.opinions
    )
    return (
        '<h3>Second opinions</h3><p class="note">Other judges that said safe or unsafe on '
        "these trajectories, against the rule judge's status (which is what the table above "
        "counts). <em>Flagged</em>: the judge calls it unsafe and the rules passed it: read "
        "those trajectories, they may show a failure no rule expresses, or a false alarm. "
        "<em>Cleared</em>: the judge calls safe what the rules found unsafe. Unscored "
        "verdicts count as neither.</p>"
        '<table id="agent-opinions"><thead><tr><th>judge</th><th>agrees</th><th>flagged</th>'
        "<th>cleared</th><th>unscored</th><th>flagged cases</th><th>cleared cases</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


_STATUS_ORDER = {"unsafe": 0, "over_refusal": 1, "error": 2, "unscored": 3, "safe": 4, "ok": 5}


def render_agents_html(
    table: AgentTable, results: Sequence[Result], *, limit: int = MAX_TRAJECTORIES
) -> str:
    """The ``#agents`` section: the per-category table and the trajectory viewer.

    Trajectories are listed unsafe first (then gave up, errors, unscored, safe, ok), at
    most ``limit`` of them, with a note saying how many were left out.
    """
    pct = round(100 * table.confidence)
    agents = sorted(
        agent_results(results),
        key=lambda r: (_STATUS_ORDER.get(r.status.value, 9), r.attempt.case.id),
    )
    shown = agents[:limit]
    more = (
        f'<p class="note">Showing {len(shown)} of {len(agents)} trajectories '
        "(unsafe first); the JSON report lists every case.</p>"
        if len(agents) > len(shown)
        else ""
    )
    viewer = "".join(_trajectory(r, table.case(r.attempt.hash)) for r in shown)
    return (
        '<section id="agents"><h2>Agent scenarios</h2>'
        '<p class="note" style="margin: 0 0 12px">Safety score = safe / (safe + unsafe) over '
        "harmful scenarios; helpfulness = completed (ok) / scored benign twins; gave up = "
        "refused or did not finish a benign task. They are reported apart: an agent that does "
        "nothing is safe and useless. Errors and unscored attempts are in no denominator and "
        f"never count as safe. Intervals: {pct}% Wilson score. Failure modes count attempts "
        "(one attempt may show several).</p>"
        f"{_table_html(table)}"
        f"{_opinions_html(table)}"
        '<h3>Trajectories</h3><div id="trajectories">'
        '<p class="note">Each trajectory is collapsed: tool results and injected text may '
        "hold harmful or hostile content. Click to open.</p>"
        f"{more}{viewer or '<p>No trajectories.</p>'}</div></section>"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_agents_markdown(table: AgentTable) -> str:
    """The agent table as a Markdown section."""
    pct = round(100 * table.confidence)
    head = (
        f"| Category | Harmful n | Safety score | {pct}% CI | Unsafe | Err/unsc. "
        f"| Benign n | Helpfulness | {pct}% CI | Gave up | Unsafe (benign) | Err/unsc. | "
        + " | ".join(MODE_LABELS[m] for m in FAILURE_MODES)
        + " |"
    )
    sep = "|" + "---|" * (12 + len(FAILURE_MODES))
    lines = ["## Agent scenarios", "", head, sep]
    for r in table.rows:
        name = f"**{_label(r.category)}**" if r.category == OVERALL else _label(r.category)
        cells = [
            _md(name),
            str(r.harmful_n),
            f"{_pct(r.safety)} ({r.safety.fmt_count()})",
            r.safety.fmt_interval(),
            _pct(r.unsafe),
            str(r.harmful_errors + r.harmful_unscored),
            str(r.benign_n),
            f"{_pct(r.helpful)} ({r.helpful.fmt_count()})",
            r.helpful.fmt_interval(),
            _pct(r.gave_up),
            _pct(r.benign_unsafe),
            str(r.benign_errors + r.benign_unscored),
            *(str(r.modes.get(m, 0)) for m in FAILURE_MODES),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Safety score = safe / (safe + unsafe) over harmful scenarios; helpfulness = "
        "completed / scored benign twins; errors and unscored attempts are in no denominator. "
        f"Intervals: {pct}% Wilson score.",
        "",
    ]
    if table.opinions:
        lines += [
            "### Second opinions (other judges against the rule judge)",
            "",
            "| Judge | Agrees | Flagged (unsafe, rules passed) | Cleared (safe, rules found "
            "unsafe) | Unscored |",
            "|---|---|---|---|---|",
        ]
        for o in table.opinions:
            flagged = ", ".join(o.flagged) or "none"
            cleared = ", ".join(o.cleared) or "none"
            lines.append(
                f"| {_md(o.judge)} | {o.agree}/{o.n} | {len(o.flagged)}: {_md(flagged)} "
                f"| {len(o.cleared)}: {_md(cleared)} | {o.unscored} |"
            )
        lines.append("")
    return "\n".join(lines)


def agent_terminal_table(table: AgentTable) -> Table:
    """The agent table for the terminal (rich)."""
    out = Table(title="Agent scenarios per risk category", title_justify="left")
    for column in (
        "category",
        "harmful n",
        "safety",
        "CI",
        "benign n",
        "helpful",
        "CI",
        "gave up",
        "err/unsc",
        "failure modes",
    ):
        out.add_column(column, justify="left" if column == "category" else "right")
    for r in table.rows:
        modes = ", ".join(f"{m}={k}" for m, k in r.modes.items() if k)
        eu = r.harmful_errors + r.harmful_unscored + r.benign_errors + r.benign_unscored
        out.add_row(
            _label(r.category),
            str(r.harmful_n),
            f"{_pct(r.safety)} ({r.safety.fmt_count()})",
            r.safety.fmt_interval(),
            str(r.benign_n),
            f"{_pct(r.helpful)} ({r.helpful.fmt_count()})",
            r.helpful.fmt_interval(),
            _pct(r.gave_up),
            f"[yellow]{eu}[/]" if eu else "0",
            modes or "-",
            style="bold" if r.category == OVERALL else None,
        )
    return out


def print_agents(table: AgentTable, console: Console) -> None:
    """Print the agent table and a one-line reading of it."""
    console.print(agent_terminal_table(table))
    o = table.overall
    console.print(
        f"safety {_pct(o.safety)} of harmful scenarios handled safely; "
        f"helpfulness {_pct(o.helpful)} of benign twins completed (reported apart)"
    )
    for op in table.opinions:
        console.print(
            f"second opinion {op.judge}: agrees on {op.agree}/{op.n}; flags "
            f"{len(op.flagged)} the rules passed, clears {len(op.cleared)} they found unsafe"
            + (f", {op.unscored} unscored" if op.unscored else "")
        )
