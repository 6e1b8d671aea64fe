"""ratelimit.py: one limiter shared by all threads keeps the request rate under the setting."""

from __future__ import annotations

import itertools
import threading

import pytest
from tap_stripe_xdm.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_requests_are_spaced_evenly_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(25, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(51):
        limiter.acquire()
        stamps.append(clock.now)
    assert stamps[-1] - stamps[0] == pytest.approx(2.0)  # 50 intervals of 40 ms
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(stamps)}
    assert gaps == {0.04}


def test_burst_allows_saved_up_tokens_then_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=5, clock=clock, sleep=clock.sleep)
    clock.now += 10  # idle: the bucket fills up to 5
    waits = [limiter.acquire() for _ in range(7)]
    assert waits[:5] == [0.0] * 5
    assert all(w > 0 for w in waits[5:])


def test_idle_time_does_not_allow_more_than_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    clock.now += 60
    assert limiter.acquire() == 0.0
    assert limiter.acquire() > 0.0


def test_threads_together_get_evenly_spaced_slots() -> None:
    """Concurrent callers each reserve their own slot: 60 requests at 100/s span 0.59 s."""
    frozen = 50.0
    limiter = RateLimiter(100, clock=lambda: frozen, sleep=lambda _: None)
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            wait = limiter.acquire()
            with lock:
                slots.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slots) == pytest.approx([n / 100 for n in range(60)])


def test_hold_makes_every_caller_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.hold(2.0)
    assert limiter.acquire() == pytest.approx(2.0)
    assert limiter.acquire() == pytest.approx(0.01)
