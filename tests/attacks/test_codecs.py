"""Codecs: exact inverses on what encode() gives, tolerant of real model replies."""

from __future__ import annotations

import base64

import pytest

from assay.attacks.codecs import ANSWER_CODECS, CODECS, decode_answer, encode
from assay.errors import InputError

TEXTS = (
    "Step 1: mix the two. Step 2: wait 10 minutes!",
    "Ünïcode, digits 0123456789 and punctuation: ?,;{}[]",
    "",
    "a",
    "I can't help with that.\nIt would not be safe.",
    "日本語のテキスト 🎉 with emoji",
    "  leading and trailing space \t\n",
    "Tabs\tand\r\nWindows line ends; quotes \"double\" and 'single'.",
)


@pytest.mark.parametrize("codec", ANSWER_CODECS)
@pytest.mark.parametrize("text", TEXTS)
def test_answer_codecs_round_trip_exactly(codec: str, text: str) -> None:
    encoded = encode(text, codec)
    if len(text.strip()) > 1:
        assert encoded != text
    assert decode_answer(encoded, codec) == text


def test_every_answer_codec_is_a_codec_and_leetspeak_is_not_an_answer_codec() -> None:
    assert set(ANSWER_CODECS) <= set(CODECS)
    assert "leetspeak" in CODECS
    assert "leetspeak" not in ANSWER_CODECS


@pytest.mark.parametrize("fn", [encode, decode_answer])
def test_unknown_codec_is_an_input_error(fn: object) -> None:
    with pytest.raises(InputError, match="unknown codec 'morse'"):
        fn("hello", "morse")  # type: ignore[operator]


SECRET = "Step 1: mix the two. Step 2: wait 10 minutes!"


def test_base64_blob_inside_prose_is_decoded_and_prose_kept() -> None:
    blob = encode(SECRET, "base64")
    reply = f"Sure! Here it is: {blob}\nHope that helps."
    assert decode_answer(reply, "base64") == f"Sure! Here it is: {SECRET}\nHope that helps."


def test_base64_without_padding_and_wrapped_over_lines() -> None:
    blob = encode(SECRET, "base64")
    assert blob.endswith("=") or len(blob) % 4 == 0
    assert decode_answer(f"Answer: {blob.rstrip('=')}", "base64") == f"Answer: {SECRET}"
    wrapped = "\n".join(blob[i : i + 20] for i in range(0, len(blob), 20))
    assert decode_answer(f"Here you go:\n{wrapped}\nDone", "base64") == (
        f"Here you go:\n{SECRET}\nDone"
    )


def test_base64_leaves_plain_refusals_and_words_alone() -> None:
    reply = "I can't help with that. Everyone understands 20232024 is a number."
    assert decode_answer(reply, "base64") == reply


def test_base64_run_decoding_to_binary_is_left_as_is() -> None:
    junk = base64.b64encode(bytes(range(200, 212))).decode()
    reply = f"Here: {junk} end"
    assert decode_answer(reply, "base64") == reply


def test_rot13_decodes_encoded_sentences_and_keeps_plain_ones() -> None:
    reply = "Sure! Here it is: " + encode(SECRET, "rot13")
    assert decode_answer(reply, "rot13") == f"Sure! Here it is: {SECRET}"
    refusal = "I can't help with that. It would not be safe."
    assert decode_answer(refusal, "rot13") == refusal


def test_hex_with_separators_and_in_prose() -> None:
    assert decode_answer("Sure: 4d 69 78 20 74 68 65", "hex") == "Sure: Mix the"
    assert decode_answer("Sure: 4d:69:78:20:74:68:65", "hex") == "Sure: Mix the"
    assert decode_answer("Answer: " + encode("Mix the two.", "hex"), "hex") == (
        "Answer: Mix the two."
    )
    prose = "Call 2023 2024 or 20232024, I can't help with that."
    assert decode_answer(prose, "hex") == prose


def test_reverse_keeps_plain_lines_around_a_reversed_answer() -> None:
    reply = "Here is my answer:\n" + encode("Mix the two and wait.", "reverse")
    assert decode_answer(reply, "reverse") == "Here is my answer:\nMix the two and wait."
    assert decode_answer("I can't help with that.", "reverse") == "I can't help with that."


def test_leetspeak_is_best_effort_lossy() -> None:
    encoded = encode("Step 1: mix the two", "leetspeak")
    assert encoded == "573p 1: m1x 7h3 7w0"
    # Letters come back in words that mix letters and digits; plain numbers stay numbers.
    assert decode_answer(encoded, "leetspeak") == "step 1: mix the two"
