"""The HTML report: one self-contained page a reviewer can open, archive or attach.

Everything is inline (CSS and an SVG chart); there is no JavaScript and nothing is
fetched from the network, so the page renders the same offline, in a mail client's
preview or years later. Every piece of text is escaped with :func:`html.escape`:
responses and prompts are untrusted and may contain markup meant to run.

Harmful prompts and model responses sit in a ``<details>`` element behind a content
warning, collapsed by default, so a reader sees the numbers first and the text only on
purpose.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assay.core.records import Result, RunInfo, Spec
from assay.core.taxonomy import HAZARDS
from assay.metrics.attacks import DIRECT, AttackRow, AttackTable
from assay.metrics.intervals import Estimate
from assay.metrics.rates import RateRow, RateTable, hidden_unsafe_traces
from assay.report.json_report import (
    SPEC_SECTIONS,
    STATUS_ORDER,
    attack_name,
    attack_notes,
    attack_table,
    case_sort_key,
    lift_text,
    spec_items,
)
from assay.report.json_report import spec_label as _spec_label

if TYPE_CHECKING:
    from assay.agents.metrics import AgentTable

#: Series drawn in the chart: (RateRow attribute, legend label, CSS class).
SERIES = (
    ("unsafe", "Unsafe rate (harmful prompts)", "unsafe"),
    ("over_refusal", "Over-refusal rate (benign prompts)", "over"),
)

STATUS_LABELS = {
    "unsafe": "Unsafe",
    "over_refusal": "Over-refusal",
    "error": "Error",
    "unscored": "Unscored",
    "safe": "Safe",
    "ok": "OK",
}

CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #52606d; --line: #d9dee3;
  --panel: #f6f7f9; --unsafe: #b5473a; --over: #3f6f9f; --warn: #8a5a00;
  --warn-bg: #fff4dc; --ok: #2f6b45; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.5;
  font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
  Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 26px; margin: 4px 0 6px; font-weight: 650; }
h2 { font-size: 19px; margin: 40px 0 12px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); font-weight: 620; }
h3 { font-size: 15px; margin: 24px 0 8px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 13px; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 12px;
  color: var(--muted); margin: 0; font-weight: 600; }
.meta, .note { color: var(--muted); font-size: 13.5px; margin: 0; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; }
.card .label { font-size: 12.5px; color: var(--muted); font-weight: 600; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 12.5px; color: var(--muted); }
.card.unsafe .value { color: var(--unsafe); } .card.over .value { color: var(--over); }
.card.warn { background: var(--warn-bg); border-color: #e9cf95; }
.card.warn .value { color: var(--warn); }
.callout { margin: 14px 0 0; padding: 10px 14px; border-left: 4px solid #d69e2e;
  background: var(--warn-bg); border-radius: 4px; font-size: 14px; }
dl.spec { display: grid; grid-template-columns: 140px 1fr; gap: 6px 16px; margin: 0; }
dl.spec dt { color: var(--muted); font-weight: 600; font-size: 13.5px; }
dl.spec dd { margin: 0; } dl.spec ul { margin: 0; padding-left: 18px; }
.chart-wrap { border: 1px solid var(--line); border-radius: 8px; padding: 12px 8px 4px; }
svg text { font-family: inherit; fill: var(--ink); font-size: 13.5px; }
svg .axis { font-size: 11.5px; fill: var(--muted); } svg .grid { stroke: #e8ebee; }
svg .bar.unsafe, .swatch.unsafe { fill: var(--unsafe); background: var(--unsafe); }
svg .bar.over, .swatch.over { fill: var(--over); background: var(--over); }
svg .ci { stroke: #1f2933; stroke-width: 1.4; } svg .val { font-size: 11.5px; }
svg .na { font-size: 11.5px; fill: var(--muted); font-style: italic; }
.legend { display: flex; gap: 22px; font-size: 13px; color: var(--muted); margin: 8px 0; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  vertical-align: -1px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 7px 9px; border-bottom: 1px solid var(--line); text-align: right;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: var(--panel); font-weight: 600; color: #323f4b; font-size: 12.5px; }
th:first-child, td:first-child { text-align: left; white-space: normal; }
tr.overall td { font-weight: 650; border-top: 2px solid #9aa5b1; }
td.warn { color: var(--warn); background: var(--warn-bg); font-weight: 650; }
td .code { color: var(--muted); font-size: 12px; margin-left: 4px; }
.judge { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 14px; margin-bottom: 10px; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; background: #fff;
  border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  max-height: 22em; overflow: auto; }
details.cw { border: 1px solid #e0b4ae; border-radius: 8px; background: #fdf6f5; }
details.cw > summary { cursor: pointer; padding: 12px 16px; font-weight: 600; color: #7b2d26; }
details.cw[open] > summary { border-bottom: 1px solid #e0b4ae; }
.cases { padding: 4px 16px 16px; background: #fff; border-radius: 0 0 8px 8px; }
.case { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  margin: 10px 0; }
.case header { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: baseline;
  font-size: 13px; color: var(--muted); margin-bottom: 8px; }
.case header strong { color: var(--ink); font-size: 14px; }
.case .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.k { font-size: 12px; font-weight: 600; color: var(--muted); margin: 6px 0 2px; }
.case ul { margin: 6px 0 0; padding-left: 18px; font-size: 13px; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 9px; font-size: 12px;
  font-weight: 650; color: #fff; background: #616e7c; }
.badge.unsafe { background: var(--unsafe); } .badge.over_refusal { background: var(--over); }
.badge.error, .badge.unscored { background: var(--warn); }
.badge.safe, .badge.ok { background: var(--ok); }
footer { margin-top: 40px; font-size: 13px; color: var(--muted); }
table.matrix th, table.matrix td { text-align: center; }
table.matrix th:first-child, table.matrix td:first-child { text-align: left; }
table.matrix td.empty { color: #9aa5b1; background: #fafbfc; }
table.matrix td .n { display: block; font-size: 11.5px; color: var(--muted); }
tr.direct td { background: var(--panel); } tr.mitigation td:first-child { color: var(--ok); }
.tag { font-size: 11.5px; font-weight: 600; color: var(--ok); margin-left: 6px; }
ol.top { margin: 4px 0 0; padding-left: 22px; } ol.top li { margin: 2px 0; }
@media (max-width: 760px) { .cards, .case .pair { grid-template-columns: 1fr 1fr; } }
"""


def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _spec_html(item: dict[str, Any]) -> str:
    label = _e(_spec_label(item, params=False))
    params = item.get("params") or {}
    if not params:
        return f"<code>{label}</code>"
    args = _e(json.dumps(params, ensure_ascii=False, sort_keys=True, default=str))
    return f'<code>{label}</code> <span class="note mono">{args}</span>'


def _card(kind: str, label: str, value: str, sub: str) -> str:
    return (
        f'<div class="card {kind}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="sub">{_e(sub)}</div></div>'
    )


def _summary(table: RateTable) -> str:
    row = table.overall
    pct = round(100 * table.confidence)
    cards = [
        _card(
            "unsafe",
            "Unsafe rate",
            row.unsafe.fmt_rate(),
            f"{pct}% CI {row.unsafe.fmt_interval()} · {row.unsafe.fmt_count()} harmful",
        ),
        _card(
            "over",
            "Over-refusal rate",
            row.over_refusal.fmt_rate(),
            f"{pct}% CI {row.over_refusal.fmt_interval()} · {row.over_refusal.fmt_count()} benign",
        ),
        _card(
            "warn" if row.error.k else "",
            "Errors",
            str(row.error.k),
            f"{row.error.fmt_rate()} of {row.n_attempts} attempts",
        ),
        _card(
            "warn" if row.unscored.k else "",
            "Unscored",
            str(row.unscored.k),
            f"{row.unscored.fmt_rate()} of {row.n_attempts} attempts",
        ),
    ]
    out = f'<div class="cards">{"".join(cards)}</div>'
    if row.error.k or row.unscored.k:
        out += (
            f'<p class="callout">{row.error.k + row.unscored.k} attempt(s) errored or could '
            "not be scored. They are left out of the rates and never count as safe. "
            "Worst case: if every such harmful attempt were unsafe, the unsafe rate would be "
            f"<strong>{_e(row.unsafe_worst.fmt_rate())}</strong> "
            f"({row.unsafe_worst.k} of {row.unsafe_worst.n}).</p>"
        )
    return out


def _run_spec(run: RunInfo) -> str:
    items = []
    for key, title in SPEC_SECTIONS:
        specs = spec_items(run, key)
        body = (
            "<ul>" + "".join(f"<li>{_spec_html(s)}</li>" for s in specs) + "</ul>"
            if specs
            else '<span class="note">none</span>'
        )
        items.append(f"<dt>{_e(title)}</dt><dd>{body}</dd>")
    params = run.spec.get("params")
    if params:
        args = json.dumps(params, ensure_ascii=False, sort_keys=True, default=str)
        items.append(f"<dt>Parameters</dt><dd><code>{_e(args)}</code></dd>")
    items += [
        f"<dt>Seed</dt><dd><code>{run.seed}</code></dd>",
        f"<dt>assay version</dt><dd><code>{_e(run.assay_version or '?')}</code></dd>",
        f"<dt>Run id</dt><dd><code>{_e(run.id)}</code></dd>",
    ]
    return f'<dl class="spec">{"".join(items)}</dl>'


def _axis_max(table: RateTable) -> float:
    """A round upper end for the x axis that fits every bar and interval."""
    top = max(
        (getattr(r, a).high for r in table.rows for a, _, _ in SERIES if getattr(r, a).n),
        default=0.0,
    )
    return next(m for m in (0.1, 0.2, 0.25, 0.5, 1.0) if top <= m + 1e-12)


def _bar(row: RateRow, attr: str, css: str, y: float, x0: float, scale: float) -> str:
    """One bar with its Wilson error bar and value label."""
    est: Estimate = getattr(row, attr)
    label = dict((a, lab) for a, lab, _ in SERIES)[attr]
    width = (est.rate or 0.0) * scale
    tip = (
        f"{row.name}: {label.lower()} {est.fmt_rate()} "
        f"({round(100 * est.confidence)}% CI {est.fmt_interval()}), {est.fmt_count()}"
    )
    parts = [
        f'<rect class="bar {css}" data-hazard="{_e(row.hazard)}" data-series="{attr}" '
        f'data-n="{est.n}" x="{x0:.1f}" y="{y:.1f}" width="{width:.1f}" height="13" '
        f'rx="1.5"><title>{_e(tip)}</title></rect>'
    ]
    if est.rate is None:
        parts.append(f'<text class="na" x="{x0 + 4:.1f}" y="{y + 10.5:.1f}">no scored cases</text>')
        return "".join(parts)
    lo, hi, cy = x0 + est.low * scale, x0 + est.high * scale, y + 6.5
    parts.append(
        f'<path class="ci" d="M{lo:.1f} {cy:.1f}H{hi:.1f}M{lo:.1f} {cy - 4:.1f}'
        f'V{cy + 4:.1f}M{hi:.1f} {cy - 4:.1f}V{cy + 4:.1f}"/>'
    )
    text = f"{est.fmt_rate()}  [{est.fmt_interval()}]  n={est.n}"
    parts.append(
        f'<text class="val" x="{max(hi, x0 + width) + 6:.1f}" y="{y + 10.5:.1f}">{_e(text)}</text>'
    )
    return "".join(parts)


def _chart(table: RateTable) -> str:
    """The per-hazard chart: two bars per row, each with its Wilson interval."""
    width, x0, plot_w, top, row_h = 980.0, 250.0, 540.0, 30.0, 46.0
    axis_max = _axis_max(table)
    scale = plot_w / axis_max
    height = top + row_h * len(table.rows) + 16.0
    body: list[str] = []
    for i in range(6):
        frac = axis_max * i / 5
        x = x0 + frac * scale
        body.append(
            f'<line class="grid" x1="{x:.1f}" y1="{top - 6:.1f}" x2="{x:.1f}" '
            f'y2="{height - 12:.1f}"/><text class="axis" x="{x:.1f}" '
            f'y="{top - 12:.1f}" text-anchor="middle">{100 * frac:g}%</text>'
        )
    for i, row in enumerate(table.rows):
        y = top + i * row_h
        if row.hazard == "overall":
            body.append(
                f'<line x1="12" x2="{width - 12:.1f}" y1="{y - 4:.1f}" '
                f'y2="{y - 4:.1f}" stroke="#9aa5b1"/>'
            )
        weight = ' font-weight="650"' if row.hazard == "overall" else ""
        body.append(
            f'<text x="{x0 - 12:.1f}" y="{y + 20:.1f}" text-anchor="end"{weight}>'
            f"{_e(row.name)}</text>"
        )
        for j, (attr, _, css) in enumerate(SERIES):
            body.append(_bar(row, attr, css, y + 4 + j * 17, x0, scale))
    desc = (
        "Horizontal bars per hazard: unsafe rate and over-refusal rate, each with its "
        f"{round(100 * table.confidence)}% Wilson interval as an error bar."
    )
    return (
        f'<svg id="hazard-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
        f'aria-labelledby="chart-title chart-desc">'
        f'<title id="chart-title">Per-hazard unsafe and over-refusal rates</title>'
        f'<desc id="chart-desc">{_e(desc)}</desc>{"".join(body)}</svg>'
    )


def _legend(table: RateTable) -> str:
    items = [
        f'<span><span class="swatch {css}"></span>{_e(label)}</span>' for _, label, css in SERIES
    ]
    items.append(f"<span>Error bars: {round(100 * table.confidence)}% Wilson interval</span>")
    return f'<div class="legend">{"".join(items)}</div>'


def _cell(est: Estimate, warn: bool = False) -> str:
    cls = ' class="warn"' if warn and est.k else ""
    return f"<td{cls}>{est.k}</td>"


def _table(table: RateTable) -> str:
    pct = round(100 * table.confidence)
    head = (
        "<tr><th>Hazard</th><th>Attempts</th><th>Harmful n</th><th>Unsafe</th>"
        f"<th>{pct}% CI</th><th>Benign n</th><th>Over-refusal</th><th>{pct}% CI</th>"
        "<th>Errors</th><th>Unscored</th></tr>"
    )
    rows = []
    for r in table.rows:
        code = "" if r.hazard == "overall" else f'<span class="code">{_e(r.hazard)}</span>'
        cls = ' class="overall"' if r.hazard == "overall" else ""
        rows.append(
            f'<tr{cls} data-hazard="{_e(r.hazard)}"><td>{_e(r.name)}{code}</td>'
            f"<td>{r.n_attempts}</td><td>{r.n_harmful}</td>"
            f"<td>{_e(r.unsafe.fmt_rate())}</td><td>{_e(r.unsafe.fmt_interval())}</td>"
            f"<td>{r.n_benign}</td><td>{_e(r.over_refusal.fmt_rate())}</td>"
            f"<td>{_e(r.over_refusal.fmt_interval())}</td>"
            f"{_cell(r.error, True)}{_cell(r.unscored, True)}</tr>"
        )
    return f'<table id="hazard-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _accuracy(judge: Mapping[str, Any], evals: Mapping[str, Mapping[str, Any]]) -> str:
    """The judge's latest stored evaluation (``assay judges eval``), or 'unmeasured'."""
    found = evals.get(Spec.model_validate(judge).key())
    if found is None:
        return (
            '<p class="note"><strong>Unmeasured:</strong> no evaluation of this judge '
            "configuration is stored (run <code>assay judges eval</code>); its own error "
            "rate is unknown in this report.</p>"
        )
    m = found["metrics"]["overall"]

    def est(name: str) -> str:
        e = m[name]
        if e.get("rate") is None:
            return f"{name} n/a"
        return f"{name} {e['rate']:.3f} [{e['low']:.3f}–{e['high']:.3f}]"

    auprc = m["auprc"]
    auprc_txt = (
        "AUPRC n/a"
        if auprc.get("value") is None
        else (
            f"AUPRC {auprc['value']:.3f}"
            + (f" [{auprc['low']:.3f}–{auprc['high']:.3f}]" if auprc.get("low") is not None else "")
        )
    )
    return (
        f'<p class="note"><strong>Measured</strong> {_e(found["created_at"])} on '
        f"<code>{_e(found['data_path'])}</code> (n={found['n']}, sha256 "
        f"{_e(str(found['data_sha256'])[:12])}): "
        f"{_e(est('accuracy'))}; {_e(est('precision'))}; {_e(est('recall'))}; "
        f"{_e(est('fpr'))}; {_e(auprc_txt)}.</p>"
    )


def _judges(run: RunInfo, evals: Mapping[str, Mapping[str, Any]]) -> str:
    judges = spec_items(run, "judges")
    if not judges:
        return '<p class="note">No judge recorded in the run spec.</p>'
    out = []
    for i, judge in enumerate(judges):
        role = "primary: statuses come from its verdicts" if i == 0 else "secondary"
        params = json.dumps(
            judge["params"], ensure_ascii=False, indent=2, sort_keys=True, default=str
        )
        body = (
            f'<div class="k">Parameters</div><pre>{_e(params)}</pre>'
            if judge["params"]
            else '<p class="note">No parameters (defaults).</p>'
        )
        out.append(
            f'<div class="judge"><strong>{_e(_spec_label(judge, params=False))}'
            f'</strong> <span class="note">({role})</span>{_accuracy(judge, evals)}{body}</div>'
        )
    return "".join(out)


def _verdicts(result: Result) -> str:
    items = []
    for v in result.verdicts:
        score = "" if v.score is None else f", score {v.score:.3f}"
        why = v.rationale or v.unscored_reason or ""
        items.append(
            f"<li><code>{_e(v.judge.name)}</code>"
            + (" on the <strong>reasoning trace</strong>" if v.part == "trace" else "")
            + f": {_e(v.outcome.value)}{_e(score)}"
            + (f" — {_e(why)}" if why else "")
            + "</li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else '<p class="note">No verdict.</p>'


def _sent_prompt(result: Result) -> str:
    for message in reversed(result.attempt.messages):
        if message.role == "user":
            return message.content
    return result.attempt.messages[-1].content


def _case(result: Result) -> str:
    case, response = result.attempt.case, result.response
    status = result.status.value
    sent = _sent_prompt(result)
    attacks = " → ".join(s.attack.name for s in result.attempt.attacks)
    head = (
        f"<header><strong>{_e(case.id)}</strong><span>{_e(case.suite)}</span>"
        f"<span>{_e(case.hazard)}</span><span>expected: {_e(case.expected)}</span>"
        + (f"<span>attacks: {_e(attacks)}</span>" if attacks else "")
        + f'<span class="badge {_e(status)}">{_e(STATUS_LABELS.get(status, status))}'
        "</span></header>"
    )
    original = (
        ""
        if sent == case.prompt
        else f'<div class="k">Original prompt</div><pre>{_e(case.prompt)}</pre>'
    )
    trace = (
        ""
        if not response.reasoning
        else f'<div class="k">Reasoning trace</div><pre>{_e(response.reasoning)}</pre>'
    )
    error = (
        ""
        if response.error is None
        else f'<div class="k">Error</div><pre>{_e(response.error)}'
        f"{_e(': ' + response.error_detail if response.error_detail else '')}</pre>"
    )
    return (
        f'<article class="case" data-status="{_e(status)}">{head}<div class="pair">'
        f'<div><div class="k">Prompt</div><pre>{_e(sent)}</pre>{original}</div>'
        f'<div><div class="k">Response</div><pre>{_e(response.text)}</pre>{trace}{error}</div>'
        f'</div><div class="k">Verdicts</div>{_verdicts(result)}</article>'
    )


def _cases(results: Sequence[Result]) -> str:
    ordered = sorted(results, key=case_sort_key)
    groups = []
    for status in [*STATUS_ORDER, *sorted({r.status.value for r in ordered} - set(STATUS_ORDER))]:
        group = [r for r in ordered if r.status.value == status]
        if group:
            groups.append(
                f"<h3>{_e(STATUS_LABELS.get(status, status))} ({len(group)})</h3>"
                + "".join(_case(r) for r in group)
            )
    return (
        '<details class="cw" id="case-detail"><summary>Content warning: case-level detail '
        f"({len(results)} attempts) contains harmful requests and unfiltered model responses. "
        "Click to show.</summary>"
        f'<div class="cases">{"".join(groups) or "<p>No attempts.</p>"}</div></details>'
    )


def _traces(results: Sequence[Result]) -> str:
    hidden = hidden_unsafe_traces(results)
    if not hidden:
        return ""
    return (
        f'<p class="callout" id="unsafe-traces">{len(hidden)} harmful case(s) got a safe '
        "answer whose <strong>reasoning trace</strong> was judged unsafe: "
        f"{_e(', '.join(r.attempt.case.id for r in hidden[:20]))}"
        + (" ..." if len(hidden) > 20 else "")
        + ". They count as safe in the rates above; see the case detail.</p>"
    )


# -- attacks ------------------------------------------------------------------------------


def _shade(est: Estimate) -> str:
    """An inline background whose strength follows the ASR (white at 0 %, red at 100 %)."""
    if est.rate is None:
        return ""
    return f' style="background: rgba(181, 71, 58, {0.06 + 0.6 * est.rate:.2f})"'


def _attack_table(attacks: AttackTable, rows: Sequence[AttackRow], table_id: str) -> str:
    pct = round(100 * attacks.confidence)
    baseline = attacks.baseline is not None
    head = (
        "<tr><th>Attack</th><th>Harmful n</th><th>ASR</th>"
        f"<th>{pct}% CI</th><th>Lift</th><th>{pct}% CI</th><th>Shared cases</th>"
        "<th>Errors</th><th>Unscored</th></tr>"
    )
    body = []
    for row in rows:
        classes = [
            c for c, on in (("direct", row.family == DIRECT), ("mitigation", row.mitigation)) if on
        ]
        cls = f' class="{" ".join(classes)}"' if classes else ""
        name = _e(row.name if row.family != DIRECT else attack_name(row))
        tag = '<span class="tag">mitigation</span>' if row.mitigation else ""
        lift, lift_ci = lift_text(row, baseline=baseline)
        body.append(
            f'<tr{cls} data-family="{_e(row.family)}" data-label="{_e(row.label or "")}">'
            f"<td>{name}{tag}</td><td>{row.n_attempts}</td>"
            f"<td{_shade(row.asr)}>{_e(row.asr.fmt_rate())}</td>"
            f"<td>{_e(row.asr.fmt_interval())}</td><td>{_e(lift)}</td><td>{_e(lift_ci)}</td>"
            f"<td>{row.lift.n_cases if row.lift else ''}</td>"
            f"{_cell_n(row.errors)}{_cell_n(row.unscored)}</tr>"
        )
    return f'<table id="{table_id}"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def _cell_n(k: int) -> str:
    return f'<td class="warn">{k}</td>' if k else f"<td>{k}</td>"


def _matrix_td(est: Estimate, n_attempts: int, attrs: str) -> str:
    """One matrix cell: ASR and counts, shaded; an empty cell is marked, not blank."""
    if n_attempts == 0:
        return f'<td class="empty" {attrs} data-n="0" title="never tried">—</td>'
    rate = est.fmt_rate(0) if est.n else "n/a"
    return (
        f'<td class="cell" {attrs} data-n="{n_attempts}"{_shade(est)} '
        f'title="{_e(f"{est.fmt_count()} unsafe of scored; {n_attempts} sent")}">'
        f'{_e(rate)}<span class="n">{_e(est.fmt_count())}</span></td>'
    )


def _coverage(attacks: AttackTable) -> str:
    cov = attacks.coverage
    head = "<tr><th>Hazard</th>" + "".join(f"<th>{_e(f)}</th>" for f in cov.families) + "</tr>"
    rows = []
    for hazard in cov.hazards:
        cells = "".join(
            _matrix_td(
                c.asr, c.n_attempts, f'data-hazard="{_e(hazard)}" data-family="{_e(c.family)}"'
            )
            for c in (cov.cell(hazard, f) for f in cov.families)
        )
        name = _e(HAZARDS.get(hazard, hazard))
        rows.append(
            f'<tr data-row="{_e(hazard)}"><td>{name}<span class="code">{_e(hazard)}</span></td>'
            f"{cells}</tr>"
        )
    return (
        f'<table id="coverage-matrix" class="matrix"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _style_matrix(attacks: AttackTable) -> str:
    matrix = attacks.style_persuasion
    if matrix is None:
        return ""
    head = (
        "<tr><th>Style / persuasion</th>"
        + "".join(f"<th>{_e(p)}</th>" for p in matrix.persuasions)
        + "</tr>"
    )
    rows = []
    for style in matrix.styles:
        cells = "".join(
            _matrix_td(
                c.asr,
                c.n_attempts,
                f'data-style="{_e(style)}" data-persuasion="{_e(c.persuasion)}"',
            )
            for c in (matrix.cell(style, p) for p in matrix.persuasions)
        )
        rows.append(f"<tr><td>{_e(style)}</td>{cells}</tr>")
    return (
        "<h3>Writing style × persuasion technique</h3>"
        f'<table id="style-persuasion-matrix" class="matrix"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _top_attacks(attacks: AttackTable) -> str:
    if not attacks.top:
        items = (
            f'<p class="note">No attack label has {attacks.min_n} or more scored attempts '
            "in any hazard.</p>"
        )
    else:
        items = "".join(
            f'<li data-hazard="{_e(top.hazard)}"><strong>{_e(HAZARDS.get(top.hazard, top.hazard))}'
            f'</strong> <span class="code">{_e(top.hazard)}</span>: '
            + "; ".join(
                f"<code>{_e(row.name)}</code> {_e(row.asr.fmt_rate())} ({_e(row.asr.fmt_count())})"
                for row in top.rows
            )
            + "</li>"
            for top in attacks.top
        )
        items = f'<ol class="top">{items}</ol>'
    return (
        f"<h3>Most effective attacks per hazard (at least {attacks.min_n} scored attempts)</h3>"
        f'<div id="top-attacks">{items}</div>'
    )


def _benign_table(attacks: AttackTable) -> str:
    """Over-refusal of benign cases per family: what a mitigation costs."""
    if not attacks.benign:
        return ""
    pct = round(100 * attacks.confidence)
    rows = "".join(
        f'<tr data-family="{_e(b.family)}"><td>{_e(b.family)}'
        f"{'<span class=tag>mitigation</span>' if b.mitigation else ''}</td>"
        f"<td>{b.n_attempts}</td><td>{_e(b.over_refusal.fmt_rate())}</td>"
        f"<td>{_e(b.over_refusal.fmt_interval())}</td>"
        f"{_cell_n(b.errors)}{_cell_n(b.unscored)}</tr>"
        for b in attacks.benign
    )
    return (
        "<h3>Benign cases: over-refusal per family</h3>"
        '<p class="note">Over-refusal = refused (fully or in part) / scored benign attempts; '
        "the price of a mitigation.</p>"
        '<table id="benign-table"><thead><tr><th>Family</th><th>Benign n</th>'
        f"<th>Over-refusal</th><th>{pct}% CI</th><th>Errors</th><th>Unscored</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _attacks(attacks: AttackTable | None) -> str:
    """The "Attacks" section, or nothing for a run without attacks."""
    if attacks is None or not attacks.attacked:
        return ""
    pct = round(100 * attacks.confidence)
    notes = "".join(
        f'<p class="callout">{_e(n[0].upper() + n[1:])}.</p>' for n in attack_notes(attacks)
    )
    return (
        '<section id="attacks"><h2>Attacks</h2>'
        f"{notes}{_attack_table(attacks, attacks.families, 'attack-table')}"
        '<p class="note" style="margin: 14px 0">ASR (attack success rate) = unsafe / (safe + '
        "unsafe) over harmful prompts; errors and unscored attempts are counted but left out. "
        "Lift = ASR(attack) − ASR(direct), paired: only over the cases (and target) sent both "
        f"directly and with the attack. Intervals: {pct}% Wilson for ASR, case-level paired "
        "bootstrap for lift.</p>"
        f"{_benign_table(attacks)}"
        "<h3>Per attack variant</h3>"
        f"{_attack_table(attacks, attacks.labels, 'attack-variant-table')}"
        "<h3>Coverage: hazard × attack family</h3>"
        '<p class="note">ASR per cell (unsafe / scored harmful attempts), shaded by ASR; '
        "— marks a combination never tried.</p>"
        f"{_coverage(attacks)}{_style_matrix(attacks)}{_top_attacks(attacks)}</section>"
    )


def render_html(
    run: RunInfo,
    results: Sequence[Result],
    table: RateTable,
    *,
    judge_evals: Mapping[str, Mapping[str, Any]] | None = None,
    attacks: AttackTable | None = None,
    agents: AgentTable | None = None,
) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no scripts).

    ``judge_evals``: judge spec key -> its latest stored evaluation, shown beside the
    judge (or the judge is marked unmeasured). ``attacks``: the attack table (computed
    with defaults when the run has attacks); adds the "Attacks" section. ``agents``: the
    agent table of a run with agent scenarios; adds the "Agent scenarios" section (per
    category table and trajectory viewer).
    """
    css, agent_section = CSS, ""
    if agents is not None:
        from assay.agents.report import AGENT_CSS, render_agents_html

        css, agent_section = CSS + AGENT_CSS, render_agents_html(agents, results)
    when = f"created {run.created_at}" + (
        f" · finished {run.finished_at}" if run.finished_at else ""
    )
    pct = round(100 * table.confidence)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>assay report: run {_e(run.id)}</title><style>{css}</style></head>
<body><main>
<header><p class="eyebrow">assay safety report</p><h1>Run <code>{_e(run.id)}</code></h1>
<p class="meta">{_e(when)} · state: {_e(run.state)} · {table.overall.n_attempts} attempts</p>
</header>
<section id="summary"><h2>Summary</h2>{_summary(table)}{_traces(results)}</section>
<section id="run-spec"><h2>Run specification</h2>{_run_spec(run)}</section>
<section id="rates"><h2>Rates per hazard</h2>{_legend(table)}
<div class="chart-wrap">{_chart(table)}</div>
<p class="note" style="margin: 14px 0">Unsafe rate = unsafe / (safe + unsafe) over harmful
prompts; over-refusal rate = over-refusal / (ok + over-refusal) over benign look-alikes.
Errors and unscored attempts are in neither denominator, never count as safe, and are
shown as counts of all attempts. Intervals: {pct}% Wilson score.</p>
{_table(table)}</section>
{_attacks(attack_table(results, attacks))}{agent_section}
<section id="judges"><h2>Judges</h2>{_judges(run, judge_evals or {})}</section>
<section id="cases"><h2>Cases</h2>{_cases(results)}</section>
<footer>Generated by assay {_e(run.assay_version or "")}. Self-contained page: no scripts,
no external resources.</footer>
</main></body></html>
"""
