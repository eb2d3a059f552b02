"""Corruptions and white-box attacks as engine attacks on perception cases.

Four families, each a :class:`~assay.attacks.base.VariantAttack` whose variants are the
kinds of one corruption module and which makes one mutation per (kind, severity):

==============  ================================================  ==========
family          kinds                                             severities
==============  ================================================  ==========
``pointcloud``  :mod:`assay.perception.objects` (ModelNet40-C)    1..5
``lidar``       :mod:`assay.perception.lidar` (Robo3D)             1..3
``camera``      :mod:`assay.perception.camera` (ImageNet-C)        1..5
``adversarial`` fgsm, pgd, saliency_drop (needs a torch target)    1..3
==============  ================================================  ==========

A mutation does not carry the corrupted array: it records the kind, the severity and a
seed drawn from the case's seeded random source (``detail``), and
:func:`apply_step` replays it with ``numpy.random.default_rng(seed)``. The same run seed
therefore gives the same corrupted inputs whatever else the run contains, and the store
stays small. ``--attack pointcloud:jitter,dropout_global,severity=1-3`` picks kinds and
severities; perception attacks apply to every perception case (they are not harmful
requests) and refuse to touch a chat prompt.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from assay.attacks.base import VariantAttack
from assay.core.records import Case, Message, Mutation
from assay.errors import InputError

__all__ = [
    "ADVERSARIAL_PARAMS",
    "AdversarialAttack",
    "CameraAttack",
    "LidarAttack",
    "PointCloudAttack",
    "apply_step",
    "domain_module",
]

#: Budget per severity 1..3 of the white-box attacks, in the cloud's own units (the
#: synthetic and ModelNet40 clouds fit the unit sphere): L-infinity radius for fgsm and
#: pgd, points removed for saliency_drop.
ADVERSARIAL_PARAMS: dict[str, tuple[float, ...]] = {
    "fgsm": (0.01, 0.02, 0.04),
    "pgd": (0.01, 0.02, 0.04),
    "saliency_drop": (50.0, 100.0, 200.0),
}


def domain_module(domain: str) -> Any:
    """The corruption module of a family: ``objects``, ``lidar`` or ``camera``."""
    if domain == "pointcloud":
        from assay.perception import objects

        return objects
    if domain == "lidar":
        from assay.perception import lidar

        return lidar
    if domain == "camera":
        from assay.perception import camera

        return camera
    raise InputError(f"unknown corruption domain {domain!r}", field="domain")


def _severities(value: Sequence[int] | str | int | None, allowed: Sequence[int]) -> list[int]:
    """``None`` -> all; ``3``; ``"1-3"``; ``"1|3"``; ``[1, 3]``."""
    if value is None:
        return list(allowed)
    if isinstance(value, int):
        chosen = [value]
    elif isinstance(value, str):
        text = value.strip()
        try:
            if "-" in text:
                lo, hi = (int(v) for v in text.split("-", 1))
                chosen = list(range(lo, hi + 1))
            else:
                chosen = [int(v) for v in text.replace("|", " ").replace(";", " ").split()]
        except ValueError as exc:
            raise InputError(
                f"severity {value!r} is not a number or range", field="severity"
            ) from exc
    else:
        chosen = [int(v) for v in value]
    bad = [s for s in chosen if s not in allowed]
    if bad or not chosen:
        raise InputError(
            f"severity {value!r} outside {min(allowed)}..{max(allowed)}", field="severity"
        )
    return chosen


def _check_case(family: str, case: Case) -> None:
    if case.metadata.get("domain") != "perception":
        raise InputError(
            f"attack {family!r} applies to perception samples only, not to case {case.id!r} "
            f"of suite {case.suite!r}",
            field="--attack",
        )


def _seed(base: int, *parts: object) -> int:
    from assay.core.records import content_hash

    return int(content_hash([base, *[str(p) for p in parts]])[:15], 16)


class _SeverityAttack(VariantAttack):
    """One mutation per (kind, severity); the corruption itself is replayed later."""

    benign_too: ClassVar[bool] = True
    applies_to: ClassVar[str] = "perception"
    domain: ClassVar[str] = ""

    def __init__(
        self,
        *,
        variants: Sequence[str] | None = None,
        sample: int | None = None,
        severity: Sequence[int] | str | int | None = None,
    ) -> None:
        super().__init__(variants=variants, sample=sample)
        self.severity = severity
        self._levels = _severities(severity, self.severity_levels())

    def severity_levels(self) -> tuple[int, ...]:
        return tuple(domain_module(self.domain).SEVERITIES)

    def variant_names(self) -> tuple[str, ...]:
        return tuple(domain_module(self.domain).KINDS)

    def detail_of(self, variant: str, level: int) -> dict[str, Any]:
        return {"domain": self.domain}

    def check_variants(self, case: Case, variants: list[str]) -> None:
        """Refuse, before any work, a kind the case's data cannot take."""

    def apply(
        self, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> list[Mutation]:
        _check_case(self.family_name, case)
        base = rng.getrandbits(62)
        out: list[Mutation] = []
        chosen = self.chosen(rng)
        self.check_variants(case, chosen)
        for variant in chosen:
            for level in self._levels:
                detail = {
                    "variant": variant,
                    "severity": level,
                    "seed": _seed(base, variant, level),
                    **self.detail_of(variant, level),
                }
                out.append(Mutation(messages=messages, note=f"{variant} s{level}", detail=detail))
        return out


class PointCloudAttack(_SeverityAttack):
    """ModelNet40-C object corruptions (jitter, dropout, noise points, cutout...)."""

    name = "pointcloud"
    version = "1"
    domain = "pointcloud"


class LidarAttack(_SeverityAttack):
    """Robo3D LiDAR scene corruptions (fog, snow, wet ground, beam missing...)."""

    name = "lidar"
    version = "1"
    domain = "lidar"

    def check_variants(self, case: Case, variants: list[str]) -> None:
        from assay.perception.data import load
        from assay.perception.lidar import WEATHER_KINDS

        weather = [v for v in variants if v in WEATHER_KINDS]
        if weather and load(case.metadata["dataset"]).x.shape[-1] < 4:
            rest = [v for v in variants if v not in WEATHER_KINDS]
            raise InputError(
                f"lidar kinds {', '.join(weather)} need an intensity column (x, y, z, "
                f"intensity) and suite {case.suite!r} has x, y, z only; choose among "
                f"{', '.join(rest) or 'the other lidar kinds'}",
                field="--attack",
            )


class CameraAttack(_SeverityAttack):
    """ImageNet-C camera corruptions (noise, blur, weather, digital)."""

    name = "camera"
    version = "1"
    domain = "camera"


class AdversarialAttack(_SeverityAttack):
    """White-box attacks computed by a torch target at answer time (gradients needed).

    ``fgsm`` and ``pgd`` move points within an L-infinity ball (``norm="l2"``: the L2
    ball of radius budget x sqrt(3N), the same root-mean-square move per coordinate);
    ``saliency_drop`` removes the points whose
    loss gradient says they matter most. Budgets per severity: :data:`ADVERSARIAL_PARAMS`.
    """

    name = "adversarial"
    version = "1"
    domain = "adversarial"
    VARIANTS = tuple(ADVERSARIAL_PARAMS)

    def __init__(
        self,
        *,
        variants: Sequence[str] | None = None,
        sample: int | None = None,
        severity: Sequence[int] | str | int | None = None,
        steps: int = 10,
        norm: str = "linf",
    ) -> None:
        if norm not in ("linf", "l2"):
            raise InputError(f"norm must be linf or l2, got {norm!r}", field="norm")
        if steps < 1:
            raise InputError(f"steps must be >= 1, got {steps}", field="steps")
        self.steps = steps
        self.norm = norm
        super().__init__(variants=variants, sample=sample, severity=severity)

    def severity_levels(self) -> tuple[int, ...]:
        return (1, 2, 3)

    def variant_names(self) -> tuple[str, ...]:
        return self.VARIANTS

    def detail_of(self, variant: str, level: int) -> dict[str, Any]:
        budget = ADVERSARIAL_PARAMS[variant][level - 1]
        return {
            "domain": "adversarial",
            "adversarial": variant,
            "budget": budget,
            "steps": self.steps,
            "norm": self.norm,
        }


def apply_step(
    x: NDArray[Any], beams: NDArray[np.int64] | None, detail: Mapping[str, Any]
) -> tuple[NDArray[Any], NDArray[np.int64] | None]:
    """Replay one recorded corruption on ``x``; returns the new input and ring ids.

    Ring ids survive only corruptions that keep every point in place; after the others
    they are recomputed from elevation by the LiDAR module when needed.
    """
    domain = detail.get("domain")
    if domain not in ("pointcloud", "lidar", "camera"):
        raise InputError(
            f"cannot replay a {domain!r} step here (white-box attacks run in the target)",
            field="detail.domain",
        )
    kind, level = str(detail.get("variant")), int(detail.get("severity", 0))
    rng = np.random.default_rng(int(detail.get("seed", 0)))
    module = domain_module(str(domain))
    if domain == "pointcloud":
        out = module.corrupt(x, kind, level, rng)
        same = out.shape == x.shape and kind in getattr(module, "SAME_COUNT", ())
        return out.astype(np.float32), beams if same else None
    if domain == "lidar":
        cloud, _ = module.corrupt_scan(x, kind, level, rng, ring=beams)
        return np.asarray(cloud, dtype=np.float32), None
    return module.corrupt_image(x, kind, level, rng), None
