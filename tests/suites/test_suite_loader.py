"""load_suite (names and files) and filter_suite (hazards, expected, stratified limit)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assay.core.records import Case, Message
from assay.core.registry import Registry
from assay.errors import InputError, UnknownPluginError, UsageError
from assay.suites import loader
from assay.suites.base import Suite
from assay.suites.loader import filter_suite, load_suite, stratified


def make(hazards: str, expected: str = "r") -> Suite:
    """One case per character pair: ``hazards`` codes x expectations, in order."""
    codes = {"v": "vcr", "n": "ncr", "h": "hte", "s": "ssh"}
    cases = tuple(
        Case(
            id=f"c{i:03d}",
            messages=(Message(role="user", content=f"q{i}"),),
            hazard=codes[h],
            expected="refuse" if e == "r" else "comply",
        )
        for i, (h, e) in enumerate(zip(hazards, expected * len(hazards), strict=False))
    )
    return Suite(name="t", version="1", cases=cases, params={"k": 1})


def test_load_registered_suite_by_name() -> None:
    suite = load_suite("core-v1")
    assert suite.name == "core-v1" and len(suite) >= 180


def test_load_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    record = {"id": "a", "prompt": "hi", "hazard": "vcr", "expected": "comply"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    suite = load_suite(str(path), version="3")
    assert (suite.name, suite.version, len(suite)) == ("mine", "3", 1)


def test_registered_factories_get_their_params(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry()  # a private registry, so the global one is left untouched
    monkeypatch.setattr(loader, "registry", registry)
    seen: dict[str, object] = {}

    def factory(*, size: int = 1) -> Suite:
        seen["size"] = size
        return make("v" * size)

    registry.register("suites", "test-loader-sized", factory)
    assert len(load_suite("test-loader-sized", size=3)) == 3 and seen == {"size": 3}
    with pytest.raises(UsageError, match="size") as info:
        load_suite("test-loader-sized", colour="red")
    assert "colour" in str(info.value)
    registry.register("suites", "test-loader-broken", lambda: "not a suite")
    with pytest.raises(TypeError, match="not Suite"):
        load_suite("test-loader-broken")


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(UnknownPluginError, match="did you mean 'core-v1'"):
        load_suite("core-v2")


def test_missing_file_is_an_unknown_plugin_error_that_mentions_the_file() -> None:
    with pytest.raises(UnknownPluginError, match=r"no suite file 'nowhere\.yaml'"):
        load_suite("nowhere.yaml")


def test_existing_file_with_a_wrong_extension_names_it(tmp_path: Path) -> None:
    path = tmp_path / "cases.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="extension"):
        load_suite(str(path))
    with pytest.raises(UsageError, match="locale"):
        load_suite(str(tmp_path / "cases.txt"), locale="en_us")


# ----------------------------------------------------------------------------- filters


def test_filter_by_hazard_and_expected() -> None:
    suite = make("vnhsvnhs", "rc")
    only = filter_suite(suite, hazards=["vcr", "hte"])
    assert [c.hazard for c in only.cases] == ["vcr", "hte", "vcr", "hte"]
    assert (only.name, only.version, only.params) == ("t", "1", {"k": 1})
    comply = filter_suite(suite, expected="comply")
    assert {c.expected for c in comply.cases} == {"comply"} and len(comply) == 4
    assert len(filter_suite(suite, hazards=["spc_fin"])) == 0  # subhazards fold
    with pytest.raises(InputError, match="unknown hazard"):
        filter_suite(suite, hazards=["zzz"])
    with pytest.raises(InputError, match="refuse"):
        filter_suite(suite, expected="yes")
    with pytest.raises(InputError, match="limit"):
        filter_suite(suite, limit=-1)


def test_limit_spreads_over_hazards_in_case_order() -> None:
    suite = make("vvvvvvnnnhs")  # six vcr first: a plain head would pick only vcr
    picked = filter_suite(suite, limit=5)
    assert Counter(c.hazard for c in picked.cases) == {"vcr": 2, "ncr": 1, "hte": 1, "ssh": 1}
    assert [c.id for c in picked.cases] == ["c000", "c001", "c006", "c009", "c010"]
    assert filter_suite(suite, limit=0).cases == ()
    assert filter_suite(suite, limit=100).cases == suite.cases


def test_limit_alternates_expected_within_a_hazard() -> None:
    suite = make("vvvvnnnn", "rrrc")  # each hazard: refuse x3 then comply
    picked = filter_suite(suite, limit=4)
    assert Counter((c.hazard, c.expected) for c in picked.cases) == {
        ("vcr", "refuse"): 1,
        ("vcr", "comply"): 1,
        ("ncr", "refuse"): 1,
        ("ncr", "comply"): 1,
    }


def test_limit_is_deterministic_on_core_v1() -> None:
    suite = load_suite("core-v1")
    first = [c.id for c in filter_suite(suite, limit=30).cases]
    again = [c.id for c in filter_suite(load_suite("core-v1"), limit=30).cases]
    assert first == again and len(first) == 30
    hazards = Counter(c.id.split("-")[2] for c in filter_suite(suite, limit=24).cases)
    assert set(hazards.values()) == {2} and len(hazards) == 12
    kinds = Counter(c.expected for c in filter_suite(suite, limit=24).cases)
    assert kinds == {"refuse": 12, "comply": 12}


def test_stratified_keeps_original_order() -> None:
    cases = make("hvhv").cases
    assert [c.id for c in stratified(cases, limit=2)] == ["c000", "c001"]
    assert [c.id for c in stratified(cases, limit=3)] == ["c000", "c001", "c002"]
