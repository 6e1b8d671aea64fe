"""The record path of one partition (a stream, or a stream in one Connect account).

plan -> events -> created windows -> records + checkpoints:

1. the read plan, decided from the partition's state before any request (read_plan.py);
2. the changes since the events bookmark, first, while Stripe surely still keeps the oldest
   events (event_windows.py, change_records.py);
3. the objects created in the plan's range, by concurrent windows (windows.py).

`PartitionRead.read()` yields pages of records and `CHECKPOINT`s. The partition's state (the
SDK's dict for it) is moved only here and only forward, each time after the records it
covers were yielded; a CHECKPOINT asks the caller to write STATE now. Each page is counted in
the partition's progress (progress.py), which the run tells every `progress_interval_seconds`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from importlib import resources
from typing import Any, Final

from tap_stripe_xdm import bookmarks, schemas
from tap_stripe_xdm.api import RequestCounts
from tap_stripe_xdm.change_records import ChangeRecords
from tap_stripe_xdm.endpoints import ResourceEndpoints
from tap_stripe_xdm.event_windows import MAX_EVENTS_PER_WINDOW, read_changes
from tap_stripe_xdm.instants import iso
from tap_stripe_xdm.progress import PartitionProgress
from tap_stripe_xdm.read_plan import ReadPlan, plan_read
from tap_stripe_xdm.record_fields import ACCOUNT_FIELD, CHANGE_TIME_FIELD, CHANGE_TYPE_FIELD
from tap_stripe_xdm.resources import Resource, StatusChange
from tap_stripe_xdm.runtime import TapRuntime
from tap_stripe_xdm.windows import ConcurrentWindowReader, CreatedWindow, Watermark


class Checkpoint:
    """The partition's state moved past records already yielded: write STATE now."""

    def __repr__(self) -> str:
        return "CHECKPOINT"


CHECKPOINT: Final = Checkpoint()

Page = list[dict[str, Any]]


@cache
def declared_fields(stream: str) -> frozenset[str]:
    """The top-level fields the stream's schema (`schemas/<stream>.json`) declares."""
    text = resources.files(schemas).joinpath(f"{stream}.json").read_text(encoding="utf-8")
    return frozenset(json.loads(text)["properties"])


def stamp_reread(record: dict[str, Any], change: StatusChange) -> None:
    """An earlier run's object re-read in `change.status`: stamped as changed at its time."""
    at = record.get(change.at_field)
    if record.get("status") == change.status and isinstance(at, int):
        record[CHANGE_TYPE_FIELD] = change.event_type
        record[CHANGE_TIME_FIELD] = iso(at)


class PartitionRead:
    """Reads one partition of one resource and moves that partition's state."""

    max_events_per_window: int = MAX_EVENTS_PER_WINDOW
    """Events held at most to pick each object's newest (see event_windows.py)."""

    def __init__(
        self,
        run: TapRuntime,
        resource: Resource,
        account: str | None,
        state: dict[str, Any],
        logger: logging.Logger,
    ) -> None:
        self._run, self._resource, self._account = run, resource, account
        self._state, self._logger = state, logger
        self._endpoints = ResourceEndpoints(run.api, resource, account)
        self._label = resource.name + (f" of {account}" if account else "")

    @property
    def state(self) -> dict[str, Any]:
        """The partition's state as this read moved it (it owns the dict it was given)."""
        return self._state

    def read(self) -> Generator[Page | Checkpoint, None, None]:
        """Pages of records (each object plus `account_id`) and checkpoints, in order."""
        with self._run.progress.track(self._label) as progress:
            plan = self._plan()
            if plan.events_start is not None:
                yield from self._changes(plan, progress)
            yield from self._created(plan, progress)
        self._state.pop(bookmarks.REREAD_POSITION, None)  # the windows reached the range end

    def _plan(self) -> ReadPlan:
        settings = self._run.settings
        plan = plan_read(
            self._state,
            start_date=settings.start_date,
            now=int(time.time()),  # a partition may start late in a long run: now, not its start
            events_end=self._run.events_end,
            capture_changes=settings.capture_changes,
            has_events=bool(self._resource.event_types),
            lookback_seconds=(
                settings.balance_transactions_lookback_seconds if self._resource.lookback else 0
            ),
            horizon_seconds=settings.events_horizon_seconds,
        )
        if plan.warning:
            self._logger.warning("%s: %s", self._label, plan.warning)
        if plan.restart_capture_at is not None:
            self._state[bookmarks.EVENTS_BOOKMARK] = plan.restart_capture_at
            self._logger.info(
                "Change capture of %s starts from events created at %s",
                self._label,
                iso(plan.restart_capture_at),
            )
        if plan.rereading:  # a fresh re-read starts over; a resumed one is at its position
            self._state[bookmarks.REREAD_POSITION] = plan.created_start
        return plan

    def _created(self, plan: ReadPlan, progress: PartitionProgress) -> Iterator[Page | Checkpoint]:
        """Objects created in [plan.created_start, range end), by concurrent windows."""
        settings = self._run.settings
        start, end = plan.created_start, self._run.range_end
        self._logger.info(
            "Reading %s created in [%s, %s), %d concurrent",
            self._label,
            iso(start),
            iso(end),
            settings.max_concurrency,
        )
        counts_before = self._requests()
        emitted = 0
        # One window to begin with: it is split where objects are (see windows.py), so an
        # empty stretch of years costs a request, not one request per window.
        reader = ConcurrentWindowReader(
            [CreatedWindow(start, end)] if start < end else [],
            self._endpoints.page,
            concurrency=settings.max_concurrency,
            max_span=settings.window_size_seconds,
            logger=self._logger,
            rate_bound=partial(self._run.limiter.backlogged, self._resource.path),
        )
        progress.reading_range(end - start, reader.unread_seconds)
        account = self._account
        change = self._resource.reread_change if plan.reread_before else None
        # the limiter lets the stream with the most left run at its endpoint's limit
        with self._run.limiter.track(self._resource.path, reader.remaining_requests):
            for item in reader:
                if isinstance(item, Watermark):
                    if self._advance_created(item.value, rereading=plan.rereading):
                        yield CHECKPOINT
                    continue
                for record in item:
                    record[ACCOUNT_FIELD] = account
                    if change is not None and record.get("created", plan.reread_before) < (
                        plan.reread_before
                    ):
                        stamp_reread(record, change)
                yield item
                emitted += len(item)
                progress.add(len(item))  # per page; the run's timer thread tells it
        self._log_requests("Read %s %s", emitted, counts_before)

    def _changes(self, plan: ReadPlan, progress: PartitionProgress) -> Iterator[Page | Checkpoint]:
        """Objects emitted by earlier runs that changed since the events bookmark."""
        assert plan.events_start is not None
        settings = self._run.settings
        end = self._run.events_end
        self._logger.info(
            "Reading %s changes from events created in [%s, %s)",
            self._label,
            iso(plan.events_start),
            iso(end),
        )
        counts_before = self._requests()
        emitted = 0
        with ThreadPoolExecutor(
            settings.max_concurrency, thread_name_prefix="stripe-refetch"
        ) as pool:
            builder = ChangeRecords(
                objects=self._endpoints,
                pool=pool,
                pinned_version=settings.api_version,
                start_date=settings.start_date,
                changes_before=plan.changes_before,
                account=self._account,
                declared=declared_fields(self._resource.name),
                logger=self._logger,
            )
            windows = read_changes(
                self._endpoints.events_page,
                plan.events_start,
                end,
                object_type=self._resource.object_type,
                delete_types=self._resource.delete_event_types,
                fact_types=self._resource.fact_event_types,
                max_events=self.max_events_per_window,
            )
            for window in windows:
                records = builder.records(window)
                yield records
                emitted += len(records)
                progress.add(len(records))
                # The window's records are out: only now may the events bookmark pass them.
                if bookmarks.advance_key(self._state, bookmarks.EVENTS_BOOKMARK, window.end):
                    yield CHECKPOINT
        self._log_requests("Read %s changed %s", emitted, counts_before)

    def _advance_created(self, watermark: int, *, rereading: bool) -> bool:
        """Move the `created` bookmark (and a full re-read's own position) to `watermark`.

        A full re-read moves its position only: the bookmark is already past it and never
        moves back. True when anything moved.
        """
        moved = bookmarks.advance(self._state, watermark)
        if rereading:
            moved = (
                bookmarks.advance_key(self._state, bookmarks.REREAD_POSITION, watermark) or moved
            )
        return moved

    def _requests(self) -> RequestCounts:
        """A snapshot of this partition's request counts."""
        return RequestCounts(**vars(self._endpoints.counts))

    def _log_requests(self, message: str, emitted: int, before: RequestCounts) -> None:
        counts = self._requests()
        self._logger.info(
            message + " in %s requests (%s retried, %s after a 429)",  # 3,000: as progress
            f"{emitted:,}",
            self._label,
            f"{counts.requests - before.requests:,}",
            f"{counts.retries - before.retries:,}",
            f"{counts.rate_limited - before.rate_limited:,}",
        )
