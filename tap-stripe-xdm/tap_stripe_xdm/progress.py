"""How far each partition's read has got, told to a person every `progress_interval_seconds`.

A reader thread only adds to its partition's counter, once per page (`PartitionProgress.add`):
no clock is read on the record path. One timer thread per run reads the counters and, for
every partition still reading, tells the records so far and their rate and, while the
`created` range is read, how much of the range is read and about how long the rest takes
(from the share read so far and the time it took). On a terminal that is one live line,
redrawn in place (carriage return) with every partition on it, cut to the terminal's width and
erased before any log line is written (ANSI "erase in line"); otherwise (a pipe, a file,
Meltano, which reads the tap's stderr) one log line per partition per interval, plain text.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

ERASE_LINE = "\x1b[K"  # ANSI "erase in line" (to its end), written to a terminal only
# The unread seconds of the `created` range being read (windows.ConcurrentWindowReader).
UnreadSeconds = Callable[[], int]


class PartitionProgress:
    """The counters of one partition's read (written by its reader thread only)."""

    def __init__(self, label: str, clock: Callable[[], float]) -> None:
        self.label = label
        self.records = 0
        self._clock = clock
        self._started = clock()
        self._range: tuple[int, UnreadSeconds, float] | None = None  # span, unread, start time

    def add(self, records: int) -> None:
        """A page of `records` was emitted (a counter increment: no clock, no lock)."""
        self.records += records

    def reading_range(self, span_seconds: int, unread: UnreadSeconds) -> None:
        """From now on the `created` range of `span_seconds` is read; `unread` tells what is
        left of it."""
        if span_seconds > 0:
            self._range = (span_seconds, unread, self._clock())

    def describe(self, now: float) -> str:
        """`12,345 records (1,234/s); created range 40% read, about 2 min 5 s left`."""
        rate, done, left = self._measures(now)
        text = f"{self.records:,} records ({rate:,.0f}/s)"
        if done is not None:
            text += f"; created range {done:.0%} read"
        if left is not None:
            text += f", about {left} left"
        return text

    def short(self, now: float) -> str:
        """`charges 12,345 (40%, 2 min 5 s left)`: for the live line."""
        _, done, left = self._measures(now)
        parts = [f"{done:.0%}"] if done is not None else []
        if left is not None:
            parts.append(f"{left} left")
        return f"{self.label} {self.records:,}" + (f" ({', '.join(parts)})" if parts else "")

    def _measures(self, now: float) -> tuple[float, float | None, str | None]:
        """Records per second; the share of the created range read; the time the rest takes."""
        elapsed = now - self._started
        rate = self.records / elapsed if elapsed > 0 else 0.0
        if self._range is None:
            return rate, None, None
        span, unread, since = self._range
        done = min(max(1.0 - unread() / span, 0.0), 1.0)
        left = None
        if 0.0 < done < 1.0 and now > since:
            left = _duration((now - since) * (1.0 - done) / done)
        return rate, done, left


def _duration(seconds: float) -> str:
    """`45 s`, `2 min 5 s`, `3 h 4 min`."""
    whole = max(int(seconds + 0.5), 1)  # "0 s left" would say it is done
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


class Progress:
    """The run's progress report: partitions register while they read; a timer thread tells
    their progress every `interval` seconds (0: never)."""

    def __init__(
        self,
        interval: float,
        logger: logging.Logger,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._logger = logger
        self._stream = stream if stream is not None else sys.stderr
        self._live = _is_terminal(self._stream)
        self._clock = clock
        self._active: dict[int, PartitionProgress] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._live_shown = False

    @contextmanager
    def track(self, label: str) -> Iterator[PartitionProgress]:
        """The counters of one partition, told about while the block runs."""
        partition = PartitionProgress(label, self._clock)
        with self._lock:
            self._active[id(partition)] = partition
        try:
            yield partition
        finally:
            with self._lock:
                del self._active[id(partition)]

    @contextmanager
    def running(self) -> Iterator[None]:
        """The timer thread, for the block (the run's reads)."""
        if self.interval <= 0:
            yield
            return
        self._stop.clear()
        eraser = _EraseLiveLine(self)
        handlers = [h for h in logging.getLogger().handlers if self._live]  # the terminal's
        for handler in handlers:
            handler.addFilter(eraser)
        timer = threading.Thread(target=self._tick, name="progress", daemon=True)
        timer.start()
        try:
            yield
        finally:
            self._stop.set()
            timer.join()
            self.erase_live_line()
            for handler in handlers:
                handler.removeFilter(eraser)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.report()

    def report(self) -> None:
        """Tell every reading partition's progress now."""
        now = self._clock()
        with self._lock:
            partitions = list(self._active.values())
        if not partitions:
            return
        if not self._live:
            for partition in partitions:
                self._logger.info("Progress %s: %s", partition.label, partition.describe(now))
            return
        width = shutil.get_terminal_size().columns - 1  # a wrapped line cannot be redrawn
        line = " | ".join(partition.short(now) for partition in partitions)[:width]
        with self._lock:
            # erase the line, draw, and leave the cursor at its start: a log line written
            # next (_EraseLiveLine) starts from there
            self._stream.write(f"\r{ERASE_LINE}{line}\r")
            self._stream.flush()
            self._live_shown = True

    def erase_live_line(self) -> None:
        """Clear the live line (the cursor is at its start), if one is shown."""
        with self._lock:
            if self._live_shown:
                self._stream.write(ERASE_LINE)
                self._stream.flush()
                self._live_shown = False


class _EraseLiveLine(logging.Filter):
    """Before a log line is written to the terminal, the live line goes (redrawn next tick)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self._progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self._progress.erase_live_line()
        return True


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-less stream
        return False
