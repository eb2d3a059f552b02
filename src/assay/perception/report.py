"""The robustness report: JSON, Markdown and one self-contained HTML page.

The HTML page follows :mod:`assay.report.html`: inline CSS and inline SVG, no JavaScript,
nothing fetched, so it renders the same offline and years later. Every piece of text
(model, baseline and corruption names come from users) is escaped with
:func:`html.escape`. Stable element ids for tests and tooling: ``#robustness-headline``,
``#severity-curves`` (one ``<svg class="severity-curve" data-corruption=...>`` per
corruption), ``#mce-table``, ``#accuracy-table`` and, when any cell carries conformal
figures, ``#abstention-table``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assay.errors import InputError
from assay.metrics.intervals import Estimate
from assay.perception.robustness import (
    ABSTENTION_FIELDS,
    CLEAN,
    Cell,
    MeanOver,
    RobustnessSummary,
)

ABSTENTION_LABELS = {
    "coverage": "Coverage",
    "min_class_coverage": "Worst-class coverage",
    "mean_set_size": "Mean set size",
    "empty_rate": "Empty sets",
    "abstention_rate": "Abstention",
    "selective_accuracy": "Selective accuracy",
}

CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #52606d; --line: #d9dee3;
  --panel: #f6f7f9; --model: #3f6f9f; --band: #3f6f9f; --base: #b5473a;
  --warn: #8a5a00; --warn-bg: #fff4dc; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink);
  font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
  Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 26px; margin: 4px 0 6px; font-weight: 650; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); font-weight: 620; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 12px;
  color: var(--muted); margin: 0; font-weight: 600; }
.meta, .note { color: var(--muted); font-size: 13.5px; margin: 4px 0; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; }
.card .label { font-size: 12.5px; color: var(--muted); font-weight: 600; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; }
.card .sub { font-size: 12.5px; color: var(--muted); }
.callout { margin: 14px 0 0; padding: 10px 14px; border-left: 4px solid #d69e2e;
  background: var(--warn-bg); border-radius: 4px; font-size: 14px; }
.curves { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.curve { border: 1px solid var(--line); border-radius: 8px; padding: 6px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; fill: var(--ink); font-size: 12px; }
svg .title { font-size: 13px; font-weight: 600; }
svg .axis { font-size: 10.5px; fill: var(--muted); }
svg .grid { stroke: #e8ebee; } svg .frame { stroke: #9aa5b1; fill: none; }
svg .band { fill: var(--band); fill-opacity: .18; stroke: none; }
svg .model { stroke: var(--model); stroke-width: 2; fill: none; }
svg .model-pt { fill: var(--model); }
svg .baseline { stroke: var(--base); stroke-width: 1.6; stroke-dasharray: 5 3; fill: none; }
svg .baseline-pt { fill: var(--base); }
.legend { display: flex; gap: 22px; font-size: 13px; color: var(--muted); margin: 8px 0; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: 4px;
  margin-right: 6px; }
.swatch.model { background: var(--model); } .swatch.base { background: var(--base); }
.swatch.band { background: rgba(63, 111, 159, .25); height: 10px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 7px 9px; border-bottom: 1px solid var(--line); text-align: right;
  font-variant-numeric: tabular-nums; }
th { background: var(--panel); font-weight: 600; color: #323f4b; font-size: 12.5px; }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; }
td .ci { display: block; font-size: 11.5px; color: var(--muted); }
td.warn { color: var(--warn); background: var(--warn-bg); font-weight: 650; }
td.empty { color: #9aa5b1; background: #fafbfc; }
tr.overall td { font-weight: 650; border-top: 2px solid #9aa5b1; }
tr.worst td:first-child { color: var(--base); font-weight: 650; }
footer { margin-top: 40px; font-size: 13px; color: var(--muted); }
@media (max-width: 760px) { .cards, .curves { grid-template-columns: 1fr 1fr; } }
"""

# Severity-curve geometry, in SVG user units.
W, H = 300, 210
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 40


def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100.0 * value:.{digits}f}%"


def _mean_text(mean: MeanOver, total: int) -> str:
    """``"87.5%"``, with the corruptions left out when the mean is over fewer."""
    text = _pct(mean.value)
    if mean.excluded and mean.value is not None:
        text += f" (over {total - len(mean.excluded)} of {total})"
    return text


def _excluded_note(label: str, mean: MeanOver) -> str | None:
    if not mean.excluded:
        return None
    return f"{label} leaves out {', '.join(mean.excluded)}: undefined there (see the formulas)."


def _name(value: str | None, default: str) -> str:
    return default if value is None else value


def write_json(summary: RobustnessSummary, path: str | Path) -> Path:
    """Write ``summary.to_dict()`` as indented UTF-8 JSON to ``path``; returns the path."""
    out = Path(path)
    out.write_text(
        json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return out


def read_json(path: str | Path) -> RobustnessSummary:
    """Read a summary written by :func:`write_json` (to re-render it).

    Raises:
        InputError: the file is not JSON or not a robustness summary.
    """
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read a JSON report: {exc}", source=str(source)) from exc
    if not isinstance(data, dict):
        raise InputError("a robustness report must be a JSON object", source=str(source))
    return RobustnessSummary.from_dict(data)


def write_html(summary: RobustnessSummary, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path``; returns the path."""
    out = Path(path)
    out.write_text(render_html(summary), encoding="utf-8")
    return out


# ---------------------------------------------------------------- Markdown


def _md(value: object) -> str:
    """Make text safe inside a Markdown table cell (pipes, newlines, markup)."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(html.escape(text, quote=False).split())


def _md_cell(cell: Cell | None) -> str:
    if cell is None:
        return "–"
    text = f"{cell.accuracy.fmt_rate()} ({cell.accuracy.fmt_interval()})"
    return text + (f", {cell.errors} err" if cell.errors else "")


def _severity_columns(summary: RobustnessSummary) -> list[int]:
    return sorted({c.severity for c in summary.cells if c.corruption != CLEAN})


def render_markdown(summary: RobustnessSummary) -> str:
    """The report as Markdown: headline, the mCE/mRR table and the accuracy table.

    The accuracy table has one row per corruption (clean first) and one column per
    severity; each entry is ``accuracy (Wilson 95 % interval)`` plus the error count
    when the target errored.
    """
    s = summary
    total = len(s.corruptions)
    lines = [f"# Robustness report: {_md(_name(s.model_name, 'model'))}", ""]
    if s.baseline_name is not None or s.has_baseline:
        lines += [f"Baseline: {_md(_name(s.baseline_name, 'baseline'))}", ""]
    clean = "n/a" if s.clean is None else f"{s.clean.fmt_rate()} ({s.clean.fmt_interval()})"
    lines += [
        f"- Clean accuracy: {clean}",
        f"- mCE: {_mean_text(s.mce, total)}",
        f"- Relative mCE: {_mean_text(s.relative_mce, total)}",
        f"- mRR: {_mean_text(s.mrr, total)}",
        f"- Worst corruption: {_md(s.worst_corruption or 'n/a')}",
        f"- Worst cell: {_worst_cell_text(s, _md)}",
        f"- Errored predictions (counted as wrong): {s.errors} of {s.n}",
        "",
        "| corruption | mean accuracy | CE | relative CE | RR | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in s.corruptions:
        lines.append(
            f"| {_md(row.corruption)} | {_pct(row.mean_accuracy)} | {_pct(row.ce)} | "
            f"{_pct(row.relative_ce)} | {_pct(row.rr)} | {row.errors}/{row.n} |"
        )
    lines.append(
        f"| **mean** | {_pct(_avg([r.mean_accuracy for r in s.corruptions]))} | "
        f"{_mean_text(s.mce, total)} | {_mean_text(s.relative_mce, total)} | "
        f"{_mean_text(s.mrr, total)} | {sum(r.errors for r in s.corruptions)}"
        f"/{sum(r.n for r in s.corruptions)} |"
    )
    for label, mean in (("mCE", s.mce), ("Relative mCE", s.relative_mce), ("mRR", s.mrr)):
        note = _excluded_note(label, mean)
        if note:
            lines += ["", f"_{_md(note)}_"]
    severities = _severity_columns(s)
    lines += ["", "Accuracy (Wilson 95% interval) per corruption and severity:", ""]
    lines.append("| corruption | " + " | ".join(f"s{v}" for v in [0, *severities]) + " |")
    lines.append("|---|" + "---:|" * (len(severities) + 1))
    for name, by_sev in _grid(s.cells):
        cols = [_md_cell(by_sev.get(v)) for v in [0, *severities]]
        lines.append(f"| {_md(name)} | " + " | ".join(cols) + " |")
    if s.has_abstention:
        lines += ["", "Calibrated abstention per cell:"]
        lines += ["", "| cell | " + " | ".join(ABSTENTION_LABELS.values()) + " |"]
        lines.append("|---|" + "---:|" * len(ABSTENTION_FIELDS))
        for cell in s.cells:
            if cell.abstention is not None:
                figs = cell.abstention.to_dict()
                cols = [_fig(f, figs[f]) for f in ABSTENTION_FIELDS]
                lines.append(
                    f"| {_md(cell.corruption)} s{cell.severity} | " + " | ".join(cols) + " |"
                )
    if s.per_class:
        lines += ["", "Accuracy per true class:", ""]
        lines += ["| class | clean | corrupted (pooled) |", "|---|---:|---:|"]
        for c in s.per_class:
            lines.append(
                f"| {_md(_class_name(c.label, c.name))} | {_est(c.clean)} | {_est(c.corrupted)} |"
            )
    return "\n".join(lines) + "\n"


def _est(est: Estimate) -> str:
    return f"{est.fmt_rate()} ({est.fmt_interval()}, {est.fmt_count()})"


def _class_name(label: int, name: str | None) -> str:
    return str(label) if name is None else f"{label} {name}"


def _worst_cell_text(s: RobustnessSummary, esc: Callable[[object], str]) -> str:
    if s.worst_cell is None:
        return "n/a"
    cell = s.cell(*s.worst_cell)
    return (
        f"{esc(cell.corruption)} at severity {cell.severity}, accuracy "
        f"{cell.accuracy.fmt_rate()} ({cell.accuracy.fmt_interval()})"
    )


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fig(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if name == "mean_set_size" else _pct(value)


def _grid(cells: Sequence[Cell]) -> list[tuple[str, dict[int, Cell]]]:
    """Cells grouped by corruption (input order, clean first), keyed by severity."""
    rows: dict[str, dict[int, Cell]] = {}
    for cell in cells:
        rows.setdefault(cell.corruption, {})[cell.severity] = cell
    return list(rows.items())


# ---------------------------------------------------------------- HTML


def _card(label: str, value: str, sub: str) -> str:
    return (
        f'<div class="card"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="sub">{_e(sub)}</div></div>'
    )


def _headline(s: RobustnessSummary) -> str:
    total = len(s.corruptions)
    base = _name(s.baseline_name, "the baseline")
    clean_sub = (
        "no clean predictions"
        if s.clean is None
        else (f"95% CI {s.clean.fmt_interval()} · {s.clean.fmt_count()}")
    )
    worst = s.row(s.worst_corruption) if s.worst_corruption is not None else None
    cards = [
        _card("Clean accuracy", "n/a" if s.clean is None else s.clean.fmt_rate(), clean_sub),
        _card(
            "mCE",
            _mean_text(s.mce, total),
            f"vs {base} (100% = as robust)" if s.has_baseline else "no baseline given",
        ),
        _card("mRR", _mean_text(s.mrr, total), "mean accuracy under corruption / clean"),
        _card(
            "Worst corruption",
            "n/a" if worst is None else worst.corruption,
            "" if worst is None else f"mean accuracy {_pct(worst.mean_accuracy)}",
        ),
    ]
    out = f'<section id="robustness-headline"><div class="cards">{"".join(cards)}</div>'
    out += f'<p class="note">Worst cell: {_worst_cell_text(s, _e)}.</p>'
    if s.errors:
        out += (
            f'<p class="callout">{s.errors} of {s.n} prediction(s) errored. They count as '
            "wrong in every accuracy and are shown in the error columns.</p>"
        )
    for label, mean in (("mCE", s.mce), ("Relative mCE", s.relative_mce), ("mRR", s.mrr)):
        note = _excluded_note(label, mean)
        if note:
            out += f'<p class="note">{_e(note)}</p>'
    return out + "</section>"


def _x(severity: float, top: int) -> float:
    return LEFT + (W - LEFT - RIGHT) * (severity / top if top else 0.5)


def _y(accuracy: float) -> float:
    return TOP + (H - TOP - BOTTOM) * (1.0 - accuracy)


def _points(series: Sequence[tuple[int, float]], top: int) -> str:
    return " ".join(f"{_x(s, top):.1f},{_y(a):.1f}" for s, a in series)


def _series(cells: Sequence[Cell], clean: Cell | None) -> list[tuple[int, Cell]]:
    out = [] if clean is None else [(0, clean)]
    return out + [(c.severity, c) for c in sorted(cells, key=lambda c: c.severity)]


def _svg(name: str, model: Sequence[Cell], baseline: Sequence[Cell], s: RobustnessSummary) -> str:
    """One severity curve: accuracy vs severity 0..S, Wilson band, model and baseline."""
    clean = next((c for c in s.cells if c.corruption == CLEAN), None)
    base_clean = next((c for c in s.baseline_cells if c.corruption == CLEAN), None)
    ours = _series(model, clean)
    top = max(c.severity for c in model)
    parts = [
        f'<svg class="severity-curve" data-corruption="{_e(name)}" viewBox="0 0 {W} {H}" '
        f'role="img" aria-label="{_e(f"Accuracy vs severity under {name}")}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<text class="title" x="{LEFT}" y="16">{_e(name)}</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = _y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 5}" y="{y + 3.5:.1f}" text-anchor="end">'
            f"{int(tick * 100)}%</text>"
        )
    for sev in range(top + 1):
        parts.append(
            f'<text class="axis" x="{_x(sev, top):.1f}" y="{H - BOTTOM + 14}" '
            f'text-anchor="middle">{sev}</text>'
        )
    parts.append(
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" '
        f'height="{H - TOP - BOTTOM}"/>'
        f'<text class="axis" x="{(LEFT + W - RIGHT) / 2:.1f}" y="{H - 6}" '
        'text-anchor="middle">severity (0 = clean)</text>'
        f'<text class="axis" transform="translate(11 {(TOP + H - BOTTOM) / 2:.1f}) rotate(-90)" '
        'text-anchor="middle">accuracy</text>'
    )
    lows = [(sev, c.accuracy.low) for sev, c in ours]
    highs = [(sev, c.accuracy.high) for sev, c in reversed(ours)]
    parts.append(f'<polygon class="band" points="{_points(lows + highs, top)}"/>')
    if baseline:
        theirs = _series(baseline, base_clean)
        pts = [(sev, c.correct / c.n) for sev, c in theirs]
        parts.append(f'<polyline class="baseline" points="{_points(pts, top)}"/>')
        parts += [
            _dot("baseline-pt", sev, c, top, s.baseline_name or "baseline") for sev, c in theirs
        ]
    pts = [(sev, c.correct / c.n) for sev, c in ours]
    parts.append(f'<polyline class="model" points="{_points(pts, top)}"/>')
    parts += [_dot("model-pt", sev, c, top, s.model_name or "model") for sev, c in ours]
    return "".join(parts) + "</svg>"


def _dot(css: str, sev: int, cell: Cell, top: int, who: str) -> str:
    acc = cell.correct / cell.n
    tip = (
        f"{who}, {cell.corruption} severity {cell.severity}: {cell.accuracy.fmt_rate()} "
        f"({cell.accuracy.fmt_interval()}), {cell.accuracy.fmt_count()}"
    )
    return (
        f'<circle class="{css}" cx="{_x(sev, top):.1f}" cy="{_y(acc):.1f}" r="3">'
        f"<title>{_e(tip)}</title></circle>"
    )


def _curves(s: RobustnessSummary) -> str:
    legend = (
        '<div class="legend"><span><span class="swatch model"></span>'
        f"{_e(_name(s.model_name, 'model'))}</span>"
        '<span><span class="swatch band"></span>Wilson 95% interval</span>'
    )
    if s.has_baseline:
        legend += (
            f'<span><span class="swatch base"></span>{_e(_name(s.baseline_name, "baseline"))}'
            "</span>"
        )
    legend += "</div>"
    model = dict(_grid(s.cells))
    base = dict(_grid(s.baseline_cells))
    svgs = []
    for row in s.corruptions:
        ours = list(model[row.corruption].values())
        # only the baseline's cells the model has: CE compares those, and the axis ends there
        theirs = [c for v, c in base.get(row.corruption, {}).items() if v in model[row.corruption]]
        svgs.append(f'<div class="curve">{_svg(row.corruption, ours, theirs, s)}</div>')
    return (
        f'<section id="severity-curves"><h2>Accuracy vs severity</h2>{legend}'
        f'<div class="curves">{"".join(svgs)}</div></section>'
    )


def _mce_table(s: RobustnessSummary) -> str:
    total = len(s.corruptions)
    head = (
        "<tr><th>Corruption</th><th>Mean accuracy</th><th>CE</th><th>Relative CE</th>"
        "<th>RR</th><th>Errors</th></tr>"
    )
    rows = []
    for r in s.corruptions:
        css = ' class="worst"' if r.corruption == s.worst_corruption else ""
        err = ' class="warn"' if r.errors else ""
        rows.append(
            f"<tr{css}><td>{_e(r.corruption)}</td><td>{_pct(r.mean_accuracy)}</td>"
            f"<td>{_pct(r.ce)}</td><td>{_pct(r.relative_ce)}</td><td>{_pct(r.rr)}</td>"
            f"<td{err}>{r.errors}/{r.n}</td></tr>"
        )
    rows.append(
        f'<tr class="overall"><td>Mean</td>'
        f"<td>{_pct(_avg([r.mean_accuracy for r in s.corruptions]))}</td>"
        f"<td>{_e(_mean_text(s.mce, total))}</td>"
        f"<td>{_e(_mean_text(s.relative_mce, total))}</td>"
        f"<td>{_e(_mean_text(s.mrr, total))}</td>"
        f"<td>{sum(r.errors for r in s.corruptions)}/{sum(r.n for r in s.corruptions)}</td></tr>"
    )
    note = (
        '<p class="note">CE = summed error over severities / the baseline\'s; relative CE the '
        "same for the drop from clean; RR = mean accuracy under the corruption / clean "
        "accuracy. mCE, relative mCE and mRR are their means over corruptions.</p>"
    )
    return (
        f'<section><h2>mCE and mRR</h2><table id="mce-table"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{note}</section>"
    )


def _acc_td(cell: Cell | None) -> str:
    if cell is None:
        return '<td class="empty">–</td>'
    est: Estimate = cell.accuracy
    err = f", {cell.errors} err" if cell.errors else ""
    css = ' class="warn"' if cell.errors else ""
    return (
        f'<td{css}>{_e(est.fmt_rate())}<span class="ci">{_e(est.fmt_interval())} · '
        f"{_e(est.fmt_count())}{_e(err)}</span></td>"
    )


def _accuracy_table(s: RobustnessSummary) -> str:
    severities = [0, *_severity_columns(s)]
    head = "<tr><th>Corruption</th>" + "".join(
        f"<th>{'clean' if v == 0 else f'severity {v}'}</th>" for v in severities
    )
    rows = [
        f"<tr><td>{_e(name)}</td>" + "".join(_acc_td(by.get(v)) for v in severities) + "</tr>"
        for name, by in _grid(s.cells)
    ]
    return (
        '<section><h2>Accuracy per corruption and severity</h2><table id="accuracy-table">'
        f"<thead>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<p class="note">Accuracy with its Wilson 95% interval over samples, correct/n; '
        "errored predictions count as wrong.</p></section>"
    )


def _abstention_table(s: RobustnessSummary) -> str:
    head = "<tr><th>Corruption</th><th>Severity</th>" + "".join(
        f"<th>{_e(ABSTENTION_LABELS[f])}</th>" for f in ABSTENTION_FIELDS
    )
    rows = []
    for cell in s.cells:
        if cell.abstention is None:
            continue
        figs = cell.abstention.to_dict()
        rows.append(
            f"<tr><td>{_e(cell.corruption)}</td><td>{cell.severity}</td>"
            + "".join(f"<td>{_e(_fig(f, figs[f]))}</td>" for f in ABSTENTION_FIELDS)
            + "</tr>"
        )
    return (
        '<section><h2>Calibrated abstention</h2><table id="abstention-table">'
        f"<thead>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _class_table(s: RobustnessSummary) -> str:
    head = "<tr><th>Class</th><th>Clean</th><th>Corrupted (pooled)</th></tr>"
    rows = "".join(
        f"<tr><td>{_e(_class_name(c.label, c.name))}</td><td>{_e(_est(c.clean))}</td>"
        f"<td>{_e(_est(c.corrupted))}</td></tr>"
        for c in s.per_class
    )
    return (
        '<section><h2>Accuracy per true class</h2><table id="per-class-table">'
        f"<thead>{head}</thead><tbody>{rows}</tbody></table></section>"
    )


def render_html(summary: RobustnessSummary) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no JavaScript).

    Sections: the headline (clean accuracy, mCE, mRR, worst corruption), a severity
    curve per corruption (accuracy vs severity with the Wilson band, the clean point at
    severity 0, and the baseline dashed when given), the mCE/mRR table, the accuracy table
    and, when any cell carries conformal figures, the abstention table.
    """
    s = summary
    model = _name(s.model_name, "model")
    meta = f"Model: <strong>{_e(model)}</strong>"
    if s.has_baseline:
        meta += f" · Baseline: <strong>{_e(_name(s.baseline_name, 'baseline'))}</strong>"
        if s.baseline_clean is not None:
            meta += f" (clean accuracy {_e(s.baseline_clean.fmt_rate())})"
    meta += f" · {s.n} predictions, {len(s.corruptions)} corruption(s)"
    body = [
        '<p class="eyebrow">assay · perception robustness</p>',
        f"<h1>Robustness of {_e(model)}</h1>",
        f'<p class="meta">{meta}</p>',
        _headline(s),
        _curves(s) if s.corruptions else '<section id="severity-curves"></section>',
        _mce_table(s),
        _accuracy_table(s),
    ]
    if s.has_abstention:
        body.append(_abstention_table(s))
    if s.per_class:
        body.append(_class_table(s))
    body.append(
        "<footer>Generated by assay. Formulas: Robo3D (RR), ImageNet-C / "
        "ModelNet-C (CE, relative CE).</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(f'Robustness report: {model}')}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def render_calibration_md(info: Mapping[str, Any]) -> str:
    """The calibration section (Markdown): how abstention was fitted, ECE and OOD AUROC."""
    lines = [
        "## Calibration",
        "",
        f"Conformal {info['method'].upper()} sets, alpha {info['alpha']}, fitted on "
        f"{info['n_calibration']} clean answers; evaluated on {info['n_evaluation']} other "
        f"samples; confidence threshold {info['min_confidence']:.3f} "
        f"(target selective risk {info['target_risk']}).",
        "",
        "| cell | ECE | OOD AUROC (max softmax) | OOD AUROC (energy) |",
        "|---|---|---|---|",
    ]
    for cell, value in info["ece"].items():
        ood = info["ood_auroc"].get(cell, {})
        msp, en = ood.get("max_softmax"), ood.get("energy")
        lines.append(
            f"| {cell} | {value:.3f} | {'-' if msp is None else f'{msp:.3f}'} | "
            f"{'-' if en is None else f'{en:.3f}'} |"
        )
    return "\n".join(lines) + "\n"


def render_calibration_html(info: Mapping[str, Any]) -> str:
    """The calibration section (HTML, ``#calibration-table``); text escaped."""
    rows = []
    for cell, value in info["ece"].items():
        ood = info["ood_auroc"].get(cell, {})
        msp, en = ood.get("max_softmax"), ood.get("energy")
        rows.append(
            f"<tr><td>{_e(cell)}</td><td>{value:.3f}</td>"
            f"<td>{'-' if msp is None else f'{msp:.3f}'}</td>"
            f"<td>{'-' if en is None else f'{en:.3f}'}</td></tr>"
        )
    return (
        '<section id="calibration"><h2>Calibration and OOD scores</h2>'
        f"<p>Conformal {_e(str(info['method']).upper())} sets at alpha {info['alpha']} "
        f"fitted on {info['n_calibration']} clean answers, evaluated on "
        f"{info['n_evaluation']} other samples; confidence threshold "
        f"{info['min_confidence']:.3f}. ECE per cell; AUROC of telling clean samples from "
        "each corruption by the score (0.5: cannot tell).</p>"
        '<table id="calibration-table"><thead><tr><th>cell</th><th>ECE</th>'
        "<th>AUROC max softmax</th><th>AUROC energy</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )
