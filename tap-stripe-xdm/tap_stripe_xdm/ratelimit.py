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

The run ends when its longest stream does. Readers tell the limiter about how many requests
their endpoint still needs (`track`); when one endpoint's rest takes longer at its own limit
than all the others' rest at the global rate left over, it is the run's critical path, and the
other endpoints together get only the global rate minus that endpoint's (a third lane they
share). The critical endpoint then runs at its own limit from the start instead of at a sixth
of the global one, and the others still finish before it. Which endpoint that is is looked at
again every `PRIORITY_REFRESH_SECONDS`, from the readers' estimates.

A 429 still happens when something else uses the same account. It cuts the rate of the lane
Stripe names (`Stripe-Rate-Limited-Reason`: `endpoint-*` the endpoint's, `global-*` the
run's, anything else both) by half, at most once a second; the rate then grows back by a
tenth of the configured rate per second (additive increase, multiplicative decrease).
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DECREASE_FACTOR = 0.5
"""A 429 halves the lane's rate."""
RECOVERY_SECONDS = 10.0
"""From a cut the rate grows linearly and regains the configured rate from zero in this long."""
CUT_COOLDOWN_SECONDS = 1.0
"""429s of requests already in flight when the rate was cut do not cut it again."""
MIN_RATE_FRACTION = 1 / 32
"""A lane never slows below this share of its configured rate."""
PRIORITY_REFRESH_SECONDS = 0.25
"""How often the critical endpoint is chosen again from the readers' estimates."""

# () -> about how many more requests a reader needs (windows.ConcurrentWindowReader)
RemainingRequests = Callable[[], float]


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
        self._work: dict[int, tuple[str, RemainingRequests]] = {}  # track()ed readers
        self._work_ids = itertools.count()
        self._critical: str | None = None
        self._others = _Lane(rate)  # the non-critical endpoints' share while there is one
        self._refresh_at = float("-inf")

    @contextmanager
    def track(self, endpoint: str, remaining: RemainingRequests) -> Iterator[None]:
        """While inside, `remaining()` tells about how many more requests a reader of
        `endpoint` needs (called off the request path, every PRIORITY_REFRESH_SECONDS)."""
        key = next(self._work_ids)
        with self._lock:
            self._work[key] = (endpoint, remaining)
        try:
            yield
        finally:
            with self._lock:
                del self._work[key]
                self._refresh_at = float("-inf")
                if not self._work:  # no estimate left to choose by
                    self._critical = None

    def backlogged(self, endpoint: str = "") -> bool:
        """Requests of `endpoint` wait for moments still to come: another concurrent reader of
        it would only queue behind them (windows.py then keeps a window whole)."""
        with self._lock:
            lane = self._endpoints.get(endpoint) if self._per_endpoint else self._global
            return lane is not None and bool(lane.reserved) and lane.reserved[-1] > self._clock()

    def critical_endpoint(self) -> str | None:
        """The endpoint the others make room for, if any (see the module's doc)."""
        with self._lock:
            return self._critical

    def acquire(self, endpoint: str = "") -> float:
        """Wait for a moment free in the global lane and `endpoint`'s; return the wait (s).

        Each caller reserves its moment under the lock and sleeps outside it, so waiting
        threads queue fairly without holding the lock. While there is a critical endpoint,
        its requests are spaced by its own lane and the others' by theirs and by the lane
        they share, sized so that the two together stay within the global rate in every
        second; the global lane records every moment, for when there is none again.
        """
        if self._work and self._clock() >= self._refresh_at:
            self._choose_critical()
        with self._lock:
            now = self._clock()
            spacing = 1.0 / self._global.rate(now)
            checked = [self._global]
            if self._per_endpoint is not None:
                lane = self._endpoints.get(endpoint)
                if lane is None:
                    lane = self._endpoints[endpoint] = _Lane(self._per_endpoint)
                if self._critical is None:
                    checked.append(lane)
                elif endpoint == self._critical:
                    checked = [lane]
                else:
                    checked = [lane, self._others]
            intervals = [1.0 / lane.rate(now) for lane in checked]
            # after an idle spell, up to `burst` requests go at once: moments in the past
            at = now - (self._burst - 1) * spacing
            while True:  # the first moment every checked lane has free
                moved = at
                for lane, interval in zip(checked, intervals, strict=True):
                    moved = lane.first_free(moved, interval)
                if moved == at:
                    break
                at = moved
            for lane, interval in zip(checked, intervals, strict=True):
                lane.reserve(at, now - self._burst * interval)
            if self._global not in checked:
                self._global.reserve(at, now - self._burst * spacing)
        wait = at - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def _choose_critical(self) -> None:
        """Choose the critical endpoint again from the readers' estimates. They are read
        without the limiter's lock held (a reader takes its own lock to tell)."""
        with self._lock:
            self._refresh_at = self._clock() + PRIORITY_REFRESH_SECONDS
            work = list(self._work.values())
        left: dict[str, float] = {}
        for endpoint, remaining in work:
            left[endpoint] = left.get(endpoint, 0.0) + max(0.0, remaining())
        with self._lock:
            now = self._clock()
            self._critical = None
            if self._per_endpoint is None or not left:
                return
            endpoint, most = max(left.items(), key=lambda item: item[1])
            lane = self._endpoints.get(endpoint)
            own = lane.rate(now) if lane is not None else self._per_endpoint
            # Lanes of r and s requests/s let at most r + 1 and s + 1 through in one second
            # (its first and last moment included), as the global lane lets G + 1: the
            # others share G - r - 1.
            spare = self._global.rate(now) - own - 1
            rest = sum(left.values()) - most
            # its rest at its own rate outlasts everything else at the global rate left over
            if most > 0 and spare >= 1 and most / own > rest / spare:
                self._critical = endpoint
                self._others.configured = spare

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
            self._refresh_at = float("-inf")  # the shares follow the cut at once

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
