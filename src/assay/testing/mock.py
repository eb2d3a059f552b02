"""A scripted target for tests: assay's own and its users'."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from assay.core.component import Component
from assay.core.records import Attempt, Response
from assay.errors import RetryableTargetError, TargetError


class MockTarget(Component):
    """Scripted target: answers from a script keyed by case id, or a default reply.

    A scripted reply of ``"!error:KIND"`` raises a ``TargetError`` of that kind and
    ``"!retry:KIND"`` a retryable one, so error handling can be tested without a server.

    Args:
        replies: case id -> reply text.
        default: reply for cases not in ``replies``.
        delay_s: simulated latency per request, seconds.
    """

    name = "mock"
    version = "1"

    def __init__(
        self,
        *,
        replies: Mapping[str, str] | None = None,
        default: str = "I can't help with that.",
        delay_s: float = 0.0,
    ) -> None:
        self.replies = dict(replies or {})
        self.default = default
        self.delay_s = delay_s
        self.calls: list[str] = []

    async def respond(self, attempt: Attempt) -> Response:
        self.calls.append(attempt.case.id)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = self.replies.get(attempt.case.id, self.default)
        if text.startswith("!error:"):
            raise TargetError("scripted failure", kind=text.removeprefix("!error:"))
        if text.startswith("!retry:"):
            raise RetryableTargetError(
                "scripted transient failure", kind=text.removeprefix("!retry:")
            )
        return Response(text=text, finish_reason="stop", latency_s=self.delay_s)
