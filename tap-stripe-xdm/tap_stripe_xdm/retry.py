"""When to retry a Stripe request and how long to wait: the tap's single retry policy.

Transient failures (429, 409, 5xx, dropped connections, timeouts, unreadable bodies) are
retried with capped exponential backoff and jitter, at most `max_retries` times. Stripe's
`Stripe-Should-Retry` header overrides the status: `false` means never retry, `true` means
retry even a status that is normally final (https://docs.stripe.com/error-low-level).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

RETRIABLE_STATUSES = frozenset({409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter (each wait drawn from 50-100% of the step)."""

    max_retries: int
    base_seconds: float
    max_seconds: float
    random: Callable[[], float] = field(default=random.random, repr=False)

    def should_retry_status(self, status: int, should_retry_header: str | None) -> bool:
        """Whether an HTTP error status is worth another attempt."""
        if should_retry_header is not None:
            advice = should_retry_header.strip().lower()
            if advice == "false":
                return False
            if advice == "true":
                return True
        return status in RETRIABLE_STATUSES or status >= 500

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry_number` (1-based)."""
        step = min(self.base_seconds * 2 ** (retry_number - 1), self.max_seconds)
        wait = step * (0.5 + 0.5 * self.random())
        if retry_after is not None:
            # Stripe does not document Retry-After; if a proxy sends one, respect it (capped).
            wait = max(wait, min(retry_after, self.max_seconds))
        return wait
