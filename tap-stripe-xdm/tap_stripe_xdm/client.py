"""`StripeStream`: the Singer side of a Stripe list endpoint.

Everything the six streams share lives here: the schema file, the `created` bookmark per
stream (and per Connect account), the concurrent window reader, change capture from events
(read_plan.py decides what a run reads, changes.py reads the events), and the record shape
(each object untouched, plus `account_id`, plus `_sdc_deleted_at` on deletes). Concrete
streams only say what differs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel as Conformance

from tap_stripe_xdm import bookmarks, schemas
from tap_stripe_xdm.api import ListPage, RequestCounts
from tap_stripe_xdm.change_records import ACCOUNT_FIELD, ChangeRecords
from tap_stripe_xdm.changes import MAX_EVENTS_PER_WINDOW, event_params, read_changes
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.instants import iso
from tap_stripe_xdm.read_plan import ReadPlan, plan_read
from tap_stripe_xdm.record_path import LeanRecordMessages
from tap_stripe_xdm.windows import (
    ConcurrentWindowReader,
    CreatedWindow,
    CursorLostError,
    Watermark,
)

if TYPE_CHECKING:
    from tap_stripe_xdm.runtime import TapRuntime
    from tap_stripe_xdm.tap import TapStripeXdm

PAGE_LIMIT = 100  # Stripe's maximum page size: fewest round trips per record
PROGRESS_EVERY_SECONDS = 10.0  # a person watching a long backfill sees it move
EVENTS_PATH = "/v1/events"


class _UnsortedStreamNoteFilter(logging.Filter):
    """Drop the SDK's 'progress is not resumable' warning: this tap's bookmarks are resumable.

    The SDK warns because records arrive in no particular order; our bookmark is not taken
    from records but from fully emitted windows (see windows.py), so the warning is wrong here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "progress is not resumable" not in record.getMessage()


# helpers/_state.py logs on the "singer_sdk" logger itself.
logging.getLogger("singer_sdk").addFilter(_UnsortedStreamNoteFilter())


class StripeStream(LeanRecordMessages):
    """One Stripe list endpoint, read incrementally on `created`, plus its changes."""

    path: ClassVar[str]
    """List endpoint, e.g. /v1/charges."""
    list_params: ClassVar[Mapping[str, str]] = {}
    """Filters this endpoint always needs (e.g. status=all)."""
    object_type: ClassVar[str]
    """Stripe's `object` value of this resource, e.g. charge."""
    event_types: ClassVar[tuple[str, ...]] = ()
    """Events that carry this resource (none: changes come from a lookback re-read)."""
    delete_event_types: ClassVar[frozenset[str]] = frozenset()
    """Events meaning the object was deleted (records get `_sdc_deleted_at`)."""
    max_events_per_window: ClassVar[int] = MAX_EVENTS_PER_WINDOW
    """Events held at most to pick each object's newest (see changes.py)."""

    schema = StreamSchema(SchemaDirectory(schemas))
    primary_keys = ("id",)
    replication_key = bookmarks.REPLICATION_KEY
    # Records arrive newest first within concurrent windows: not sorted. The bookmark is
    # managed per window instead (see get_records), never from individual records.
    is_sorted = False
    # The schema files describe Stripe's objects as they are; records need no coercion.
    TYPE_CONFORMANCE_LEVEL = Conformance.NONE

    def __init__(self, tap: TapStripeXdm) -> None:
        super().__init__(tap)
        self._stripe_tap = tap

    @property
    def runtime(self) -> TapRuntime:
        return self._stripe_tap.runtime

    @property
    def partitions(self) -> list[dict] | None:
        """One partition per Connect account, each with its own bookmark."""
        accounts = self.config.get("account_ids") or []
        return [{ACCOUNT_FIELD: account} for account in accounts] or None

    def compare_start_date(self, value: str, start_date_value: str) -> Any:  # type: ignore[override]
        """Bookmarks are Unix seconds, start_date is ISO: compare them as instants."""
        return bookmarks.later_bookmark(value, start_date_value)

    # --- reading -------------------------------------------------------------------------

    def fetch_page(
        self, window: CreatedWindow, starting_after: str | None, account: str | None
    ) -> ListPage:
        """One page of this endpoint inside `window` (runs on a worker thread)."""
        params: dict[str, str | int] = {"limit": PAGE_LIMIT, **self.list_params, **window.params()}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            page = self.runtime.api.list_page(self.path, params, account=account)
        except StripeRequestError as error:
            if starting_after and error.is_missing_cursor:
                raise CursorLostError(starting_after) from error
            raise
        self.complete(page.data, account)
        return page

    def complete(self, objects: list[dict[str, Any]], account: str | None) -> None:
        """Fill in what a list page truncates (subscriptions override this)."""

    def fetch_object(self, obj_id: str, account: str | None) -> dict[str, Any] | None:
        """The object's current state in the pinned version; None when it is deleted."""
        try:
            path = f"{self.path}/{quote(obj_id, safe='')}"  # the id comes from event data
            obj = self.runtime.api.retrieve(path, account=account)
        except StripeRequestError as error:
            if error.status == 404:
                return None
            raise
        if obj.get("deleted") is True:  # customers and prices: a `deleted` stub
            return None
        self.complete([obj], account)
        return obj

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        account = context.get(ACCOUNT_FIELD) if context else None
        runtime = self.runtime
        settings = runtime.settings
        state = self.get_context_state(context)
        plan = plan_read(
            state,
            start_date=settings.start_date,
            now=int(time.time()),  # streams run one after another: the horizon is now
            events_end=runtime.events_end,
            capture_changes=settings.capture_changes,
            has_events=bool(self.event_types),
            lookback_seconds=settings.balance_transactions_lookback_seconds,
            horizon_seconds=settings.events_horizon_seconds,
        )
        if plan.warning:
            self.logger.warning("%s%s: %s", self.name, _of(account), plan.warning)
        if plan.restart_capture_at is not None:
            state[bookmarks.EVENTS_BOOKMARK] = plan.restart_capture_at
            self.logger.info(
                "Change capture of %s%s starts from events created at %s",
                self.name,
                _of(account),
                iso(plan.restart_capture_at),
            )
        if plan.rereading:  # a fresh re-read starts over; a resumed one is at its position
            state[bookmarks.REREAD_POSITION] = plan.created_start
        if plan.events_start is not None:
            # First, while the oldest events are surely still kept (30 days); oldest first.
            yield from self._read_changes(context, account, plan)
        yield from self._read_created(context, account, plan)
        state.pop(bookmarks.REREAD_POSITION, None)  # the windows reached the range end
        # Everything emitted: the bookmarks already stand where they should (see _bookmark).
        state.pop("progress_markers", None)

    def _read_created(
        self, context: Mapping[str, Any] | None, account: str | None, plan: ReadPlan
    ) -> Iterable[dict[str, Any]]:
        """Objects created in [plan.created_start, range end), by concurrent windows."""
        settings = self.runtime.settings
        start = plan.created_start
        end = self.runtime.range_end
        # One window to begin with: it is split where objects are (see windows.py), so an
        # empty stretch of years costs a request, not one request per window.
        windows = [CreatedWindow(start, end)] if start < end else []
        self.logger.info(
            "Reading %s%s created in [%s, %s), %d concurrent",
            self.name,
            _of(account),
            iso(start),
            iso(end),
            settings.max_concurrency,
        )
        counts_before = self.runtime.api.counts()
        emitted = 0
        complete_to = start
        next_progress = time.monotonic() + PROGRESS_EVERY_SECONDS
        reader = ConcurrentWindowReader(
            windows,
            lambda window, cursor: self.fetch_page(window, cursor, account),
            concurrency=settings.max_concurrency,
            max_span=settings.window_size_seconds,
            logger=self.logger,
        )
        for item in reader:
            if isinstance(item, Watermark):
                self._bookmark(context, item.value, rereading=plan.rereading)
                complete_to = item.value
                continue
            for record in item:
                record[ACCOUNT_FIELD] = account
                yield record
            emitted += len(item)
            if time.monotonic() >= next_progress:  # checked per page, not per record
                next_progress = time.monotonic() + PROGRESS_EVERY_SECONDS
                self.logger.info(
                    "Progress %s%s: %d records so far; everything created before %s is out",
                    self.name,
                    _of(account),
                    emitted,
                    iso(complete_to),
                )
        self._log_requests("Read %d %s%s", emitted, account, counts_before)

    def _read_changes(
        self, context: Mapping[str, Any] | None, account: str | None, plan: ReadPlan
    ) -> Iterable[dict[str, Any]]:
        """Objects emitted by earlier runs that changed since the events bookmark."""
        assert plan.events_start is not None
        api = self.runtime.api
        end = self.runtime.events_end
        self.logger.info(
            "Reading %s%s changes from events created in [%s, %s)",
            self.name,
            _of(account),
            iso(plan.events_start),
            iso(end),
        )

        def fetch(start: int, stop: int, cursor: str | None) -> ListPage:
            params = event_params(self.event_types, start, stop, cursor, PAGE_LIMIT)
            return api.list_page(EVENTS_PATH, params, account=account)

        counts_before = api.counts()
        state = self.get_context_state(context)
        emitted = 0
        pool = ThreadPoolExecutor(
            self.runtime.settings.max_concurrency, thread_name_prefix="stripe-refetch"
        )
        builder = ChangeRecords(
            fetch_object=lambda obj_id: self.fetch_object(obj_id, account),
            complete=lambda objects: self.complete(objects, account),
            pool=pool,
            pinned_version=self.runtime.settings.api_version,
            start_date=self.runtime.settings.start_date,
            changes_before=plan.changes_before,
            account=account,
        )
        windows = read_changes(
            fetch,
            plan.events_start,
            end,
            object_type=self.object_type,
            delete_types=self.delete_event_types,
            max_events=self.max_events_per_window,
        )
        with pool:
            for window in windows:
                records = builder.records(window)
                yield from records
                emitted += len(records)
                # The window's records are out: only now may the events bookmark pass them.
                state.pop("progress_markers", None)
                if bookmarks.advance_key(state, bookmarks.EVENTS_BOOKMARK, window.end):
                    self._stripe_tap.state_writer.write_state(self.tap_state)
        self._log_requests("Read %d changed %s%s", emitted, account, counts_before)

    def _log_requests(
        self, message: str, emitted: int, account: str | None, before: RequestCounts
    ) -> None:
        counts = self.runtime.api.counts()
        self.logger.info(
            message + " in %d requests (%d retried, %d after a 429)",
            emitted,
            self.name,
            _of(account),
            counts.requests - before.requests,
            counts.retries - before.retries,
            counts.rate_limited - before.rate_limited,
        )

    def _bookmark(
        self, context: Mapping[str, Any] | None, watermark: int, *, rereading: bool
    ) -> None:
        """Advance this partition's bookmark and emit STATE (after the records it covers).

        A full re-read moves its own position (the bookmark is already past it and never
        moves back). The SDK's running maximum (`progress_markers`) is dropped each time: it
        describes records, not windows, and must neither appear to readers of the STATE as
        the progress nor replace the bookmark when the SDK finalises the stream.
        """
        state = self.get_context_state(context)
        state.pop("progress_markers", None)
        moved = bookmarks.advance(state, watermark)
        if rereading:
            moved = bookmarks.advance_key(state, bookmarks.REREAD_POSITION, watermark) or moved
        if moved:
            self._stripe_tap.state_writer.write_state(self.tap_state)


def _of(account: str | None) -> str:
    return f" of {account}" if account else ""
