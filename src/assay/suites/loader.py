"""Turn a suite reference (a registry name or a file path) into a Suite, and narrow it.

The CLI and the Python API accept the same references, ``core-v1`` or ``my_cases.yaml``,
so everything that takes a suite goes through :func:`load_suite`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assay.core.records import Case
from assay.core.registry import registry
from assay.core.taxonomy import canonical
from assay.errors import InputError, UnknownPluginError, UsageError
from assay.suites.base import Suite
from assay.suites.formats import SUFFIXES, read_suite_file


def load_suite(ref: str, **params: Any) -> Suite:
    """Load a registered suite by name, or read a suite file.

    A registered name wins over a file of the same name, so ``core-v1`` always means the
    built-in suite.

    Args:
        ref: a name in the ``assay.suites`` registry group, or a path to a ``.jsonl``,
            ``.csv``, ``.yaml`` or ``.yml`` file.
        **params: passed to the suite factory (e.g. ``path=``, ``locale=``), or to
            :func:`~assay.suites.formats.read_suite_file` (``name=``, ``version=``).

    Raises:
        UnknownPluginError: ``ref`` is neither a registered suite nor an existing file
            (the message suggests close names).
        UsageError: ``params`` do not fit the suite's factory.
        InputError: the file or data set is malformed.
    """
    if ref in registry.names("suites"):
        factory = registry.get("suites", ref)
        _check_params(ref, factory, params)
        suite = factory(**params)
        if not isinstance(suite, Suite):
            raise TypeError(f"suite plugin {ref!r} returned {type(suite).__name__}, not Suite")
        return suite
    path = Path(ref).expanduser()
    if path.is_file() and path.suffix == ".npz":  # a perception set (assay perception data)
        from assay.perception.suites import npz_samples

        return npz_samples(str(path))
    if path.is_file():
        _check_params(ref, read_suite_file, params, path)
        return read_suite_file(path, **params)
    try:
        registry.get("suites", ref)
    except UnknownPluginError as exc:
        if path.suffix.lower() in SUFFIXES:
            raise UnknownPluginError(f"{exc}; and no suite file {ref!r} exists") from None
        raise
    raise AssertionError("unreachable: the name was not registered")  # pragma: no cover


def _check_params(ref: str, factory: Any, params: dict[str, Any], *args: Any) -> None:
    """Reject parameters the factory cannot take, before calling it.

    Binding the signature first means a typo such as ``locale=`` given to ``xstest``
    becomes a clear usage error instead of a TypeError from deep inside the call.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    try:
        signature.bind(*args, **params)
    except TypeError as exc:
        named = [n for n, p in signature.parameters.items() if p.kind is not p.POSITIONAL_ONLY]
        raise UsageError(
            f"suite {ref!r}: bad parameters ({exc}); "
            f"it accepts: {', '.join(named) or 'no parameters'}"
        ) from None


def filter_suite(
    suite: Suite,
    *,
    hazards: Iterable[str] | None = None,
    limit: int | None = None,
    expected: str | None = None,
) -> Suite:
    """Keep the cases of some hazards and/or expectations, up to ``limit`` of them.

    ``limit`` keeps a deterministic, stratified selection: hazards take turns in the
    order they first appear, and within a hazard the expectations (``refuse`` /
    ``comply``) take turns too, each in case order. So ``limit=24`` on core-v1 gives one
    harmful and one benign case per hazard instead of the first 24 violent-crime cases.
    The kept cases stay in suite order. Name, version and params are unchanged: the
    filter is a property of the run, not of the suite.

    Args:
        suite: the suite to narrow.
        hazards: canonical codes or subhazards to keep (``None``: all).
        limit: at most this many cases (``None``: all).
        expected: ``refuse`` or ``comply`` to keep only one kind (``None``: both).

    Raises:
        InputError: an unknown hazard, an ``expected`` other than refuse/comply, or a
            negative ``limit``.
    """
    cases: Sequence[Case] = suite.cases
    if hazards is not None:
        wanted = {canonical(code) for code in hazards}
        cases = [case for case in cases if case.hazard in wanted]
    if expected is not None:
        if expected not in ("refuse", "comply"):
            raise InputError(f"must be 'refuse' or 'comply', not {expected!r}", field="expected")
        cases = [case for case in cases if case.expected == expected]
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InputError(f"must be a whole number >= 0, not {limit!r}", field="limit")
        cases = stratified(cases, limit=limit)
    return replace(suite, cases=tuple(cases))


def stratified(cases: Sequence[Case], *, limit: int) -> list[Case]:
    """Pick ``limit`` cases round-robin over hazards (and over ``expected`` within one).

    Deterministic: it depends only on the order of ``cases``. Returns the picks in their
    original order.
    """
    if limit >= len(cases):
        return list(cases)
    by_hazard: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        by_hazard.setdefault(case.hazard, []).append(index)
    queues = [_interleave(indices, cases) for indices in by_hazard.values()]
    picked: list[int] = []
    depth = 0
    while len(picked) < limit:
        for queue in queues:
            if depth < len(queue) and len(picked) < limit:
                picked.append(queue[depth])
        depth += 1
    return [cases[index] for index in sorted(picked)]


def _interleave(indices: list[int], cases: Sequence[Case]) -> list[int]:
    """Reorder one hazard's case indices so ``expected`` values alternate."""
    groups: dict[str, list[int]] = {}
    for index in indices:
        groups.setdefault(cases[index].expected, []).append(index)
    order: list[int] = []
    for depth in range(max(len(group) for group in groups.values())):
        order.extend(group[depth] for group in groups.values() if depth < len(group))
    return order
