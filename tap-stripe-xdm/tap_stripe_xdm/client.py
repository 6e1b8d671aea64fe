"""`StripeStream`: the Singer side of a Stripe list endpoint.

Everything the six streams share lives here: the schema file, the `created` bookmark per
stream (and per Connect account), the concurrent window reader, and the record shape (each
object untouched, plus `account_id`). Concrete streams only say what differs.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel as Conformance

from tap_stripe_xdm import bookmarks, schemas
from tap_stripe_xdm.api import ListPage
from tap_stripe_xdm.errors import StripeRequestError
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
ACCOUNT_FIELD = "account_id"


def _iso(unix_seconds: int) -> str:
    return datetime.datetime.fromtimestamp(unix_seconds, datetime.timezone.utc).isoformat()


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
    """One Stripe list endpoint, read incrementally on `created`."""

    path: ClassVar[str]
    """List endpoint, e.g. /v1/charges."""
    list_params: ClassVar[Mapping[str, str]] = {}
    """Filters this endpoint always needs (e.g. status=all)."""

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

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        account = context.get(ACCOUNT_FIELD) if context else None
        settings = self.runtime.settings
        start = bookmarks.resume_point(
            self.get_starting_replication_key_value(context), settings.start
        )
        end = self.runtime.range_end
        # One window to begin with: it is split where objects are (see windows.py), so an
        # empty stretch of years costs a request, not one request per window.
        windows = [CreatedWindow(start, end)] if start < end else []
        self.logger.info(
            "Reading %s%s created in [%s, %s), %d concurrent",
            self.name,
            f" of {account}" if account else "",
            _iso(start),
            _iso(end),
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
                self._bookmark(context, item.value)
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
                    f" of {account}" if account else "",
                    emitted,
                    _iso(complete_to),
                )
        counts = self.runtime.api.counts()
        self.logger.info(
            "Read %d %s%s in %d requests (%d retried, %d after a 429)",
            emitted,
            self.name,
            f" of {account}" if account else "",
            counts.requests - counts_before.requests,
            counts.retries - counts_before.retries,
            counts.rate_limited - counts_before.rate_limited,
        )
        # All windows emitted: the bookmark already stands at the range end (see _bookmark).
        self.get_context_state(context).pop("progress_markers", None)

    def _bookmark(self, context: Mapping[str, Any] | None, watermark: int) -> None:
        """Advance this partition's bookmark and emit STATE (after the records it covers).

        The SDK's running maximum (`progress_markers`) is dropped each time: it describes
        records, not windows, and must neither appear to readers of the STATE as the
        progress nor replace the bookmark when the SDK finalises the stream.
        """
        state = self.get_context_state(context)
        state.pop("progress_markers", None)
        if bookmarks.advance(state, watermark):
            self._stripe_tap.state_writer.write_state(self.tap_state)
