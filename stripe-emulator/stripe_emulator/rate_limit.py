"""Request budgets as Stripe keeps them (https://docs.stripe.com/rate-limits): per account, a
global one over every request and one per endpoint (each named operation, e.g. `GET
/v1/charges`), which also counts against the global one. Beyond either, Stripe answers 429
`rate_limit` with `Stripe-Rate-Limited-Reason` naming the limiter (`global-rate`,
`endpoint-rate`)."""

from __future__ import annotations

import time


class TokenBucket:
    """Requests per second with a one-second burst, like Stripe's per-account rate limiter."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def ready(self) -> bool:
        """Whether a request may pass now (refills, takes nothing)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens >= 1

    def take(self) -> bool:
        if self.ready():
            self.tokens -= 1
            return True
        return False


class AccountLimits:
    """Every account's global bucket and its per-endpoint buckets (None: that limit is off).

    A refused request takes no token from either bucket, so a client that backs off gets its
    full budget back.
    """

    def __init__(self, global_rate: float | None, endpoint_rate: float | None) -> None:
        self.global_rate = global_rate
        self.endpoint_rate = endpoint_rate
        self._global: dict[str | None, TokenBucket] = {}
        self._endpoints: dict[tuple[str | None, str], TokenBucket] = {}
        self.refused = 0
        """429s answered so far (benchmarks print it)."""

    def admit(self, account: str | None, endpoint: str) -> str | None:
        """Count one request of `account` to `endpoint`; the limiter that refuses it, or None."""
        buckets: list[tuple[str, TokenBucket]] = []
        if self.global_rate is not None:
            bucket = self._global.get(account)
            if bucket is None:
                bucket = self._global[account] = TokenBucket(self.global_rate)
            buckets.append(("global-rate", bucket))
        if self.endpoint_rate is not None:
            key = (account, endpoint)
            bucket = self._endpoints.get(key)
            if bucket is None:
                bucket = self._endpoints[key] = TokenBucket(self.endpoint_rate)
            buckets.append(("endpoint-rate", bucket))
        for reason, bucket in buckets:
            if not bucket.ready():
                self.refused += 1
                return reason
        for _, bucket in buckets:
            bucket.tokens -= 1
        return None
