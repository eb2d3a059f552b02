"""Per-key rate limiting: one token bucket per API key.

A bucket holds at most ``burst`` tokens and refills at ``rate_per_s``; each request takes
one. An empty bucket answers how long until the next token, which the service sends as
``Retry-After`` with its 429, so a well-behaved client waits exactly long enough.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets keyed by a name (the API key's name, or the client's address).

    Args:
        rate_per_s: tokens added per second (the sustained request rate allowed).
        burst: bucket size (the most requests allowed at once after a quiet spell).
        clock: a monotonic clock in seconds (tests pass a fake one).
        max_keys: buckets kept; beyond it, full (idle) buckets are forgotten, since a
            forgotten bucket comes back full anyway. Bounds memory under many keys.
    """

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._lock = threading.Lock()
        # name -> (tokens, time of last update)
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, name: str) -> float:
        """Take a token for ``name``.

        Returns:
            ``0.0`` when the request may go ahead, else the seconds until a token is due.
        """
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(name, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate_per_s)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:
                    self._forget_full(now)
                return 0.0
            self._buckets[name] = (tokens, now)
            return (1.0 - tokens) / self.rate_per_s

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """``wait_s`` as a ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait_s)))

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.rate_per_s
        for key, (_tokens, last) in list(self._buckets.items()):
            if now - last >= refill:
                del self._buckets[key]
