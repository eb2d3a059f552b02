"""Robust training on the synthetic set: baseline vs corruption augmentation vs INTACT-style.

Trains three PointNets with the same seed, data and epochs (:func:`assay.perception.train.train`):

* **baseline**: standard augmentation only (yaw rotation, scale, jitter);
* **corrupt**: plus, per batch, half the clouds get a random object corruption at a random
  severity (all kinds of :mod:`assay.perception.objects`);
* **saliency**: INTACT-style curriculum: the baseline is the teacher; its gradient saliency
  picks the points to drop or perturb with Gaussian noise, with the severity rising
  linearly over the epochs.

and evaluates each on the same test clouds (a separate seed): clean; 50 % of the points
dropped at random (``dropout_global`` severity 3); Gaussian noise (``jitter`` severity 5,
std 0.05 of the cloud radius); the mean over all object corruptions at all five severities
(the worst corruption kind too); and two white-box attacks against each model itself: the
50 % most salient points dropped (Zheng et al., 4 rounds) and PGD (L-inf, eps 0.02, 10 steps).

Intervals: Wilson 95 % over the test clouds. For the all-corruption mean the interval uses
the number of distinct test clouds as ``n`` (the same clouds recur under every corruption, so
pooling all corrupted copies as independent trials would be too narrow).

Prints a Markdown table (with the machine and its load) and writes JSON with ``--out``.
Timings on a shared machine are noisy; compare numbers from the same run only.

Usage::

    python benchmarks/robust_training.py --out robust.json
    python benchmarks/robust_training.py --per-class 40 --epochs 8 --out quick.json  # smoke
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np

from assay.metrics.intervals import wilson
from assay.perception.adversarial import pgd, saliency_drop
from assay.perception.model import Classifier
from assay.perception.objects import KINDS, SEVERITIES, corrupt
from assay.perception.synthetic import CLASSES, make_dataset
from assay.perception.train import Augment, fixed_size, train

MODES: tuple[Augment, ...] = ("none", "corrupt", "saliency")
NAMES = {"none": "baseline", "corrupt": "corruption aug", "saliency": "saliency curriculum"}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _corrupted_sets(points: np.ndarray, seed: int) -> dict[tuple[str, int], np.ndarray]:
    """Every (kind, severity) copy of the test set, resampled to the clean point count."""
    rng = np.random.default_rng(seed)
    n = points.shape[1]
    sets = {}
    for kind in KINDS:
        for severity in SEVERITIES:
            clouds = [corrupt(cloud, kind, severity, rng) for cloud in points]
            if kind == "dropout_global" and severity == 3:  # kept at 50 % of the points
                sets[("drop50", 0)] = np.stack(clouds)
            sets[(kind, severity)] = np.stack([fixed_size(c, n, rng) for c in clouds])
    return sets


def _rate(correct: np.ndarray) -> dict[str, float]:
    k, n = int(correct.sum()), int(correct.size)
    low, high = wilson(k, n)
    return {"acc": k / n, "low": low, "high": high, "n": n}


def _evaluate(
    clf: Classifier, x: np.ndarray, y: np.ndarray, sets: dict[tuple[str, int], np.ndarray]
) -> dict[str, Any]:
    result: dict[str, Any] = {"clean": _rate(clf.predict(x) == y)}
    result["drop50"] = _rate(clf.predict(sets[("drop50", 0)]) == y)
    result["noise"] = _rate(clf.predict(sets[("jitter", 5)]) == y)
    per_kind: dict[str, list[float]] = {}
    per_cloud = np.zeros(len(y))
    for kind in KINDS:
        accs = []
        for severity in SEVERITIES:
            correct = clf.predict(sets[(kind, severity)]) == y
            per_cloud += correct
            accs.append(float(correct.mean()))
        per_kind[kind] = accs
    mean = per_cloud.sum() / (len(y) * len(KINDS) * len(SEVERITIES))
    low, high = wilson(round(mean * len(y)), len(y))
    result["all"] = {"acc": float(mean), "low": low, "high": high, "n": len(y)}
    result["per_kind"] = per_kind
    worst = min(per_kind, key=lambda kind: float(np.mean(per_kind[kind])))
    result["worst"] = {"kind": worst, "acc": float(np.mean(per_kind[worst]))}
    n = x.shape[1]
    result["salient_drop50"] = _rate(
        clf.predict(saliency_drop(clf, x, y, n_drop=n // 2, steps=4)) == y
    )
    adv = pgd(clf, x, y, eps=0.02, steps=10, norm="linf", rng=np.random.default_rng(0))
    result["pgd"] = _rate(clf.predict(adv) == y)
    return result


def _cell(r: dict[str, Any]) -> str:
    return f"{r['acc']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"


def _table(results: dict[str, Any]) -> str:
    head = (
        "| model | train s | clean | 50 % random drop | Gaussian noise σ=.05 | "
        "all corruptions (mean) | worst kind | 50 % salient drop | PGD L∞ .02 |"
    )
    lines = [head, "|" + "---|" * 9]
    for mode in MODES:
        r = results["models"][mode]
        lines.append(
            f"| {NAMES[mode]} | {r['train_seconds']:.0f} | {_cell(r['clean'])} | "
            f"{_cell(r['drop50'])} | {_cell(r['noise'])} | {_cell(r['all'])} | "
            f"{r['worst']['kind']} {r['worst']['acc']:.3f} | {_cell(r['salient_drop50'])} | "
            f"{_cell(r['pgd'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=150, help="training clouds per class")
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument("--points", type=int, default=1024, help="points per cloud")
    parser.add_argument("--train-points", type=int, default=512, help="points sampled per step")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    x, y, _ = make_dataset(args.per_class, 1, n_points=args.points)
    xt, yt, _ = make_dataset(args.test_per_class, 2, n_points=args.points)
    _log(f"data: {len(x)} train, {len(xt)} test clouds")
    sets = _corrupted_sets(xt, seed=3)
    _log(f"corrupted test sets: {len(sets)}")
    options = {"train_points": args.train_points}
    settings = {"epochs": args.epochs, "seed": args.seed, "batch_size": 32, "lr": 2e-3}
    results: dict[str, Any] = {"models": {}}
    teacher: Classifier | None = None
    for mode in MODES:
        t0 = time.perf_counter()
        clf, history = train(
            x, y, classes=CLASSES, augment=mode, teacher=teacher, options=options, **settings
        )
        seconds = time.perf_counter() - t0
        if mode == "none":
            teacher = clf
        _log(f"{mode}: trained in {seconds:.0f} s, evaluating")
        row = _evaluate(clf, xt, yt, sets)
        row["train_seconds"] = seconds
        row["history"] = history
        results["models"][mode] = row
        _log(f"{mode}: clean {row['clean']['acc']:.3f}, all {row['all']['acc']:.3f}")
    results["settings"] = {**vars(args), **settings}
    results["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch_threads": args.threads,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "total_seconds": time.perf_counter() - started,
    }
    table = _table(results)
    print(
        f"Robust training on the synthetic set ({len(x)} train / {len(xt)} test clouds, "
        f"{args.points} points, {args.epochs} epochs, {args.threads} torch threads; "
        f"load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}); "
        "accuracy [Wilson 95 %]\n"
    )
    print(table)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
