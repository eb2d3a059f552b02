"""``assay judges eval`` and ``assay judges list``: measure judges on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from assay.cli.common import build, open_store, parse_pairs
from assay.errors import InputError

judges_app = typer.Typer(
    name="judges",
    help="Measure judges on labelled data (precision, recall, F1, FPR, AUPRC, AUROC).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_POSITIVE = ("unsafe", "complied")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100.0 * value:.1f}%"


def _estimate_row(label: str, est: Any) -> tuple[str, str, str, str]:
    return (label, est.fmt_rate(), est.fmt_interval(), est.fmt_count())


def _boot_row(label: str, boot: Any) -> tuple[str, str, str, str]:
    return (label, boot.fmt(), boot.fmt_interval(), "bootstrap")


def render_eval(evaluation: Any, console: Console) -> None:
    """Print a :class:`~assay.judges.evaluate.JudgeEval`: overall metrics, then per hazard."""
    from assay.core.taxonomy import HAZARDS
    from assay.report.json_report import spec_label

    m = evaluation.overall
    pct = round(100 * evaluation.confidence)
    decision = (
        f"score >= {evaluation.threshold:g}"
        if evaluation.threshold is not None
        else "the judge's outcome"
    )
    console.print(
        f"[bold]{spec_label(evaluation.judge.model_dump(mode='json'))}[/] on "
        f"{evaluation.data_path or 'labelled rows'} (sha256 {evaluation.data_sha256[:12] or '-'})"
        f": {m.n} examples, {m.n_positive} positive ({evaluation.positive}), "
        f"{m.n_negative} negative; decision = {decision}",
        highlight=False,
    )
    unscored_style = "bold yellow" if m.n_unscored else "dim"
    console.print(
        f"[{unscored_style}]{m.n_unscored} unscored[/] ({m.n_unscored_positive} positive, "
        f"{m.n_unscored_negative} negative): left out of the rates below, never counted as "
        "correct; *_worst counts them as mistakes.",
        highlight=False,
    )
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    grid.add_column("Metric", no_wrap=True)
    grid.add_column("Value", justify="right")
    grid.add_column(f"{pct}% CI", justify="right", no_wrap=True)
    grid.add_column("Counts / method")
    for row in (
        _estimate_row("Precision", m.precision),
        _estimate_row("Recall", m.recall),
        _estimate_row("FPR", m.fpr),
        _estimate_row("Accuracy", m.accuracy),
        _boot_row("F1", m.f1),
        _boot_row("AUPRC", m.auprc),
        _boot_row("AUROC", m.auroc),
        _estimate_row("Recall (worst)", m.recall_worst),
        _estimate_row("FPR (worst)", m.fpr_worst),
    ):
        grid.add_row(*row)
    console.print(grid)
    console.print(
        f"TP {m.tp}  FP {m.fp}  TN {m.tn}  FN {m.fn}. Precision/recall/FPR: Wilson "
        f"intervals; F1/AUPRC/AUROC: stratified bootstrap ({evaluation.resamples} "
        f"resamples, seed {evaluation.seed}).",
        highlight=False,
    )
    if evaluation.unscored_reasons:
        top = "; ".join(f"{k} ({v})" for k, v in list(evaluation.unscored_reasons.items())[:3])
        console.print(f"unscored because: {top}", highlight=False)
    if not evaluation.hazards:
        return
    per = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Per hazard", title_justify="left")
    for column in ("Hazard", "N", "Pos", "Unsc", "Prec", "Recall", "FPR", "F1", "AUROC"):
        per.add_column(column, justify="left" if column == "Hazard" else "right", no_wrap=True)
    for code, hm in evaluation.hazards.items():
        per.add_row(
            f"{code} {HAZARDS.get(code, '')}"[:24],
            str(hm.n),
            str(hm.n_positive),
            str(hm.n_unscored),
            _pct(hm.precision.rate),
            _pct(hm.recall.rate),
            _pct(hm.fpr.rate),
            hm.f1.fmt(2),
            hm.auroc.fmt(2),
        )
    console.print(per)


def eval_command(
    judge: Annotated[str, typer.Argument(help="Judge plugin (see 'assay plugins').")],
    data: Annotated[
        Path,
        typer.Option(
            "--data", "-d", help="Labelled .jsonl or .csv: text, [response], label, [hazard]."
        ),
    ],
    judge_arg: Annotated[
        list[str] | None, typer.Option("--judge-arg", "-J", help="KEY=VALUE for the judge.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Decide positive when score >= THRESHOLD (default: the outcome)."),
    ] = None,
    positive: Annotated[
        str | None,
        typer.Option(
            help="What the positive class means: 'unsafe' (harm judges, guards) or "
            "'complied' (refusal judges). Default: inferred from the labels."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Examples per judge call.", min=1)] = 64,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
) -> None:
    """Run JUDGE over labelled examples, print its metrics with intervals and store them."""
    from assay.judges.evaluate import Positive, evaluate_judge, load_labelled, save_eval

    if positive is not None and positive not in _POSITIVE:
        raise InputError(f"must be 'unsafe' or 'complied', not {positive!r}", field="--positive")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise InputError(f"must be in [0, 1], got {threshold!r}", field="--threshold")
    labelled = load_labelled(data)
    the_judge = build(
        "judges", judge, parse_pairs(judge_arg, option="--judge-arg"), option="--judge-arg"
    )
    evaluation = evaluate_judge(
        the_judge,
        labelled,
        positive=cast("Positive | None", positive),
        threshold=threshold,
        batch_size=batch_size,
        resamples=resamples,
        seed=seed,
    )
    store = open_store(db)
    try:
        eval_id = save_eval(store, evaluation)
    finally:
        store.close()
    console = Console()
    render_eval(evaluation, console)
    console.print(f"stored as judge eval {eval_id} in {db or 'the default store'}", highlight=False)


def list_command(
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every stored eval, not only the latest per judge.")
    ] = False,
) -> None:
    """The latest stored eval of each judge (spec) on each labelled file, newest first."""
    from assay.report.json_report import spec_label

    store = open_store(db)
    try:
        rows = store.list_judge_evals(latest_only=not all_)
    finally:
        store.close()
    console = Console()
    if not rows:
        console.print("no judge evaluations stored yet; run 'assay judges eval'")
        return
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, caption_justify="left")
    grid.add_column("id", justify="right", no_wrap=True)
    grid.add_column("judge", overflow="fold", ratio=2)
    grid.add_column("data", overflow="fold", ratio=2)
    for column in ("n", "unsc", "prec", "recall", "FPR", "F1", "AUROC"):
        grid.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        metrics = row["metrics"].get("overall", {})

        def rate(name: str, m: dict[str, Any] = metrics) -> str:
            return _pct((m.get(name) or {}).get("rate"))

        def boot(name: str, m: dict[str, Any] = metrics) -> str:
            value = (m.get(name) or {}).get("value")
            return "n/a" if value is None else f"{value:.3f}"

        threshold = row["metrics"].get("threshold")
        judge = spec_label(row["spec"])
        if threshold is not None:
            judge += f" @{threshold:g}"
        grid.add_row(
            str(row["id"]),
            judge,
            Path(row["data_path"]).name or "-",
            str(row["n"]),
            str(metrics.get("n_unscored", "?")),
            rate("precision"),
            rate("recall"),
            rate("fpr"),
            boot("f1"),
            boot("auroc"),
        )
    grid.caption = (
        "Latest eval per judge and data file" if not all_ else "Every stored eval"
    ) + "; rates over scored examples; 'assay judges eval' shows the intervals."
    console.print(grid)


judges_app.command("eval")(eval_command)
judges_app.command("list")(list_command)


def register(app: typer.Typer) -> None:
    """Add the ``judges`` command group to ``app`` (once)."""
    if any(group.typer_instance is judges_app for group in app.registered_groups):
        return
    app.add_typer(judges_app, name="judges")
