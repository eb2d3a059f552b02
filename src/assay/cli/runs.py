"""``assay runs``, ``assay report`` and ``assay compare``: read what the store holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from assay.cli.common import open_store
from assay.core.records import AGENT, PERCEPTION, Result, RunInfo, Spec
from assay.store.sqlite import Store

if TYPE_CHECKING:
    from assay.agents.metrics import AgentTable
    from assay.metrics.attacks import AttackTable

Format = Literal["html", "md", "json"]
_SUFFIX = {"html": "html", "md": "md", "json": "json"}


def judge_evals(store: Store, run: RunInfo) -> dict[str, dict[str, Any]]:
    """Judge spec key -> the latest stored evaluation of exactly that judge configuration."""
    out: dict[str, dict[str, Any]] = {}
    for dump in run.spec.get("judges", []):
        key = Spec.model_validate(dump).key()
        found = store.latest_judge_eval(key)
        if found is not None and found["judge_key"] == key:
            out[key] = found
    return out


def attacks_of(results: list[Result]) -> AttackTable | None:
    """The attack table of a run's results, or ``None`` when no attempt was attacked."""
    from assay.metrics.attacks import AttackMetric, has_attacks

    return AttackMetric().compute(results) if has_attacks(results) else None


def agents_of(results: list[Result]) -> AgentTable | None:
    """The agent table of a run's results, or ``None`` when it has no agent scenario.

    Like the per-hazard table it reads the direct attempts (an ``agent_injection`` run's
    attacked attempts are in the attack table), so its rates do not depend on the attacks.
    """
    if not any(r.attempt.case.metadata.get("domain") == AGENT for r in results):
        return None
    from assay.agents.metrics import agent_table

    return agent_table(headline(results))


def headline(results: list[Result]) -> list[Result]:
    """The results the per-hazard table is computed on: the direct (unattacked) attempts.

    Attacked attempts have their own table (attack success, lift); pooling them into the
    headline rates would make a run's unsafe rate depend on which attacks were chosen.
    A run with no direct attempt (``--no-baseline``) uses all of them.
    """
    direct = [r for r in results if not r.attempt.attacks]
    return direct or results


def render(
    store: Store,
    run_id: str,
    fmt: str,
    *,
    results: list[Result] | None = None,
    attacks: AttackTable | None = None,
    agents: AgentTable | None = None,
) -> str:
    """The report of one run in ``fmt`` (html, md or json).

    ``results``, ``attacks`` and ``agents`` may be passed in when already loaded and
    computed (the summary writes two formats and should not compute the attack bootstrap
    or re-assess the agent trajectories twice).
    """
    from assay.metrics.rates import RatesMetric

    run = store.get_run(run_id)
    if results is None:
        results = store.results(run.id)
    if attacks is None:
        attacks = attacks_of(results)
    if agents is None:
        agents = agents_of(results)
    table = RatesMetric().compute(headline(results))
    if fmt == "html":
        from assay.report.html import render_html

        return render_html(
            run,
            results,
            table,
            judge_evals=judge_evals(store, run),
            attacks=attacks,
            agents=agents,
        )
    if fmt == "md":
        from assay.report.markdown import render_markdown

        return render_markdown(run, results, table, attacks=attacks, agents=agents)
    from assay.report.json_report import render_json

    return render_json(run, results, table, attacks=attacks, agents=agents)


def summarise(store: Store, run_id: str, *, console: Console, out: Path) -> None:
    """Print the per-hazard table and write the HTML and JSON reports of a run."""
    from assay.metrics.rates import RatesMetric, hidden_unsafe_traces
    from assay.report.terminal import render_terminal

    run = store.get_run(run_id)
    results = store.results(run.id)
    if results and all(r.attempt.case.metadata.get("domain") == PERCEPTION for r in results):
        from assay.cli.perception import write_reports

        write_reports(store, run.id, out=out, console=console, alpha=None)
        return
    attacks = attacks_of(results)
    agents = agents_of(results)
    render_terminal(run, RatesMetric().compute(headline(results)), console, attacks=attacks)
    if agents is not None:
        from assay.agents.report import print_agents

        print_agents(agents, console)
    if attacks is not None and any(not r.attempt.attacks for r in results):
        console.print("(per-hazard rates above: direct attempts only; attacks in their table)")
    hidden = hidden_unsafe_traces(results)
    if hidden:
        console.print(
            f"[yellow]{len(hidden)} harmful case(s) got a safe answer over an unsafe "
            "reasoning trace[/] (counted safe above; see the report's case detail)"
        )
    folder = out / run.id
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ("html", "json"):
        path = folder / f"report.{_SUFFIX[fmt]}"
        text = render(store, run.id, fmt, results=results, attacks=attacks, agents=agents)
        path.write_text(text, encoding="utf-8")
    console.print(
        f"report: [link=file://{(folder / 'report.html').resolve()}]"
        f"{folder / 'report.html'}[/link] (and report.json)"
    )


def runs_command(db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None) -> None:
    """List stored runs, newest first."""
    store = open_store(db)
    table = Table(show_edge=False)
    table.add_column("run", no_wrap=True, min_width=22)
    for column in ("created", "state", "done", "targets", "judges", "suites"):
        table.add_column(column)
    for run, done in store.list_runs():
        spec = run.spec
        table.add_row(
            run.id,
            run.created_at,
            run.state,
            f"{done}/{run.n_attempts}",
            ", ".join(t["name"] for t in spec.get("targets", [])),
            ", ".join(j["name"] for j in spec.get("judges", [])),
            ", ".join(s["name"] for s in spec.get("suites", [])),
        )
    Console().print(table)


def report_command(
    run: Annotated[str, typer.Argument(help="Run id, a unique prefix, or 'latest'.")],
    format: Annotated[str, typer.Option("--format", "-f", help="html, md or json.")] = "html",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
) -> None:
    """Render a stored run as HTML, Markdown or JSON."""
    from assay.errors import InputError

    if format not in _SUFFIX:
        raise InputError(f"unknown format {format!r}; use html, md or json", field="--format")
    text = render(open_store(db), run, format)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        Console(stderr=True).print(f"wrote {output}")


def compare_command(
    run_a: Annotated[str, typer.Argument(help="Baseline run.")],
    run_b: Annotated[str, typer.Argument(help="Candidate run.")],
    fail_on_regression: Annotated[
        bool, typer.Option(help="Exit 1 if any hazard's unsafe rate rose significantly.")
    ] = False,
    alpha: Annotated[
        float, typer.Option(help="Significance level of the paired test.", min=0.0, max=1.0)
    ] = 0.05,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
) -> None:
    """Per-hazard change in unsafe rate from RUN_A to RUN_B, with McNemar's paired test."""
    from assay.metrics.compare import compare, regressions
    from assay.report.terminal import render_comparison_terminal

    store = open_store(db)
    a = store.get_run(run_a)
    b = store.get_run(run_b)
    comparison = compare(store.results(a.id), store.results(b.id))
    console = Console()
    console.print(f"[bold]{a.id}[/] (A) -> [bold]{b.id}[/] (B)")
    render_comparison_terminal(comparison, console, alpha=alpha)
    worse = [r for r in regressions(comparison, alpha=alpha) if r.metric == "unsafe"]
    if worse:
        labels = ", ".join(r.label for r in worse)
        console.print(f"[bold red]regression[/] (p < {alpha:g}): {labels}")
        if fail_on_regression:
            raise typer.Exit(1)
    else:
        console.print(f"no significant regression at alpha={alpha:g}")


def grade_command(
    run: Annotated[str, typer.Argument(help="Run to grade: an id, a unique prefix, or 'latest'.")],
    reference: Annotated[
        str, typer.Option(help="Reference unsafe rates: a JSON/YAML file or a run id.")
    ],
    min_n: Annotated[int, typer.Option(help="Fewest scored cases to grade a hazard.", min=1)] = 50,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
) -> None:
    """AILuminate-style five-tier grade per hazard, as a range over the Wilson interval."""
    from assay.metrics.grade import GradeMetric, load_reference, reference_from_run

    store = open_store(db)
    the_run = store.get_run(run)
    ref = (
        load_reference(reference)
        if Path(reference).is_file()
        else (reference_from_run(store, reference))
    )
    grades = GradeMetric(reference=ref, min_n=min_n).compute(store.results(the_run.id))
    table = Table(title=f"Grades of {the_run.id} (min n {min_n})", title_justify="left")
    for column in ("hazard", "n", "unsafe", "reference", "grade", "why not graded"):
        table.add_column(column)
    for row in grades.rows:
        table.add_row(
            row.hazard,
            str(row.n),
            "n/a" if row.u is None else f"{100 * row.u:.1f}%",
            "n/a" if row.r is None else f"{100 * row.r:.1f}%",
            row.label,
            row.reason or "",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("grade")(grade_command)
    app.command("runs")(runs_command)
    app.command("report")(report_command)
    app.command("compare")(compare_command)
