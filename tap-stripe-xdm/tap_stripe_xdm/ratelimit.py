"""The one request-rate limiter every thread and stream of a tap run shares.

Stripe limits requests per second per account (100 live, 25 in test mode, 25 per endpoint:
https://docs.stripe.com/rate-limits).
Requests are spaced evenly (a token bucket holding `burst` tokens), so concurrent windows
together never exceed `max_requests_per_second` and never trip Stripe's 429s themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket: `rate` tokens per second, at most `burst` saved up. Thread-safe."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._burst_span = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free = clock()

    def acquire(self) -> float:
        """Wait for a token; return how long this call waited (seconds).

        Each caller reserves the next free slot under the lock and sleeps outside it, so
        waiting threads queue fairly without holding the lock.
        """
        with self._lock:
            now = self._clock()
            slot = max(self._next_free, now - self._burst_span)
            self._next_free = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def hold(self, seconds: float) -> None:
        """Give no token for `seconds`: when Stripe says 429, every thread backs off, not
        only the one that was refused."""
        with self._lock:
            self._next_free = max(self._next_free, self._clock() + seconds)
