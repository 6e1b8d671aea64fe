"""The one request-rate limiter every thread and stream of a tap run shares.

Stripe limits requests per account: 100/s in live mode, 25/s in test mode, and 25/s to each
endpoint (each named operation, e.g. `GET /v1/charges`), which count against the global
limit too (https://docs.stripe.com/rate-limits). The limiter has one lane for the whole run
(`max_requests_per_second`) and one per endpoint (`max_requests_per_second_per_endpoint`); a
request waits for a moment that is free in both. Requests are spaced evenly in each lane, so
concurrent windows and streams together never exceed either limit and never trip Stripe's 429s
themselves. A moment is reserved in the global lane only when the request's endpoint allows
it, so an endpoint at its own limit never blocks the others: when a stream ends, the streams
still reading take its share of the global rate.

A 429 still happens when something else uses the same account. It cuts the rate of the lane
Stripe names (`Stripe-Rate-Limited-Reason`: `endpoint-*` the endpoint's, `global-*` the
run's, anything else both) by half, at most once a second; the rate then grows back by a
tenth of the configured rate per second (additive increase, multiplicative decrease).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

DECREASE_FACTOR = 0.5
"""A 429 halves the lane's rate."""
RECOVERY_SECONDS = 10.0
"""From a cut the rate grows linearly and regains the configured rate from zero in this long."""
CUT_COOLDOWN_SECONDS = 1.0
"""429s of requests already in flight when the rate was cut do not cut it again."""
MIN_RATE_FRACTION = 1 / 32
"""A lane never slows below this share of its configured rate."""


class _Lane:
    """One limit: evenly spaced reservations at the lane's current rate."""

    __slots__ = ("configured", "cut_at", "cut_rate", "reserved")

    def __init__(self, rate: float) -> None:
        self.configured = rate
        self.cut_rate = rate
        self.cut_at: float | None = None
        self.reserved: list[float] = []  # sorted moments given out, the recent and future ones

    def rate(self, now: float) -> float:
        if self.cut_at is None:
            return self.configured
        grown = self.cut_rate + self.configured / RECOVERY_SECONDS * (now - self.cut_at)
        if grown >= self.configured:
            self.cut_at = None
            return self.configured
        return grown

    def cut(self, now: float) -> bool:
        if self.cut_at is not None and now - self.cut_at < CUT_COOLDOWN_SECONDS:
            return False
        floor = self.configured * MIN_RATE_FRACTION
        self.cut_rate = max(floor, self.rate(now) * DECREASE_FACTOR)
        self.cut_at = now
        return True

    def first_free(self, earliest: float, interval: float) -> float:
        """The first moment >= `earliest` at least `interval` from every reservation."""
        moments = self.reserved
        at = earliest
        index = bisect.bisect_left(moments, at - interval)
        while index < len(moments) and moments[index] < at + interval:
            at = max(at, moments[index] + interval)
            index += 1
        return at

    def reserve(self, at: float, forget_before: float) -> None:
        bisect.insort(self.reserved, at)
        if self.reserved[0] < forget_before:
            del self.reserved[: bisect.bisect_left(self.reserved, forget_before)]


class RateLimiter:
    """A global lane of `rate` requests/s and, with `per_endpoint`, a lane of that many per
    endpoint; at most `burst` requests at once after an idle spell. Thread-safe."""

    def __init__(
        self,
        rate: float,
        *,
        per_endpoint: float | None = None,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or (per_endpoint is not None and per_endpoint <= 0):
            raise ValueError("rates must be positive")
        self._global = _Lane(rate)
        self._per_endpoint = per_endpoint
        self._endpoints: dict[str, _Lane] = {}
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self, endpoint: str = "") -> float:
        """Wait for a moment free in the global lane and `endpoint`'s; return the wait (s).

        Each caller reserves its moment under the lock and sleeps outside it, so waiting
        threads queue fairly without holding the lock.
        """
        with self._lock:
            now = self._clock()
            lanes = [self._global]
            if self._per_endpoint is not None:
                lane = self._endpoints.get(endpoint)
                if lane is None:
                    lane = self._endpoints[endpoint] = _Lane(self._per_endpoint)
                lanes.append(lane)
            intervals = [1.0 / lane.rate(now) for lane in lanes]
            # after an idle spell, up to `burst` requests go at once: moments in the past
            at = now - (self._burst - 1) * intervals[0]
            while True:  # the first moment both lanes have free
                moved = at
                for lane, interval in zip(lanes, intervals, strict=True):
                    moved = lane.first_free(moved, interval)
                if moved == at:
                    break
                at = moved
            for lane, interval in zip(lanes, intervals, strict=True):
                lane.reserve(at, now - self._burst * interval)
        wait = at - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def throttled(self, endpoint: str = "", reason: str | None = None) -> None:
        """Stripe answered 429: slow the lane it names (`Stripe-Rate-Limited-Reason`)."""
        with self._lock:
            now = self._clock()
            lanes = []
            if reason is None or not reason.startswith("endpoint"):
                lanes.append(self._global)
            lane = self._endpoints.get(endpoint)
            if lane is not None and (reason is None or not reason.startswith("global")):
                lanes.append(lane)
            for lane in lanes:
                lane.cut(now)

    def rate(self, endpoint: str | None = None) -> float:
        """The current rate of the global lane, or of `endpoint`'s (requests/s)."""
        with self._lock:
            now = self._clock()
            if endpoint is None:
                return self._global.rate(now)
            lane = self._endpoints.get(endpoint)
            if lane is None:
                return self._per_endpoint or self._global.rate(now)
            return lane.rate(now)
