"""The machine-readable report: everything about a run in one JSON document.

Other tools (dashboards, CI gates, notebooks) read this rather than the SQLite store, so
it is complete (run spec, rate table, every result with prompt, response and verdicts)
and versioned: ``schema_version`` changes whenever a field is renamed or removed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assay.core.records import Result, RunInfo
from assay.metrics.rates import RateTable

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


def report_dict(run: RunInfo, results: Sequence[Result], table: RateTable) -> dict[str, Any]:
    """The report as plain JSON-able data (what :func:`render_json` serialises)."""
    return {
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


def render_json(run: RunInfo, results: Sequence[Result], table: RateTable) -> str:
    """The complete report as a JSON string (UTF-8 text, indented, keys in a fixed order)."""
    return json.dumps(report_dict(run, results, table), ensure_ascii=False, indent=2) + "\n"
