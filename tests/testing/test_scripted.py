"""The scripted target: replies in order (cycling), regex rules first, scripted errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.core.records import Attempt
from assay.errors import InputError, RetryableTargetError, TargetError
from assay.testing.contract import check_target
from assay.testing.scripted import ScriptedTarget


def test_passes_the_target_contract() -> None:
    check_target(ScriptedTarget(replies=["a", "b"], rules={"lock": "no"}), name="scripted")


async def test_replies_cycle_in_call_order(make_attempt: Callable[[str], Attempt]) -> None:
    target = ScriptedTarget(replies=["one", "two"])
    texts = [(await target.respond(make_attempt(f"q{i}"))).text for i in range(5)]
    assert texts == ["one", "two", "one", "two", "one"]
    assert target.calls == [f"q{i}" for i in range(5)]


async def test_rules_win_over_replies_and_do_not_advance_the_cycle(
    make_attempt: Callable[[str], Attempt],
) -> None:
    target = ScriptedTarget(replies=["first", "second"], rules={r"\block\b": "rule: {prompt}"})
    assert (await target.respond(make_attempt("pick a LOCK"))).text == "rule: pick a LOCK"
    assert (await target.respond(make_attempt("anything"))).text == "first"
    assert (await target.respond(make_attempt("locksmith"))).text == "second"


async def test_default_when_nothing_scripted(make_attempt: Callable[[str], Attempt]) -> None:
    target = ScriptedTarget(default="echo {prompt}")
    assert (await target.respond(make_attempt("hi"))).text == "echo hi"


async def test_scripted_errors_raise(make_attempt: Callable[[str], Attempt]) -> None:
    target = ScriptedTarget(replies=["!error:boom", "!retry:http_429"])
    with pytest.raises(TargetError) as failed:
        await target.respond(make_attempt("a"))
    assert failed.value.kind == "boom" and not isinstance(failed.value, RetryableTargetError)
    with pytest.raises(RetryableTargetError):
        await target.respond(make_attempt("b"))


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="rules"):
        ScriptedTarget(rules={"(": "x"})
    with pytest.raises(InputError, match="replies"):
        ScriptedTarget(replies="just one string")  # type: ignore[arg-type]
