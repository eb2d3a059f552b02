"""``assay judges eval``/``list``: measure judges on labelled data; ``feedback``/``weights``:
learn and show ensemble weights (Hedge) from reviewed labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from assay.cli.common import build, open_store, parse_pairs
from assay.core.records import Spec
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


def _label_is_bad(label: str, positive: str, *, source: str, line: int) -> bool:
    from assay.judges.evaluate import NUMERIC_LABELS, VOCABULARY

    if label in NUMERIC_LABELS:
        return NUMERIC_LABELS[label]
    words = VOCABULARY[positive]
    if label not in words:
        raise InputError(
            f"label {label!r} does not fit the file's labels ({', '.join(words)} or 1/0)",
            source=source,
            line=line or None,
            field="label",
        )
    return words[label]


def feedback_command(
    members: Annotated[
        str, typer.Option("--members", "-m", help="Member judges, comma-separated: a,b,c.")
    ],
    labels: Annotated[
        Path,
        typer.Option("--labels", "-l", help="Reviewed .jsonl or .csv: text, [response], label."),
    ],
    ensemble: Annotated[
        str | None,
        typer.Option(
            "--ensemble",
            "-e",
            help="Name the weights are stored under (default: a hash "
            "of the members and their parameters, as the ensemble judge uses).",
        ),
    ] = None,
    eta: Annotated[float, typer.Option(help="Hedge learning rate (>= 0).")] = 0.5,
    judge_arg: Annotated[
        list[str] | None,
        typer.Option("--judge-arg", "-J", help="KEY=VALUE for every member, or MEMBER.KEY=VALUE."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Examples per judge call.", min=1)] = 64,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
) -> None:
    """Learn ensemble weights from reviewed labels (Hedge), one update per row, stored."""
    import asyncio

    from assay.cli.common import scoped
    from assay.judges.ensemble import (
        combine,
        default_ensemble_name,
        hedge_update,
        member_loss,
        vote_of,
    )
    from assay.judges.evaluate import infer_positive, judge_rows, load_labelled
    from assay.report.json_report import spec_label

    names = [m.strip() for m in members.split(",") if m.strip()]
    if not names:
        raise InputError("give at least one member judge", field="--members")
    if len(set(names)) != len(names):
        raise InputError(f"members must be distinct, got {members!r}", field="--members")
    if not eta >= 0.0 or eta == float("inf"):
        raise InputError(f"must be a finite number >= 0, got {eta!r}", field="--eta")
    data = load_labelled(labels)
    positive = infer_positive(data.rows, source=data.path)
    truth = [_label_is_bad(r.label, positive, source=data.path, line=r.line) for r in data.rows]
    pairs = parse_pairs(judge_arg, option="--judge-arg")
    params = {m: scoped(pairs, m, names) for m in names}
    judges = {m: build("judges", m, params[m], option="--judge-arg") for m in names}
    name = ensemble or default_ensemble_name(names, {m: p for m, p in params.items() if p})

    async def run_all() -> list[list[Any]]:
        return list(
            await asyncio.gather(
                *(
                    judge_rows(judges[m], data.rows, batch_size=batch_size, source=data.path)
                    for m in names
                )
            )
        )

    store = open_store(db)
    try:
        history = store.ensemble_weight_history(name)
        if history:
            weights = dict(history[-1]["weights"])
            step = int(history[-1]["step"])
            if set(weights) != set(names):
                raise InputError(
                    f"ensemble {name!r} has stored weights for {', '.join(sorted(weights))}; "
                    "use the same members or another --ensemble name",
                    field="--members",
                )
        else:
            weights = {m: 1.0 / len(names) for m in names}
            step = 0
            store.save_ensemble_weights(name, weights, step=0, note="initial (uniform)")
        start_step = step
        verdicts = asyncio.run(run_all())
        correct = dict.fromkeys(names, 0)
        unscored = dict.fromkeys(names, 0)
        ens_correct = ens_scored = 0
        label_spec = Spec(name="ensemble", version="1", params={"rule": "weighted"})
        for index, (row, label_bad) in enumerate(zip(data.rows, truth, strict=True)):
            votes = [vote_of(m, verdicts[j][index]) for j, m in enumerate(names)]
            decided = combine(
                votes, rule="weighted", weights=weights, threshold=0.5, judge=label_spec
            )
            if decided.score is not None:
                ens_scored += 1
                ens_correct += int((decided.score >= 0.5) == label_bad)
            losses = {}
            for vote in votes:
                losses[vote.member] = member_loss(vote.bad, label_bad)
                if vote.bad is None:
                    unscored[vote.member] += 1
                elif vote.bad == label_bad:
                    correct[vote.member] += 1
            weights = hedge_update(weights, losses, eta=eta)
            step += 1
            ref = f"{Path(data.path).name}:{row.line} id={row.id} label={row.label}"
            store.save_ensemble_weights(name, weights, step=step, note=ref)
    finally:
        store.close()

    console = Console()
    console.print(
        f"ensemble [bold]{name}[/]: {len(data.rows)} reviewed rows from {data.path} "
        f"(positive = {positive}), eta {eta:g}; steps {start_step + 1}..{step} stored in "
        f"{db or 'the default store'}",
        highlight=False,
    )
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    grid.add_column("member", overflow="fold")
    grid.add_column("weight", justify="right", no_wrap=True)
    grid.add_column("right", justify="right", no_wrap=True)
    grid.add_column("unscored", justify="right", no_wrap=True)
    for member in names:
        grid.add_row(
            spec_label(judges[member].spec().model_dump(mode="json")),
            f"{weights[member]:.4f}",
            f"{correct[member]}/{len(data.rows)}",
            str(unscored[member]),
        )
    console.print(grid)
    console.print(
        f"weighted ensemble (weights before each row's update): {ens_correct}/{ens_scored} "
        f"scored rows right. Use: --judge ensemble -J judges='{json.dumps(names)}' "
        f"-J rule=weighted -J weights_from={db or 'assay-runs/assay.db'} "
        f"-J weights_name={name}",
        highlight=False,
        soft_wrap=True,
    )


def weights_command(
    name: Annotated[str, typer.Argument(help="Ensemble name (as given to 'feedback').")],
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
) -> None:
    """The stored Hedge weight history of an ensemble, oldest step first."""
    from assay.errors import UsageError

    store = open_store(db)
    try:
        history = store.ensemble_weight_history(name)
        known = store.ensemble_names() if not history else []
    finally:
        store.close()
    if not history:
        listing = ", ".join(known) or "none"
        raise UsageError(f"no stored weights for ensemble {name!r} (known: {listing})")
    members = list(history[-1]["weights"])
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"ensemble {name}")
    grid.add_column("step", justify="right", no_wrap=True)
    for member in members:
        grid.add_column(member, justify="right", no_wrap=True)
    grid.add_column("note", overflow="fold")
    grid.add_column("created", no_wrap=True)
    for item in history:
        grid.add_row(
            str(item["step"]),
            *(f"{item['weights'][m]:.4f}" if m in item["weights"] else "-" for m in members),
            item["note"],
            item["created_at"],
        )
    Console().print(grid)


_TRAINERS = {"harm": "assay.judges.train_harm", "refusal": "assay.judges.train_refusal"}


def train_command(
    ctx: typer.Context,
    judge: Annotated[str, typer.Argument(help="harm or refusal.")],
) -> None:
    """Retrain an embedded judge's head; extra options go to its trainer (see --help there)."""
    import importlib

    from assay.errors import InputError

    if judge not in _TRAINERS:
        raise InputError(
            f"no trainer for {judge!r}; choose {' or '.join(_TRAINERS)}", field="JUDGE"
        )
    trainer = importlib.import_module(_TRAINERS[judge])
    code = int(trainer.main(list(ctx.args)))
    if code:
        raise typer.Exit(code)


judges_app.command(
    "train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)(train_command)
judges_app.command("eval")(eval_command)
judges_app.command("list")(list_command)
judges_app.command("feedback")(feedback_command)
judges_app.command("weights")(weights_command)


def register(app: typer.Typer) -> None:
    """Add the ``judges`` command group to ``app`` (once)."""
    if any(group.typer_instance is judges_app for group in app.registered_groups):
        return
    app.add_typer(judges_app, name="judges")
