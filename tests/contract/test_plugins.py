"""Every registered plugin passes the contract checks that assay ships to users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.core.registry import registry
from assay.suites import Suite
from assay.testing.contract import check_attack, check_judge, check_metric, check_target

# Plugins that cannot be built without parameters get example ones here. Building a
# component must not load a model or open a connection (that happens on first use).
EXAMPLE_PARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("targets", "openai"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("judges", "llamaguard"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("judges", "rubric"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("judges", "trajectory"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("targets", "judge"): {"judge": "keyword"},
    ("judges", "ensemble"): {"judges": ["keyword"]},
    # the model-backed variants would load the embedded model as translator
    ("attacks", "translate"): {"variants": ["placeholder"]},
    # the weather kinds need an intensity column the synthetic objects do not have
    ("attacks", "lidar"): {"variants": ["beam_missing", "crosstalk"]},
}


def _tiny_classifier() -> str:
    """An untrained PointNet saved to a temporary file (building the target reads it)."""
    import tempfile

    from assay.perception.model import Classifier, PointNet

    path = Path(tempfile.mkdtemp()) / "tiny.pt"
    Classifier(module=PointNet(3), classes=("a", "b", "c"), n_points=64).save(path)
    return str(path)


def _example_params(group: str, name: str) -> dict[str, Any]:
    if (group, name) == ("targets", "classifier"):
        return {"model": _tiny_classifier()}
    if (group, name) == ("targets", "transformers"):
        from assay.targets.embedded import embedded_model_file

        return {"path": str(embedded_model_file())}
    return EXAMPLE_PARAMS.get((group, name), {})


CHECKS = {
    "targets": check_target,
    "judges": check_judge,
    "attacks": check_attack,
    "metrics": check_metric,
}


def _cases() -> list[tuple[str, str]]:
    return [(group, name) for group in CHECKS for name in registry.names(group)]


@pytest.mark.parametrize(("group", "name"), _cases())
def test_plugin_contract(group: str, name: str) -> None:
    component = registry.create(group, name, **_example_params(group, name))
    CHECKS[group](component, name=name)


@pytest.mark.parametrize("name", registry.names("suites"))
def test_suite_contract(name: str) -> None:
    suite = registry.get("suites", name)()
    assert isinstance(suite, Suite)
    assert suite.version and len(suite) > 0
    ids = [c.id for c in suite.cases]
    assert len(ids) == len(set(ids)), "case ids must be unique within a suite"
    assert {c.expected for c in suite.cases} <= {"refuse", "comply"}


def test_every_group_has_a_plugin() -> None:
    for group in ("targets", "judges", "suites", "metrics", "attacks"):
        assert registry.names(group), group
