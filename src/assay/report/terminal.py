"""Terminal output with rich: the per-hazard table, and a run-vs-run comparison.

Errors and unscored attempts are coloured so they cannot be missed, and a caption says
what the rates are rates *of*: a 0 % unsafe rate over 3 scored attempts out of 100 is
not good news, and the table makes that visible.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from assay.core.records import RunInfo
from assay.metrics.attacks import DIRECT, AttackTable
from assay.metrics.compare import Comparison, PairedRate
from assay.metrics.intervals import Estimate
from assay.metrics.rates import RateTable
from assay.report.json_report import attack_name, attack_notes, lift_text, spec_items, spec_label

DENOMINATORS = (
    "Unsafe = unsafe / (safe + unsafe) harmful attempts; over-refusal = over_refusal / "
    "(ok + over_refusal) benign attempts. Errors and unscored are in neither denominator "
    "and never count as safe."
)
SHORT = "Harm/Benign: attempts; CI: Wilson 95% interval; Err: errors; Unsc: unscored."


def _count(est: Estimate, style: str) -> Text:
    """A count, in ``style`` when non-zero so problems stand out."""
    return Text(str(est.k), style=style if est.k else "dim")


def _rate(est: Estimate, style: str) -> Text:
    return Text(est.fmt_rate(), style=style if est.rate else "")


def render_terminal(
    run: RunInfo, table: RateTable, console: Console, *, attacks: AttackTable | None = None
) -> None:
    """Print the run header, the per-hazard rate table and the denominators line.

    With ``attacks`` (of a run that had attacks), the compact attack table follows.
    """
    targets = ", ".join(spec_label(t, params=False) for t in spec_items(run, "targets"))
    judges = ", ".join(spec_label(j, params=False) for j in spec_items(run, "judges"))
    pct = round(100 * table.confidence)
    wide = console.width >= 120
    digits = 1 if wide else 0
    grid = Table(
        title=f"Run {run.id}",
        caption=DENOMINATORS if wide else f"{SHORT} {DENOMINATORS}",
        caption_justify="left",
        title_justify="left",
        expand=False,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    grid.add_column("Hazard", no_wrap=True)
    full = (
        "Harmful",
        "Unsafe",
        f"{pct}% CI",
        "Benign",
        "Over-refusal",
        f"{pct}% CI",
        "Errors",
        "Unscored",
    )
    short = ("Harm", "Unsafe", "CI", "Benign", "Over-ref", "CI", "Err", "Unsc")
    for name in full if wide else short:
        grid.add_column(name, justify="right", no_wrap=True)
    for row in table.rows:
        overall = row.hazard == "overall"
        label = row.name if overall else (f"{row.name} ({row.hazard})" if wide else row.hazard)
        grid.add_row(
            Text(label, style="bold" if overall else ""),
            str(row.n_harmful),
            _rate(row.unsafe, "bold red"),
            row.unsafe.fmt_interval(digits),
            str(row.n_benign),
            _rate(row.over_refusal, "bold blue"),
            row.over_refusal.fmt_interval(digits),
            _count(row.error, "bold yellow"),
            _count(row.unscored, "bold magenta"),
            end_section=row is table.rows[-2],
        )
    console.print(
        f"targets: {targets or 'none'}   judges: {judges or 'none'}   seed: {run.seed}",
        highlight=False,
    )
    console.print(grid)
    worst = table.overall.unsafe_worst
    if worst.k > table.overall.unsafe.k:
        console.print(
            f"[yellow]Worst case:[/] {worst.fmt_rate()} unsafe ({worst.k}/{worst.n}) if every "
            "errored or unscored harmful attempt were unsafe.",
            highlight=False,
        )
    if attacks is not None and attacks.attacked:
        render_attacks_terminal(attacks, console)


def render_attacks_terminal(attacks: AttackTable, console: Console) -> None:
    """Print one line per attack family: harmful n, ASR with interval, paired lift.

    Names come from user files, so they go in as :class:`Text` (never parsed as markup).
    """
    wide = console.width >= 100
    grid = Table(
        title="Attacks",
        caption="ASR = unsafe / (safe + unsafe) harmful attempts; lift = ASR(attack) - "
        "ASR(direct), paired over the cases run both ways.",
        caption_justify="left",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    grid.add_column("Attack")
    columns = ("n", "ASR", "CI", "Lift", "Lift CI", "Err", "Unsc") if wide else ("n", "ASR", "Lift")
    for name in columns:
        grid.add_column(name, justify="right", no_wrap=True)
    baseline = attacks.baseline is not None
    for row in attacks.families:
        lift, lift_ci = lift_text(row, baseline=baseline)
        lift_style = ""
        if row.lift is not None and row.lift.delta:
            lift_style = "red" if row.lift.delta > 0 else "green"
        cells: list[Text | str] = [
            Text(attack_name(row), style="bold" if row.family == DIRECT else ""),
            str(row.n_attempts),
            _rate(row.asr, "bold red"),
        ]
        if wide:
            cells.append(row.asr.fmt_interval())
        cells.append(Text(lift, style=lift_style))
        if wide:
            cells += [
                lift_ci,
                Text(str(row.errors), style="bold yellow" if row.errors else "dim"),
                Text(str(row.unscored), style="bold magenta" if row.unscored else "dim"),
            ]
        grid.add_row(*cells)
    console.print(grid)
    if attacks.benign:
        line = ", ".join(
            f"{b.family} {b.over_refusal.fmt_rate()} of {b.over_refusal.n}" for b in attacks.benign
        )
        console.print(Text(f"Over-refusal of benign cases per family: {line}"))
    for note in attack_notes(attacks):
        console.print(Text(f"Note: {note}.", style="yellow"))


def _delta(rate: PairedRate) -> Text:
    if rate.delta is None:
        return Text("n/a", style="dim")
    style = "red" if rate.delta > 0 else "green" if rate.delta < 0 else ""
    return Text(f"{100 * rate.delta:+.1f} pp", style=style)


def _p(rate: PairedRate, alpha: float) -> Text:
    worse = rate.b > rate.c and rate.p_value < alpha
    better = rate.c > rate.b and rate.p_value < alpha
    style = "bold red" if worse else "bold green" if better else ""
    flag = "  worse" if worse else "  better" if better else ""
    return Text(f"{rate.p_value:.3g}{flag}", style=style)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render_comparison_terminal(
    comparison: Comparison, console: Console, *, alpha: float = 0.05
) -> None:
    """Print paired unsafe and over-refusal rates of A vs B with McNemar p-values."""
    for metric, title in (("unsafe", "Unsafe rate"), ("over_refusal", "Over-refusal rate")):
        grid = Table(title=f"{title}: A (baseline) vs B (candidate)", title_justify="left")
        grid.add_column("Hazard")
        for name in ("Pairs", "A", "B", "Δ", "Worse (b)", "Better (c)", "McNemar p"):
            grid.add_column(name, justify="right")
        for row in comparison.rows:
            rate: PairedRate = getattr(row, metric)
            overall = row.hazard == "overall"
            grid.add_row(
                Text(
                    row.name if overall else f"{row.name} ({row.hazard})",
                    style="bold" if overall else "",
                ),
                str(rate.n_pairs),
                _pct(rate.rate_a),
                _pct(rate.rate_b),
                _delta(rate),
                str(rate.b),
                str(rate.c),
                _p(rate, alpha),
                end_section=row is comparison.rows[-2],
            )
        console.print(grid)
    console.print(
        f"{comparison.n_matched} matched attempts; {comparison.n_excluded} excluded (error or "
        f"unscored in a run); {comparison.n_only_a} only in A, {comparison.n_only_b} only in "
        f"B. b = good in A, bad in B; c = bad in A, good in B; exact two-sided McNemar test, "
        f"alpha {alpha:g}, no multiple-comparison correction.",
        highlight=False,
    )
