"""Train the refusal judge's head and measure it against the keyword baseline.

::

    python -m assay.judges.train_refusal [--train PATH] [--test PATH] [--out PATH]
                                         [--seed N] [--parts full,lead,last]

Embeds each answer (see :mod:`assay.judges.refusal` for the views), picks the
regularisation strength ``C`` by 5-fold cross-validation on the training set with folds
grouped by prompt (so no request is on both sides of a fold), fits a multinomial logistic
regression, and writes the head as JSON: weights, classes, feature recipe, embedder,
SHA-256 of both data files, seed, and train/test metrics of the head *as written* (its
weights rounded to 9 significant digits, applied by the same numpy code the judge uses).
The same numbers are printed, next to the keyword baseline's on the same test set.

Deterministic for a given seed and data: lbfgs has no randomness, and the seed fixes
the cross-validation folds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assay.errors import InputError, MissingDependencyError
from assay.judges.embedder import embed
from assay.judges.keyword import is_refusal
from assay.judges.refusal import (
    CLASSES,
    Array,
    FeatureRecipe,
    RefusalHead,
    default_head_path,
    featurize,
)

DATA_DIR = default_head_path().parent
C_GRID: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Row:
    """One labelled answer."""

    prompt: str
    response: str
    label: str
    source: str


def load_rows(path: Path) -> list[Row]:
    """Read a labelled JSONL file; raises :class:`InputError` naming the bad line."""
    rows: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            row = Row(
                str(item["prompt"]), str(item["response"]), str(item["label"]), str(item["source"])
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a labelled row: {exc}", source=str(path), line=number) from exc
        if row.label not in CLASSES:
            raise InputError(
                f"label must be one of {CLASSES}", source=str(path), line=number, field="label"
            )
        rows.append(row)
    return rows


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes: ties a head to the exact data it was trained on."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/support, and the confusion matrix.

    ``confusion[i][j]`` counts answers labelled ``CLASSES[i]`` predicted ``CLASSES[j]``.
    ``refusal_accuracy`` collapses partial and complied into "not refused", the split
    that decides whether a harmful case counts as safe.
    """
    index = {c: i for i, c in enumerate(CLASSES)}
    confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        confusion[index[t], index[p]] += 1
    n = int(confusion.sum())
    per_class = {}
    for c, i in index.items():
        predicted_c, actual_c = int(confusion[:, i].sum()), int(confusion[i, :].sum())
        per_class[c] = {
            "precision": float(confusion[i, i] / predicted_c) if predicted_c else 0.0,
            "recall": float(confusion[i, i] / actual_c) if actual_c else 0.0,
            "support": actual_c,
        }
    refused = index["refused"]
    binary_right = confusion[refused, refused] + confusion[1:, 1:].sum()
    return {
        "n": n,
        "accuracy": float(np.trace(confusion) / n) if n else 0.0,
        "refusal_accuracy": float(binary_right / n) if n else 0.0,
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def source_family(source: str) -> str:
    """``synthetic-test:r_hard`` -> ``synthetic-test``; ``smollm2`` stays."""
    return source.split(":", 1)[0]


def evaluate(rows: Sequence[Row], predicted: Sequence[str]) -> dict[str, Any]:
    """Metrics overall and per source family."""
    report = metrics([r.label for r in rows], predicted)
    families = sorted({source_family(r.source) for r in rows})
    if len(families) > 1:
        report["by_source"] = {
            family: metrics(
                [r.label for r in rows if source_family(r.source) == family],
                [
                    p
                    for r, p in zip(rows, predicted, strict=True)
                    if source_family(r.source) == family
                ],
            )
            for family in families
        }
    return report


def keyword_predictions(rows: Sequence[Row]) -> list[str]:
    """The keyword baseline: refused if a refusal phrase occurs, else complied."""
    return ["refused" if is_refusal(r.response) else "complied" for r in rows]


def select_c(x: Array, y: Array, groups: Array, seed: int) -> tuple[float, dict[str, float]]:
    """The C of :data:`C_GRID` with the best grouped 5-fold CV accuracy (ties: smaller C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    folds = list(
        StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed).split(x, y, groups)
    )
    scores: dict[str, float] = {}
    for c in C_GRID:
        right = 0
        for fit_idx, held_idx in folds:
            model = LogisticRegression(C=c, max_iter=5000).fit(x[fit_idx], y[fit_idx])
            right += int((model.predict(x[held_idx]) == y[held_idx]).sum())
        scores[str(c)] = right / len(y)
    best = max(C_GRID, key=lambda c: (scores[str(c)], -c))
    return best, scores


def fit_head(x: Array, y: Array, c: float, recipe: FeatureRecipe) -> RefusalHead:
    """Fit the logistic regression and round its weights to what the JSON will hold."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    order = [list(model.classes_).index(cls) for cls in CLASSES]
    coef = _round(model.coef_[order])
    intercept = _round(model.intercept_[order])
    return RefusalHead(classes=CLASSES, recipe=recipe, coef=coef, intercept=intercept)


def _round(values: Array) -> Array:
    """Round to 9 significant digits, exactly as the JSON file will store them."""
    flat = [float(f"{v:.9g}") for v in np.asarray(values, dtype=np.float64).ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(np.shape(values))


def predict(head: RefusalHead, x: Array) -> list[str]:
    """Most probable class per row, by the judge's own numpy code."""
    probs = head.probabilities(x)
    return [head.classes[i] for i in probs.argmax(axis=1)]


def train(
    train_path: Path, test_path: Path, seed: int, recipe: FeatureRecipe
) -> tuple[RefusalHead, dict[str, Any]]:
    """Train on ``train_path``, measure on ``test_path``; returns the head and its report."""
    try:
        import sklearn
    except ImportError as exc:
        raise MissingDependencyError("scikit-learn", "embedded") from exc
    train_rows, test_rows = load_rows(train_path), load_rows(test_path)

    def features(rows: Sequence[Row]) -> Array:
        return featurize([r.response for r in rows], recipe, lambda b: embed(b, batch_size=32))

    x_train, x_test = features(train_rows), features(test_rows)
    y_train = np.array([r.label for r in train_rows])
    groups = np.array([r.source for r in train_rows])
    c, cv_scores = select_c(x_train, y_train, groups, seed)
    head = fit_head(x_train, y_train, c, recipe)
    report = {
        "seed": seed,
        "C": c,
        "cv_accuracy": cv_scores,
        "train_sha256": sha256_file(train_path),
        "test_sha256": sha256_file(test_path),
        "trained_with": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "metrics": {
            "train": evaluate(train_rows, predict(head, x_train)),
            "test": evaluate(test_rows, predict(head, x_test)),
            "keyword_test": evaluate(test_rows, keyword_predictions(test_rows)),
        },
    }
    return RefusalHead(head.classes, recipe, head.coef, head.intercept, report), report


def format_metrics(title: str, m: dict[str, Any]) -> list[str]:
    """Human-readable lines for one metrics block (and its per-source blocks)."""
    lines = [
        f"{title}: n={m['n']} accuracy={m['accuracy']:.3f} "
        f"refused-vs-not accuracy={m['refusal_accuracy']:.3f}"
    ]
    for c in CLASSES:
        pc = m["per_class"][c]
        lines.append(
            f"  {c:9s} precision={pc['precision']:.3f} recall={pc['recall']:.3f} "
            f"support={pc['support']}"
        )
    lines.append("  confusion (rows=true, cols=predicted: " + " ".join(CLASSES) + ")")
    lines.extend(f"  {c:9s} {row}" for c, row in zip(CLASSES, m["confusion"], strict=True))
    for family, sub in m.get("by_source", {}).items():
        lines.extend("  " + line for line in format_metrics(f"{title} [{family}]", sub))
    return lines


def format_report(report: dict[str, Any]) -> str:
    """The printed summary: CV, train, test, keyword baseline on test."""
    cv = " ".join(f"C={c}:{s:.3f}" for c, s in report["cv_accuracy"].items())
    lines = [f"seed={report['seed']} chosen C={report['C']} (grouped 5-fold CV: {cv})"]
    lines += format_metrics("refusal judge, train", report["metrics"]["train"])
    lines += format_metrics("refusal judge, test", report["metrics"]["test"])
    lines += format_metrics("keyword baseline, test", report["metrics"]["keyword_test"])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m assay.judges.train_refusal", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--train", type=Path, default=DATA_DIR / "refusal_train.jsonl")
    parser.add_argument("--test", type=Path, default=DATA_DIR / "refusal_test.jsonl")
    parser.add_argument("--out", type=Path, default=default_head_path())
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--parts",
        default=",".join(FeatureRecipe().parts),
        help="comma-separated views to embed (full, lead, rest, last)",
    )
    args = parser.parse_args(argv)
    recipe = FeatureRecipe(parts=tuple(p.strip() for p in args.parts.split(",")))
    head, report = train(args.train, args.test, args.seed, recipe)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(head.to_json(), indent=1) + "\n", encoding="utf-8")
    print(format_report(report))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
