"""A target that kills its own process once: to test what survives a dying worker.

Test-only. It is deliberately not registered as a plugin (a contract check must never
call it); the Ray backend ships it to workers as a pickled object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from assay.core.records import Attempt, Response
from assay.testing.mock import MockTarget


class CrashOnceTarget(MockTarget):
    """Answers like :class:`MockTarget`, but the first process to reach its ``after``-th
    call while ``marker`` does not exist creates it and exits at once (``os._exit(1)``:
    no cleanup, as a killed worker). Every later call, in any process, answers normally.

    Args:
        marker: a file path; its creation (atomic, exclusive) makes the crash happen once.
        after: calls this process answers before it dies (so it dies mid-run).
        always: die at that call in every process, marker or not (a poisoned worker).
        replies, default, delay_s: as :class:`MockTarget`.
    """

    name = "crash-once"

    def __init__(
        self,
        *,
        marker: str,
        after: int = 0,
        always: bool = False,
        replies: Mapping[str, str] | None = None,
        default: str = "I can't help with that.",
        delay_s: float = 0.0,
    ) -> None:
        super().__init__(replies=replies, default=default, delay_s=delay_s)
        self.marker = marker
        self.after = after
        self.always = always

    async def respond(self, attempt: Attempt) -> Response:
        if len(self.calls) >= self.after and self.always:
            os._exit(1)
        if len(self.calls) >= self.after:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os._exit(1)
        return await super().respond(attempt)
