"""Text codecs for encoding attacks, and their tolerant inverses for reading replies.

An encoding attack asks the model to answer *in the same encoding* (base64, ROT13...),
because a model that decodes a harmful request may still refuse in plain text but comply
when it writes in code. The engine then decodes the reply with :func:`decode_answer`
before judging, so a judge that reads English sees what the model actually said.

Real replies are messy: "Sure! Here it is: SGVsbG8=", a plain-English refusal, a base64
blob wrapped over several lines. :func:`decode_answer` therefore decodes only what looks
encoded and leaves the rest alone. A plain refusal must stay readable: garbling it into
ROT13 nonsense would make a refusal judge call it compliance.

The inverse is exact on what :func:`encode` produced (``decode_answer(encode(x, c), c)
== x``) for every codec in :data:`ANSWER_CODECS`. ROT13 and ``reverse`` decide sentence
by sentence by counting common English words, so a sentence that reads as *more* English
encoded than plain (only words like "bar" <-> "one") would be left as is; ordinary text
never does. ``leetspeak`` is lossy (digits and case), so it is not an answer codec.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Final

from assay.errors import InputError

#: Every codec :func:`encode` knows.
CODECS: Final = ("base64", "rot13", "hex", "reverse", "leetspeak")
#: Codecs whose :func:`decode_answer` restores the text exactly: usable as answer codecs.
ANSWER_CODECS: Final = ("base64", "rot13", "hex", "reverse")

_ROT13: Final = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
_LEET: Final = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_UNLEET: Final = {"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s"}

_COMMON_WORDS: Final = """
the be to of and a in that have i it for not on with he as you do at this but his by from
they we say her she or an will my one all would there their what so up out if about who get
which go me when make can like time no just him know take people into year your good some
could them see other than then now look only come its over think also back after use two how
our work first well way even new want because any these give day most us is are was were has
had been here step steps sure yes answer below next should must using water mix add wait
minutes hours keep made help ok okay certainly thanks please question decode decoded message
text sorry can't cannot won't unable apologize apologise assist provide information request
however instead safe illegal harmful dangerous
"""
#: The most common English words: how ROT13 and reverse tell plain text from encoded.
_COMMON: Final = frozenset(_COMMON_WORDS.split())
_WORD: Final = re.compile(r"[A-Za-z']+")
_B64_RUN: Final = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
#: Hex bytes, either run together or each followed by one separator (``48 65 6c``).
_HEX_RUN: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:[0-9A-Fa-f]{2}){4,}|[0-9A-Fa-f]{2}(?:[ :][0-9A-Fa-f]{2}){3,})"
    r"(?![0-9A-Za-z])"
)
_SENTENCE_END: Final = re.compile(r"((?<=[.!?:;])[ \t]+|\n)")
_MIN_PRINTABLE: Final = 0.9


def _check(codec: str) -> None:
    if codec not in CODECS:
        raise InputError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}", field="codec")


def encode(text: str, codec: str) -> str:
    """``text`` written in ``codec`` (UTF-8 bytes for base64 and hex).

    Raises:
        InputError: ``codec`` is not one of :data:`CODECS`.
    """
    _check(codec)
    if codec == "base64":
        return base64.b64encode(text.encode("utf-8")).decode("ascii")
    if codec == "hex":
        return text.encode("utf-8").hex()
    if codec == "rot13":
        return text.translate(_ROT13)
    if codec == "reverse":
        return text[::-1]
    return "".join(_LEET.get(ch.lower(), ch) for ch in text)


def decode_answer(text: str, codec: str) -> str:
    """Decode what is encoded in a model's reply; leave plain text as it is.

    Raises:
        InputError: ``codec`` is not one of :data:`CODECS`.
    """
    _check(codec)
    decoders: dict[str, Callable[[str], str]] = {
        "base64": _decode_base64,
        "hex": _decode_hex,
        "rot13": _decode_rot13,
        "reverse": _decode_reverse,
        "leetspeak": _decode_leet,
    }
    return decoders[codec](text)


# -- base64 and hex: decode whole, else each run that decodes to readable text -----------


def _readable(data: bytes, *, whole: bool) -> str | None:
    """``data`` as UTF-8 if it is mostly printable text (any valid UTF-8 when ``whole``)."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not decoded:
        return None
    if whole:
        return decoded
    # A run inside prose must read as text: mostly printable, with some letters.
    printable = sum(ch.isprintable() or ch.isspace() for ch in decoded) / len(decoded)
    has_letters = any(ch.isalpha() for ch in decoded)
    return decoded if printable >= _MIN_PRINTABLE and has_letters else None


def _b64bytes(blob: str) -> bytes | None:
    blob = blob.rstrip("=")
    if len(blob) % 4 == 1:
        return None
    try:  # models often drop the padding: restore it
        return base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _decode_base64(text: str) -> str:
    compact = "".join(text.split())
    if not compact:
        return text
    if re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", compact) and len(compact) % 4 == 0:
        data = _b64bytes(compact)
        # The whole reply is one blob (perhaps wrapped): what encode() gives back.
        whole = _readable(data, whole=" " not in text.strip()) if data is not None else None
        if whole is not None:
            return whole

    def run(match: re.Match[str]) -> str:
        data = _b64bytes(match.group(0))
        decoded = _readable(data, whole=False) if data is not None else None
        return match.group(0) if decoded is None else decoded

    return _B64_RUN.sub(run, _join_wrapped(text, r"[A-Za-z0-9+/]"))


def _join_wrapped(text: str, charclass: str) -> str:
    """Join a blob that the model wrapped over lines (full lines of code chars only)."""
    line = rf"{charclass}{{16,}}={{0,2}}"
    pattern = re.compile(rf"(?m)^{line}(?:\r?\n{line})+$")
    return pattern.sub(lambda m: "".join(m.group(0).split()), text)


def _decode_hex(text: str) -> str:
    compact = re.sub(r"[\s:]", "", text)
    if compact and len(compact) % 2 == 0 and re.fullmatch(r"[0-9A-Fa-f]+", compact):
        whole = _readable(bytes.fromhex(compact), whole=True)
        if whole is not None:
            return whole

    def run(match: re.Match[str]) -> str:
        decoded = _readable(bytes.fromhex(re.sub(r"[ :]", "", match.group(0))), whole=False)
        return match.group(0) if decoded is None else decoded

    return _HEX_RUN.sub(run, text)


# -- ROT13 and reverse: decode the sentences that read as English once decoded -----------


def _english(text: str) -> int:
    return sum(word.lower().strip("'") in _COMMON for word in _WORD.findall(text))


def _decode_rot13(text: str) -> str:
    out: list[str] = []
    # split() with a group alternates sentence, separator, sentence...: odd items are seps.
    for i, piece in enumerate(_SENTENCE_END.split(text)):
        decoded = piece.translate(_ROT13)
        keep = i % 2 == 1 or _english(decoded) < _english(piece)
        out.append(piece if keep else decoded)
    return "".join(out)


def _decode_reverse(text: str) -> str:
    lines = text.split("\n")
    gains = [_english(line[::-1]) - _english(line) for line in lines]
    if all(gain >= 0 for gain in gains):
        return text[::-1]  # all reversed (line order too): what encode() gives back
    # Plain lines around a reversed answer: reverse only the lines that gain from it.
    pairs = zip(lines, gains, strict=True)
    return "\n".join(line[::-1] if gain > 0 else line for line, gain in pairs)


# -- leetspeak (lossy): letters back in words that mix letters and leet digits -----------


def _decode_leet(text: str) -> str:
    def word(match: re.Match[str]) -> str:
        token = match.group(0)
        if not any(ch.isalpha() for ch in token):
            return token  # a plain number stays a number
        return "".join(_UNLEET.get(ch, ch) for ch in token)

    return re.sub(r"[\w@$]+", word, text)
