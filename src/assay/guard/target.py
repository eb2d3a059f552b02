"""The guard as a target: scan a running guard service (or a policy file) like a model.

Each attempt's conversation is sent to ``POST /v1/guard/check`` (or to an in-process
:class:`~assay.guard.guard.Guard` built from ``policy``) and the decision becomes a
response the ``decision`` judge reads exactly (see :mod:`assay.targets.judge_target`):

* ``block`` -> ``finish_reason="blocked"``: scored *refused*; on a benign case it is a
  false block (``over_refusal``);
* ``allow`` -> ``finish_reason="allowed"``: scored *complied*; on a harmful case it is a
  miss (``unsafe``);
* ``abstain`` -> no decision: a ``TargetError(kind="guard_abstained")``, stored as an
  error and shown, never counted as safe (a human would have had to look).

So ``assay scan -t guard -T url=http://127.0.0.1:8000 -j decision`` gives the guard's
misses and false blocks per hazard in a normal report.
"""

from __future__ import annotations

import os
from typing import Any

from assay.core.component import Component
from assay.core.records import Attempt, Response
from assay.errors import InputError, RetryableTargetError, TargetError, UsageError
from assay.guard.types import CheckRequest, Decision, GuardMessage
from assay.targets.judge_target import ALLOWED, ALLOWED_TEXT, BLOCKED, BLOCKED_TEXT


class GuardTarget(Component):
    """A guard (service URL or policy file) answering each attempt with its decision.

    Args:
        url: base URL of a running ``assay guard serve`` (``http://127.0.0.1:8000``).
        policy: a policy file for an in-process guard instead (``None``: the default
            policy when ``url`` is not given either).
        calibration: a calibration artifact for the in-process guard.
        config: the safety config to ask for (``None``: the policy's default).
        key_env: environment variable holding the service's API key (the key itself is
            never part of the spec).
        timeout_s: per request to the service.
    """

    name = "guard"
    version = "1"
    default_concurrency = 16

    def __init__(
        self,
        *,
        url: str | None = None,
        policy: str | None = None,
        calibration: str | None = None,
        config: str | None = None,
        key_env: str = "ASSAY_GUARD_KEY",
        timeout_s: float = 30.0,
    ) -> None:
        self.url = url
        self.policy = policy
        self.calibration = calibration
        self.config = config
        self.key_env = key_env
        self.timeout_s = timeout_s
        if url is not None and (policy is not None or calibration is not None):
            raise UsageError("give url (a running service) or policy/calibration, not both")
        if url is not None and not url.startswith(("http://", "https://")):
            raise InputError(f"not an http(s) URL: {url!r}", field="url")
        self._client: Any = None
        self._guard: Any = None

    def _request(self, attempt: Attempt) -> CheckRequest:
        messages = tuple(GuardMessage(role=m.role, content=m.content) for m in attempt.messages)
        turn = max(i for i, m in enumerate(messages) if m.role != "system")
        return CheckRequest(messages=messages, turn=turn, config=self.config)

    async def _decide(self, request: CheckRequest) -> Decision:
        if self.url is None:
            if self._guard is None:
                from assay.guard.guard import Guard

                self._guard = Guard.from_files(policy=self.policy, calibration=self.calibration)
            (decision,) = await self._guard.check([request])
            return decision  # type: ignore[no-any-return]
        import httpx

        if self._client is None:
            key = os.environ.get(self.key_env)
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            self._client = httpx.AsyncClient(
                base_url=self.url.rstrip("/"), headers=headers, timeout=self.timeout_s
            )
        try:
            reply = await self._client.post("/v1/guard/check", json=request.model_dump(mode="json"))
        except httpx.HTTPError as exc:
            raise RetryableTargetError(f"guard service: {exc}", kind="connection") from exc
        if reply.status_code == 429 or reply.status_code >= 500:
            raise RetryableTargetError(
                f"guard service answered {reply.status_code}", kind=f"http_{reply.status_code}"
            )
        if reply.status_code != 200:
            raise TargetError(
                f"guard service answered {reply.status_code}: {reply.text[:300]}",
                kind=f"http_{reply.status_code}",
            )
        return Decision.model_validate(reply.json())

    async def respond(self, attempt: Attempt) -> Response:
        decision = await self._decide(self._request(attempt))
        if decision.decision == "abstain":
            raise TargetError(f"the guard abstained: {decision.reason}", kind="guard_abstained")
        blocked = decision.decision == "block"
        return Response(
            text=BLOCKED_TEXT if blocked else ALLOWED_TEXT,
            finish_reason=BLOCKED if blocked else ALLOWED,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
