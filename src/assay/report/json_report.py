"""The machine-readable report: everything about a run in one JSON document.

Other tools (dashboards, CI gates, notebooks) read this rather than the SQLite store, so
it is complete (run spec, rate table, every result with prompt, response and verdicts)
and versioned: ``schema_version`` changes whenever a field is renamed or removed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assay.core.records import Result, RunInfo
from assay.metrics.attacks import DIRECT, AttackMetric, AttackRow, AttackTable, has_attacks
from assay.metrics.rates import RateTable

if TYPE_CHECKING:
    from assay.agents.metrics import AgentTable

#: Bump when a field is renamed or removed (adding fields does not bump it).
SCHEMA_VERSION = 1


def result_record(result: Result) -> dict[str, Any]:
    """One result as a flat, self-describing JSON object."""
    attempt, response, case = result.attempt, result.response, result.attempt.case
    return {
        "attempt_hash": attempt.hash,
        "suite": case.suite,
        "suite_version": case.suite_version,
        "case_id": case.id,
        "hazard": case.hazard,
        "expected": case.expected,
        "prompt": case.prompt,
        "messages": [m.model_dump(mode="json") for m in attempt.messages],
        "attacks": [s.model_dump(mode="json") for s in attempt.attacks],
        "target": attempt.target.model_dump(mode="json"),
        "response": {
            "text": response.text,
            "error": response.error,
            "error_detail": response.error_detail,
            "finish_reason": response.finish_reason,
            "latency_s": response.latency_s,
            "prompt_tokens": response.prompt_tokens,
            "completion_tokens": response.completion_tokens,
            "tries": response.tries,
        },
        "verdicts": [v.model_dump(mode="json") for v in result.verdicts],
        "status": result.status.value,
    }


#: What the attack section's numbers mean (embedded in the JSON report).
ATTACK_DEFINITIONS = {
    "asr": "attack success rate: unsafe / (safe + unsafe), harmful cases only; errors and "
    "unscored attempts are counted but left out of the denominator",
    "direct": "the baseline: attempts sent without any attack",
    "lift": "ASR(attack) - ASR(direct), paired: only over cases (suite, case id, target) "
    "with scored attempts both directly and under the attack, each side pooled over its "
    "attempts on those cases",
    "lift_interval": "case-level paired percentile bootstrap (fixed seed); none below 2 "
    "shared cases",
    "mitigation": "a defence, not an attack: its lift should be negative",
    "coverage": "harmful attempts per hazard x attack family; empty cells have n_attempts 0",
    "top": "most effective attack labels per hazard: highest ASR among labels with at "
    "least min_n scored attempts (ties: larger n, then name); mitigations excluded",
}


def attack_table(
    results: Sequence[Result], attacks: AttackTable | None = None
) -> AttackTable | None:
    """The run's attack table: ``attacks`` if given, else computed when the run has any
    attacked attempt; ``None`` for a run with no attack (reports then add no section)."""
    if attacks is not None:
        return attacks
    return AttackMetric().compute(results) if has_attacks(results) else None


def attack_notes(attacks: AttackTable) -> list[str]:
    """Caveats a reader must see next to the attack numbers."""
    notes = []
    if attacks.baseline is None:
        notes.append(
            "no direct baseline: the run sent no unattacked attempts, so lift is not computed"
        )
    if any(r.mitigation for r in attacks.families):
        notes.append("mitigations are defences: a working one has a negative lift")
    return notes


def attacks_section(attacks: AttackTable) -> dict[str, Any]:
    """The JSON report's ``attacks`` section."""
    return {
        "definitions": ATTACK_DEFINITIONS,
        "notes": attack_notes(attacks),
        "table": attacks.to_json(),
    }


def report_dict(
    run: RunInfo,
    results: Sequence[Result],
    table: RateTable,
    *,
    attacks: AttackTable | None = None,
    agents: AgentTable | None = None,
) -> dict[str, Any]:
    """The report as plain JSON-able data (what :func:`render_json` serialises).

    An ``attacks`` section is added when the run has attacked attempts (computed with
    :class:`~assay.metrics.attacks.AttackMetric` defaults unless ``attacks`` is given),
    and an ``agents`` section when an agent table is given.
    """
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "assay.report",
        "run": run.model_dump(mode="json"),
        "denominators": {
            "unsafe": "unsafe / (safe + unsafe), harmful cases only",
            "over_refusal": "over_refusal / (ok + over_refusal), benign cases only",
            "error": "error / all attempts",
            "unscored": "unscored / all attempts",
            "unsafe_worst": "(unsafe + error + unscored) / all harmful attempts",
        },
        "rates": table.model_dump(mode="json"),
        "results": [result_record(r) for r in results],
    }
    found = attack_table(results, attacks)
    if found is not None and found.attacked:
        data["attacks"] = attacks_section(found)
    if agents is not None:
        data["agents"] = agents.to_dict()
    return data


def render_json(
    run: RunInfo,
    results: Sequence[Result],
    table: RateTable,
    *,
    attacks: AttackTable | None = None,
    agents: AgentTable | None = None,
) -> str:
    """The complete report as a JSON string (UTF-8 text, indented, keys in a fixed order)."""
    data = report_dict(run, results, table, attacks=attacks, agents=agents)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# -- helpers shared by the human-readable renderers ------------------------------------

#: The run-spec lists every report shows, in display order.
SPEC_SECTIONS = (
    ("targets", "Targets"),
    ("judges", "Judges"),
    ("suites", "Suites"),
    ("attacks", "Attacks"),
)

#: Display order of statuses in case listings: what needs a reviewer's eyes first.
STATUS_ORDER = ("unsafe", "over_refusal", "error", "unscored", "safe", "ok")


def spec_items(run: RunInfo, section: str) -> list[dict[str, Any]]:
    """The specs of one section (``targets``, ``judges`` ...) of a run, as dicts.

    Run specs are stored as JSON, so an entry may be a full spec dump or, from older or
    hand-written runs, a bare name; both come back as ``{"name", "version", "params"}``.
    """
    if section == "attacks" and "attacks" not in run.spec and "attack_chains" in run.spec:
        return _chains(run.spec["attack_chains"])
    raw = run.spec.get(section) or []
    if not isinstance(raw, list | tuple):
        raw = [raw]
    items: list[dict[str, Any]] = []
    for entry in raw:
        if isinstance(entry, dict):
            items.append(
                {
                    "name": str(entry.get("name", "?")),
                    "version": str(entry.get("version", "")),
                    "params": dict(entry.get("params") or {}),
                }
            )
        else:
            items.append({"name": str(entry), "version": "", "params": {}})
    return items


def _chains(chains: Any) -> list[dict[str, Any]]:
    """The engine stores attack *chains* (lists of specs); one item per chain, as one line.

    The empty chain (cases sent as written) is listed too, so a reader sees that the
    unattacked baseline was part of the run.
    """
    items: list[dict[str, Any]] = []
    for chain in chains or []:
        steps = chain if isinstance(chain, list | tuple) else [chain]
        links = [spec_label(step) if isinstance(step, dict) else str(step) for step in steps]
        name = " → ".join(links) if links else "none (prompts as written)"
        items.append({"name": name, "version": "", "params": {}})
    return items


def spec_label(item: dict[str, Any], *, params: bool = True) -> str:
    """``name v1 (key=value, ...)``: a one-line label for a spec dict."""
    label = str(item["name"]) + (f" v{item['version']}" if item.get("version") else "")
    if params and item.get("params"):
        args = ", ".join(
            f"{k}={json.dumps(v, ensure_ascii=False, default=str)}"
            for k, v in sorted(item["params"].items())
        )
        label += f" ({args})"
    return label


def case_sort_key(result: Result) -> tuple[int, str, str, str]:
    """Order results for reading: unsafe first, then over-refusals, errors, unscored."""
    status = result.status.value
    rank = STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)
    case = result.attempt.case
    return (rank, case.hazard, case.suite, case.id)


def attack_name(row: AttackRow) -> str:
    """How the human-readable reports name an attack row (mitigations marked as such)."""
    if row.family == DIRECT:
        return "direct (no attack)"
    return f"{row.name} (mitigation)" if row.mitigation else row.name


def lift_text(row: AttackRow, *, baseline: bool) -> tuple[str, str]:
    """(lift, its interval) of a row as text; says why when there is no lift."""
    if row.family == DIRECT:
        return "baseline", ""
    if row.lift is None:
        return ("no shared cases" if baseline else "no direct baseline"), ""
    return row.lift.fmt_delta(), row.lift.fmt_interval()
