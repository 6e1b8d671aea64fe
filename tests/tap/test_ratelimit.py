"""ratelimit.py: one limiter shared by all threads keeps the request rate under the setting."""

from __future__ import annotations

import contextlib
import itertools
import threading

import pytest
from tap_stripe_xdm.ratelimit import CUT_COOLDOWN_SECONDS, PRIORITY_REFRESH_SECONDS, RateLimiter


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


def run_requests(
    limiter: RateLimiter, clock: FakeClock, plan: dict[str, int]
) -> dict[str, list[float]]:
    """Callers of each endpoint in `plan` (name: requests) take turns, oldest waiter first, as
    threads blocked in acquire would; the moment each request is let through, per endpoint."""
    left = dict(plan)
    moments: dict[str, list[float]] = {name: [] for name in plan}
    while any(left.values()):
        for name in [n for n, count in left.items() if count]:
            limiter.acquire(name)
            moments[name].append(clock.now)
            left[name] -= 1
    return moments


def most_in_one_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    return max(
        (sum(1 for s in stamps[i:] if s < start + 1.0 - 1e-9) for i, start in enumerate(stamps)),
        default=0,
    )


def test_no_endpoint_exceeds_its_limit_and_the_total_stays_under_the_global_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=25, clock=clock, sleep=clock.sleep)
    moments = run_requests(limiter, clock, {f"/v1/{n}": 200 for n in "abcdef"})
    for stamps in moments.values():
        assert most_in_one_second(stamps) <= 25
    every = [s for stamps in moments.values() for s in stamps]
    assert most_in_one_second(every) <= 100
    # six endpoints at 25/s would make 150/s: the global limit binds, and is used in full
    assert max(every) - min(every) == pytest.approx(1199 / 100, abs=0.05)


def test_one_endpoint_alone_runs_at_its_own_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=25, clock=clock, sleep=clock.sleep)
    stamps = run_requests(limiter, clock, {"/v1/charges": 51})["/v1/charges"]
    assert stamps[-1] - stamps[0] == pytest.approx(2.0)  # 50 intervals of 40 ms


def test_an_endpoint_at_its_limit_leaves_the_global_capacity_to_the_others() -> None:
    """A caller waiting for its busy endpoint reserves no global moment before its own, so
    the other endpoints are not held back, and a finished stream's share goes to the rest."""
    clock = FakeClock()
    limiter = RateLimiter(50, per_endpoint=25, clock=clock, sleep=clock.sleep)
    moments = run_requests(
        limiter, clock, {"/v1/charges": 150, "/v1/prices": 50, "/v1/refunds": 50}
    )
    # while three endpoints read they share 50/s; once prices and refunds are done (about
    # 3 s in), charges alone gets its full 25/s
    charges = moments["/v1/charges"]
    finished = max(moments["/v1/prices"] + moments["/v1/refunds"])
    late = [s for s in charges if s > finished + 0.5]
    assert len(late) > 10
    assert (late[-1] - late[0]) / (len(late) - 1) == pytest.approx(0.04, abs=0.002)
    early = [s for s in charges if s < finished - 0.5]
    assert (early[-1] - early[0]) / (len(early) - 1) == pytest.approx(3 / 50, abs=0.005)


def concurrent_run(
    limiter: RateLimiter, clock: FakeClock, plan: dict[str, int], *, tracked: bool = True
) -> dict[str, list[float]]:
    """One caller per endpoint in `plan` (name: requests), each asking again as soon as its
    last request was let through, as threads blocked in acquire would (zero latency): the
    earliest caller goes next. With `tracked`, each tells the limiter how many it has left.
    The moment each request is let through, per endpoint."""
    done = dict.fromkeys(plan, 0)
    ready = dict.fromkeys(plan, clock.now)
    moments: dict[str, list[float]] = {name: [] for name in plan}
    with contextlib.ExitStack() as stack:
        if tracked:
            for name, total in plan.items():
                stack.enter_context(limiter.track(name, lambda n=name, t=total: t - done[n]))
        while left := [n for n in plan if done[n] < plan[n]]:
            name = min(left, key=lambda n: ready[n])
            clock.now = max(clock.now, ready[name])
            moment = clock.now + limiter.acquire(name)
            moments[name].append(moment)
            ready[name] = moment
            done[name] += 1
    return moments


def test_an_endpoint_is_backlogged_while_its_requests_wait_for_moments_to_come() -> None:
    """windows.py keeps a window whole when its endpoint's requests already queue."""
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=25, clock=clock, sleep=lambda _: None)
    assert not limiter.backlogged("/v1/charges"), "nothing asked yet"
    limiter.acquire("/v1/charges")  # now: no wait
    assert not limiter.backlogged("/v1/charges")
    limiter.acquire("/v1/charges")  # 40 ms from now: it waits
    assert limiter.backlogged("/v1/charges")
    assert not limiter.backlogged("/v1/refunds"), "each endpoint's own lane"
    clock.now += 0.05
    assert not limiter.backlogged("/v1/charges"), "its last moment has passed"
    alone = RateLimiter(10, clock=clock, sleep=lambda _: None)  # one lane for everything
    alone.acquire("/v1/charges")
    alone.acquire("/v1/refunds")
    assert alone.backlogged("/v1/charges")


def test_the_endpoint_with_most_left_runs_at_its_limit_while_the_others_share_the_rest() -> None:
    """Charges (150 left at 25/s: 6 s) outlast prices and refunds (100 at the 24/s left
    over: 4.2 s): charges is the critical path and keeps its 25/s from the start, so the run
    ends at 6 s instead of 7 s (a third of 50/s each until the others are done)."""
    clock = FakeClock()
    limiter = RateLimiter(50, per_endpoint=25, clock=clock, sleep=lambda _: None)
    plan = {"/v1/charges": 150, "/v1/prices": 50, "/v1/refunds": 50}
    untracked = concurrent_run(limiter, clock, plan, tracked=False)["/v1/charges"]
    assert untracked[-1] - untracked[0] > 6.5, "shared evenly, charges ends after about 7 s"
    clock = FakeClock()
    limiter = RateLimiter(50, per_endpoint=25, clock=clock, sleep=lambda _: None)
    moments = concurrent_run(limiter, clock, plan)
    charges = moments["/v1/charges"]
    assert (charges[-1] - charges[0]) / (len(charges) - 1) == pytest.approx(0.04, abs=0.001)
    every = [s for stamps in moments.values() for s in stamps]
    assert max(every) - min(every) == pytest.approx(149 * 0.04, abs=0.05)
    assert most_in_one_second(every) <= 50 + 1, "never more than the global lane lets through"
    for name in ("/v1/prices", "/v1/refunds"):
        assert most_in_one_second(moments[name]) <= 25 + 1
    others = moments["/v1/prices"] + moments["/v1/refunds"]
    assert max(others) < max(charges), "the others still finish before the critical endpoint"


def test_with_balanced_work_no_endpoint_goes_first() -> None:
    """When the others' rest takes as long as the largest one's (charges 60 at 25/s: 2.4 s;
    prices and refunds 100 at the 24/s left over: 4.2 s), the global rate is shared as
    without estimates: a third of 50/s each while all three read."""
    clock = FakeClock()
    limiter = RateLimiter(50, per_endpoint=25, clock=clock, sleep=lambda _: None)
    with contextlib.ExitStack() as readers:
        for name, left in (("/v1/charges", 60), ("/v1/prices", 50), ("/v1/refunds", 50)):
            readers.enter_context(limiter.track(name, lambda left=left: left))
        limiter.acquire("/v1/prices")
        assert limiter.critical_endpoint() is None
    clock = FakeClock()
    limiter = RateLimiter(50, per_endpoint=25, clock=clock, sleep=lambda _: None)
    plan = {"/v1/charges": 60, "/v1/prices": 50, "/v1/refunds": 50}
    early = concurrent_run(limiter, clock, plan)["/v1/charges"][:40]
    assert (early[-1] - early[0]) / 39 == pytest.approx(3 / 50, abs=0.005)


def test_the_critical_endpoint_is_chosen_again_as_the_estimates_change() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=25, clock=clock, sleep=clock.sleep)
    left = {"/v1/charges": 400.0, "/v1/prices": 50.0}
    with (
        limiter.track("/v1/charges", lambda: left["/v1/charges"]),
        limiter.track("/v1/prices", lambda: left["/v1/prices"]),
    ):
        limiter.acquire("/v1/prices")
        assert limiter.critical_endpoint() == "/v1/charges"
        left.update({"/v1/charges": 10.0, "/v1/prices": 900.0})
        limiter.acquire("/v1/prices")
        assert limiter.critical_endpoint() == "/v1/charges", "looked at again only after a while"
        clock.now += PRIORITY_REFRESH_SECONDS
        limiter.acquire("/v1/prices")
        assert limiter.critical_endpoint() == "/v1/prices"
    limiter.acquire("/v1/prices")
    assert limiter.critical_endpoint() is None, "no reader left: no critical endpoint"


def test_after_a_429_the_others_share_what_the_cut_rate_leaves() -> None:
    """The shares follow a cut at once: the global lane halved from 80 to 40/s leaves the
    others 14/s beside the critical endpoint's 25/s."""
    clock = FakeClock()
    limiter = RateLimiter(80, per_endpoint=25, clock=clock, sleep=clock.sleep)
    with limiter.track("/v1/charges", lambda: 1_000.0), limiter.track("/v1/prices", lambda: 10.0):
        limiter.acquire("/v1/prices")
        assert limiter.critical_endpoint() == "/v1/charges"
        before = clock.now
        for _ in range(25):  # 80 - 25 - 1 = 54/s left over: prices' own 25/s binds
            limiter.acquire("/v1/prices")
        assert clock.now - before == pytest.approx(1.0, abs=0.01)
        limiter.throttled("/v1/prices", "global-rate")
        assert limiter.rate() == pytest.approx(40)
        before = clock.now
        limiter.acquire("/v1/prices")  # 40 - 25 - 1 = 14/s left over (then it grows back)
        assert clock.now - before == pytest.approx(1 / 14, rel=0.05)


def test_a_429_halves_the_lane_it_names_then_it_grows_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=25, clock=clock, sleep=clock.sleep)
    limiter.acquire("/v1/charges")
    limiter.throttled("/v1/charges", "endpoint-rate")
    assert limiter.rate("/v1/charges") == pytest.approx(12.5)
    assert limiter.rate() == 100, "an endpoint's 429 leaves the global lane alone"
    limiter.throttled("/v1/charges", "endpoint-rate")  # in flight at the cut: no second cut
    assert limiter.rate("/v1/charges") == pytest.approx(12.5)
    clock.now += 1.0
    assert limiter.rate("/v1/charges") == pytest.approx(15.0)  # + a tenth of 25 per second
    limiter.throttled("/v1/charges", "endpoint-rate")
    assert limiter.rate("/v1/charges") == pytest.approx(7.5)
    clock.now += 100
    assert limiter.rate("/v1/charges") == 25, "back to the configured rate, never above"
    limiter.throttled("/v1/charges", "global-rate")
    assert (limiter.rate(), limiter.rate("/v1/charges")) == (50, 25)
    clock.now += 100
    limiter.throttled("/v1/charges", None)  # no reason given: both lanes
    assert (limiter.rate(), limiter.rate("/v1/charges")) == (50, 12.5)


def test_requests_after_a_429_are_spaced_at_the_cut_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=20, clock=clock, sleep=clock.sleep)
    limiter.acquire("/v1/charges")
    limiter.throttled("/v1/charges", "endpoint-rate")
    before = clock.now
    limiter.acquire("/v1/charges")
    assert clock.now - before == pytest.approx(0.1)  # 10/s


def test_repeated_429s_never_stop_the_run() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, per_endpoint=25, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        limiter.throttled("", None)
        clock.now += CUT_COOLDOWN_SECONDS
    # halved each second, 10/s grown back each second: it settles at 20/s, above the floor
    assert limiter.rate() == pytest.approx(20)
