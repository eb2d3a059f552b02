"""``assay generate``: fill a hazard x style x persuasion grid with new test prompts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.cli.common import build, parse_pairs
from assay.suites.generated import CellResult, Generation, generate, write_suite

__all__ = ["generate_command", "register"]


def generate_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="The suite file to write (.jsonl, or .yaml to carry a name)."
        ),
    ],
    target: Annotated[
        str, typer.Option("--target", "-t", help="Target plugin that generates the prompts.")
    ] = "embedded",
    target_arg: Annotated[
        list[str] | None,
        typer.Option("--target-arg", "-T", help="KEY=VALUE for the generator target."),
    ] = None,
    hazard: Annotated[
        list[str] | None,
        typer.Option(help="Hazard code of the grid (default: all twelve); repeatable."),
    ] = None,
    style: Annotated[
        list[str] | None,
        typer.Option(help="ASTRAL writing style (default: all six); repeatable."),
    ] = None,
    persuasion: Annotated[
        list[str] | None,
        typer.Option(help="ASTRAL persuasion technique (default: all five); repeatable."),
    ] = None,
    n: Annotated[int, typer.Option("--n", "-n", help="Prompts asked for per cell.")] = 2,
    seed: Annotated[int, typer.Option(help="Picks the phrasing of each cell's request.")] = 0,
    name: Annotated[str | None, typer.Option(help="Suite name (default: file stem).")] = None,
    version: Annotated[
        str | None, typer.Option(help="Suite version (default: a digest of the file).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight.")] = 4,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 120.0,
    max_retries: Annotated[int, typer.Option(help="Retries on 429/5xx/timeouts.")] = 2,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Generate a suite of new prompts with any target (ASTRAL / S-Eval style)."""
    import assay
    from assay.errors import InputError
    from assay.suites.generated import SUFFIXES, build_grid

    console = Console()
    if out.suffix.lower() not in SUFFIXES:
        raise InputError(f"must end in {', '.join(SUFFIXES)}, not {out.name!r}", field="--out")
    if n < 1:
        raise InputError(f"must be >= 1, not {n}", field="--n")
    if concurrency < 1:
        raise InputError(f"must be >= 1, not {concurrency}", field="--concurrency")
    if timeout <= 0 or max_retries < 0:
        raise InputError("--timeout must be > 0 and --max-retries >= 0", field="--timeout")
    cells = build_grid(hazard, style, persuasion)  # validates before building the target
    generator = build(
        "targets", target, parse_pairs(target_arg, option="--target-arg"), option="--target-arg"
    )
    console.print(
        f"[bold]assay generate[/]: {len(cells)} cells x {n} prompts with target [cyan]{target}[/]"
    )

    def run(on_cell: Callable[[CellResult], None] | None = None) -> Generation:
        return generate(
            generator,
            hazards=hazard,
            styles=style,
            persuasions=persuasion,
            n=n,
            seed=seed,
            concurrency=concurrency,
            timeout_s=timeout,
            max_retries=max_retries,
            on_cell=on_cell,
        )

    if quiet or not console.is_terminal:
        generation = run()
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[bold]generating",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("generating", total=len(cells))

            def advance(_: CellResult) -> None:
                bar.advance(task)

            generation = run(advance)
    suite_path, side = write_suite(
        generation, out, name=name, version=version, assay_version=assay.__version__
    )
    totals = generation.totals()
    console.print(
        f"{totals['cells']} cells: {totals['kept']} prompts kept of {totals['asked']} asked; "
        f"dropped {totals['duplicates']} duplicates, {totals['too_short']} too short, "
        f"{totals['refused']} refusals; {totals['failed_cells']} cells failed"
    )
    failed = [c for c in generation.cells if c.error]
    for cell in failed[:5]:
        console.print(f"[red]failed[/] {cell.cell}: {cell.error}", highlight=False)
    if len(failed) > 5:
        console.print(f"[red]... and {len(failed) - 5} more failed cells[/] (see {side})")
    if suite_path is None:
        console.print(f"[bold red]no prompts generated[/]; provenance written to {side}")
        raise typer.Exit(1)
    console.print(f"wrote {suite_path} and {side}")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
