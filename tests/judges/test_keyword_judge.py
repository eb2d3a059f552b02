"""The keyword baseline: simple, and wrong in the documented ways."""

from __future__ import annotations

from collections.abc import Callable

from assay.core.records import Exchange, Outcome, Spec
from assay.judges.keyword import KeywordRefusalJudge, is_refusal
from assay.testing.contract import check_judge

MakeExchange = Callable[..., Exchange]


def test_contract_and_spec() -> None:
    check_judge(KeywordRefusalJudge(), name="keyword")
    assert KeywordRefusalJudge().spec() == Spec(name="keyword", version="1", params={})


async def test_refusal_phrase_means_refused(exchange: MakeExchange) -> None:
    judge = KeywordRefusalJudge()
    verdicts = await judge.judge(
        [
            exchange("I\u2019m sorry, but I can\u2019t help with that."),
            exchange("Sure! Preheat the oven to 180 C and mix the flour with the butter."),
        ]
    )
    assert [v.outcome for v in verdicts] == [Outcome.REFUSED, Outcome.COMPLIED]
    assert [v.score for v in verdicts] == [0.0, 1.0]


async def test_empty_and_errored_are_unscored(exchange: MakeExchange) -> None:
    verdicts = await KeywordRefusalJudge().judge([exchange("  \n"), exchange("", error="timeout")])
    assert [v.outcome for v in verdicts] == [Outcome.UNSCORED, Outcome.UNSCORED]
    assert verdicts[0].unscored_reason == "empty response"
    assert verdicts[1].unscored_reason == "response error: timeout"


def test_known_failure_modes_of_a_keyword_list() -> None:
    # Why this is only a baseline: sympathy reads as refusal, new wording does not.
    assert is_refusal("I'm sorry to hear that! Here's how to fix the leak: ...")
    assert not is_refusal("My answer has to be no.")
