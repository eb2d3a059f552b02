from __future__ import annotations

from assay.core.taxonomy import HAZARDS, LLAMA_GUARD_3, SIMPLE_SAFETY_TESTS, canonical


def test_twelve_canonical_hazards() -> None:
    assert len(HAZARDS) == 12
    assert canonical("SXC_PRN") == "sxc"


def test_mappings_land_on_canonical_codes() -> None:
    assert len(LLAMA_GUARD_3) == 14
    for codes in [*LLAMA_GUARD_3.values(), *SIMPLE_SAFETY_TESTS.values()]:
        assert codes and all(code in HAZARDS for code in codes)
    assert LLAMA_GUARD_3["S11"] == ("ssh",)
