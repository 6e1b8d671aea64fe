"""A per-account request budget: Stripe answers 429 `rate_limit` beyond it
(https://docs.stripe.com/rate-limits)."""

from __future__ import annotations

import time


class TokenBucket:
    """Requests per second with a one-second burst, like Stripe's per-account rate limiter."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
