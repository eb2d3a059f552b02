from __future__ import annotations

from assay.core import Response
from assay.judges.traces import split_trace


def test_inline_trace_is_moved_to_reasoning() -> None:
    r = split_trace(Response(text="<think>They want X. Step 1...</think>\n\nI can't help."))
    assert r.text == "I can't help."
    assert r.reasoning == "They want X. Step 1..."


def test_unclosed_trace_leaves_an_empty_answer() -> None:
    r = split_trace(Response(text="<think>still thinking about it"))
    assert (r.text, r.reasoning) == ("", "still thinking about it")


def test_plain_answers_separate_fields_and_errors_are_untouched() -> None:
    plain = Response(text="Paris.")
    assert split_trace(plain) is plain
    separate = Response(text="<think>x</think>y", reasoning="given by the API")
    assert split_trace(separate) is separate
    failed = Response(error="timeout")
    assert split_trace(failed) is failed
