"""Perception samples as engine cases, and the exact input an attempt asks a classifier.

A perception :class:`~assay.core.records.Case` is one labelled sample: its ``metadata``
holds ``domain="perception"``, the data set's source (see :mod:`assay.perception.data`),
the sample's index and label; its ``hazard`` is the class name, so per-group tables
become per-class tables. The case's single user message only names the sample: the
arrays never go through the store. An attack on it (see :mod:`assay.perception.attacks`)
records *which* corruption, at what severity and with which seed; :func:`input_of`
replays the chain on the sample, so any process rebuilds an attempt's input bit for bit
from the stored records alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.core.records import PERCEPTION, Attempt, Case, Message
from assay.errors import InputError
from assay.perception.data import Samples, load
from assay.suites.base import Suite

__all__ = ["input_of", "is_perception", "sample_of", "suite_of"]


def is_perception(case: Case) -> bool:
    """Whether ``case`` is a perception sample (rather than a chat prompt)."""
    return case.metadata.get("domain") == PERCEPTION


def suite_of(
    samples: Samples, *, indices: Sequence[int] | NDArray[np.intp] | None = None, name: str = ""
) -> Suite:
    """One case per sample (``indices``: a subset, in that order; default all)."""
    if samples.source.get("kind") not in ("synthetic", "npz", "modelnet40"):
        raise InputError("cases need a data set that can be reloaded (synthetic, npz, modelnet40)")
    chosen = range(len(samples)) if indices is None else [int(i) for i in indices]
    suite_name = name or samples.name
    cases = []
    for i in chosen:
        label = int(samples.labels[i])
        cases.append(
            Case(
                id=f"{i:06d}",
                messages=(Message(role="user", content=f"classify sample {i} of {suite_name}"),),
                hazard=samples.classes[label],
                expected="comply",
                metadata={
                    "domain": PERCEPTION,
                    "dataset": samples.source,
                    "index": i,
                    "label": label,
                    "classes": list(samples.classes),
                },
                suite=suite_name,
                suite_version="1",
            )
        )
    return Suite(
        name=suite_name,
        version="1",
        cases=tuple(cases),
        description=f"{len(cases)} {samples.kind} samples, {len(samples.classes)} classes",
        source=str(samples.source.get("path", samples.source.get("kind", ""))),
        params={"dataset": samples.source, "n": len(cases)},
    )


def sample_of(case: Case) -> tuple[NDArray[Any], NDArray[np.int64] | None]:
    """The clean input of a perception case and, for scanned clouds, its ring ids."""
    if not is_perception(case):
        raise InputError(f"case {case.id!r} is not a perception sample", field="case")
    samples = load(case.metadata["dataset"])
    i = int(case.metadata["index"])
    if not 0 <= i < len(samples):
        raise InputError(f"case {case.id!r}: index {i} outside the data set", field="index")
    beams = None if samples.beams is None else samples.beams[i]
    return samples.x[i], beams


def input_of(attempt: Attempt) -> NDArray[Any]:
    """The case's sample with every corruption of the attack chain applied, in order.

    White-box (adversarial) steps are left to the target, which has the model; they are
    only allowed last in a chain, so this is the input they start from.
    """
    from assay.perception.attacks import apply_step

    x, beams = sample_of(attempt.case)
    for n, step in enumerate(attempt.attacks):
        if step.detail.get("adversarial"):
            if n != len(attempt.attacks) - 1:
                raise InputError("an adversarial attack must be the last link of a chain")
            break
        x, beams = apply_step(x, beams, step.detail)
    return x
