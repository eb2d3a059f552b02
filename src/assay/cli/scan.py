"""``assay scan``: plan, run (or resume), summarise and write a report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from assay.cli.common import build, open_store, parse_attack, parse_pairs, scoped
from assay.cli.progress import RichProgress
from assay.core.protocols import Attack
from assay.engine.backend import Backend, BackendOptions, make_backend
from assay.engine.plan import RunParams, make_plan
from assay.engine.scan import scan as run_scan
from assay.errors import InputError
from assay.suites.base import Suite

BackendOpt = Annotated[
    str, typer.Option(help="Where attempts run: local (this process) or ray (a Ray cluster).")
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        help="Ray cluster address (ray://HOST:10001, HOST:6379, auto); default: start Ray here."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(help="Ray workers (default: one per CPU, or per --gpus-per-worker GPUs)."),
]
GpusOpt = Annotated[float, typer.Option(help="GPUs each Ray worker reserves (0.5 shares one).")]
BatchOpt = Annotated[
    int, typer.Option(help="Attempts per Ray batch: a worker that dies loses only its batches.")
]


def backend_of(
    backend: str, address: str | None, workers: int | None, gpus: float, batch_size: int
) -> Backend:
    """The execution backend the options ask for (checked before any work: exit 2)."""
    return make_backend(
        BackendOptions(
            backend=backend,
            address=address,
            workers=workers,
            gpus_per_worker=gpus,
            batch_size=batch_size,
        )
    )


class WorkersProgress(RichProgress):
    """The scan progress bar, with the Ray workers alive in its label."""

    def workers(self, alive: int, wanted: int) -> None:
        if self._task is not None:
            label = f"{self._label} [{alive}/{wanted} workers]"
            self._progress.update(self._task, description=label)


def _suites(
    refs: list[str], args: list[str] | None, hazards: list[str] | None, limit: int | None
) -> list[Suite]:
    from assay.suites.loader import filter_suite, load_suite

    params = parse_pairs(args, option="--suite-arg")
    suites = []
    for ref in refs:
        suite = load_suite(ref, **scoped(params, ref, refs))
        suites.append(filter_suite(suite, hazards=hazards, limit=limit))
    if not any(len(s) for s in suites):
        raise InputError("no cases left after filtering", field="--hazard/--limit")
    return suites


def _target(name: str, params: dict[str, Any]) -> Any:
    """A target plugin, or ``judge:NAME``: a guard (any judge) evaluated as the target."""
    if name.startswith("judge:"):
        own: dict[str, Any] = {
            k: params.pop(k) for k in ("threshold", "as_response") if k in params
        }
        params = {"judge": name.removeprefix("judge:"), "judge_params": params, **own}
        name = "judge"
    return build("targets", name, params, option="--target-arg")


def _attack_chains(
    refs: list[str], args: list[str] | None, *, chain: bool
) -> list[tuple[Attack, ...]]:
    """Build the attack chains: one per ``--attack`` (or one in all with ``--chain``)."""
    shared = parse_pairs(args, option="--attack-arg")
    links = [parse_attack(ref) for ref in refs]
    names = [name for link in links for name, _ in link]
    chains: list[tuple[Attack, ...]] = []
    for link in links:
        built = []
        for name, params in link:
            merged = {**scoped(shared, name, names), **params}
            built.append(build("attacks", name, merged, option="--attack"))
        chains.append(tuple(built))
    if chain and chains:
        return [tuple(a for c in chains for a in c)]
    return chains


def _print_rewrites(console: Console, attacks: list[Attack]) -> None:
    """Model-backed attacks: how many rewrites were kept, and how many dropped and why."""
    for attack in attacks:
        stats = getattr(attack, "stats", None)
        if isinstance(stats, dict) and any(stats.values()):
            counts = ", ".join(f"{v} {k}" for k, v in stats.items())
            console.print(f"{attack.spec().name} rewrites: {counts} (dropped ones are not sent)")


def scan_command(
    suite: Annotated[
        list[str] | None,
        typer.Option(
            "--suite",
            "-s",
            help="Suite name (see 'assay plugins') or a .jsonl/.csv/.yaml file; repeatable.",
        ),
    ] = None,
    suite_arg: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE for the suite readers; SUITE.KEY=VALUE for one."),
    ] = None,
    target: Annotated[str, typer.Option("--target", "-t", help="Target plugin.")] = "embedded",
    target_arg: Annotated[
        list[str] | None,
        typer.Option(
            "--target-arg", "-T", help="KEY=VALUE for the target (e.g. base_url=..., model=...)."
        ),
    ] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option(
            "--judge", "-j", help="Judge plugin; the first decides the status. Repeatable."
        ),
    ] = None,
    judge_arg: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE for every judge; JUDGE.KEY=VALUE for one of them."),
    ] = None,
    attack: Annotated[
        list[str] | None,
        typer.Option(
            "--attack",
            "-a",
            help="FAMILY[:VARIANT][,VARIANT...][,KEY=VALUE...]; each --attack is measured on "
            "its own (A>B chains A then B). Repeatable; 'assay attacks' lists them.",
        ),
    ] = None,
    attack_arg: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE for every attack; FAMILY.KEY=VALUE for one of them."),
    ] = None,
    chain: Annotated[
        bool, typer.Option(help="Compose all --attack options into one chain, in order.")
    ] = False,
    attack_benign: Annotated[
        bool, typer.Option(help="Also attack benign cases (default: harmful cases only).")
    ] = False,
    no_baseline: Annotated[
        bool, typer.Option(help="With --attack, skip the unattacked cases.")
    ] = False,
    hazard: Annotated[
        list[str] | None, typer.Option(help="Only cases of this canonical hazard code; repeatable.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most N cases per suite, spread over hazards.", min=1)
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Requests in flight per target (default: the target's own).", min=1),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per request.", min=0.001)] = 120.0,
    max_retries: Annotated[int, typer.Option(help="Retries on 429/5xx/timeouts.", min=0)] = 3,
    seed: Annotated[int, typer.Option(help="Seed for attacks that draw at random.")] = 0,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for reports.")] = Path("assay-runs"),
    no_cache: Annotated[
        bool, typer.Option(help="Ask again even when an identical attempt is stored.")
    ] = False,
    new_run: Annotated[
        bool, typer.Option(help="Start a new run even if an identical one was interrupted.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    backend: BackendOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    gpus_per_worker: GpusOpt = 0.0,
    batch_size: BatchOpt = 16,
) -> None:
    """Scan a target with suites, attacks and judges; store everything; write a report."""
    console = Console()
    runner = backend_of(backend, address, workers, gpus_per_worker, batch_size)
    suites = _suites(suite or ["core-v1"], suite_arg, hazard, limit)
    the_target = _target(target, parse_pairs(target_arg, option="--target-arg"))
    judge_params = parse_pairs(judge_arg, option="--judge-arg")
    judge_names = judge or ["refusal"]
    judges = [
        build("judges", name, scoped(judge_params, name, judge_names), option="--judge-arg")
        for name in judge_names
    ]
    attack_chains = _attack_chains(attack or [], attack_arg, chain=chain)
    chains: list[tuple[Attack, ...]] = [] if (attack_chains and no_baseline) else [()]
    chains += attack_chains
    params = RunParams(
        concurrency=concurrency,
        timeout_s=timeout,
        max_retries=max_retries,
        use_cache=not no_cache,
        seed=seed,
    )
    asked = {
        "hazards": hazard,
        "limit": limit,
        "baseline": not no_baseline,
        "attack_benign": attack_benign,
        **{k: v for k, v in asdict(params).items() if k != "seed"},
    }
    plan = make_plan(
        suites=suites,
        targets=[the_target],
        judges=judges,
        attack_chains=chains,
        seed=seed,
        params=asked,
        attack_benign=attack_benign,
    )
    _print_rewrites(console, [a for c in chains for a in c])
    store = open_store(db)
    n_cases = sum(len(s) for s in suites)
    console.print(
        f"[bold]assay scan[/]: {n_cases} cases x {len(chains)} attack chains "
        f"-> {len(plan.attempts)} attempts on target [cyan]{target}[/], "
        f"judged by {', '.join(j.spec().name for j in judges)}"
    )
    if quiet:
        result = run_scan(plan, store, params=params, resume=not new_run, backend=runner)
    else:
        with WorkersProgress(console) as bar:
            result = run_scan(
                plan, store, params=params, resume=not new_run, progress=bar, backend=runner
            )
    if result.resumed:
        console.print(f"resumed interrupted run {result.run.id}")
    stats = result.stats
    console.print(
        f"run [bold]{result.run.id}[/]: {stats.sent} sent, {stats.cached} from "
        f"cache, {stats.requests} requests (retries included)"
    )
    from assay.cli.runs import summarise

    summarise(store, result.run.id, console=console, out=out)
    store.close()


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
