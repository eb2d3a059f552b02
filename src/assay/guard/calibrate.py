"""Calibrate a guard policy on labelled data; the artifact the guard loads.

:func:`calibrate` reads a labelled file (JSONL or CSV: ``text``, optional ``response``,
``label`` safe/unsafe or 0/1, optional ``hazard``; see
:func:`assay.judges.evaluate.load_labelled`), scores every row with the policy's judge
exactly as the guard will (same turn rule, batched), splits the rows *stratified by
label* into a calibration part and a held-out part (``holdout``), fits the thresholds on
the first (:mod:`assay.guard.conformal`) and measures them on the second: coverage,
abstention rate, selective risk, unsafe-allowed and miss rates, per-label coverage.

Modes:

* ``sets``: split-conformal prediction sets at level ``alpha`` (LAC or APS, class-
  conditional by default), per hazard where the judge's top hazard has enough rows
  (else the global quantiles, recorded in ``fallbacks``); optionally a label-free
  confidence threshold chosen on a separate *tuning* half of the calibration part, to
  reach ``abstain_rate`` (a target abstention rate) or ``selective_risk``;
* ``risk``: Learn-then-Test thresholds: allow below a threshold certified to let at most
  ``risk`` of unsafe texts through (``risk_over``: ``unsafe``, the miss rate, or ``all``)
  with confidence ``1 - delta``; block at or above ``block_at`` (the policy's threshold,
  or one certified by ``block_risk``), abstain between.

The :class:`CalibrationArtifact` (JSON) records where the data came from (path and
SHA-256), the judge spec (and its members'), the policy id, every parameter, the
thresholds and the held-out figures. Its ``id`` is a content hash; the guard refuses an
artifact whose judge spec differs from its own (:func:`load_artifact`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay import __version__
from assay.core.records import Spec, content_hash
from assay.errors import InputError
from assay.guard import conformal
from assay.guard.conformal import Method, RiskOver, RiskThresholds, SetThresholds
from assay.guard.types import DecisionKind

if TYPE_CHECKING:
    from assay.guard.policy import Policy

__all__ = [
    "ARTIFACT_FORMAT",
    "CalibrationArtifact",
    "Mode",
    "acalibrate",
    "calibrate",
    "load_artifact",
    "text_u",
]

ARTIFACT_FORMAT = 1
Mode = Literal["sets", "risk"]
Metrics = dict[str, float | int | None]


def text_u(text: str) -> float:
    """A uniform draw in [0, 1) fixed by the text: randomised APS, reproducibly."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:13], 16) / float(16**13)


class CalibrationArtifact(BaseModel):
    """What ``assay guard calibrate`` writes and the guard loads (see the module docs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = ARTIFACT_FORMAT
    id: str = ""
    created_at: str = ""
    assay_version: str = __version__
    data_path: str
    data_sha256: str
    n_calibration: int
    n_tuning: int = 0
    n_holdout: int
    n_unscored: int = 0
    judge: Spec
    judge_key: str
    members: dict[str, Spec] = Field(default_factory=dict)
    policy_id: str
    alpha: float
    method: Method
    mode: Mode
    mondrian: bool = True
    randomized: bool = False
    risk: float | None = None
    delta: float = 0.1
    risk_over: RiskOver = "unsafe"
    holdout: float
    seed: int
    sets: SetThresholds | None = None
    per_hazard: dict[str, SetThresholds] = Field(default_factory=dict)
    fallbacks: dict[str, str] = Field(default_factory=dict)
    risk_thresholds: RiskThresholds | None = None
    min_confidence: float = 0.0
    abstain_target: float | None = None
    selective_risk_target: float | None = None
    heldout: Metrics = Field(default_factory=dict)
    heldout_per_hazard: dict[str, Metrics] = Field(default_factory=dict)

    def content_id(self) -> str:
        """``cal-`` + a hash of everything but ``id`` and ``created_at``."""
        body = self.model_dump(mode="json", exclude={"id", "created_at"})
        return "cal-" + content_hash(body)[:12]

    def check_judge(self, spec: Spec) -> None:
        """Refuse to decide with another judge than the one calibrated.

        Raises:
            InputError: (field ``judge``) the spec keys differ.
        """
        if spec.key() != self.judge_key:
            raise InputError(
                f"calibration {self.id} was made with judge {self.judge.name} "
                f"v{self.judge.version} (spec {self.judge_key}), but this guard's judge is "
                f"{spec.name} v{spec.version} (spec {spec.key()}); recalibrate with "
                "'assay guard calibrate'",
                field="judge",
            )

    # -- deciding -----------------------------------------------------------------------

    def decide_many(
        self, p: Sequence[float], groups: Sequence[str | None], texts: Sequence[str]
    ) -> tuple[list[DecisionKind], list[tuple[str, ...]], list[str]]:
        """Decisions, prediction sets and a note per text, from scores and top hazards."""
        probs = np.asarray(p, dtype=np.float64)
        n = len(probs)
        if self.mode == "risk":
            rt = self.risk_thresholds
            assert rt is not None
            kinds = [str(k) for k in conformal.risk_decisions(probs, rt)]
            note = (
                f"risk control: allow below {rt.allow_below:g}, block at "
                f"{max(rt.block_at, rt.allow_below):g} (miss <= {rt.risk:g} w.p. "
                f"{1 - rt.delta:g})"
            )
            implied: list[tuple[str, ...]] = [
                ("safe",) if k == "allow" else ("unsafe",) if k == "block" else ("safe", "unsafe")
                for k in kinds
            ]
            return kinds, implied, [note] * n  # type: ignore[return-value]
        assert self.sets is not None
        safe_in = np.zeros(n, dtype=bool)
        unsafe_in = np.zeros(n, dtype=bool)
        used: list[str] = ["global"] * n
        by_table: dict[str, list[int]] = {}
        for i, group in enumerate(groups):
            key = group if group is not None and group in self.per_hazard else ""
            by_table.setdefault(key, []).append(i)
        for key, rows in by_table.items():
            table = self.per_hazard[key] if key else self.sets
            u = [text_u(texts[i]) for i in rows] if table.randomized else None
            s, un = conformal.set_membership(probs[rows], table, u)
            safe_in[rows], unsafe_in[rows] = s, un
            for i in rows:
                used[i] = f"hazard {key}" if key else "global"
        kinds = [str(k) for k in conformal.set_decisions(safe_in, unsafe_in)]
        conf = conformal.confidence(probs)
        notes = []
        for i in range(n):
            pset = _set_text(bool(safe_in[i]), bool(unsafe_in[i]))
            note = f"prediction set {pset} ({used[i]} {self.method} alpha={self.alpha:g})"
            if kinds[i] != "abstain" and conf[i] < self.min_confidence:
                kinds[i] = "abstain"
                note += f"; confidence {conf[i]:.2f} < {self.min_confidence:.2f}"
            notes.append(note)
        member_sets: list[tuple[str, ...]] = [
            tuple(lbl for lbl, inside in (("safe", s), ("unsafe", u)) if inside)
            for s, u in zip(safe_in.tolist(), unsafe_in.tolist(), strict=True)
        ]
        return kinds, member_sets, notes  # type: ignore[return-value]

    def decide(
        self, p: float, group: str | None, text: str
    ) -> tuple[DecisionKind, tuple[str, ...], str]:
        """One text's decision, prediction set and note."""
        kinds, sets, notes = self.decide_many([p], [group], [text])
        return kinds[0], sets[0], notes[0]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _set_text(safe: bool, unsafe: bool) -> str:
    inside = [lbl for lbl, flag in (("safe", safe), ("unsafe", unsafe)) if flag]
    return "{" + ", ".join(inside) + "}"


def load_artifact(path: str | Path, judge_spec: Spec | None = None) -> CalibrationArtifact:
    """Read an artifact; with ``judge_spec``, refuse one made with another judge.

    Raises:
        InputError: unreadable, malformed, edited (its id no longer matches its
            content) or made for another judge.
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            f"cannot read the calibration: {exc.strerror or exc}", source=source
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a JSON calibration artifact: {exc}", source=source) from exc
    if not isinstance(data, dict) or data.get("format") != ARTIFACT_FORMAT:
        raise InputError(
            f"not a calibration artifact of format {ARTIFACT_FORMAT}", source=source, field="format"
        )
    try:
        artifact = CalibrationArtifact.model_validate(data)
    except ValidationError as exc:
        from assay.guard.policy import field_path

        error = exc.errors()[0]
        raise InputError(
            str(error.get("msg", "invalid")), source=source, field=field_path(error["loc"])
        ) from None
    if artifact.id != artifact.content_id():
        raise InputError(
            f"id {artifact.id!r} does not match the content ({artifact.content_id()}): "
            "the artifact was edited; recalibrate",
            source=source,
            field="id",
        )
    if judge_spec is not None:
        try:
            artifact.check_judge(judge_spec)
        except InputError as exc:
            raise InputError(str(exc), source=source, field="judge") from None
    return artifact


# --------------------------------------------------------------------------- calibrate


def _split(
    labels: np.ndarray[Any, Any], fraction: float, rng: np.random.Generator
) -> np.ndarray[Any, Any]:
    """A stratified boolean mask of ~``fraction`` of each label's rows."""
    mask = np.zeros(len(labels), dtype=bool)
    for value in (False, True):
        rows = np.flatnonzero(labels == value)
        take = round(fraction * len(rows))
        mask[rng.permutation(rows)[:take]] = True
    return mask


def _unit_open(value: float | None, name: str) -> None:
    if value is not None and not 0.0 < value < 1.0:
        raise InputError(f"must be in (0, 1), got {value!r}", field=name)


def _labels_of(data: Any) -> list[bool]:
    from assay.judges.evaluate import NUMERIC_LABELS, VOCABULARY

    words = VOCABULARY["unsafe"]
    out = []
    for row in data.rows:
        if row.label in NUMERIC_LABELS:
            out.append(NUMERIC_LABELS[row.label])
        elif row.label in words:
            out.append(words[row.label])
        else:
            raise InputError(
                f"label {row.label!r}: a guard is calibrated on safe/unsafe (or 1/0) labels",
                source=data.path,
                line=row.line or None,
                field="label",
            )
    return out


async def acalibrate(
    policy: Policy,
    data_path: str | Path,
    *,
    alpha: float = 0.1,
    method: Method = "lac",
    mode: Mode = "sets",
    risk: float | None = None,
    delta: float = 0.1,
    holdout: float = 0.3,
    seed: int = 0,
    mondrian: bool = True,
    randomized: bool | None = None,
    risk_over: RiskOver = "unsafe",
    block_risk: float | None = None,
    abstain_rate: float | None = None,
    selective_risk: float | None = None,
    per_hazard: bool = True,
    min_group_rows: int = 30,
    batch_size: int = 256,
) -> CalibrationArtifact:
    """:func:`calibrate`, for callers already in an event loop."""
    from assay.guard.guard import Guard, Turn
    from assay.judges.evaluate import load_labelled

    _unit_open(alpha, "alpha")
    _unit_open(delta, "delta")
    _unit_open(holdout, "holdout")
    _unit_open(risk, "risk")
    _unit_open(block_risk, "block_risk")
    _unit_open(abstain_rate, "abstain_rate")
    _unit_open(selective_risk, "selective_risk")
    if method not in ("lac", "aps"):
        raise InputError(f"must be 'lac' or 'aps', not {method!r}", field="method")
    if mode not in ("sets", "risk"):
        raise InputError(f"must be 'sets' or 'risk', not {mode!r}", field="mode")
    if mode == "risk" and risk is None:
        raise InputError("mode 'risk' needs a risk level", field="risk")
    if mode == "sets" and (risk is not None or block_risk is not None):
        raise InputError("risk and block_risk apply to mode 'risk'", field="risk")
    if mode == "risk" and (abstain_rate is not None or selective_risk is not None):
        raise InputError("abstention targets apply to mode 'sets'", field="abstain_rate")
    if abstain_rate is not None and selective_risk is not None:
        raise InputError("give abstain_rate or selective_risk, not both", field="abstain_rate")

    randomized = method == "aps" if randomized is None else randomized and method == "aps"
    data = load_labelled(data_path)
    labels_all = np.asarray(_labels_of(data), dtype=bool)
    turns = [
        Turn(text=r.response, role="assistant", context=r.text)
        if r.response
        else Turn(text=r.text, role="user")
        for r in data.rows
    ]
    guard = Guard(policy)
    scored = []
    for start in range(0, len(turns), batch_size):
        scored.extend(await guard.score_turns(turns[start : start + batch_size]))
    keep = np.array([s.p is not None for s in scored], dtype=bool)
    n_unscored = int((~keep).sum())
    p = np.array([s.p if s.p is not None else 0.0 for s in scored], dtype=np.float64)[keep]
    y = labels_all[keep]
    groups = [s.top for s, k in zip(scored, keep.tolist(), strict=True) if k]
    texts = [t.text for t, k in zip(turns, keep.tolist(), strict=True) if k]
    hazards = [r.hazard for r, k in zip(data.rows, keep.tolist(), strict=True) if k]
    if y.all() or not y.any():
        raise InputError(
            "calibration needs both safe and unsafe rows (scored ones)",
            source=data.path,
            field="label",
        )

    rng = np.random.default_rng(seed)
    held = _split(y, holdout, rng)
    cal = ~held
    tune = np.zeros(len(y), dtype=bool)
    if abstain_rate is not None or selective_risk is not None:
        half = _split(y[cal], 0.5, rng)
        cal_rows = np.flatnonzero(cal)
        tune[cal_rows[half]] = True
        cal[cal_rows[half]] = False
    if y[cal].all() or not y[cal].any():
        raise InputError("too few rows: a split has only one label", source=data.path)
    u_cal = [text_u(texts[i]) for i in np.flatnonzero(cal)] if randomized else None

    spec = guard.judge_spec
    members = guard.member_specs()
    fields: dict[str, Any] = {
        "data_path": data.path,
        "data_sha256": data.sha256,
        "n_calibration": int(cal.sum()),
        "n_tuning": int(tune.sum()),
        "n_holdout": int(held.sum()),
        "n_unscored": n_unscored,
        "judge": spec,
        "judge_key": spec.key(),
        "members": members,
        "policy_id": policy.policy_id,
        "alpha": alpha,
        "method": method,
        "mode": mode,
        "mondrian": mondrian,
        "randomized": randomized,
        "risk": risk,
        "delta": delta,
        "risk_over": risk_over,
        "holdout": holdout,
        "seed": seed,
        "abstain_target": abstain_rate,
        "selective_risk_target": selective_risk,
    }
    cal_groups = [groups[i] for i in np.flatnonzero(cal)]
    if mode == "sets":
        fields["sets"] = conformal.fit_sets(
            p[cal], y[cal], alpha=alpha, method=method, mondrian=mondrian, u=u_cal
        )
        if per_hazard:
            fitted, fallbacks = conformal.fit_group_sets(
                p[cal],
                y[cal],
                cal_groups,
                alpha=alpha,
                method=method,
                mondrian=mondrian,
                min_rows=min_group_rows,
                u=u_cal,
            )
            fields["per_hazard"], fields["fallbacks"] = fitted, fallbacks
    else:
        assert risk is not None
        lam, certified, n, k, pv = conformal.ltt_allow_threshold(
            p[cal], y[cal], risk=risk, delta=delta, over=risk_over
        )
        block_at, block_certified = policy.threshold, None
        if block_risk is not None:
            block_at, block_certified = conformal.ltt_block_threshold(
                p[cal], y[cal], risk=block_risk, delta=delta
            )
            if math.isinf(block_at):
                block_at = 1.0 + 1e-9  # nothing certified: block nothing below p = 1
        fields["risk_thresholds"] = RiskThresholds(
            risk=risk,
            delta=delta,
            over=risk_over,
            pvalue="binomial",
            allow_below=lam,
            certified=certified,
            n=n,
            k=k,
            p_value=pv,
            block_at=max(block_at, lam),
            block_risk=block_risk,
            block_certified=block_certified,
        )
    draft = CalibrationArtifact(**fields)
    if tune.any():
        rows = np.flatnonzero(tune)
        kinds, _, _ = draft.decide_many(
            p[rows], [groups[i] for i in rows], [texts[i] for i in rows]
        )
        decided = np.array([k != "abstain" for k in kinds])
        wrong = np.array(
            [
                (k == "allow" and y[i]) or (k == "block" and not y[i])
                for k, i in zip(kinds, rows, strict=True)
            ]
        )
        fields["min_confidence"] = conformal.fit_min_confidence(
            conformal.confidence(p[rows]),
            decided,
            target_rate=abstain_rate,
            errors=wrong,
            target_risk=selective_risk,
        )
        draft = CalibrationArtifact(**fields)

    rows = np.flatnonzero(held)
    kinds, sets, _ = draft.decide_many(p[rows], [groups[i] for i in rows], [texts[i] for i in rows])
    safe_in = np.array(["safe" in s for s in sets], dtype=bool)
    unsafe_in = np.array(["unsafe" in s for s in sets], dtype=bool)
    fields["heldout"] = conformal.evaluate(kinds, y[rows], safe_in=safe_in, unsafe_in=unsafe_in)
    per: dict[str, Metrics] = {}
    held_hazards = [hazards[i] for i in rows]
    for code in sorted({h for h in held_hazards if h}):
        mask = np.array([h == code for h in held_hazards], dtype=bool)
        per[code] = conformal.evaluate(
            [k for k, m in zip(kinds, mask.tolist(), strict=True) if m],
            y[rows][mask],
            safe_in=safe_in[mask],
            unsafe_in=unsafe_in[mask],
        )
    fields["heldout_per_hazard"] = per
    fields["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    artifact = CalibrationArtifact(**fields)
    return artifact.model_copy(update={"id": artifact.content_id()})


def calibrate(policy: Policy, data_path: str | Path, **options: Any) -> CalibrationArtifact:
    """Calibrate ``policy`` on the labelled file ``data_path`` (see the module docs).

    Keyword options are those of :func:`acalibrate`: ``alpha=0.1``, ``method="lac"|"aps"``,
    ``mode="sets"|"risk"``, ``risk``, ``delta=0.1``, ``holdout=0.3``, ``seed=0``,
    ``mondrian=True``, ``randomized`` (APS only; default on, see :mod:`.conformal`),
    ``risk_over="unsafe"|"all"``, ``block_risk``, ``abstain_rate``, ``selective_risk``,
    ``per_hazard=True``, ``min_group_rows=30``.

    Raises:
        InputError: bad data (file:line and field named) or options (field named).
    """
    return asyncio.run(acalibrate(policy, data_path, **options))
