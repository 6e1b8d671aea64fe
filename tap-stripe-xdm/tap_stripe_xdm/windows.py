"""Reading a `created` range as concurrent windows without ever bookmarking unread data.

Stripe lists are newest first and a cursor (`starting_after`) moves one page at a time
(https://docs.stripe.com/api/pagination), so one cursor is bound by latency. The range
[start, end) is read as half-open `CreatedWindow`s by worker threads (all behind the shared
rate limiter), oldest window first. A window that turns out to hold more than a page is split:
everything newer than the page's oldest object has been read, so the unread older part is cut
into windows of their own, each sized from the density the page showed to hold about
`PAGES_PER_WINDOW` pages (at most `max_span` seconds); at most `concurrency` such windows per
split, and the older rest in up to `concurrency` equal parts, each split again when its
first page shows its own density. Empty stretches cost one request each, and a busy month is
read by several cursors.

The consumer learns the *watermark*: the smallest `created` that may still be unread or
unemitted, i.e. the start of the oldest window not yet handed over. Only the watermark is ever
bookmarked, so a crash at any moment loses nothing. Pages are handed over window by window, in
window order, each window once it is complete (a bounded reorder buffer of
`max_held_pages`): whatever was handed over is then behind the next watermark, so a crash
re-sends almost nothing, while the reading itself stays concurrent. When the buffer is full
(the oldest window is slow), its oldest pages are handed over early; those are the only
records a resumed run sends again. Memory stays bounded: the page queue and the buffer.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tap_stripe_xdm.api import ListPage
from tap_stripe_xdm.instants import iso


@dataclass(frozen=True, order=True)
class CreatedWindow:
    """Objects with start <= created < end (Unix seconds)."""

    start: int
    end: int

    def params(self) -> dict[str, int]:
        return {"created[gte]": self.start, "created[lt]": self.end}


class CursorLostError(Exception):
    """The object a window's cursor points at is gone (deleted between two pages)."""


@dataclass(frozen=True)
class Watermark:
    """Every object created before `value` has been handed to the consumer."""

    value: int


# fetch(window, starting_after) -> the next page of that window
PageFetcher = Callable[[CreatedWindow, "str | None"], ListPage]


class _Task:
    __slots__ = ("cursor", "cursor_created", "pages", "seq", "window")

    def __init__(self, window: CreatedWindow, seq: int) -> None:
        self.window = window
        self.cursor: str | None = None
        self.cursor_created = window.end
        self.seq = seq
        self.pages = 0  # read so far

    def __lt__(self, other: _Task) -> bool:  # heap order: oldest window first
        return (self.window.start, self.seq) < (other.window.start, other.seq)


_PAGE, _DONE, _ERROR, _EXIT = "page", "done", "error", "exit"

PAGES_PER_WINDOW = 10
"""Split windows are sized to hold about this many pages. Each window's last page is usually
partly filled, so the more, the fewer requests per record; the fewer, the less is read again
after a crash and the less the reorder buffer holds. Measured on 40,000 charges at 25
requests/s (400 full pages): 5 pages took 447-453 requests, 10 took 420-427."""
FULL_PAGES = PAGES_PER_WINDOW + PAGES_PER_WINDOW // 2
"""A window that has read this many pages keeps only the second its cursor is in and gives
up the rest below it: no window holds much more than its share, and a crash between a
window's pages and the watermark after them re-sends at most this many pages."""
HELD_PAGES_PER_WORKER = 32
"""The reorder buffer's bound, per worker. Workers stop taking newer windows once about
`(HELD_PAGES_PER_WORKER - FULL_PAGES - 1)` pages per worker wait (read-ahead's brake, in
ConcurrentWindowReader), and their windows in progress fit in the rest, so the buffer does not
overflow even while the oldest window is slow. Without the brake a slow oldest window let the
others fill it and hand pages over early (re-sent after a crash; a test run on a busy machine
once handed over a fifth of the objects so); with 24 the brake held back the live-limits run
by ~0.3 s, with 32 not measurably; see tests/tap/test_windows.py."""


class ConcurrentWindowReader:
    """Iterate pages (lists of objects) and `Watermark`s for a set of windows.

    `concurrency` worker threads fetch; at most `max_buffered_pages` fetched pages wait
    for the consumer, and at most `max_held_pages` wait in the reorder buffer for the windows
    before theirs. `max_span` (seconds) bounds a split window's span. Windows are handed over
    only in the consumer thread, so a watermark is yielded only after the pages before it
    were consumed. `rate_bound()`, when given, tells that the requests already wait for the
    rate limiter: a window is then not halved for an idle worker, whose cursor would only
    add a partly filled page without reading any sooner.
    """

    def __init__(
        self,
        windows: Sequence[CreatedWindow],
        fetch: PageFetcher,
        *,
        concurrency: int,
        max_buffered_pages: int | None = None,
        logger: logging.Logger | None = None,
        max_span: int | None = None,
        max_held_pages: int | None = None,
        rate_bound: Callable[[], bool] | None = None,
    ) -> None:
        self._fetch = fetch
        self._concurrency = max(1, concurrency)
        self._max_span = max_span
        self._rate_bound = rate_bound
        self._max_held = max_held_pages or HELD_PAGES_PER_WORKER * self._concurrency
        # Read-ahead's brake: past this many pages not yet handed over, a worker takes only
        # the oldest window. The workers' windows in progress add at most FULL_PAGES + 1
        # pages each, so the reorder buffer stays under its bound even while the oldest
        # window is slow (a hanging request, a thread not scheduled on a busy machine).
        self._ahead_limit = max(
            self._concurrency, self._max_held - self._concurrency * (FULL_PAGES + 1)
        )
        self._unconsumed = 0  # pages fetched and not yet handed over
        self._logger = logger or logging.getLogger(__name__)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(
            max_buffered_pages or 2 * self._concurrency
        )
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._seq = itertools.count()
        self._pending: list[_Task] = []
        self._unfinished: dict[int, _Task] = {}
        self._busy = 0
        self._end = max((w.end for w in windows), default=None)
        self._span = sum(w.end - w.start for w in windows)
        self._objects_read = 0
        self._page_size = 1  # the longest page seen: the list's limit, once a page was full
        for window in sorted(windows):
            self._add_task(window)

    def _add_task(self, window: CreatedWindow) -> _Task:
        task = _Task(window, next(self._seq))
        self._unfinished[task.seq] = task
        heapq.heappush(self._pending, task)
        return task

    # --- consumer side -------------------------------------------------------------------

    def __iter__(self) -> Iterator[list[dict[str, Any]] | Watermark]:
        if not self._unfinished:
            return
        workers = [
            threading.Thread(target=self._work, name=f"stripe-window-{i}", daemon=True)
            for i in range(self._concurrency)
        ]
        for worker in workers:
            worker.start()
        exited = 0
        watermark: int | None = None
        held: dict[int, list[list[dict[str, Any]]]] = {}  # window (seq) -> its pages, in order
        finished: set[int] = set()
        held_pages = 0
        try:
            while exited < len(workers):
                kind, payload = self._queue.get()
                if kind == _PAGE:
                    seq, data = payload
                    held.setdefault(seq, []).append(data)
                    held_pages += 1
                elif kind == _DONE:
                    finished.add(payload.seq)
                elif kind == _ERROR:
                    raise payload
                else:
                    exited += 1
                    continue
                # hand over every complete window no unfinished window precedes
                while (oldest := self._oldest()) is not None and oldest in finished:
                    finished.discard(oldest)
                    pages = held.pop(oldest, ())
                    for data in pages:
                        held_pages -= 1
                        yield data
                    self._handed_over(len(pages))
                    new_mark = self._finish(oldest)
                    if new_mark is not None and new_mark != watermark:
                        watermark = new_mark
                        yield Watermark(new_mark)
                if held_pages > self._max_held:  # over the bound: oldest windows' pages early
                    for seq in self._by_age(held):
                        pages = held.pop(seq)
                        held_pages -= len(pages)
                        yield from pages
                        self._handed_over(len(pages))
                        if held_pages <= self._max_held // 2:
                            break
            for seq in self._by_age(held):  # after an early hand-over, nothing is left here
                yield from held.pop(seq)
        finally:
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            self._drain()
            for worker in workers:
                worker.join(timeout=0.5)

    def unread_seconds(self) -> int:
        """Seconds of the range not read yet: each window still to be handed over, below its
        cursor (lists are newest first; a window read to its end has none). For progress."""
        with self._cond:
            return sum(t.cursor_created - t.window.start for t in self._unfinished.values())

    def remaining_requests(self) -> float:
        """About how many requests the rest of the range takes: its unread seconds at the
        density read so far, in full pages, plus each unfinished window's last, partly
        filled page. For the rate limiter's choice of the critical endpoint."""
        with self._cond:
            unread = sum(t.cursor_created - t.window.start for t in self._unfinished.values())
            windows = len(self._unfinished)
            objects, page_size = self._objects_read, self._page_size
        read = self._span - unread
        if objects == 0 or read <= 0:
            return float(windows)  # nothing seen yet: at least a request per window
        return objects / read * unread / page_size + windows

    def _handed_over(self, pages: int) -> None:
        """`pages` left the reader: workers held back by read-ahead's brake may go on."""
        if pages:
            with self._cond:
                self._unconsumed -= pages
                self._cond.notify_all()

    def _oldest(self) -> int | None:
        """The window (seq) with the smallest start not yet handed over."""
        with self._cond:
            if not self._unfinished:
                return None
            return min(self._unfinished.values()).seq

    def _by_age(self, held: dict[int, Any]) -> list[int]:
        with self._cond:
            return sorted(held, key=lambda seq: self._unfinished[seq])

    def _finish(self, seq: int) -> int | None:
        """The window was handed over: the new watermark."""
        with self._cond:
            del self._unfinished[seq]
            if self._unfinished:
                return min(t.window.start for t in self._unfinished.values())
            return self._end

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    # --- worker side ---------------------------------------------------------------------

    def _work(self) -> None:
        try:
            while True:
                with self._cond:
                    while (
                        (not self._pending and self._busy) or self._braked()
                    ) and not self._stop.is_set():
                        self._cond.wait(0.2)
                    if self._stop.is_set() or not self._pending:
                        self._cond.notify_all()
                        return
                    task = heapq.heappop(self._pending)
                    self._busy += 1
                try:
                    self._read(task)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()
        except BaseException as exc:  # handed to the consumer, which raises it
            self._stop.set()
            self._put((_ERROR, exc))
        finally:
            self._put((_EXIT, None), always=True)

    def _read(self, task: _Task) -> None:
        """Fetch pages of `task` until it is exhausted or split (then it goes back in line)."""
        while not self._stop.is_set():
            try:
                page = self._fetch(task.window, task.cursor)
            except CursorLostError:
                self._restart_before_cursor(task)
                continue
            more = page.has_more and bool(page.data)
            task.pages += 1
            with self._cond:
                self._unconsumed += 1
                self._objects_read += len(page.data)
                self._page_size = max(self._page_size, len(page.data))
            split = False
            if more:
                task.cursor = page.data[-1]["id"]
                task.cursor_created = page.data[-1]["created"]
                split = self._maybe_split(task, page.data)
            if not self._put((_PAGE, (task.seq, page.data))):
                return
            if not more:
                with self._cond:
                    task.cursor_created = task.window.start  # read down to its start
                self._put((_DONE, task))
                return
            if split:
                with self._cond:
                    heapq.heappush(self._pending, task)
                    self._cond.notify()
                return

    def _restart_before_cursor(self, task: _Task) -> None:
        """Continue a window whose cursor object was deleted, without the cursor.

        Everything created after the cursor's second was read already (newest first), so the
        window shrinks to end just after that second; objects of that one second are read
        again (duplicates, never gaps).
        """
        self._logger.warning(
            "Cursor %s disappeared (object deleted during the read); re-reading created "
            "[%s, %s] without it",
            task.cursor,
            iso(task.window.start),
            iso(task.cursor_created),
        )
        with self._cond:
            task.window = CreatedWindow(task.window.start, task.cursor_created + 1)
        task.cursor = None

    def _maybe_split(self, task: _Task, data: list[dict[str, Any]]) -> bool:
        """Cut the unread older part of `task` into windows of their own; True if it did.

        Everything in the window newer than the page's oldest object has been read (lists
        are newest first), so [start, oldest) is entirely unread. The page's own span shows
        how dense objects are there: windows of about `PAGES_PER_WINDOW` pages at that density
        (at most `max_span` seconds) are cut from the top of the unread part, at most
        `concurrency` of them, and what is older is cut into up to `concurrency` equal parts
        (read first, being oldest, each split by its own density). `task` keeps about one
        such window below its cursor, or, once it read `FULL_PAGES` pages, only the
        second its cursor is in: no window holds much more than its share, however the
        density changes inside it.
        """
        oldest = min(obj["created"] for obj in data)
        newest = max(obj["created"] for obj in data)
        per_second = len(data) / max(1, newest - oldest)
        span = max(1, int(PAGES_PER_WINDOW * len(data) / per_second))
        if self._max_span is not None:
            span = min(span, self._max_span)
        with self._cond:
            start = task.window.start
            if oldest - start < 2:
                return False
            full = task.pages >= FULL_PAGES
            if oldest - start <= span + span // 2 and not full:  # about a window's worth left
                if not self._idle() or (self._rate_bound is not None and self._rate_bound()):
                    return False  # keep reading it
                mid = start + (oldest - start) // 2  # a worker is idle: share it
                task.window = CreatedWindow(mid, task.window.end)
                self._add_task(CreatedWindow(start, mid))
                self._cond.notify()
                return True
            # a window holding its share already keeps only the second its cursor is in
            mid = oldest if full else oldest - span
            task.window = CreatedWindow(mid, task.window.end)
            high = mid
            for _ in range(self._concurrency):
                low = max(start, high - span)
                if low == start:
                    break
                self._add_task(CreatedWindow(low, high))
                high = low
            # the older rest, of unknown density: equal parts, each split by its first page,
            # so the oldest data is found in a few round trips, not one page at a time
            parts = max(1, min(self._concurrency, (high - start) // span))
            bounds = [start + (high - start) * k // parts for k in range(parts + 1)]
            for low, top in itertools.pairwise(bounds):
                if top > low:
                    self._add_task(CreatedWindow(low, top))
            self._cond.notify_all()
            return True

    def _braked(self) -> bool:
        """Read-ahead's brake (call holding the condition): too many pages wait to be handed
        over, and the next window in line is not the oldest one."""
        return (
            self._unconsumed >= self._ahead_limit
            and bool(self._pending)
            and self._pending[0] is not min(self._unfinished.values())
        )

    def _idle(self) -> bool:
        """Some worker has nothing to do (call holding the condition)."""
        return len(self._pending) + self._busy < self._concurrency

    def _put(self, item: tuple[str, Any], *, always: bool = False) -> bool:
        while True:
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                if self._stop.is_set() and not always:
                    return False
                if self._stop.is_set():
                    self._drain()
