"""Reading a `created` range as concurrent windows without ever bookmarking unread data.

Stripe lists are newest first and a cursor (`starting_after`) moves one page at a time
(https://docs.stripe.com/api/pagination), so one cursor is bound by latency. The range
[start, end) is read as half-open `CreatedWindow`s by worker threads (all behind the shared
rate limiter). A window that turns out to hold more than a page is split: everything newer
than the page's oldest object has been read, so the unread older part [start, mid) becomes a
window of its own. Windows are split while they span more than `max_span` seconds or while a
worker is idle; empty stretches cost one request each, a busy month cannot serialise the
backfill, and workers always take the oldest window first.

Pages are handed to the consumer as they arrive (bounded queue, so memory does not grow
with the number of records). The consumer learns the *watermark*: the smallest `created`
that may still be unread or unemitted, i.e. the end of the longest fully emitted prefix of
windows. Only the watermark is ever bookmarked, so a crash at any moment loses nothing;
objects of windows finished beyond it are read again on resume (at-least-once).
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
    __slots__ = ("cursor", "cursor_created", "seq", "window")

    def __init__(self, window: CreatedWindow, seq: int) -> None:
        self.window = window
        self.cursor: str | None = None
        self.cursor_created = window.end
        self.seq = seq

    def __lt__(self, other: _Task) -> bool:  # heap order: oldest window first
        return (self.window.start, self.seq) < (other.window.start, other.seq)


_PAGE, _DONE, _ERROR, _EXIT = "page", "done", "error", "exit"


class ConcurrentWindowReader:
    """Iterate pages (lists of objects) and `Watermark`s for a set of windows.

    `concurrency` worker threads fetch; at most `max_buffered_pages` fetched pages wait
    for the consumer. `max_span` (seconds) bounds how much of the range one bookmark step
    covers where objects are dense (None: split only to feed idle workers). Windows are
    marked finished only in the consumer thread, so a watermark is yielded only after the
    pages before it were consumed.
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
    ) -> None:
        self._fetch = fetch
        self._concurrency = max(1, concurrency)
        self._max_span = max_span
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
        try:
            while exited < len(workers):
                kind, payload = self._queue.get()
                if kind == _PAGE:
                    yield payload
                elif kind == _DONE:
                    new_mark = self._finish(payload)
                    if new_mark is not None and new_mark != watermark:
                        watermark = new_mark
                        yield Watermark(new_mark)
                elif kind == _ERROR:
                    raise payload
                else:
                    exited += 1
        finally:
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            self._drain()
            for worker in workers:
                worker.join(timeout=0.5)

    def _finish(self, task: _Task) -> int | None:
        with self._cond:
            del self._unfinished[task.seq]
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
                    while not self._pending and self._busy and not self._stop.is_set():
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
            split = False
            if more:
                task.cursor = page.data[-1]["id"]
                task.cursor_created = page.data[-1]["created"]
                split = self._maybe_split(task, page.data)
            if not self._put((_PAGE, page.data)):
                return
            if not more:
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
            "[%d, %d] without it",
            task.cursor,
            task.window.start,
            task.cursor_created,
        )
        with self._cond:
            task.window = CreatedWindow(task.window.start, task.cursor_created + 1)
        task.cursor = None

    def _maybe_split(self, task: _Task, data: list[dict[str, Any]]) -> bool:
        """Split the unread older part off `task` as a new window; True if it did.

        Everything in the window newer than the page's oldest object has been read (lists
        are newest first), so [start, mid) with mid <= oldest is entirely unread and can be
        fetched independently; `task` keeps [mid, end) and its cursor.
        """
        oldest = min(obj["created"] for obj in data)
        with self._cond:
            start = task.window.start
            if oldest - start < 2:
                return False
            too_wide = self._max_span is not None and oldest - start > self._max_span
            idle = len(self._pending) + self._busy < self._concurrency
            if not (too_wide or idle):
                return False
            mid = start + (oldest - start) // 2
            task.window = CreatedWindow(mid, task.window.end)
            self._add_task(CreatedWindow(start, mid))
            self._cond.notify()
            return True

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
