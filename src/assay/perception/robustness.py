"""Robustness metrics of a classifier under corruptions: accuracy, CE/mCE, RR/mRR, worst.

The input is one :class:`Prediction` per (sample, corruption, severity): the clean,
uncorrupted sample is the corruption ``"clean"`` at severity 0. From these:

* **Accuracy per cell** (corruption, severity): correct / n with a Wilson 95 % interval
  over the samples (:mod:`assay.metrics.intervals`). A prediction whose target errored
  (no logits, an error message, or a non-finite logit) is *wrong*: an error is never a
  pass. Errors are also counted apart, so a reader sees how much of the loss is crashes.
* **Mean accuracy** of a corruption: the plain mean of its cells' accuracies over its
  severities (each severity weighs the same, as in Robo3D and ModelNet-C).
* **Corruption error** (ImageNet-C, Hendrycks & Dietterich 2019; ModelNet-C; Robo3D):
  ``CE_c = sum_s E(model, c, s) / sum_s E(baseline, c, s)`` with ``E = 1 - accuracy``.
  A named baseline model scores 1.0 on every corruption; below 1 is more robust than it.
  ``None`` when the baseline makes no error on ``c`` (the ratio is undefined).
* **Relative CE** (ImageNet-C's relative mCE, ModelNet-C's RCE): the same ratio of the
  *drops* from clean, ``sum_s (E(model, c, s) - E(model, clean)) /
  sum_s (E(baseline, c, s) - E(baseline, clean))``: how much a corruption costs a model
  beyond its clean error. ``None`` without clean cells or when the baseline's summed drop
  is not positive (it did not degrade, so the ratio means nothing).
* **Resilience rate** (Robo3D): ``RR_c = mean_s Acc(c, s) / Acc(clean)``, relative to
  the model's own clean accuracy, no baseline needed. ``None`` without clean accuracy or
  when it is 0.
* **mCE, relative mCE, mRR**: the means over corruptions of the defined values; the
  corruptions left out (undefined value) are listed next to each mean, so a mean over
  fewer corruptions is never mistaken for the full one.
* **Worst corruption** (lowest mean accuracy) and **worst cell** (lowest accuracy at any
  severity above 0). Ties go to the corruption seen first in the input, then the lower
  severity.

An optional abstention block per cell (coverage, set size, abstention rate, selective
accuracy: conformal prediction results computed elsewhere) rides along so one report can
show both. Everything converts to plain JSON with ``to_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import InputError
from assay.metrics.intervals import Estimate

#: The corruption name of the uncorrupted sample; it must have severity 0.
CLEAN = "clean"

#: Version of the ``to_dict`` layout, stored in the JSON report.
SCHEMA = "assay.perception.robustness/1"

#: Abstention figures a cell may carry, in display order, and the aliases accepted. The
#: keys match :func:`assay.perception.abstain.evaluate`, whose dict can be passed as is.
ABSTENTION_FIELDS = (
    "coverage",
    "min_class_coverage",
    "mean_set_size",
    "empty_rate",
    "abstention_rate",
    "selective_accuracy",
)
ABSTENTION_ALIASES = {"set_size": "mean_set_size", "abstention": "abstention_rate"}
#: Keys accepted and dropped: the cell's own ``n`` and accuracy come from the predictions.
ABSTENTION_IGNORED = frozenset({"n", "accuracy"})

CellKey = tuple[str, int]


@dataclass(frozen=True)
class Prediction:
    """One classifier output on one (sample, corruption, severity).

    Attributes:
        case_id: the sample's id (the same across its corruptions).
        label: the true class index.
        corruption: the corruption's name; ``"clean"`` for the uncorrupted sample.
        severity: the corruption's severity; 0 for clean, 1 and up otherwise.
        logits: the class scores (any monotone score: logits or probabilities), or
            ``None`` when the target errored.
        error: the target's error message, if it failed.
    """

    case_id: str
    label: int
    corruption: str
    severity: int
    logits: tuple[float, ...] | None
    error: str | None = None

    @property
    def errored(self) -> bool:
        """True when the target failed: an error, no logits, or a NaN/infinite logit."""
        if self.error is not None or not self.logits:
            return True
        return not all(math.isfinite(v) for v in self.logits)

    @property
    def predicted(self) -> int | None:
        """The predicted class (the first arg-max of the logits), or ``None`` if errored."""
        if self.errored or self.logits is None:
            return None
        return max(range(len(self.logits)), key=self.logits.__getitem__)

    @property
    def correct(self) -> bool:
        """The prediction matches the label; ``False`` when errored (never a pass)."""
        predicted = self.predicted
        return predicted is not None and predicted == self.label


@dataclass(frozen=True)
class Abstention:
    """Conformal / abstention figures of one cell (computed elsewhere, shown as given).

    Attributes:
        coverage: fraction of samples whose prediction set holds the true label.
        min_class_coverage: the lowest coverage over the true classes present.
        mean_set_size: mean number of classes per prediction set.
        empty_rate: fraction of empty prediction sets.
        abstention_rate: fraction of samples the classifier declined to decide.
        selective_accuracy: accuracy over the samples it did decide.
    """

    coverage: float | None = None
    min_class_coverage: float | None = None
    mean_set_size: float | None = None
    empty_rate: float | None = None
    abstention_rate: float | None = None
    selective_accuracy: float | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str) -> Abstention:
        """Read the figures from a mapping (``set_size``/``abstention`` are aliases).

        ``n`` and ``accuracy`` are accepted and dropped (the cell has its own).

        Raises:
            InputError: an unknown key, a non-number, a negative value or a rate above 1.
        """
        if isinstance(values, Abstention):
            return values
        out: dict[str, float | None] = {}
        for key, value in values.items():
            if key in ABSTENTION_IGNORED:
                continue
            name = ABSTENTION_ALIASES.get(key, key)
            if name not in ABSTENTION_FIELDS:
                raise InputError(
                    f"unknown abstention figure {key!r}; expected one of "
                    f"{', '.join(ABSTENTION_FIELDS)}",
                    field=f"abstention[{where}]",
                )
            out[name] = _figure(value, rate=name != "mean_set_size", field=f"{where}.{key}")
        return cls(**out)

    def to_dict(self) -> dict[str, float | None]:
        """The figures as a plain dict (``None`` for those not given)."""
        return {name: getattr(self, name) for name in ABSTENTION_FIELDS}


def _figure(value: Any, *, rate: bool, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"must be a finite number or null, got {value!r}", field=field)
    if value < 0 or (rate and value > 1):
        bound = "in [0, 1]" if rate else ">= 0"
        raise InputError(f"must be {bound}, got {value!r}", field=field)
    return float(value)


@dataclass(frozen=True)
class Cell:
    """Accuracy of one (corruption, severity) over its samples.

    Attributes:
        corruption, severity: the cell (``"clean"``, 0 for the uncorrupted samples).
        n: predictions in the cell; correct: how many matched the label.
        errors: how many errored (counted as wrong in ``accuracy``).
        accuracy: ``correct / n`` with its Wilson 95 % interval.
        abstention: conformal / abstention figures, when given.
    """

    corruption: str
    severity: int
    n: int
    correct: int
    errors: int
    accuracy: Estimate
    abstention: Abstention | None = None

    @property
    def key(self) -> CellKey:
        """``(corruption, severity)``."""
        return (self.corruption, self.severity)

    @property
    def error_rate(self) -> float:
        """``1 - accuracy`` (``E`` in the CE formulas); cells always have ``n >= 1``."""
        return 1.0 - self.correct / self.n

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        """Rebuild a cell from :meth:`to_dict`'s output."""
        block = data.get("abstention")
        return cls(
            corruption=data["corruption"],
            severity=data["severity"],
            n=data["n"],
            correct=data["correct"],
            errors=data["errors"],
            accuracy=Estimate.model_validate(data["accuracy"]),
            abstention=None if block is None else Abstention(**block),
        )

    def to_dict(self) -> dict[str, Any]:
        """The cell as plain JSON."""
        return {
            "corruption": self.corruption,
            "severity": self.severity,
            "n": self.n,
            "correct": self.correct,
            "errors": self.errors,
            "accuracy": self.accuracy.model_dump(),
            "abstention": None if self.abstention is None else self.abstention.to_dict(),
        }


@dataclass(frozen=True)
class CorruptionRow:
    """One corruption over its severities.

    Attributes:
        corruption: the name; severities: those present, ascending.
        mean_accuracy: mean of the cells' accuracies over the severities.
        errors: errored predictions over all its cells; n: all its predictions.
        ce: corruption error against the baseline (``None`` without one or undefined).
        relative_ce: the same for the drop from clean.
        rr: resilience rate, ``mean_accuracy / clean accuracy``.
        baseline_mean_accuracy: the baseline's mean accuracy on the same severities.
    """

    corruption: str
    severities: tuple[int, ...]
    mean_accuracy: float
    errors: int
    n: int
    ce: float | None
    relative_ce: float | None
    rr: float | None
    baseline_mean_accuracy: float | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CorruptionRow:
        """Rebuild a row from :meth:`to_dict`'s output."""
        return cls(**{**data, "severities": tuple(data["severities"])})

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON."""
        return {
            "corruption": self.corruption,
            "severities": list(self.severities),
            "mean_accuracy": self.mean_accuracy,
            "errors": self.errors,
            "n": self.n,
            "ce": self.ce,
            "relative_ce": self.relative_ce,
            "rr": self.rr,
            "baseline_mean_accuracy": self.baseline_mean_accuracy,
        }


@dataclass(frozen=True)
class ClassRow:
    """Accuracy of one true class, clean and pooled over every corrupted cell."""

    label: int
    name: str | None
    clean: Estimate
    corrupted: Estimate

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassRow:
        """Rebuild a row from :meth:`to_dict`'s output."""
        return cls(
            label=data["label"],
            name=data["name"],
            clean=Estimate.model_validate(data["clean"]),
            corrupted=Estimate.model_validate(data["corrupted"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON."""
        return {
            "label": self.label,
            "name": self.name,
            "clean": self.clean.model_dump(),
            "corrupted": self.corrupted.model_dump(),
        }


@dataclass(frozen=True)
class MeanOver:
    """A mean over corruptions, with the corruptions it had to leave out.

    Attributes:
        value: the mean over the corruptions where the figure is defined, or ``None``
            when it is defined for none.
        excluded: corruptions left out because their figure is undefined.
    """

    value: float | None
    excluded: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeanOver:
        """Rebuild a mean from :meth:`to_dict`'s output."""
        return cls(data["value"], tuple(data["excluded"]))

    def to_dict(self) -> dict[str, Any]:
        """The mean as plain JSON."""
        return {"value": self.value, "excluded": list(self.excluded)}


@dataclass(frozen=True)
class RobustnessSummary:
    """Everything the robustness report shows (see the module docstring for formulas).

    Attributes:
        model_name, baseline_name: display names (``None`` if not given).
        cells: the model's accuracy table, clean first, then corruptions in input order.
        baseline_cells: the baseline's table (empty without a baseline).
        clean: the model's clean accuracy (``None`` without clean predictions).
        baseline_clean: the baseline's clean accuracy.
        corruptions: one row per corruption, in input order.
        mce, relative_mce, mrr: the means over corruptions.
        worst_corruption: lowest mean accuracy; worst_cell: lowest accuracy at severity
            above 0 (both ``None`` without corrupted predictions).
        errors: errored predictions in total; n: all predictions.
        per_class: per-class accuracy, when asked for.
    """

    model_name: str | None
    baseline_name: str | None
    cells: tuple[Cell, ...]
    baseline_cells: tuple[Cell, ...]
    clean: Estimate | None
    baseline_clean: Estimate | None
    corruptions: tuple[CorruptionRow, ...]
    mce: MeanOver
    relative_mce: MeanOver
    mrr: MeanOver
    worst_corruption: str | None
    worst_cell: CellKey | None
    errors: int
    n: int
    per_class: tuple[ClassRow, ...] = ()

    @property
    def has_baseline(self) -> bool:
        """A baseline was given (CE and relative CE are computed)."""
        return bool(self.baseline_cells)

    @property
    def has_abstention(self) -> bool:
        """At least one cell carries abstention figures."""
        return any(cell.abstention is not None for cell in self.cells)

    def cell(self, corruption: str, severity: int) -> Cell:
        """The model's cell ``(corruption, severity)``; ``KeyError`` if absent."""
        for cell in self.cells:
            if cell.key == (corruption, severity):
                return cell
        raise KeyError((corruption, severity))

    def row(self, corruption: str) -> CorruptionRow:
        """The row of one corruption; ``KeyError`` if absent."""
        for row in self.corruptions:
            if row.corruption == corruption:
                return row
        raise KeyError(corruption)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobustnessSummary:
        """Rebuild a summary from :meth:`to_dict`'s output (e.g. a stored JSON report).

        Raises:
            InputError: the data is not a summary of this schema version, or is malformed.
        """
        if data.get("schema") != SCHEMA:
            raise InputError(
                f"expected schema {SCHEMA!r}, got {data.get('schema')!r}", field="schema"
            )
        try:
            clean, base_clean, worst = data["clean"], data["baseline_clean"], data["worst_cell"]
            return cls(
                model_name=data["model_name"],
                baseline_name=data["baseline_name"],
                cells=tuple(Cell.from_dict(c) for c in data["cells"]),
                baseline_cells=tuple(Cell.from_dict(c) for c in data["baseline_cells"]),
                clean=None if clean is None else Estimate.model_validate(clean),
                baseline_clean=None if base_clean is None else Estimate.model_validate(base_clean),
                corruptions=tuple(CorruptionRow.from_dict(r) for r in data["corruptions"]),
                mce=MeanOver.from_dict(data["mce"]),
                relative_mce=MeanOver.from_dict(data["relative_mce"]),
                mrr=MeanOver.from_dict(data["mrr"]),
                worst_corruption=data["worst_corruption"],
                worst_cell=None if worst is None else (str(worst[0]), int(worst[1])),
                errors=data["errors"],
                n=data["n"],
                per_class=tuple(ClassRow.from_dict(r) for r in data.get("per_class", ())),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"malformed robustness summary: {exc}", field="summary") from exc

    def to_dict(self) -> dict[str, Any]:
        """The whole summary as plain JSON (``json.dumps`` works on it as is)."""
        return {
            "schema": SCHEMA,
            "model_name": self.model_name,
            "baseline_name": self.baseline_name,
            "n": self.n,
            "errors": self.errors,
            "clean": None if self.clean is None else self.clean.model_dump(),
            "baseline_clean": (
                None if self.baseline_clean is None else self.baseline_clean.model_dump()
            ),
            "mce": self.mce.to_dict(),
            "relative_mce": self.relative_mce.to_dict(),
            "mrr": self.mrr.to_dict(),
            "worst_corruption": self.worst_corruption,
            "worst_cell": None if self.worst_cell is None else list(self.worst_cell),
            "corruptions": [row.to_dict() for row in self.corruptions],
            "cells": [cell.to_dict() for cell in self.cells],
            "baseline_cells": [cell.to_dict() for cell in self.baseline_cells],
            "per_class": [row.to_dict() for row in self.per_class],
        }


def _check(preds: Sequence[Prediction], field: str) -> None:
    """Reject empty input, bad severities, negative labels and duplicate rows."""
    if not preds:
        raise InputError("no predictions", field=field)
    seen: set[tuple[str, str, int]] = set()
    for i, pred in enumerate(preds):
        where = f"{field}[{i}]"
        if not isinstance(pred, Prediction):
            raise InputError(f"expected a Prediction, got {type(pred).__name__}", field=where)
        if pred.corruption == CLEAN and pred.severity != 0:
            raise InputError(f"clean must have severity 0, got {pred.severity}", field=where)
        if pred.corruption != CLEAN and pred.severity < 1:
            raise InputError(
                f"corruption {pred.corruption!r} needs severity >= 1, got {pred.severity}",
                field=where,
            )
        if pred.label < 0:
            raise InputError(f"label must be >= 0, got {pred.label}", field=where)
        key = (pred.case_id, pred.corruption, pred.severity)
        if key in seen:
            raise InputError(
                f"duplicate prediction for case {pred.case_id!r} at "
                f"({pred.corruption!r}, {pred.severity})",
                field=where,
            )
        seen.add(key)


def accuracy_table(
    preds: Sequence[Prediction],
    *,
    abstention: Mapping[CellKey, Mapping[str, Any] | Abstention] | None = None,
) -> list[Cell]:
    """Accuracy with a Wilson 95 % interval per (corruption, severity).

    Args:
        preds: one prediction per (sample, corruption, severity).
        abstention: optional conformal / abstention figures per ``(corruption, severity)``
            (see :class:`Abstention` for the keys); attached to the matching cells.

    Returns:
        The cells: clean first, then the corruptions in the order first seen, each by
        ascending severity. Errored predictions count as wrong and in ``errors``.

    Raises:
        InputError: empty input, clean at a severity other than 0, a corruption at a
            severity below 1, a negative label, a duplicate (case, corruption, severity),
            or abstention figures that are malformed or name a cell that has no
            predictions.
    """
    _check(preds, "predictions")
    order: dict[str, int] = {CLEAN: -1}
    counts: dict[CellKey, list[int]] = {}
    for pred in preds:
        order.setdefault(pred.corruption, len(order))
        tally = counts.setdefault((pred.corruption, pred.severity), [0, 0, 0])
        tally[0] += 1
        tally[1] += pred.correct
        tally[2] += pred.errored
    extra = {} if abstention is None else dict(abstention)
    for key in extra:
        if key not in counts:
            raise InputError(f"no predictions for cell {key!r}", field="abstention")
    cells = []
    for key in sorted(counts, key=lambda k: (order[k[0]], k[1])):
        n, correct, errors = counts[key]
        block = extra.get(key)
        cells.append(
            Cell(
                corruption=key[0],
                severity=key[1],
                n=n,
                correct=correct,
                errors=errors,
                accuracy=Estimate.of(correct, n),
                abstention=(
                    None
                    if block is None
                    else Abstention.from_mapping(block, where=f"{key[0]}@{key[1]}")
                ),
            )
        )
    return cells


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _mean_over(rows: Sequence[CorruptionRow], attr: str) -> MeanOver:
    values = [getattr(row, attr) for row in rows]
    defined = [v for v in values if v is not None]
    excluded = tuple(row.corruption for row, v in zip(rows, values, strict=True) if v is None)
    return MeanOver(_mean(defined) if defined else None, excluded)


def _ratio(num: float, den: float, *, positive: bool) -> float | None:
    """``num / den``; ``None`` when ``den`` is 0 (or not positive, with ``positive``)."""
    if den == 0.0 or (positive and den < 0.0):
        return None
    return num / den


def _corruption_rows(
    cells: Sequence[Cell],
    base: Mapping[CellKey, Cell] | None,
    clean: Cell | None,
    base_clean: Cell | None,
) -> list[CorruptionRow]:
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        if cell.corruption != CLEAN:
            groups.setdefault(cell.corruption, []).append(cell)
    rows = []
    for name, group in groups.items():
        mean_acc = _mean([c.correct / c.n for c in group])
        ce = rel = base_mean = None
        if base is not None:
            theirs = [base[c.key] for c in group]
            base_mean = _mean([c.correct / c.n for c in theirs])
            ce = _ratio(
                sum(c.error_rate for c in group),
                sum(c.error_rate for c in theirs),
                positive=False,
            )
            if clean is not None and base_clean is not None:
                rel = _ratio(
                    sum(c.error_rate - clean.error_rate for c in group),
                    sum(c.error_rate - base_clean.error_rate for c in theirs),
                    positive=True,
                )
        clean_acc = None if clean is None else clean.correct / clean.n
        rows.append(
            CorruptionRow(
                corruption=name,
                severities=tuple(c.severity for c in group),
                mean_accuracy=mean_acc,
                errors=sum(c.errors for c in group),
                n=sum(c.n for c in group),
                ce=ce,
                relative_ce=rel,
                rr=None if not clean_acc else mean_acc / clean_acc,
                baseline_mean_accuracy=base_mean,
            )
        )
    return rows


def _per_class(preds: Sequence[Prediction], names: Sequence[str] | None) -> tuple[ClassRow, ...]:
    tallies: dict[int, list[int]] = {}
    for pred in preds:
        t = tallies.setdefault(pred.label, [0, 0, 0, 0])
        offset = 0 if pred.corruption == CLEAN else 2
        t[offset] += pred.correct
        t[offset + 1] += 1
    rows = []
    for label in sorted(tallies):
        t = tallies[label]
        name = names[label] if names is not None and label < len(names) else None
        rows.append(ClassRow(label, name, Estimate.of(t[0], t[1]), Estimate.of(t[2], t[3])))
    return tuple(rows)


def summarise(
    preds: Sequence[Prediction],
    *,
    baseline: Sequence[Prediction] | None = None,
    baseline_name: str | None = None,
    model_name: str | None = None,
    abstention: Mapping[CellKey, Mapping[str, Any] | Abstention] | None = None,
    per_class: bool = False,
    class_names: Sequence[str] | None = None,
) -> RobustnessSummary:
    """Summarise a model's predictions under corruptions (formulas: module docstring).

    Args:
        preds: the model's predictions, one per (sample, corruption, severity).
        baseline: the reference model's predictions on the same cells (the samples may
            differ; each cell's accuracy is what is compared). Without it, CE and
            relative CE are ``None``.
        baseline_name, model_name: display names for the report.
        abstention: optional per-cell abstention figures (see :func:`accuracy_table`).
        per_class: also compute accuracy per true class (clean, and pooled corrupted).
        class_names: names of the class indices, for the per-class table.

    Raises:
        InputError: bad predictions (see :func:`accuracy_table`), or a baseline that lacks
            a (corruption, severity) cell the model has (CE would silently change meaning).
    """
    cells = accuracy_table(preds, abstention=abstention)
    base_cells: list[Cell] = []
    base: dict[CellKey, Cell] | None = None
    if baseline is not None:
        _check(baseline, "baseline")
        base_cells = accuracy_table(baseline)
        base = {c.key: c for c in base_cells}
        missing = [c.key for c in cells if c.key not in base]
        if missing:
            shown = ", ".join(f"{name}@{sev}" for name, sev in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise InputError(
                f"the baseline has no predictions for {shown}{more}; "
                "it must cover every (corruption, severity) the model has",
                field="baseline",
            )
    clean = next((c for c in cells if c.corruption == CLEAN), None)
    base_clean = None if base is None else base.get((CLEAN, 0))
    rows = _corruption_rows(cells, base, clean, base_clean)
    corrupted = [c for c in cells if c.corruption != CLEAN]
    worst_row = min(rows, key=lambda r: r.mean_accuracy, default=None)
    worst_cell = min(corrupted, key=lambda c: c.correct / c.n, default=None)
    return RobustnessSummary(
        model_name=model_name,
        baseline_name=baseline_name,
        cells=tuple(cells),
        baseline_cells=tuple(base_cells),
        clean=None if clean is None else clean.accuracy,
        baseline_clean=None if base_clean is None else base_clean.accuracy,
        corruptions=tuple(rows),
        mce=_mean_over(rows, "ce"),
        relative_mce=_mean_over(rows, "relative_ce"),
        mrr=_mean_over(rows, "rr"),
        worst_corruption=None if worst_row is None else worst_row.corruption,
        worst_cell=None if worst_cell is None else worst_cell.key,
        errors=sum(c.errors for c in cells),
        n=sum(c.n for c in cells),
        per_class=_per_class(preds, class_names) if per_class else (),
    )
