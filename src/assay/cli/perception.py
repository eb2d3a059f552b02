"""``assay perception``: data, training, robustness scans and one-off corruptions.

* ``data``: write the synthetic set (or a ModelNet40 split) to an ``.npz`` file;
* ``train``: train the PointNet classifier (optionally robustly) and save it;
* ``scan``: clean + corrupted samples through the engine, stored like any run, then
  accuracy per corruption and severity, mCE against a baseline model, mRR, calibrated
  abstention, and the robustness report (HTML, Markdown, JSON);
* ``corrupt``: corrupt one file (points or image) with one kind at one severity.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from assay.cli.common import open_store, parse_attack
from assay.cli.scan import AddressOpt, BackendOpt, BatchOpt, GpusOpt, WorkersOpt
from assay.errors import InputError

app = typer.Typer(
    name="perception",
    help="Perception robustness: data, training, corruption scans, abstention.",
    no_args_is_help=True,
)

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _samples(data: Path | None, per_class: int, seed: int, points: int) -> Any:
    from assay.perception.data import load_npz, synthetic

    if data is not None:
        return load_npz(data)
    return synthetic(per_class, seed=seed, n_points=points)


@app.command("data")
def data_command(
    out: Annotated[Path, typer.Option(help="The .npz file to write.")],
    per_class: Annotated[int, typer.Option(help="Synthetic objects per class.", min=1)] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic set.")] = 0,
    points: Annotated[int, typer.Option(help="Points per cloud.", min=16)] = 1024,
    modelnet40: Annotated[
        Path | None, typer.Option(help="Convert ModelNet40 HDF5 files (a folder or a file).")
    ] = None,
    split: Annotated[str | None, typer.Option(help="ModelNet40 split: train or test.")] = None,
) -> None:
    """Write a labelled point-cloud set to an .npz file (the synthetic one by default)."""
    from assay.perception.data import load, save_npz, synthetic

    console = Console()
    started = time.perf_counter()
    if modelnet40 is not None:
        samples = load({"kind": "modelnet40", "path": str(modelnet40), "split": split})
    else:
        samples = synthetic(per_class, seed=seed, n_points=points)
    if out.suffix != ".npz":
        raise InputError(f"{out}: the output must be an .npz file", field="--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    source = save_npz(samples, out)
    counts = np.bincount(samples.labels, minlength=len(samples.classes))
    console.print(
        f"wrote {out}: {len(samples)} {samples.kind} x {samples.x.shape[1:]} "
        f"in {time.perf_counter() - started:.1f}s, sha256 {source['sha256'][:12]}"
    )
    console.print(", ".join(f"{c} {n}" for c, n in zip(samples.classes, counts, strict=True)))


@app.command("train")
def train_command(
    out: Annotated[Path, typer.Option(help="Where to save the classifier (.pt).")],
    data: Annotated[
        Path | None, typer.Option(help="Training .npz (default: the synthetic set).")
    ] = None,
    per_class: Annotated[int, typer.Option(help="Synthetic objects per class.", min=1)] = 100,
    data_seed: Annotated[int, typer.Option(help="Seed of the synthetic training set.")] = 0,
    test_per_class: Annotated[
        int, typer.Option(help="Synthetic held-out objects per class (seed+1000).", min=1)
    ] = 30,
    test_fraction: Annotated[
        float, typer.Option(help="With --data: the held-out share.", min=0.0, max=0.9)
    ] = 0.2,
    epochs: Annotated[int, typer.Option(help="Passes over the training data.", min=1)] = 20,
    augment: Annotated[
        str, typer.Option(help="none | corrupt | saliency (INTACT-style; needs --teacher).")
    ] = "none",
    teacher: Annotated[
        Path | None, typer.Option(help="Trained classifier whose saliency guides training.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads.", min=1)] = None,
) -> None:
    """Train the PointNet classifier; prints held-out clean accuracy with its interval."""
    import torch

    from assay.metrics.intervals import wilson
    from assay.perception.data import split_indices, subset, synthetic
    from assay.perception.model import Classifier
    from assay.perception.train import train

    if augment not in ("none", "corrupt", "saliency"):
        raise InputError(f"unknown augmentation {augment!r}", field="--augment")
    if augment == "saliency" and teacher is None:
        raise InputError("--augment saliency needs --teacher MODEL", field="--teacher")
    if threads:
        torch.set_num_threads(threads)
    console = Console()
    if data is not None:
        full = _samples(data, 0, 0, 0)
        if full.kind != "points":
            raise InputError(f"{data}: training needs point clouds", field="--data")
        test_idx, train_idx = split_indices(full, test_fraction, seed=seed)
        train_set, test_set = subset(full, train_idx), subset(full, test_idx)
    else:
        train_set = synthetic(per_class, seed=data_seed)
        test_set = synthetic(test_per_class, seed=data_seed + 1000)
    teacher_model = Classifier.load(teacher) if teacher is not None else None
    console.print(
        f"training PointNet on {len(train_set)} clouds ({len(train_set.classes)} classes), "
        f"{epochs} epochs, augment={augment}, {torch.get_num_threads()} threads"
    )
    started = time.perf_counter()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]epoch"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("train", total=epochs, info="")

        def progress(row: dict[str, Any]) -> None:
            info = ", ".join(
                f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float) and k != "epoch"
            )
            bar.update(task, advance=1, info=info)

        model, _history = train(
            train_set.x,
            train_set.labels,
            classes=train_set.classes,
            epochs=epochs,
            seed=seed,
            augment=augment,  # type: ignore[arg-type]
            teacher=teacher_model,
            progress=progress,
        )
    took = time.perf_counter() - started
    predicted = model.predict(test_set.x)
    correct = int((predicted == test_set.labels).sum())
    n = len(test_set)
    lo, hi = wilson(correct, n)
    model.spec["data"] = train_set.source
    model.spec["held_out"] = {"n": n, "correct": correct, "source": test_set.source}
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    console.print(
        f"trained in {took:.0f}s; held-out clean accuracy {correct / n:.1%} "
        f"({lo:.1%}-{hi:.1%}, n={n}); saved {out}"
    )


def _corruption_chains(refs: list[str], severity: str | None) -> list[tuple[Any, ...]]:
    from assay.core.registry import registry

    chains: list[tuple[Any, ...]] = []
    for ref in refs:
        chain = []
        for name, params in parse_attack(ref, option="--corruption"):
            if severity is not None and "severity" not in params:
                params["severity"] = severity
            factory = registry.get("attacks", name)
            if getattr(factory, "applies_to", "chat") != "perception":
                raise InputError(f"{name!r} is not a perception attack", field="--corruption")
            try:
                chain.append(factory(**params))
            except TypeError as exc:
                raise InputError(f"{name}: {exc}", field="--corruption") from exc
        chains.append(tuple(chain))
    return chains


@app.command("scan")
def scan_command(
    model: Annotated[
        Path,
        typer.Option(help="The classifier under test (.pt, torch.export .pt2 or TorchScript)."),
    ],
    baseline: Annotated[
        Path | None, typer.Option(help="A baseline classifier for CE/mCE, scanned alongside.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Test .npz (default: synthetic, --data-seed).")
    ] = None,
    per_class: Annotated[int, typer.Option(help="Synthetic test objects per class.", min=1)] = 20,
    data_seed: Annotated[int, typer.Option(help="Seed of the synthetic test set.")] = 1,
    corruption: Annotated[
        list[str] | None,
        typer.Option(
            "--corruption",
            "-c",
            help="FAMILY[:KIND,...][,severity=1-3]: pointcloud, lidar, camera or adversarial; "
            "repeatable (default: every pointcloud kind).",
        ),
    ] = None,
    severity: Annotated[
        str | None, typer.Option(help="Severities for every corruption: 3, 1-3 or '1|5'.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most N samples.", min=1)] = None,
    alpha: Annotated[
        float | None, typer.Option(help="Conformal miscoverage (0 < alpha < 1); 0.1 default.")
    ] = 0.1,
    method: Annotated[str, typer.Option(help="Conformal score: lac or aps.")] = "lac",
    class_conditional: Annotated[
        bool, typer.Option(help="One conformal quantile per class.")
    ] = False,
    target_risk: Annotated[
        float, typer.Option(help="Selective risk the confidence threshold aims at.")
    ] = 0.05,
    no_abstention: Annotated[bool, typer.Option(help="Skip the abstention analysis.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the corruptions and the split.")] = 0,
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for reports.")] = Path("assay-runs"),
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    backend: BackendOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    gpus_per_worker: GpusOpt = 0.0,
    batch_size: BatchOpt = 16,
) -> None:
    """Scan a classifier on clean and corrupted samples; store it; write the report."""
    from assay.cli.scan import WorkersProgress, backend_of
    from assay.engine.plan import RunParams, make_plan
    from assay.engine.scan import scan as run_scan
    from assay.perception.cases import suite_of
    from assay.perception.judge import LabelJudge
    from assay.perception.target import ClassifierTarget

    console = Console()
    runner = backend_of(backend, address, workers, gpus_per_worker, batch_size)
    if method not in ("lac", "aps"):
        raise InputError(f"unknown conformal method {method!r}", field="--method")
    if alpha is not None and not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha}", field="--alpha")
    samples = _samples(data, per_class, data_seed, 1024)
    indices = None if limit is None else _spread(samples.labels, limit)
    suite = suite_of(samples, indices=indices)
    target = ClassifierTarget(model=str(model))
    targets = [target]
    base_target = None
    if baseline is not None:
        base_target = ClassifierTarget(model=str(baseline))
        targets.append(base_target)
    chains = [(), *_corruption_chains(corruption or ["pointcloud"], severity)]
    params = RunParams(seed=seed, timeout_s=600.0, max_retries=0)
    plan = make_plan(
        suites=[suite],
        targets=targets,
        judges=[LabelJudge()],
        attack_chains=chains,
        seed=seed,
        params={"perception": True, "limit": limit},
    )
    console.print(
        f"[bold]assay perception scan[/]: {len(suite)} samples x {len(chains)} chains x "
        f"{len(targets)} model(s) -> {len(plan.attempts)} attempts"
    )
    store = open_store(db)
    if quiet:
        result = run_scan(plan, store, params=params, backend=runner)
    else:
        with WorkersProgress(console) as bar:
            result = run_scan(plan, store, params=params, progress=bar, backend=runner)
    run_id = result.run.id
    console.print(
        f"run [bold]{run_id}[/]: {result.stats.sent} answered, {result.stats.cached} cached"
    )
    write_reports(
        store,
        run_id,
        out=out,
        console=console,
        model_name=model.name,
        baseline_name=None if baseline is None else baseline.name,
        target_key=target.spec().key(),
        baseline_key=None if base_target is None else base_target.spec().key(),
        alpha=None if no_abstention else alpha,
        method=method,  # type: ignore[arg-type]
        class_conditional=class_conditional,
        target_risk=target_risk,
        seed=seed,
    )
    store.close()


def _spread(labels: np.ndarray, limit: int) -> list[int]:
    """At most ``limit`` indices, taken round-robin over the classes (stable order)."""
    by_class = [list(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    out: list[int] = []
    while len(out) < limit and any(by_class):
        for members in by_class:
            if members and len(out) < limit:
                out.append(int(members.pop(0)))
    return sorted(out)


def write_reports(
    store: Any,
    run_id: str,
    *,
    out: Path,
    console: Console,
    model_name: str | None = None,
    baseline_name: str | None = None,
    target_key: str | None = None,
    baseline_key: str | None = None,
    alpha: float | None = 0.1,
    method: Literal["lac", "aps"] = "lac",
    class_conditional: bool = False,
    target_risk: float | None = 0.05,
    seed: int = 0,
) -> Path:
    """Compute the robustness summary of a stored run; print it; write the reports."""
    from assay.perception.evaluate import abstention_cells, predictions_by_target, summary_for
    from assay.perception.report import (
        render_calibration_html,
        render_calibration_md,
        render_html,
        render_markdown,
        write_json,
    )

    results = store.results(run_id)
    by_target = predictions_by_target(results)
    if target_key is None:  # the run's first target; a second one is the baseline
        from assay.core.records import Spec

        specs = [Spec.model_validate(t) for t in store.get_run(run_id).spec.get("targets", [])]
        keys = [spec.key() for spec in specs if spec.key() in by_target]
        if not keys:
            raise InputError(f"run {run_id} has no perception results", field="RUN")
        target_key = keys[0]
        if baseline_key is None and len(keys) == 2:
            baseline_key = keys[1]
        names = {spec.key(): Path(str(spec.params.get("model", spec.name))).name for spec in specs}
        model_name = model_name or names.get(target_key)
        baseline_name = baseline_name or (names.get(baseline_key) if baseline_key else None)
    cells = info = None
    if alpha is not None:
        cells, info = abstention_cells(
            by_target.get(target_key, []),
            alpha=alpha,
            method=method,
            class_conditional=class_conditional,
            target_risk=target_risk,
            seed=seed,
        )
    classes = next(
        (r.attempt.case.metadata.get("classes") for r in results if r.attempt.case.metadata),
        None,
    )
    summary = summary_for(
        results,
        target_key=target_key,
        baseline_key=baseline_key,
        model_name=model_name,
        baseline_name=baseline_name,
        abstention=cells,
        class_names=classes,
    )
    folder = out / run_id
    folder.mkdir(parents=True, exist_ok=True)
    write_json(summary, folder / "robustness.json")
    if info is not None:
        blob = json.loads((folder / "robustness.json").read_text(encoding="utf-8"))
        blob["calibration"] = info.to_dict()
        blob["run"] = run_id
        (folder / "robustness.json").write_text(json.dumps(blob, indent=2) + "\n", "utf-8")
    markdown = render_markdown(summary)
    html = render_html(summary)
    if info is not None:
        markdown += "\n" + render_calibration_md(info.to_dict())
        html = html.replace("</body>", render_calibration_html(info.to_dict()) + "</body>", 1)
    (folder / "robustness.md").write_text(markdown, encoding="utf-8")
    (folder / "robustness.html").write_text(html, encoding="utf-8")
    _print_summary(console, summary.to_dict())
    console.print(f"report: {folder / 'robustness.html'} (and robustness.md, robustness.json)")
    return folder


def _print_summary(console: Console, data: dict[str, Any]) -> None:
    def pct(v: Any) -> str:
        return "-" if v is None else f"{100 * float(v):.1f}%"

    table = Table(title="accuracy by corruption (mean over severities)", show_edge=False)
    for column in ("corruption", "mean acc", "CE", "RR", "errors"):
        table.add_column(column)
    for row in data.get("corruptions", []):
        ce = row.get("ce")
        table.add_row(
            str(row.get("corruption")),
            pct(row.get("mean_accuracy")),
            "-" if ce is None else f"{100 * ce:.1f}",
            pct(row.get("rr")),
            str(row.get("errors", 0)),
        )
    console.print(table)
    clean = data.get("clean") or {}
    worst = data.get("worst_cell") or ()
    parts = [
        f"clean accuracy {pct(clean.get('rate'))} ({pct(clean.get('low'))}-"
        f"{pct(clean.get('high'))}, n={clean.get('n')})",
        f"mCE {pct((data.get('mce') or {}).get('value'))}",
        f"mRR {pct((data.get('mrr') or {}).get('value'))}",
        f"worst {data.get('worst_corruption')}",
    ]
    if worst:
        parts.append(f"worst cell {worst[0]} s{worst[1]}")
    console.print("; ".join(parts))


@app.command("report")
def report_command(
    run: Annotated[str, typer.Argument(help="A stored perception run id.")],
    db: Annotated[Path | None, typer.Option(help="SQLite store.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for reports.")] = Path("assay-runs"),
    alpha: Annotated[float | None, typer.Option(help="Conformal miscoverage.")] = 0.1,
) -> None:
    """Rewrite the robustness report of a stored perception run (one target)."""
    store = open_store(db)
    write_reports(store, store.get_run(run).id, out=out, console=Console(), alpha=alpha)
    store.close()


@app.command("corrupt")
def corrupt_command(
    file: Annotated[Path, typer.Argument(help="Points (.npy .bin .txt .xyz .ply) or an image.")],
    kind: Annotated[str, typer.Option(help="Corruption kind (e.g. fog, jitter, snow).")],
    severity: Annotated[int, typer.Option(help="Severity (1-3 LiDAR, 1-5 others).")],
    out: Annotated[
        Path | None, typer.Option(help="Output file (default: FILE.KIND-S.EXT).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the corruption.")] = 0,
) -> None:
    """Corrupt one point cloud, LiDAR scan or image; writes the result beside it."""
    from assay.perception import lidar, objects
    from assay.perception.readers import read_points_file

    console = Console()
    rng = np.random.default_rng(seed)
    target = out or file.with_name(f"{file.stem}.{kind}-{severity}{file.suffix}")
    if file.suffix.lower() in _IMAGE_SUFFIXES:
        from PIL import Image

        from assay.perception import camera
        from assay.perception.readers import load_image

        image = load_image(file)
        corrupted = camera.corrupt_image(image, kind, severity, rng)
        Image.fromarray(corrupted).save(target)
        console.print(f"wrote {target}: {kind} severity {severity} on a {image.shape} image")
        return
    points = read_points_file(file)
    if kind in lidar.KINDS:
        result, _rings = lidar.corrupt_scan(points, kind, severity, rng)
    elif kind in objects.KINDS:
        result = objects.corrupt(points[:, :3], kind, severity, rng)
        if points.shape[1] > 3 and result.shape[0] == points.shape[0]:
            result = np.concatenate([result, points[:, 3:]], axis=1)
    else:
        known = ", ".join((*objects.KINDS, *lidar.KINDS))
        raise InputError(f"unknown corruption kind {kind!r} (known: {known})", field="--kind")
    _write_points(np.asarray(result, dtype=np.float32), target)
    console.print(
        f"wrote {target}: {kind} severity {severity}, {len(points)} -> {len(result)} points"
    )


def _write_points(points: np.ndarray, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        np.save(path, points)
    elif suffix == ".bin":
        if points.shape[1] == 3:
            points = np.concatenate([points, np.zeros((len(points), 1), np.float32)], axis=1)
        points.astype(np.float32).tofile(path)
    elif suffix in (".txt", ".xyz"):
        np.savetxt(path, points, fmt="%.6f")
    else:
        raise InputError(f"{path}: write .npy, .bin, .txt or .xyz", field="--out")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="perception")
