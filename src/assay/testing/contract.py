"""Contract checks any plugin must pass (the ``check_estimator`` idea).

Third-party authors call these from their own tests::

    from assay.testing.contract import check_target
    check_target(MyTarget(base_url=...))
"""

from __future__ import annotations

import inspect
from typing import Any

from assay.core.records import Spec


def check_component(component: Any, *, name: str | None = None) -> Spec:
    """A component's spec names it, is JSON-serialisable and rebuilds an equal component."""
    spec = component.spec()
    assert isinstance(spec, Spec), f"{component!r}.spec() must return a Spec"
    if name is not None:
        assert spec.name == name.split("/")[-1], (
            f"spec name {spec.name!r} differs from registry name {name!r}"
        )
    assert spec.version, "a component must declare a version"
    Spec.model_validate_json(spec.model_dump_json())  # JSON round trip
    signature = inspect.signature(type(component).__init__)
    for pname, param in signature.parameters.items():
        if pname == "self" or param.kind is param.VAR_KEYWORD:
            continue
        assert param.kind is param.KEYWORD_ONLY, (
            f"{type(component).__name__}.__init__ parameter {pname!r} must be keyword-only"
        )
    secrets: frozenset[str] = getattr(component, "secret_params", frozenset())
    rebuilt = type(component)(**spec.params, **{k: getattr(component, k) for k in secrets})
    assert rebuilt.spec() == spec, "building from spec() must give the same spec"
    return spec


def check_target(target: Any, *, name: str | None = None) -> None:
    """A target has ``async respond(attempt)`` and a replayable spec."""
    check_component(target, name=name)
    assert inspect.iscoroutinefunction(target.respond), "respond must be async"


def check_judge(judge: Any, *, name: str | None = None) -> None:
    """A judge has ``async judge(batch)`` and a replayable spec."""
    check_component(judge, name=name)
    assert inspect.iscoroutinefunction(judge.judge), "judge must be async"


def check_attack(attack: Any, *, name: str | None = None) -> None:
    """An attack has ``apply(case, messages)`` and a replayable spec."""
    check_component(attack, name=name)
    assert callable(getattr(attack, "apply", None)), "an attack needs apply()"


def check_metric(metric: Any, *, name: str | None = None) -> None:
    """A metric has ``compute(results)`` and a replayable spec."""
    check_component(metric, name=name)
    assert callable(getattr(metric, "compute", None)), "a metric needs compute()"
