"""A target that answers from a script of replies or regex rules.

:class:`~assay.testing.mock.MockTarget` answers by case id, which suits scans of a known
suite. Generation, rewriting and multi-turn tests need something else: the prompts are
made at run time (a rewrite instruction, a grid cell, the third turn of a conversation),
so the reply has to be chosen by what was *asked* (a rule) or by *when* it was asked (the
next reply of a list).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence

from assay.core.component import Component
from assay.core.records import Attempt, Response
from assay.errors import InputError, RetryableTargetError, TargetError


class ScriptedTarget(Component):
    """Answers by regex rules on the last user message, else the next scripted reply.

    Rules are tried in order; the first pattern found (``re.search``, case-insensitive)
    in the last user message gives the reply. Otherwise the next reply of ``replies`` is
    used, cycling; with no replies, ``default``. A reply may contain ``{prompt}``, which
    is replaced by the last user message (an echo, handy for rewrite tests). As with the
    mock target, ``"!error:KIND"`` raises a ``TargetError`` and ``"!retry:KIND"`` a
    retryable one.

    Args:
        replies: replies used in order, cycling.
        rules: regex pattern -> reply, tried before ``replies``.
        default: the reply when no rule matches and ``replies`` is empty.
        delay_s: simulated latency per request, seconds.
    """

    name = "scripted"
    version = "1"

    def __init__(
        self,
        *,
        replies: Sequence[str] | None = None,
        rules: Mapping[str, str] | None = None,
        default: str = "I can't help with that.",
        delay_s: float = 0.0,
    ) -> None:
        if isinstance(replies, str):
            raise InputError("must be a list of replies, not one string", field="replies")
        self.replies = list(replies or [])
        self.rules = dict(rules or {})
        self.default = default
        self.delay_s = delay_s
        self._compiled: list[tuple[re.Pattern[str], str]] = []
        for pattern, reply in self.rules.items():
            try:
                self._compiled.append((re.compile(pattern, re.IGNORECASE), reply))
            except re.error as exc:
                raise InputError(f"bad regex {pattern!r}: {exc}", field="rules") from exc
        #: The last user message of every request, in arrival order.
        self.calls: list[str] = []
        self._next = 0

    def reply_for(self, prompt: str) -> str:
        """The reply to ``prompt`` (advances the reply cycle when no rule matches)."""
        for pattern, reply in self._compiled:
            if pattern.search(prompt):
                return reply.replace("{prompt}", prompt)
        if not self.replies:
            return self.default.replace("{prompt}", prompt)
        reply = self.replies[self._next % len(self.replies)]
        self._next += 1
        return reply.replace("{prompt}", prompt)

    async def respond(self, attempt: Attempt) -> Response:
        prompt = _last_user(attempt)
        # Chosen before any await, so concurrent requests take replies in call order.
        self.calls.append(prompt)
        text = self.reply_for(prompt)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if text.startswith("!error:"):
            raise TargetError("scripted failure", kind=text.removeprefix("!error:"))
        if text.startswith("!retry:"):
            raise RetryableTargetError(
                "scripted transient failure", kind=text.removeprefix("!retry:")
            )
        return Response(text=text, finish_reason="stop", latency_s=self.delay_s)


def _last_user(attempt: Attempt) -> str:
    for message in reversed(attempt.messages):
        if message.role == "user":
            return message.content
    return attempt.messages[-1].content if attempt.messages else ""
