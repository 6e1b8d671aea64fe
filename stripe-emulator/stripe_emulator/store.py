"""The emulator's data: per-account object lists kept in API order, pre-serialized, plus events.

Lists are ascending by (created, insertion seq) and read backwards, so a newest-first page with
a `created` range and a cursor is two bisects and a slice. Each object is serialized once (and
again only when it changes); pages are joined from those bytes.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import gc
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from stripe_emulator import added_fields
from stripe_emulator.query import Predicate
from stripe_emulator.resources import (
    CREATE_EVENT,
    DEFAULT_UPDATE_EVENT,
    DELETE_EVENT,
    OBJECT_OF,
)
from stripe_emulator.seed_data import LONG_SUBSCRIPTIONS_EVERY, iter_seed_objects

EMBEDDED_ITEMS = 10  # Stripe embeds the first page (10) of subscription items


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes: what the API sends for an object."""
    return json.dumps(obj, separators=(",", ":")).encode()


class Entry:
    """A stored object: its position key and its API rendering as JSON bytes.

    Only bytes are kept (a parsed charge takes ~4x the memory); `obj` decodes a fresh copy on
    demand for filters, updates and assertions. `full` is the complete object where the
    rendering differs (subscriptions with more than 10 items); `item_raws` are a
    subscription's items, each rendered, for /v1/subscription_items.
    """

    __slots__ = ("full", "item_raws", "key", "raw")

    def __init__(self, key: tuple[int, int], raw: bytes = b"") -> None:
        self.key = key
        self.raw = raw
        self.full: bytes | None = None
        self.item_raws: list[bytes] = []

    @property
    def obj(self) -> dict[str, Any]:
        return json.loads(self.full if self.full is not None else self.raw)


class SortedList:
    """One list's objects, ascending by (created, insertion seq); reads walk it backwards.

    Sorting is lazy (bulk seeding appends, the first read sorts once) so seeding stays linear.
    """

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.keys: list[tuple[int, int]] = []
        self.by_id: dict[str, Entry] = {}
        self._dirty = False

    def put(self, obj_id: str, entry: Entry) -> None:
        if self.keys and entry.key < self.keys[-1]:
            self._dirty = True
        self.entries.append(entry)
        self.keys.append(entry.key)
        self.by_id[obj_id] = entry

    def remove(self, obj_id: str) -> Entry:
        self._sort()
        entry = self.by_id.pop(obj_id)
        index = bisect.bisect_left(self.keys, entry.key)
        del self.entries[index], self.keys[index]
        return entry

    def _sort(self) -> None:
        if self._dirty:
            self.entries.sort(key=lambda e: e.key)
            self.keys = [e.key for e in self.entries]
            self._dirty = False

    def newest_first(self) -> list[Entry]:
        self._sort()
        return self.entries[::-1]

    def page(
        self,
        lo: int | None,
        hi: int | None,
        after: Entry | None,
        before: Entry | None,
        limit: int,
        predicate: Predicate | None,
    ) -> tuple[list[Entry], bool]:
        """Newest-first page of entries with lo <= created < hi, strictly past the cursor.

        `has_more` says whether more matching objects lie beyond the page in the paging
        direction (older for starting_after / no cursor, newer for ending_before).
        """
        self._sort()
        keys, entries = self.keys, self.entries
        i_lo = bisect.bisect_left(keys, (lo, -1)) if lo is not None else 0
        i_hi = bisect.bisect_left(keys, (hi, -1)) if hi is not None else len(keys)
        if after is not None:
            i_hi = min(i_hi, bisect.bisect_left(keys, after.key))
        if before is not None:
            i_lo = max(i_lo, bisect.bisect_right(keys, before.key))
        if i_lo >= i_hi:
            return [], False
        if before is None:
            if predicate is None:
                start = max(i_lo, i_hi - limit)
                return entries[start:i_hi][::-1], start > i_lo
            chosen = []
            for i in range(i_hi - 1, i_lo - 1, -1):
                if predicate(entries[i].obj):
                    chosen.append(entries[i])
                    if len(chosen) > limit:
                        break
            return chosen[:limit], len(chosen) > limit
        if predicate is None:
            stop = min(i_hi, i_lo + limit)
            return entries[i_lo:stop][::-1], stop < i_hi
        chosen = []
        for i in range(i_lo, i_hi):
            if predicate(entries[i].obj):
                chosen.append(entries[i])
                if len(chosen) > limit:
                    break
        return chosen[:limit][::-1], len(chosen) > limit


class AccountData:
    """One Stripe account's objects (the platform, or one connected account)."""

    def __init__(self) -> None:
        self.lists: dict[str, SortedList] = {name: SortedList() for name in (*OBJECT_OF, "events")}
        self.deleted: dict[tuple[str, str], bytes] = {}
        self.item_owner: dict[str, str] = {}  # subscription item id -> subscription id


def deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `changes` (nested dicts merge, anything else replaces); returns previous values."""
    previous: dict[str, Any] = {}
    for key, value in changes.items():
        old = target.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and key != "items":
            previous[key] = deep_merge(old, value)
        else:
            previous[key] = copy.deepcopy(old)
            target[key] = copy.deepcopy(value)
    return previous


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Bulk-building ~10^5 small dicts triggers collections that find nothing: pause them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _creation_event(resource: str, obj: dict[str, Any]) -> str | None:
    if resource == "charges":
        status = obj.get("status")
        return f"charge.{status}" if status in ("succeeded", "failed", "pending") else None
    return CREATE_EVENT.get(resource)


class StripeStore:
    """Objects and events of the platform account and of connected accounts (thread-safe)."""

    def __init__(self, *, api_version: str, account_id: str) -> None:
        self.api_version = api_version
        self.account_id = account_id
        self.now: Callable[[], int] = lambda: int(time.time())
        self._lock = threading.RLock()
        self._accounts: dict[str | None, AccountData] = {None: AccountData()}
        self._connected: dict[str, int] = {}
        """Each connected account's `created` second (what GET /v1/accounts lists)."""
        self._seq = itertools.count()
        self._added: dict[str, added_fields.AddedFields] = {}

    def _data(self, account: str | None) -> AccountData:
        if account == self.account_id:
            account = None
        data = self._accounts.get(account)
        if data is None:
            data = self._accounts[account] = AccountData()
            if account is not None:
                self._connected.setdefault(account, self.now())
        return data

    @staticmethod
    def _check_resource(resource: str) -> None:
        if resource not in OBJECT_OF:
            raise KeyError(f"unknown resource {resource!r}; known: {sorted(OBJECT_OF)}")

    def _store(self, data: AccountData, resource: str, obj: dict[str, Any]) -> None:
        added = self._added.get(resource)
        if added:
            added_fields.apply(obj, added)
        lst = data.lists[resource]
        old = lst.by_id.get(obj["id"])
        if old is not None and old.key[0] != int(obj["created"]):
            lst.remove(obj["id"])  # re-added with another `created`: re-position it
            old = None
        entry = Entry(old.key if old else (int(obj["created"]), next(self._seq)))
        self._render(entry, resource, obj)
        if old is not None:
            old.raw, old.full, old.item_raws = entry.raw, entry.full, entry.item_raws
        else:
            lst.put(obj["id"], entry)
        if resource == "subscriptions":
            for item in (obj.get("items") or {}).get("data") or []:
                data.item_owner[item["id"]] = obj["id"]

    @staticmethod
    def _view(resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """What the API shows: subscriptions embed only the first 10 items (+ has_more)."""
        if resource != "subscriptions" or not isinstance(obj.get("items"), dict):
            return obj
        items = obj["items"]
        data = items.get("data") or []
        shown = {**items, "data": data[:EMBEDDED_ITEMS], "has_more": len(data) > EMBEDDED_ITEMS}
        return {**obj, "items": shown}

    def _render(self, entry: Entry, resource: str, obj: dict[str, Any]) -> None:
        view = self._view(resource, obj)
        entry.raw = dumps(view)
        entry.full = dumps(obj) if view is not obj else None
        if resource == "subscriptions":
            entry.item_raws = [dumps(i) for i in (obj.get("items") or {}).get("data") or []]

    def add(
        self, resource: str, obj: dict[str, Any], *, account: str | None = None
    ) -> dict[str, Any]:
        """Store `obj` (needs `id` and `created`); returns a copy of what is stored."""
        self._check_resource(resource)
        if "id" not in obj or "created" not in obj:
            raise ValueError(f"a {resource} object needs 'id' and 'created': {sorted(obj)}")
        stored = copy.deepcopy(obj)
        with self._lock:
            data = self._data(account)
            data.deleted.pop((resource, stored["id"]), None)
            self._store(data, resource, stored)
        return copy.deepcopy(stored)

    def add_fields(self, resource: str, fields: dict[str, Any]) -> None:
        """Serve fields Stripe's object description lacks (added_fields.py), from now on.

        `fields` maps dotted paths to values (`{"risk_score": 42, "outcome.detail": "x"}`).
        Every stored object of `resource`, in every account, gets them now, and so does every
        object stored later (added, seeded, updated), as Stripe shows a new field on all of them.
        """
        self._check_resource(resource)
        parsed = added_fields.parse_paths(fields)
        with self._lock:
            self._added[resource] = {**self._added.get(resource, {}), **parsed}
            for data in self._accounts.values():
                for entry in data.lists[resource].entries:
                    obj = entry.obj
                    added_fields.apply(obj, parsed)
                    self._render(entry, resource, obj)

    def add_account(self, account: str, *, created: int | None = None) -> None:
        """Connect an account (empty, `created` now unless given); add/seed with `account=` do
        this implicitly."""
        with self._lock:
            self._accounts.setdefault(account, AccountData())
            self._connected.setdefault(account, self.now() if created is None else created)

    def remove_account(self, account: str) -> None:
        """Disconnect an account: no longer listed, no longer reachable with Stripe-Account (as
        after the platform's access is revoked: https://docs.stripe.com/connect/authentication)."""
        with self._lock:
            self._accounts.pop(account, None)
            self._connected.pop(account, None)

    def connected_accounts(self) -> list[tuple[int, str]]:
        """(created, id) of every connected account, newest first (GET /v1/accounts' order)."""
        with self._lock:
            return sorted(((c, a) for a, c in self._connected.items()), reverse=True)

    def seed(
        self,
        counts: dict[str, int],
        *,
        start: int,
        end: int,
        seed: int = 0,
        account: str | None = None,
        events: bool = False,
        long_subscriptions_every: int = LONG_SUBSCRIPTIONS_EVERY,
    ) -> None:
        """Realistic cross-linked objects (seed_data.iter_seed_objects), created in [start, end).

        With `events`, each object also gets the event Stripe sends when it is created
        (`customer.created`, `charge.succeeded`, ...; none for balance transactions), at its
        `created` second, carrying the object as seeded.
        """
        with _gc_paused():
            self._seed(counts, start, end, seed, account, events, long_subscriptions_every)

    def _seed(
        self,
        counts: dict[str, int],
        start: int,
        end: int,
        seed: int,
        account: str | None,
        events: bool,
        long_subscriptions_every: int,
    ) -> None:
        objects = iter_seed_objects(
            counts,
            start=start,
            end=end,
            seed=seed,
            long_subscriptions_every=long_subscriptions_every,
        )
        with self._lock:
            data = self._data(account)
            for resource, obj in objects:
                self._store(data, resource, obj)
                kind = _creation_event(resource, obj)
                if events and kind is not None:
                    view = self._view(resource, obj)
                    self._record_event(data, account, kind, view, None, obj["created"], None)

    def objects(self, resource: str, *, account: str | None = None) -> list[dict[str, Any]]:
        """Current stored objects, newest first; subscriptions with ALL their items."""
        self._check_resource(resource)
        with self._lock:
            entries = self._data(account).lists[resource].newest_first()
            return [e.obj for e in entries]

    def update(
        self,
        resource: str,
        obj_id: str,
        changes: dict[str, Any],
        *,
        event_type: str | None = None,
        event_created: int | None = None,
        event_api_version: str | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """Deep-merge `changes` into the object and record the matching `*.updated` event.

        Balance transactions change without any event (as on Stripe) unless `event_type` is given.
        """
        self._check_resource(resource)
        if "created" in changes or "id" in changes:
            raise ValueError("'id' and 'created' never change on a Stripe object")
        with self._lock:
            data = self._data(account)
            entry = data.lists[resource].by_id.get(obj_id)
            if entry is None:
                raise KeyError(f"no {resource} object {obj_id!r}")
            obj = entry.obj
            previous = deep_merge(obj, changes)
            self._store(data, resource, obj)
            kind = event_type or DEFAULT_UPDATE_EVENT.get(resource)
            if kind is not None:
                self._record_event(
                    data,
                    account,
                    kind,
                    self._view(resource, obj),
                    previous,
                    event_created,
                    event_api_version,
                )
            return copy.deepcopy(obj)

    def delete(
        self,
        resource: str,
        obj_id: str,
        *,
        event_created: int | None = None,
        account: str | None = None,
    ) -> None:
        """Delete as Stripe does: customers/prices vanish from lists (retrieve shows a `deleted`
        stub); subscriptions are canceled (still listed with status=all/canceled/ended)."""
        self._check_resource(resource)
        if resource not in DELETE_EVENT:
            raise ValueError(f"Stripe cannot delete {resource}")
        when = event_created if event_created is not None else self.now()
        with self._lock:
            data = self._data(account)
            lst = data.lists[resource]
            if obj_id not in lst.by_id:
                raise KeyError(f"no {resource} object {obj_id!r}")
            if resource == "subscriptions":
                obj = lst.by_id[obj_id].obj
                obj.update(status="canceled", canceled_at=when, ended_at=when)
                self._store(data, resource, obj)
            else:
                obj = lst.remove(obj_id).obj
                stub = {"id": obj_id, "object": OBJECT_OF[resource], "deleted": True}
                data.deleted[(resource, obj_id)] = dumps(stub)
            self._record_event(
                data, account, DELETE_EVENT[resource], self._view(resource, obj), None, when, None
            )

    def add_event(self, event: dict[str, Any], *, account: str | None = None) -> None:
        """Store a raw event; missing envelope fields get Stripe's defaults."""
        with self._lock:
            data = self._data(account)
            full = {
                "id": event.get("id") or f"evt_{os.urandom(12).hex()}",
                "object": "event",
                "api_version": self.api_version,
                "created": self.now(),
                "data": {"object": {}},
                "livemode": False,
                "pending_webhooks": 0,
                "request": {"id": None, "idempotency_key": None},
                **({"account": account} if account else {}),
                **copy.deepcopy(event),
            }
            self._put_event(data, full)

    def _record_event(
        self,
        data: AccountData,
        account: str | None,
        kind: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
        created: int | None,
        api_version: str | None,
    ) -> None:
        payload: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            payload["previous_attributes"] = previous
        event = {
            "id": f"evt_{os.urandom(12).hex()}",
            "object": "event",
            "api_version": api_version or self.api_version,
            "created": created if created is not None else self.now(),
            "data": payload,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        if account:
            event["account"] = account
        self._put_event(data, event)

    def _put_event(self, data: AccountData, event: dict[str, Any]) -> None:
        entry = Entry((int(event["created"]), next(self._seq)), dumps(event))
        data.lists["events"].put(event["id"], entry)

    def events(self, *, account: str | None = None) -> list[dict[str, Any]]:
        """All stored events (retention not applied), newest first."""
        with self._lock:
            return [e.obj for e in self._data(account).lists["events"].newest_first()]
