"""windows.py: concurrent created-windows that never bookmark data not yet emitted."""

from __future__ import annotations

import bisect
import random
import threading
import time
from typing import Any

import pytest
from tap_stripe_xdm.api import ListPage
from tap_stripe_xdm.windows import (
    ConcurrentWindowReader,
    CreatedWindow,
    CursorLostError,
    Watermark,
)


class FakeList:
    """A Stripe-like list: newest first, created filters, starting_after, pages of `limit`."""

    def __init__(self, createds: list[int], limit: int = 10, delay: float = 0.0) -> None:
        self.objects = [{"id": f"obj_{i}", "created": c} for i, c in enumerate(createds)]
        # Stripe order: created descending (ties in a fixed order)
        self.objects.sort(key=lambda o: (-o["created"], o["id"]))
        self.keys = [-o["created"] for o in self.objects]
        self.limit = limit
        self.delay = delay
        self.calls: list[tuple[CreatedWindow, str | None]] = []
        self.lock = threading.Lock()

    def fetch(self, window: CreatedWindow, cursor: str | None) -> ListPage:
        with self.lock:
            self.calls.append((window, cursor))
        if self.delay:
            time.sleep(self.delay * random.random())
        # the objects in the window are one run of the newest-first list
        first = bisect.bisect_left(self.keys, -(window.end - 1))
        stop = bisect.bisect_right(self.keys, -window.start)
        if cursor is not None:
            first = next(i for i in range(first, stop) if self.objects[i]["id"] == cursor) + 1
        page = self.objects[first : min(stop, first + self.limit)]
        return ListPage([dict(o) for o in page], stop - first > self.limit)


def consume(reader: ConcurrentWindowReader) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Objects in order of arrival, and (watermark, objects seen before it)."""
    seen: list[dict[str, Any]] = []
    marks: list[tuple[int, int]] = []
    for item in reader:
        if isinstance(item, Watermark):
            marks.append((item.value, len(seen)))
        else:
            seen.extend(item)
    return seen, marks


def test_a_window_is_a_half_open_created_range() -> None:
    assert CreatedWindow(100, 400).params() == {"created[gte]": 100, "created[lt]": 400}


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_every_object_arrives_exactly_once(concurrency: int) -> None:
    rng = random.Random(concurrency)
    fake = FakeList([rng.randrange(0, 100_000) for _ in range(2_000)], limit=25, delay=0.002)
    reader = ConcurrentWindowReader(
        [CreatedWindow(0, 100_000)], fake.fetch, concurrency=concurrency, max_span=5_000
    )
    seen, _ = consume(reader)
    assert sorted(o["id"] for o in seen) == sorted(o["id"] for o in fake.objects)


def test_watermark_never_passes_an_object_not_yet_handed_over() -> None:
    rng = random.Random(1)
    fake = FakeList([rng.randrange(0, 50_000) for _ in range(3_000)], limit=20, delay=0.003)
    reader = ConcurrentWindowReader(
        [CreatedWindow(0, 50_000)], fake.fetch, concurrency=6, max_span=2_000
    )
    seen, marks = consume(reader)
    assert len(marks) > 5, "the bookmark should move many times during the read"
    values = [value for value, _ in marks]
    assert values == sorted(values), "watermarks only move forward"
    assert values[-1] == 50_000
    for value, count in marks:
        before = {o["id"] for o in seen[:count]}
        missing = [o for o in fake.objects if o["created"] < value and o["id"] not in before]
        assert not missing, f"watermark {value} passed {len(missing)} unemitted objects"


def test_big_windows_are_split_so_workers_share_them() -> None:
    fake = FakeList(list(range(0, 10_000, 5)), limit=20)
    reader = ConcurrentWindowReader([CreatedWindow(0, 10_000)], fake.fetch, concurrency=4)
    consume(reader)
    first_pages = {window for window, cursor in fake.calls if cursor is None}
    assert len(first_pages) >= 4


def test_one_worker_goes_oldest_first_so_the_bookmark_moves_early() -> None:
    fake = FakeList(list(range(0, 10_000, 2)), limit=50)
    reader = ConcurrentWindowReader(
        [CreatedWindow(0, 10_000)], fake.fetch, concurrency=1, max_span=1_000
    )
    seen, marks = consume(reader)
    assert len(seen) == 5_000
    first_mark, seen_before = marks[0]
    assert first_mark <= 1_000
    assert seen_before < 1_000, "the first bookmark came before most of the data was read"


def test_the_requests_left_are_estimated_from_the_density_read_so_far() -> None:
    """Half-way through an evenly filled range the estimate is about the requests still to
    make (for the rate limiter's critical endpoint), and nothing is left at the end."""
    fake = FakeList(list(range(0, 100_000, 10)), limit=100)  # 10,000 objects: 100 pages
    estimates: list[tuple[int, float]] = []  # (requests made, estimate) before each request

    def fetch(window: CreatedWindow, cursor: str | None) -> ListPage:
        estimates.append((len(fake.calls), reader.remaining_requests()))
        return fake.fetch(window, cursor)

    reader = ConcurrentWindowReader([CreatedWindow(0, 100_000)], fetch, concurrency=1)
    assert reader.remaining_requests() == 1.0, "nothing read yet: a request per window"
    seen, _ = consume(reader)
    assert len(seen) == 10_000
    total = len(fake.calls)
    for made, estimate in estimates[total // 4 : -total // 4]:
        assert estimate == pytest.approx(total - made, rel=0.25)
    assert reader.remaining_requests() == 0.0


@pytest.mark.parametrize("trial", range(3))
def test_windows_are_not_halved_for_idle_workers_when_requests_wait_for_the_limiter(
    trial: int,
) -> None:
    """Where the rate limiter is the bound, another cursor reads nothing sooner and adds a
    partly filled last page: 100 pages in 10 windows' worth take only the windows' few extra
    requests (halving for idle workers took 105-108 here)."""
    fake = FakeList(list(range(0, 20_000, 2)), limit=100, delay=0.002)  # 100 full pages
    reader = ConcurrentWindowReader(
        [CreatedWindow(0, 20_000)], fake.fetch, concurrency=4, rate_bound=lambda: True
    )
    seen, _ = consume(reader)
    assert len(seen) == 10_000
    assert len(fake.calls) <= 103


def test_objects_sharing_one_second_beyond_a_page_are_all_read() -> None:
    fake = FakeList([500] * 95 + [499] * 3 + [501] * 2, limit=10)
    reader = ConcurrentWindowReader([CreatedWindow(0, 1_000)], fake.fetch, concurrency=4)
    seen, marks = consume(reader)
    assert sorted(o["id"] for o in seen) == sorted(o["id"] for o in fake.objects)
    assert marks[-1][0] == 1_000


def test_a_failing_window_raises_and_the_watermark_stays_before_it() -> None:
    fake = FakeList(list(range(1_000)), limit=10)

    def fetch(window: CreatedWindow, cursor: str | None) -> ListPage:
        if window.start <= 300 < window.end and cursor is None:
            raise RuntimeError("HTTP 403 on GET /v1/charges")
        return fake.fetch(window, cursor)

    marks: list[int] = []

    def read_all() -> None:
        reader = ConcurrentWindowReader(
            [CreatedWindow(0, 1_000)], fetch, concurrency=3, max_span=100
        )
        for item in reader:
            if isinstance(item, Watermark):
                marks.append(item.value)

    with pytest.raises(RuntimeError, match="403"):
        read_all()
    assert all(mark <= 300 for mark in marks)


def test_buffered_pages_stay_bounded_with_a_slow_consumer() -> None:
    fake = FakeList(list(range(20_000)), limit=10)
    fetched = 0
    lock = threading.Lock()

    def fetch(window: CreatedWindow, cursor: str | None) -> ListPage:
        nonlocal fetched
        with lock:
            fetched += 1
        return fake.fetch(window, cursor)

    reader = ConcurrentWindowReader(
        [CreatedWindow(0, 20_000)],
        fetch,
        concurrency=4,
        max_buffered_pages=3,
        max_span=1_000,
        max_held_pages=4,
    )
    consumed = 0
    worst = 0
    for item in reader:
        if isinstance(item, Watermark):
            continue
        consumed += 1
        time.sleep(0.002)
        with lock:
            worst = max(worst, fetched - consumed)
        if consumed == 150:
            break
    # at most: the queue, one page in each worker's hand, one being consumed, the reorder
    # buffer (and the page that took it over its bound)
    assert worst <= 3 + 4 + 1 + 4 + 1


def test_closing_the_reader_early_stops_the_workers() -> None:
    fake = FakeList(list(range(50_000)), limit=10, delay=0.001)
    reader = iter(
        ConcurrentWindowReader([CreatedWindow(0, 50_000)], fake.fetch, concurrency=4, max_span=500)
    )
    next(reader)
    reader.close()
    time.sleep(0.2)
    calls = len(fake.calls)
    time.sleep(0.2)
    assert len(fake.calls) == calls
    assert not [t for t in threading.enumerate() if t.name.startswith("stripe-window")]


def test_a_deleted_cursor_object_restarts_the_window_before_it_without_gaps(caplog) -> None:
    fake = FakeList([t // 3 for t in range(3_000)], limit=50)  # three objects per second
    lost: list[str] = []

    def fetch(window: CreatedWindow, cursor: str | None) -> ListPage:
        if cursor is not None and not lost:
            lost.append(cursor)  # the object behind the first cursor is deleted
            raise CursorLostError(cursor)
        return fake.fetch(window, cursor)

    reader = ConcurrentWindowReader([CreatedWindow(0, 1_000)], fetch, concurrency=1)
    seen, marks = consume(reader)
    assert lost
    assert {o["id"] for o in seen} == {o["id"] for o in fake.objects}
    repeated = len(seen) - len({o["id"] for o in seen})
    assert repeated <= 3, "only objects of the cursor's own second are read twice"
    assert marks[-1][0] == 1_000
    (warning,) = [r.getMessage() for r in caplog.records if "disappeared" in r.getMessage()]
    assert "re-reading created [1970-01-01T00:00:00+00:00, 1970-01-01T00:" in warning  # ISO


def resendable_share(seen_and_marks: list[Any], total: int) -> float:
    """The largest share of objects a crash at any moment would make a rerun send again: those
    handed over at or after the last watermark (the rerun resumes there)."""
    mark = 0
    handed: list[int] = []  # created of every object handed over so far
    worst = 0
    for item in seen_and_marks:
        if isinstance(item, Watermark):
            mark = item.value
        else:
            handed.extend(o["created"] for o in item)
        worst = max(worst, sum(1 for created in handed if created >= mark))
    return worst / total


def test_a_stalled_oldest_window_holds_the_others_back_instead_of_overflowing() -> None:
    """The oldest window's request hangs for a while (a slow response, a thread not scheduled
    on a busy machine): the other workers stop taking newer windows once the reorder buffer
    is half full, so nothing is handed over ahead of the watermark and a crash still
    re-sends little. Without that, they read on, the buffer overflows and hands pages over
    early (three quarters of the objects here)."""
    rng = random.Random(7)
    createds = [rng.randrange(0, 60_000_000) for _ in range(40_000)]
    fake = FakeList(createds, limit=100, delay=0.001)
    stalled: list[CreatedWindow] = []

    def fetch(window: CreatedWindow, cursor: str | None) -> ListPage:
        if window.start == 0 and cursor is not None and not stalled:
            stalled.append(window)
            time.sleep(0.5)
        return fake.fetch(window, cursor)

    reader = ConcurrentWindowReader(
        [CreatedWindow(0, 60_000_000)], fetch, concurrency=8, max_span=30 * 86_400
    )
    items = [item if isinstance(item, Watermark) else list(item) for item in reader]
    assert stalled
    seen = [o for item in items if not isinstance(item, Watermark) for o in item]
    assert sorted(o["id"] for o in seen) == sorted(o["id"] for o in fake.objects)
    assert resendable_share(items, len(createds)) <= 0.05


def test_the_bookmark_keeps_up_with_the_output() -> None:
    """Uniform and bursty data (40,000 objects, as many as the live-limits benchmark's
    charges): at no moment would a crash re-send over 5 % of the objects."""
    rng = random.Random(11)
    uniform = [rng.randrange(0, 60_000_000) for _ in range(40_000)]
    bursty = [
        int(rng.gauss(center, 400_000))
        for center in (5_000_000, 20_000_000, 21_000_000, 50_000_000)
        for _ in range(10_000)
    ]
    for createds, most_requests_per_page in ((uniform, 1.10), (bursty, 1.25)):
        createds = [min(max(c, 0), 60_000_000 - 1) for c in createds]
        fake = FakeList(createds, limit=100, delay=0.002)
        reader = ConcurrentWindowReader(
            [CreatedWindow(0, 60_000_000)], fake.fetch, concurrency=8, max_span=30 * 86_400
        )
        items: list[Any] = []
        for item in reader:
            if isinstance(item, Watermark):
                items.append(item)
            else:
                items.append(list(item))
        seen = [o for item in items if not isinstance(item, Watermark) for o in item]
        assert sorted(o["id"] for o in seen) == sorted(o["id"] for o in fake.objects)
        assert resendable_share(items, len(createds)) <= 0.05
        # windows of ten pages or so: each one's last page partly filled costs few requests
        # more than the objects' pages need (windows of five pages took 12 % more on the
        # uniform data, ten-page windows 6-7 %)
        assert len(fake.calls) <= most_requests_per_page * len(createds) / 100
