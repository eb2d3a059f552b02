from __future__ import annotations

import pytest

from assay.core.registry import GROUPS, Registry, registry
from assay.errors import UnknownPluginError


def test_builtin_plugins_are_registered() -> None:
    assert "embedded" in registry.names("targets")
    assert "mock" in registry.names("targets")
    assert "core-v1" in registry.names("suites")


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownPluginError, match="did you mean 'embedded'"):
        registry.get("targets", "embeded")


def test_unknown_group() -> None:
    with pytest.raises(UnknownPluginError):
        registry.names("widgets")


def test_register_by_hand_overrides() -> None:
    reg = Registry()
    reg.register("judges", "mine", dict)
    assert reg.get("judges", "mine") is dict
    assert "mine" in reg.names("judges")
    assert set(GROUPS) == {"targets", "judges", "attacks", "suites", "metrics"}
