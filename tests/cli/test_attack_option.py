"""The --attack mini-language: FAMILY[:VARIANT][,VARIANT...][,KEY=VALUE...][>NEXT]."""

from __future__ import annotations

import pytest

from assay.cli.common import parse_attack
from assay.errors import InputError


def test_family_alone() -> None:
    assert parse_attack("encoding") == [("encoding", {})]


def test_variants_and_parameters() -> None:
    assert parse_attack("encoding:base64,rot13,sample=1") == [
        ("encoding", {"variants": ["base64", "rot13"], "sample": 1})
    ]


def test_json_values_keep_their_commas() -> None:
    chain = parse_attack('astral,mode=llm,rewriter_args={"max_new_tokens": 64, "x": [1, 2]}')
    assert chain == [
        ("astral", {"mode": "llm", "rewriter_args": {"max_new_tokens": 64, "x": [1, 2]}})
    ]


def test_chains() -> None:
    assert parse_attack("persona:mercenary>encoding:base64") == [
        ("persona", {"variants": ["mercenary"]}),
        ("encoding", {"variants": ["base64"]}),
    ]


@pytest.mark.parametrize("bad", [":base64", 'encoding:base64,variants=["x"]', "a,=3"])
def test_bad_references_name_the_option(bad: str) -> None:
    with pytest.raises(InputError) as err:
        parse_attack(bad)
    assert "--attack" in str(err.value)
