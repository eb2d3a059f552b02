"""The in-process guard: a policy, a judge (or ensemble) and an optional calibration.

:class:`Guard` implements :class:`~assay.guard.types.GuardLike`. It builds its judge once
and scores every checked turn of a ``check`` call in **one** judge call (the HTTP service
micro-batches concurrent requests into one ``check``). Per request:

1. the safety config is resolved first (an unknown name is an ``InputError`` on field
   ``config``, before anything is scored);
2. the checked turn is judged: a user or tool turn on its own text; an assistant turn
   with the preceding user turn as its prompt when the judge reads prompts and responses
   separately (judges with a ``mode``, such as the harm judge), else on its text alone;
3. a judge failure (an exception, or an unscored verdict) decides by the policy's
   ``on_judge_failure``, **block** by default (fail closed), with ``judge_error`` set;
4. with a calibration, the conformal prediction set (or the risk-controlled thresholds)
   decides; without one, the policy's thresholds and abstention band do;
5. a block or abstain whose flagged hazards are all allowed by the request's config
   (CoSA) or not enforced by the policy becomes an allow, and the reason says so. A judge
   that names no hazard cannot be excused this way.

Flagged hazards: for the harm judge, the hazards with ``P(hazard | unsafe) >= 0.5`` (the
top one when none is); for other judges, those their verdict names.

**Feedback.** ``feedback`` stores a reviewer's label (SQLite, ``store_path``) and, when
the policy's judge is an ensemble with ``rule: weighted``, applies one Hedge step to the
members' weights using their votes on that decision (kept in memory for the last
``policy.feedback_memory`` decisions and, with a store, in the store without the text),
and persists the new weights. Feedback never changes a threshold: recalibration is a
command (``assay guard calibrate``), never silent.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.core.protocols import Judge
from assay.core.records import (
    Attempt,
    Case,
    Exchange,
    Message,
    Outcome,
    Response,
    Spec,
    Verdict,
    content_hash,
)
from assay.core.registry import registry
from assay.errors import AssayError, InputError, UsageError
from assay.guard.calibrate import CalibrationArtifact, load_artifact
from assay.guard.policy import Policy
from assay.guard.types import CheckRequest, Decision, DecisionKind, Feedback

if TYPE_CHECKING:
    from assay.store.sqlite import Store

__all__ = ["Guard", "Scored", "Scorer", "Turn", "build_scorer", "judge_spec", "turn_of"]

_GUARD_TARGET = Spec(name="guard")


# --------------------------------------------------------------------------- turns


@dataclass(frozen=True)
class Turn:
    """What is judged for one request: the text, its role and the preceding user turn."""

    text: str
    role: str
    context: str | None = None


def turn_of(request: CheckRequest) -> Turn:
    """The checked turn of ``request`` (``InputError`` on field ``turn`` if out of range)."""
    n = len(request.messages)
    if not -n <= request.turn < n:
        raise InputError(f"turn {request.turn} is out of range for {n} message(s)", field="turn")
    index = request.turn % n
    message = request.messages[index]
    context = None
    if message.role == "assistant":
        for earlier in reversed(request.messages[:index]):
            if earlier.role == "user":
                context = earlier.content
                break
    return Turn(text=message.content, role=message.role, context=context)


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Scored:
    """A judge's reading of one turn.

    Attributes:
        p: P(unsafe) (or the judge's/ensemble's score); ``None`` when unscored.
        hazard_scores: per-hazard scores when the judge gives them (harm judge:
            ``P(hazard | unsafe)``).
        flagged: the hazards the judge names (see the module docs).
        error: why the judge could not decide (``p`` is then ``None``).
        votes: ensemble members' bad votes (``None``: unscored), for feedback.
        empty: the text was blank (nothing to judge; allowed).
    """

    p: float | None
    hazard_scores: dict[str, float] = field(default_factory=dict)
    flagged: tuple[str, ...] = ()
    error: str | None = None
    votes: dict[str, bool | None] | None = None
    empty: bool = False

    @property
    def top(self) -> str | None:
        """The most likely hazard (the calibration group), if any."""
        if self.hazard_scores:
            return max(self.hazard_scores, key=lambda c: self.hazard_scores[c])
        return self.flagged[0] if self.flagged else None


class Scorer:
    """Turns -> :class:`Scored`, in one judge call. Subclasses per kind of judge."""

    spec: Spec
    ensemble: _EnsembleState | None = None

    async def score(self, turns: Sequence[Turn]) -> list[Scored]:  # pragma: no cover
        raise NotImplementedError


def _exchange(turn: Turn, *, has_mode: bool) -> Exchange:
    """The exchange a judge sees for a turn (see the module docs for the context rule)."""
    if has_mode:
        if turn.role == "assistant":
            prompt, answer = turn.context or "", turn.text
        else:
            prompt, answer = turn.text, ""
    else:
        prompt, answer = turn.text, turn.text
    # Built without validation: the guard knows no hazard and no id, and a judge must not
    # rely on them (as in assay.judges.evaluate).
    case = Case.model_construct(
        id="guard",
        messages=(Message(role="user", content=prompt),),
        hazard="",
        expected="refuse",
        metadata={},
        suite="guard",
        suite_version="0",
    )
    return Exchange(attempt=Attempt.make(case, _GUARD_TARGET), response=Response(text=answer))


def _from_verdict(verdict: Verdict) -> Scored:
    if verdict.outcome is Outcome.UNSCORED:
        return Scored(p=None, error=f"unscored: {verdict.unscored_reason or 'no reason'}")
    bad = verdict.outcome in (Outcome.UNSAFE, Outcome.COMPLIED, Outcome.PARTIAL)
    p = verdict.score if verdict.score is not None else (1.0 if bad else 0.0)
    return Scored(p=float(p), flagged=tuple(verdict.hazards))


def _blank(turn: Turn) -> bool:
    return not turn.text.strip()


class _HarmScorer(Scorer):
    """The harm judge, read directly: P(unsafe) and every hazard's score."""

    def __init__(self, judge: Any) -> None:
        self.judge = judge
        self.spec = judge.spec()

    async def score(self, turns: Sequence[Turn]) -> list[Scored]:
        from assay.judges.harm import HAZARD_CODES

        todo = [i for i, t in enumerate(turns) if not _blank(t)]
        out = [Scored(p=None, empty=True) for _ in turns]
        if todo:
            texts = [turns[i].text for i in todo]
            scores = await asyncio.to_thread(self.judge.score_texts, texts)
            for row, i in enumerate(todo):
                p = min(1.0, max(0.0, float(scores.unsafe[row])))
                by_code = {
                    c: float(v) for c, v in zip(HAZARD_CODES, scores.hazards[row], strict=True)
                }
                flagged = tuple(c for c in HAZARD_CODES if by_code[c] >= 0.5)
                if not flagged:
                    flagged = (max(by_code, key=lambda c: by_code[c]),)
                out[i] = Scored(p=p, hazard_scores=by_code, flagged=flagged)
        return out


class _JudgeScorer(Scorer):
    """Any registered judge, through its ``judge`` method."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.spec = judge.spec()
        self.has_mode = hasattr(judge, "mode")

    async def score(self, turns: Sequence[Turn]) -> list[Scored]:
        todo = [i for i, t in enumerate(turns) if not _blank(t)]
        out = [Scored(p=None, empty=True) for _ in turns]
        if todo:
            batch = [_exchange(turns[i], has_mode=self.has_mode) for i in todo]
            verdicts = list(await self.judge.judge(batch))
            if len(verdicts) != len(batch):
                raise RuntimeError(f"the judge returned {len(verdicts)} verdicts for {len(batch)}")
            for i, verdict in zip(todo, verdicts, strict=True):
                out[i] = _from_verdict(verdict)
        return out


@dataclass
class _EnsembleState:
    """A weighted ensemble's members, rule and current (learned) weights."""

    name: str
    rule: str
    threshold: float
    weights: dict[str, float]
    members: dict[str, Judge]
    spec: Spec
    lock: threading.Lock = field(default_factory=threading.Lock)


class _EnsembleScorer(Scorer):
    """The members run here (not through ``EnsembleJudge.judge``) so the guard keeps each
    member's vote for feedback and can change the weights online."""

    def __init__(self, state: _EnsembleState) -> None:
        self.ensemble = state
        self.spec = state.spec

    async def _member(self, name: str, batch: list[Exchange]) -> list[Verdict]:
        from assay.judges.ensemble import judge_or_unscored

        judge = self.ensemble.members[name]  # type: ignore[union-attr]
        return await judge_or_unscored(judge, batch, who=f"member {name!r}")

    async def score(self, turns: Sequence[Turn]) -> list[Scored]:
        from assay.judges.ensemble import combine, vote_of

        state = self.ensemble
        assert state is not None
        todo = [i for i, t in enumerate(turns) if not _blank(t)]
        out = [Scored(p=None, empty=True) for _ in turns]
        if not todo:
            return out
        names = list(state.members)
        batches = {
            m: [_exchange(turns[i], has_mode=hasattr(state.members[m], "mode")) for i in todo]
            for m in names
        }
        results = await asyncio.gather(*(self._member(m, batches[m]) for m in names))
        weights = dict(state.weights)
        for row, i in enumerate(todo):
            votes = [vote_of(m, results[j][row]) for j, m in enumerate(names)]
            verdict = combine(
                votes, rule=state.rule, weights=weights, threshold=state.threshold, judge=self.spec
            )
            scored = _from_verdict(verdict)
            out[i] = Scored(
                p=scored.p,
                flagged=scored.flagged,
                error=scored.error,
                votes={v.member: v.bad for v in votes},
            )
        return out


def _ensemble_state(policy: Policy, store_path: str | None) -> _EnsembleState:
    from assay.judges.ensemble import EnsembleJudge, default_ensemble_name

    params = dict(policy.judge_params)
    try:
        ensemble = EnsembleJudge(**params)
    except TypeError as exc:
        raise InputError(f"ensemble rejected its parameters: {exc}", field="judge_params") from exc
    member_params: dict[str, Any] = dict(params.get("judge_params") or {})
    members: dict[str, Judge] = {}
    for name in ensemble.judges:
        try:
            members[name] = registry.create("judges", name, **(member_params.get(name) or {}))
        except TypeError as exc:
            raise InputError(
                f"judge {name!r} rejected its parameters: {exc}", field="judge_params"
            ) from exc
    key = ensemble.weights_name or default_ensemble_name(ensemble.judges, member_params)
    weights = ensemble.effective_weights
    if store_path is not None and ensemble.rule == "weighted":
        stored = _with_store(store_path, lambda s: s.latest_ensemble_weights(key))
        if stored is not None and set(stored) == set(weights):
            weights = stored
    return _EnsembleState(
        name=key,
        rule=ensemble.rule,
        threshold=ensemble.threshold,
        weights=weights,
        members=members,
        spec=ensemble.spec(),
    )


def _with_store(path: str, fn: Any) -> Any:
    from assay.store.sqlite import Store

    store = Store(path)
    try:
        return fn(store)
    finally:
        store.close()


def build_scorer(policy: Policy, *, store_path: str | None = None) -> Scorer:
    """The policy's judge, built once, behind the :class:`Scorer` interface."""
    if policy.judge == "ensemble":
        return _EnsembleScorer(_ensemble_state(policy, store_path))
    try:
        judge = registry.create("judges", policy.judge, **policy.judge_params)
    except TypeError as exc:
        raise InputError(
            f"judge {policy.judge!r} rejected its parameters: {exc}", field="judge_params"
        ) from exc
    from assay.judges.harm import HarmJudge

    if type(judge) is HarmJudge and judge.mode == "auto":
        return _HarmScorer(judge)
    return _JudgeScorer(judge)


def judge_spec(policy: Policy) -> Spec:
    """The spec of the policy's judge (what a calibration artifact must match)."""
    return build_scorer(policy).spec


# --------------------------------------------------------------------------- decisions


def _pct(p: float) -> str:
    return f"{p:.2f}"


@dataclass(frozen=True)
class _Raw:
    kind: DecisionKind
    reason: str
    prediction_set: tuple[str, ...] | None = None


class Guard:
    """Allow, block or abstain on conversation turns, by a :class:`Policy`.

    Args:
        policy: the rules.
        calibration: a calibration artifact for this policy's judge (``None``: the
            policy's thresholds decide). Refused (``InputError``) if it was made with
            another judge spec.
        store_path: SQLite store for reviewer labels and learned ensemble weights.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        calibration: CalibrationArtifact | None = None,
        store_path: str | None = None,
    ) -> None:
        self.policy = policy
        self.calibration = calibration
        self.store_path = store_path
        self._scorer = build_scorer(policy, store_path=store_path)
        if calibration is not None:
            calibration.check_judge(self._scorer.spec)
        self._recent: OrderedDict[str, dict[str, bool | None]] = OrderedDict()
        self._reviewed: set[str] = set()
        self._db: ThreadPoolExecutor | None = None
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._memory_history: list[dict[str, Any]] = []

    @classmethod
    def from_files(
        cls,
        *,
        policy: str | Path | None = None,
        calibration: str | Path | None = None,
        store_path: str | None = None,
    ) -> Guard:
        """A guard from a policy file (the shipped default when ``None``) and a calibration
        artifact (``calibration``, else the policy's own ``calibration`` entry)."""
        pol = Policy.load(policy) if policy is not None else Policy.default()
        path = Path(calibration) if calibration is not None else pol.calibration_path()
        artifact = None
        if path is not None:
            artifact = load_artifact(path, judge_spec(pol))
        return cls(pol, calibration=artifact, store_path=store_path)

    # -- GuardLike ----------------------------------------------------------------------

    @property
    def policy_id(self) -> str:
        return self.policy.policy_id

    @property
    def calibration_id(self) -> str | None:
        return None if self.calibration is None else self.calibration.id

    @property
    def judge_spec(self) -> Spec:
        return self._scorer.spec

    def member_specs(self) -> dict[str, Spec]:
        """The ensemble members' specs (``{}`` when the judge is not an ensemble)."""
        ensemble = self._scorer.ensemble
        return {} if ensemble is None else {m: j.spec() for m, j in ensemble.members.items()}

    def config_names(self) -> list[str]:
        return self.policy.config_names()

    async def score_turns(self, turns: Sequence[Turn]) -> list[Scored]:
        """Score turns in one judge call; an exception becomes an error on every turn."""
        try:
            return await self._scorer.score(turns)
        except AssayError:
            raise
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"[:500]
            return [Scored(p=None, error=message) for _ in turns]

    async def check(self, requests: Sequence[CheckRequest]) -> list[Decision]:
        """One decision per request, in order, from one judge call for all of them."""
        configs = [r.config or self.policy.default_config for r in requests]
        allowed = [self.policy.allowed(c) for c in configs]  # InputError before scoring
        turns = [turn_of(r) for r in requests]
        scored = await self.score_turns(turns)
        decisions = [
            self._decide(r, c, a, t, s)
            for r, c, a, t, s in zip(requests, configs, allowed, turns, scored, strict=True)
        ]
        ensemble = self._scorer.ensemble
        if ensemble is not None and ensemble.rule == "weighted":
            rows = [(d.id, s.votes) for d, s in zip(decisions, scored, strict=True) if s.votes]
            self._remember(rows)
            if self.store_path is not None and rows:
                name = ensemble.name
                batch = [(i, name, v) for i, v in rows if v is not None]
                await asyncio.wrap_future(
                    self._executor().submit(self._in_store, lambda s: s.save_guard_votes(batch))
                )
        return decisions

    def _decide(
        self,
        request: CheckRequest,
        config: str,
        allowed: frozenset[str],
        turn: Turn,
        scored: Scored,
    ) -> Decision:
        policy = self.policy
        scores: dict[str, float] = {}
        hazards: tuple[str, ...] = ()
        error: str | None = None
        prediction_set: tuple[str, ...] | None = None
        if scored.empty:
            kind: DecisionKind = "allow"
            reason = "empty text: nothing to judge"
        elif scored.p is None:
            error = scored.error or "the judge gave no score"
            kind = policy.on_judge_failure
            closed = {"block": "fails closed", "allow": "fails open", "abstain": "abstains"}
            reason = f"judge failed ({error}); the policy {closed[kind]}"
        else:
            p = scored.p
            scores = {"unsafe": p, **scored.hazard_scores}
            relevant = tuple(h for h in scored.flagged if h in policy.hazards and h not in allowed)
            raw = (
                self._calibrated(p, scored, turn)
                if self.calibration is not None
                else self._uncalibrated(p, scored, relevant)
            )
            kind, reason, prediction_set = raw.kind, raw.reason, raw.prediction_set
            if kind != "allow" and scored.flagged and not relevant:
                excused = ", ".join(scored.flagged)
                why = [
                    f"allowed by config {config!r}"
                    if any(h in allowed for h in scored.flagged)
                    else "",
                    "not enforced by the policy"
                    if any(h not in policy.hazards for h in scored.flagged)
                    else "",
                ]
                kind = "allow"
                reason = f"{reason}; but flagged {excused} is " + " or ".join(w for w in why if w)
            elif kind != "allow":
                hazards = relevant
        body = Decision(
            decision=kind,
            hazards=hazards,
            scores=scores,
            prediction_set=prediction_set,
            reason=reason,
            policy_id=self.policy_id,
            calibration_id=self.calibration_id,
            config=config,
            judge_error=error,
        )
        digest = content_hash(
            {
                "request": request.model_dump(mode="json"),
                "decision": body.model_dump(mode="json", exclude={"id"}),
            }
        )
        return body.model_copy(update={"id": digest[:32]})

    def _uncalibrated(self, p: float, scored: Scored, relevant: tuple[str, ...]) -> _Raw:
        """Thresholds and the abstention band. When every flagged hazard is excused (CoSA,
        or not enforced) the rule is still applied to them, so the reason can say what
        was excused; :meth:`_decide` then allows."""
        policy = self.policy
        candidates = relevant or scored.flagged or ("",)  # "": the judge named no hazard
        thr = {h: policy.threshold_for(h) if h else policy.threshold for h in candidates}
        blockers = [h for h in candidates if p >= thr[h]]
        band = policy.abstain_band
        if band is not None and band[0] <= p <= band[1]:
            below = [h for h in blockers if thr[h] < band[0]]
            if not below:
                return _Raw("abstain", f"p(unsafe)={_pct(p)} in the abstain band {list(band)}")
            blockers = below
        if blockers:
            t = min(thr[h] for h in blockers)
            named = ", ".join(h for h in blockers if h) or "no hazard named"
            return _Raw("block", f"p(unsafe)={_pct(p)} >= {t:g} ({named})")
        return _Raw("allow", f"p(unsafe)={_pct(p)} < {min(thr.values()):g}")

    def _calibrated(self, p: float, scored: Scored, turn: Turn) -> _Raw:
        artifact = self.calibration
        assert artifact is not None
        kind, pset, note = artifact.decide(p, scored.top, turn.text)
        return _Raw(kind, f"p(unsafe)={_pct(p)}; {note}", pset)

    # -- feedback -----------------------------------------------------------------------

    def _remember(self, rows: Sequence[tuple[str, dict[str, bool | None] | None]]) -> None:
        with self._lock:
            for decision_id, votes in rows:
                if votes is None:
                    continue
                self._recent[decision_id] = votes
                self._recent.move_to_end(decision_id)
            while len(self._recent) > self.policy.feedback_memory:
                self._recent.popitem(last=False)

    def _executor(self) -> ThreadPoolExecutor:
        # One thread owns the SQLite connection (sqlite3 objects stay on their thread).
        with self._lock:
            if self._db is None:
                self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assay-guard-db")
            return self._db

    def _in_store(self, fn: Any) -> Any:
        from assay.store.sqlite import Store

        if self._store is None:
            assert self.store_path is not None
            self._store = Store(self.store_path)
        return fn(self._store)

    def _store_call(self, fn: Any) -> Any:
        return self._executor().submit(self._in_store, fn).result()

    def feedback(self, feedback: Feedback) -> dict[str, Any]:
        """Record a reviewer label; update and persist a weighted ensemble's weights.

        Returns:
            ``{}`` when the judge is not a weighted ensemble; else ``ensemble`` (the name
            the weights are stored under), ``weights`` (after this step), ``step`` and
            ``history`` (how many steps are stored, or held in memory without a store).

        Raises:
            InputError: (field ``decision_id``) the decision already has a label, or, for a
                weighted ensemble, its votes are unknown (older than the in-memory window
                and not in the store).
        """
        ensemble = self._scorer.ensemble
        weighted = ensemble is not None and ensemble.rule == "weighted"
        decision_id = feedback.decision_id
        with self._lock:
            if decision_id in self._reviewed:
                raise InputError(
                    f"decision {decision_id!r} already has a label", field="decision_id"
                )
            votes = self._recent.get(decision_id)
        if not weighted or ensemble is None:
            self._save_label(feedback, None, None)
            with self._lock:
                self._reviewed.add(decision_id)
            return {"weights": {}}
        if votes is None and self.store_path is not None:
            stored = self._store_call(lambda s: s.guard_votes(decision_id))
            if stored is not None and stored[0] == ensemble.name:
                votes = stored[1]
        if self.store_path is not None and self._store_call(
            lambda s: s.guard_feedback(decision_id)
        ):
            raise InputError(f"decision {decision_id!r} already has a label", field="decision_id")
        if votes is None:
            raise InputError(
                f"unknown decision {decision_id!r}: not among this guard's last "
                f"{self.policy.feedback_memory} decisions"
                + ("" if self.store_path is None else " nor in its store"),
                field="decision_id",
            )
        from assay.judges.ensemble import hedge_update, member_loss

        label_bad = feedback.label == "unsafe"
        with ensemble.lock:
            history = self._weight_history(ensemble)
            if history:
                current = dict(history[-1]["weights"])
                step = int(history[-1]["step"]) + 1
            else:
                current, step = dict(ensemble.weights), 1
                if self.store_path is not None:
                    self._store_call(
                        lambda s: s.save_ensemble_weights(
                            ensemble.name, current, step=0, note="initial (policy)"
                        )
                    )
            if set(current) != set(votes):
                raise UsageError(
                    f"decision {decision_id!r} has votes of {sorted(votes)}, but the ensemble "
                    f"is {sorted(current)}"
                )
            losses = {m: member_loss(votes[m], label_bad) for m in current}
            new = hedge_update(current, losses, eta=self.policy.hedge_eta)
            note = f"guard feedback: decision {decision_id} label {feedback.label}"
            if self.store_path is not None:
                self._store_call(
                    lambda s: s.save_ensemble_weights(ensemble.name, new, step=step, note=note)
                )
            self._save_label(feedback, ensemble.name, step)
            ensemble.weights = new
            self._memory_history.append({"step": step, "weights": new, "note": note})
        with self._lock:
            self._reviewed.add(decision_id)
        return {"ensemble": ensemble.name, "weights": new, "step": step, "history": step + 1}

    def _weight_history(self, ensemble: _EnsembleState) -> list[dict[str, Any]]:
        if self.store_path is not None:
            return list(self._store_call(lambda s: s.ensemble_weight_history(ensemble.name)))
        if not self._memory_history:
            self._memory_history.append(
                {"step": 0, "weights": dict(ensemble.weights), "note": "initial (policy)"}
            )
        return list(self._memory_history)

    def _save_label(self, feedback: Feedback, ensemble: str | None, step: int | None) -> None:
        if self.store_path is None:
            return
        try:
            self._store_call(
                lambda s: s.save_guard_feedback(
                    decision_id=feedback.decision_id,
                    label=feedback.label,
                    reviewer=feedback.reviewer,
                    note=feedback.note,
                    policy_id=self.policy_id,
                    ensemble=ensemble,
                    step=step,
                )
            )
        except UsageError as exc:
            raise InputError(str(exc), field="decision_id") from None

    def weights(self) -> dict[str, float]:
        """The ensemble's current weights (``{}`` when the judge is not an ensemble)."""
        ensemble = self._scorer.ensemble
        return {} if ensemble is None else dict(ensemble.weights)

    def weight_history(self) -> list[dict[str, Any]]:
        """Every stored step of the ensemble's weights, oldest first (``[]`` if none)."""
        ensemble = self._scorer.ensemble
        if ensemble is None:
            return []
        return self._weight_history(ensemble)

    def close(self) -> None:
        """Close the store connection (and its thread)."""
        with self._lock:
            executor, self._db = self._db, None
        if executor is not None:
            if self._store is not None:
                store = self._store
                executor.submit(store.close).result()
                self._store = None
            executor.shutdown(wait=True)
