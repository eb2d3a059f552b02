"""Agent scenarios as a suite: the built-in ``agents/core-v1`` set and a user's YAML files.

Every scenario becomes one :class:`~assay.core.records.Case` (``metadata["domain"] ==
"agent"``), so agent runs go through the same engine, store and reports as chat runs:
the case carries the scenario itself in its metadata, and the agent loop rebuilds the
world from it. ``expected`` is ``comply`` for a benign twin and ``refuse`` for a harmful
scenario, so over-refusal and unsafe actions land in the same tables as for chat.

``agents/core-v1`` has 5 harmful scenarios in each of the 8 risk categories, each with a
benign twin that looks alike and should be completed: an agent that refuses everything
scores well on safety and badly on the twins, so neither number alone can be gamed.
The scenarios were written for assay (none is copied from a public benchmark) and are
short, because the embedded offline model plays the agent in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Final

from assay.agents.scenario import Scenario, parse_files, read_scenarios
from assay.core.records import Case, Message
from assay.errors import InputError
from assay.suites.base import Suite

__all__ = [
    "CORE_V1_NAME",
    "CORE_V1_VERSION",
    "check_scenarios",
    "core_v1",
    "core_v1_scenarios",
    "scenario_case",
    "scenario_suite",
]

CORE_V1_NAME: Final = "agents/core-v1"
#: Bump whenever a core-v1 scenario changes, so stored results say what they rest on.
CORE_V1_VERSION: Final = "1"
_CORE_V1_DIR: Final = "data/core-v1"


def _rule_tools(scenario: Scenario) -> list[tuple[str, str]]:
    """(field path, tool) of every place a scenario names a tool besides ``tools``."""
    out = [(f"safety.forbidden[{n}].tool", r.tool) for n, r in enumerate(scenario.safety.forbidden)]
    out += [
        (f"safety.confirm_before[{n}]", t) for n, t in enumerate(scenario.safety.confirm_before)
    ]
    out += [(f"success[{n}].tool", r.tool) for n, r in enumerate(scenario.success)]
    out += [(f"injections[{n}].tool", i.tool) for n, i in enumerate(scenario.injections)]
    out += [(f"faults.{t}", t) for t in scenario.faults]
    return out


def check_scenarios(
    scenarios: Sequence[Scenario], *, source: str, sources: Mapping[str, str] | None = None
) -> None:
    """Cross-checks the scenario model cannot do one scenario at a time.

    A rule on a tool the scenario does not offer can never fire, so a typo there would
    silently make a scenario unjudgeable; a twin that names a missing scenario, or one
    that does not point back, breaks the pairing the reports rely on.

    Args:
        scenarios: the whole set (twins are looked up in it).
        source: where the set came from, named in errors.
        sources: scenario id -> its file, when the set spans files (named instead).

    Raises:
        InputError: naming the file, the scenario and the field.
    """
    by_id = {s.id: s for s in scenarios}
    for s in scenarios:
        where_from = (sources or {}).get(s.id, source)
        offered = set(s.tools)
        for where, tool in _rule_tools(s):
            if tool not in offered:
                raise InputError(
                    f"scenario {s.id!r}: tool {tool!r} is not among its tools "
                    f"({', '.join(s.tools)})",
                    source=where_from,
                    field=where,
                )
        if s.twin is None:
            continue
        twin = by_id.get(s.twin)
        problem = (
            "is not in the set"
            if twin is None
            else "does not name it back as its twin"
            if twin.twin != s.id
            else "must have the other 'benign' value"
            if twin.benign == s.benign
            else None
        )
        if problem is not None:
            raise InputError(
                f"scenario {s.id!r}: twin {s.twin!r} {problem}", source=where_from, field="twin"
            )


def scenario_case(scenario: Scenario, *, suite: str, version: str) -> Case:
    """The case that runs one scenario: system prompt, user goal, the scenario in metadata."""
    return Case(
        id=scenario.id,
        messages=(
            Message(role="system", content=scenario.system),
            Message(role="user", content=scenario.goal),
        ),
        hazard=scenario.category,
        expected="comply" if scenario.benign else "refuse",
        metadata={
            "domain": "agent",
            "scenario": scenario.model_dump(mode="json", by_alias=True),
            "twin": scenario.twin,
        },
        suite=suite,
        suite_version=version,
    )


def _suite(
    scenarios: Iterable[Scenario],
    *,
    name: str,
    version: str,
    description: str,
    source: str,
    params: dict[str, object],
) -> Suite:
    cases = tuple(scenario_case(s, suite=name, version=version) for s in scenarios)
    return Suite(
        name=name,
        version=version,
        cases=cases,
        description=description,
        source=source,
        params=params,
    )


def core_v1_scenarios() -> list[Scenario]:
    """Every scenario of ``agents/core-v1``, one YAML file per category, in file order.

    Read from the package resources with the same validation as a user's file, so the
    shipped data cannot drift from the format.
    """
    folder = resources.files("assay.agents").joinpath(_CORE_V1_DIR)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    source = f"assay.agents/{_CORE_V1_DIR}"
    texts = [(f"{source}/{file.name}", file.read_text(encoding="utf-8")) for file in files]
    out, _ = parse_files(texts, source=source)
    check_scenarios(out, source=source)
    return out


def core_v1() -> Suite:
    """The built-in agent suite: 40 harmful scenarios and their 40 benign twins."""
    return _suite(
        core_v1_scenarios(),
        name=CORE_V1_NAME,
        version=CORE_V1_VERSION,
        description=(
            "assay's built-in agent scenarios: 5 harmful tasks and their benign twins "
            "for each of the 8 agent risk categories"
        ),
        source=f"assay.agents/{_CORE_V1_DIR}",
        params={},
    )


def scenario_suite(path: str | Path, *, name: str | None = None) -> Suite:
    """A suite of a user's scenarios: one YAML file, or every ``*.yaml`` of a folder.

    Args:
        path: the file or folder.
        name: the suite name; defaults to the file stem or folder name.

    Raises:
        InputError: the file is missing or malformed, or a scenario names a tool it does
            not offer or a twin that is not there (the message names file and field).
    """
    root = Path(path).expanduser()
    scenarios, sources, digest = read_scenarios(root)  # every file validated, read once
    check_scenarios(scenarios, source=str(root), sources=sources)
    return _suite(
        scenarios,
        name=name or (root.stem if root.is_file() else root.name),
        version=digest,
        description=f"agent scenarios from {root}",
        source=str(root),
        params={"path": str(root)},
    )
