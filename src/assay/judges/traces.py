"""Reasoning traces: split ``<think>...</think>`` from the final answer.

Reasoning models put a trace before their answer, inline (``<think>...</think>``) or in a
separate field (``reasoning_content``, which the ``openai`` target reads into
``Response.reasoning``). Judges score the trace and the answer separately, because an
unsafe trace can sit under a safe-looking answer (SafeChain); the engine stores both
verdicts and the reports show both.
"""

from __future__ import annotations

import re

from assay.core.records import Response

_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)


def split_trace(response: Response) -> Response:
    """The response with an inline trace moved from ``text`` to ``reasoning``.

    A response that already has ``reasoning``, or has no ``<think>`` tag, is returned
    unchanged. An unclosed ``<think>`` means the model never reached an answer: the rest
    of the text is the trace and the answer is empty (which judges leave unscored).
    """
    if response.reasoning is not None or not response.ok:
        return response
    opened = _OPEN.search(response.text)
    if opened is None:
        return response
    before = response.text[: opened.start()]
    rest = response.text[opened.end() :]
    closed = _CLOSE.search(rest)
    if closed is None:
        trace, after = rest, ""
    else:
        trace, after = rest[: closed.start()], rest[closed.end() :]
    answer = f"{before.strip()}\n{after.strip()}".strip()
    return response.model_copy(update={"text": answer, "reasoning": trace.strip()})
