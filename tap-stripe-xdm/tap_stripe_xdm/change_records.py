"""A window of changes -> the records to emit, every one in the pinned API version.

An event's snapshot is rendered in the API version of the account when the event was created
(`event.api_version`, https://docs.stripe.com/api/events/object#event_object-api_version), often
not the version the schemas describe. Such objects, and objects
whose newest events are `tied`, are fetched by id instead: concurrently (the shared rate
limiter still bounds the run), since in an account on another default version that is one
request per changed object. A deleted object that can no longer be fetched keeps what its
`*.deleted` event carried (Stripe's delete events hold the whole object,
https://docs.stripe.com/api/events/types#event_types-customer.deleted), reduced to the fields
the pinned schema declares, with a warning naming those it could not carry over; only an event
carrying nothing more becomes a tombstone: the fields every version has. Either way the record
gets `_sdc_deleted_at`.

An object with a fact event before its newest (`Change.fact`) gives two records, the fact's
first; an object is fetched once, whichever of its events needs it. A window's records are in
the order of their events, so a target that keeps the latest record per id ends on the newest
state.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

from tap_stripe_xdm.event_windows import Change, ChangeWindow
from tap_stripe_xdm.instants import iso
from tap_stripe_xdm.record_fields import (
    ACCOUNT_FIELD,
    CHANGE_TIME_FIELD,
    CHANGE_TYPE_FIELD,
    DELETED_FIELD,
    TOMBSTONE_FIELDS,
)


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
    declared: frozenset[str]
    """The fields the stream's schema declares (what a delete's snapshot is reduced to)."""
    logger: logging.Logger

    def records(self, window: ChangeWindow) -> list[dict[str, Any]]:
        """The window's records; objects not emitted by an earlier run are left out.

        Only objects created in [start_date, changes_before) count: newer ones were just read
        in their current state by this run's created-windows.
        """
        wanted = [
            step
            for change in window.changes.values()
            if self._emitted_before(change)
            for step in (change.fact, change)
            if step is not None
        ]
        stale = list(dict.fromkeys(c.object["id"] for c in wanted if self._needs_fetch(c)))
        fetched = dict(zip(stale, self.pool.map(self.objects.retrieve, stale), strict=True))
        self.objects.complete([c.object for c in wanted if not self._needs_fetch(c)])
        records = []
        for change in sorted(wanted, key=lambda c: c.event["created"]):  # stable: fact first
            record: dict[str, Any] | None = change.object
            if self._needs_fetch(change):
                current = fetched[change.object["id"]]  # None: deleted
                record = None if current is None else dict(current)  # one copy per record
            if record is None:
                if not change.deleted:
                    continue  # deleted after this run's events end: its delete comes next run
                record = self._deleted_object(change)
            when = iso(change.event["created"])
            if change.deleted:
                record[DELETED_FIELD] = when
            record[ACCOUNT_FIELD] = self.account
            record[CHANGE_TYPE_FIELD] = change.event.get("type")
            record[CHANGE_TIME_FIELD] = when
            records.append(record)
        return records

    def _deleted_object(self, change: Change) -> dict[str, Any]:
        """What the delete event carried, in the fields the pinned schema declares."""
        snapshot = change.object
        kept = {key: value for key, value in snapshot.items() if key in self.declared}
        if not set(kept) - set(TOMBSTONE_FIELDS):
            return {key: snapshot[key] for key in TOMBSTONE_FIELDS if key in snapshot}
        dropped = sorted(set(snapshot) - set(kept))
        if dropped:
            self.logger.warning(
                "Deleted %s %s is emitted from its delete event (rendered in API version %s), "
                "without the fields the pinned schema does not declare: %s",
                snapshot.get("object"),
                snapshot.get("id"),
                change.event.get("api_version"),
                ", ".join(dropped),
            )
        return kept

    def _emitted_before(self, change: Change) -> bool:
        created = change.object.get("created")
        return isinstance(created, int) and self.start_date <= created < self.changes_before

    def _needs_fetch(self, change: Change) -> bool:
        return change.tied or change.event.get("api_version") != self.pinned_version
