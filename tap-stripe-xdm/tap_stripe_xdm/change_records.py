"""A window of changes -> the records to emit, every one in the pinned API version.

An event's snapshot is rendered in the API version of the account when the event was created
(`event.api_version`, https://docs.stripe.com/api/events/object#event_object-api_version), often
not the version the schemas describe. Such objects, and objects
whose newest events are `tied`, are fetched by id instead: concurrently (the shared rate
limiter still bounds the run), since in an account on another default version that is one
request per changed object. A deleted object that can no longer be fetched becomes a
tombstone: the fields every version has, plus `_sdc_deleted_at`.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

from tap_stripe_xdm.event_windows import Change, ChangeWindow
from tap_stripe_xdm.instants import iso
from tap_stripe_xdm.record_fields import ACCOUNT_FIELD, DELETED_FIELD, TOMBSTONE_FIELDS


class ObjectSource(Protocol):
    """Where current objects come from (endpoints.ResourceEndpoints for one account)."""

    def retrieve(self, object_id: str) -> dict[str, Any] | None:
        """The object by id in the pinned version, completed; None when deleted."""

    def complete(self, objects: list[dict[str, Any]]) -> None:
        """Fill in what a snapshot truncates (embedded lists such as subscription items)."""


@dataclass(frozen=True)
class ChangeRecords:
    """Builds the records of one stream partition's changes (see the module docstring)."""

    objects: ObjectSource
    pool: Executor
    pinned_version: str
    start_date: int
    changes_before: int
    account: str | None

    def records(self, window: ChangeWindow) -> list[dict[str, Any]]:
        """The window's records; objects not emitted by an earlier run are left out.

        Only objects created in [start_date, changes_before) count: newer ones were just read
        in their current state by this run's created-windows.
        """
        wanted = [change for change in window.changes.values() if self._emitted_before(change)]
        stale = [change for change in wanted if self._needs_fetch(change)]
        fetched = dict(
            zip(
                (id(change) for change in stale),
                self.pool.map(self.objects.retrieve, [change.object["id"] for change in stale]),
                strict=True,
            )
        )
        fresh = [change.object for change in wanted if id(change) not in fetched]
        self.objects.complete(fresh)
        records = []
        for change in wanted:
            record = fetched.get(id(change), change.object)  # None: deleted
            if record is None:
                if not change.deleted:
                    continue  # deleted after this run's events end: its delete comes next run
                snapshot = change.object
                record = {key: snapshot[key] for key in TOMBSTONE_FIELDS if key in snapshot}
            if change.deleted:
                record[DELETED_FIELD] = iso(change.event["created"])
            record[ACCOUNT_FIELD] = self.account
            records.append(record)
        return records

    def _emitted_before(self, change: Change) -> bool:
        created = change.object.get("created")
        return isinstance(created, int) and self.start_date <= created < self.changes_before

    def _needs_fetch(self, change: Change) -> bool:
        return change.tied or change.event.get("api_version") != self.pinned_version
