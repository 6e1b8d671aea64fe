"""A local Stripe API double: Stripe's DOCUMENTED read behaviour over HTTP, standard library only.

Serves the six list endpoints the tap reads (charges, subscriptions, refunds, balance_transactions,
customers, prices) plus retrieve, subscription_items and events, on 127.0.0.1 from a daemon
thread. Behaviour follows docs.stripe.com (see ../shared/reference/stripe.md sections 2, 4-6, 8):
newest-first lists, `created` filters, `limit` 1-100, mutually exclusive cursors, unknown
parameters rejected, Stripe's error bodies, `Request-Id` on every answer, restricted keys,
`Stripe-Account` data separation, 30-day event retention. Switches let tests add latency, a rate
limit, or inject failures (5xx/429/4xx, broken bodies, dropped connections).

Speed matters (the tap benchmark reads >30k records/s from it): each stored object is serialized
once to JSON bytes, lists are kept sorted by (created, insertion order) so a page is a bisect plus
a slice, and a page is assembled by joining bytes.

Run standalone as the emulator for `bin/run`:
    python -m tests.doubles.stripe_api --port 12111 --seed-counts charges=2000,customers=500
"""

from __future__ import annotations

import argparse
import base64
import binascii
import bisect
import contextlib
import copy
import datetime as dt
import fnmatch
import itertools
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.stripe_data import OBJECT_OF, seed_objects

DEFAULT_API_VERSION = "2026-10-28.endive"
EVENT_RETENTION_SECONDS = 30 * 86_400
EMBEDDED_ITEMS = 10  # Stripe embeds the first page (10) of subscription items
MAX_EVENT_TYPES = 20
PLATFORM_ACCOUNT = "acct_1DoubLePLatf0rm"

# Resource -> restricted-key permission Stripe names in its 403 message (reference section 2).
PERMISSION_OF = {
    "charges": "charge_read",
    "refunds": "charge_read",
    "subscriptions": "subscription_read",
    "subscription_items": "subscription_read",
    "customers": "customer_read",
    "prices": "plan_read",
    "balance_transactions": "balance_read",
    "events": "event_read",
}

DEFAULT_UPDATE_EVENT = {
    "charges": "charge.updated",
    "subscriptions": "customer.subscription.updated",
    "refunds": "refund.updated",
    "customers": "customer.updated",
    "prices": "price.updated",
    # balance_transactions: Stripe emits no events for them.
}
DELETE_EVENT = {
    "customers": "customer.deleted",
    "prices": "price.deleted",
    "subscriptions": "customer.subscription.deleted",
}
SUBSCRIPTION_STATUSES = frozenset(
    {
        "active",
        "canceled",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
    }
)
HIDDEN_BY_DEFAULT = frozenset({"canceled", "incomplete_expired"})
ENDED = frozenset({"canceled", "incomplete_expired"})
CREATED_OPS = ("gt", "gte", "lt", "lte")
_VERSION_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")
_BRACKETED = re.compile(r"([A-Za-z_]+)\[([A-Za-z_]*|\d*)\]")

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class RecordedRequest:
    """One request as the double saw it; header names are Title-Cased (`Stripe-Version`)."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class _Injection:
    prefix: str
    status: int
    remaining: int
    should_retry: bool | None
    body: bytes | None
    headers: dict[str, str]
    declared_length: int | None


class StripeError(Exception):
    """An answer in Stripe's error shape: {"error": {"type", "code", "message", "param", ...}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            error["param"] = param
        self.body = json.dumps({"error": error}).encode()


def _no_such(object_name: str, obj_id: str, param: str | None = None) -> StripeError:
    return StripeError(
        404, f"No such {object_name}: '{obj_id}'", code="resource_missing", param=param
    )


def mask_key(key: str) -> str:
    """Stripe's redaction of a key in messages: prefix kept, at most the last 4 characters shown."""
    match = re.match(r"(?:sk|rk|pk)_(?:test|live)_", key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    shown = min(4, len(rest) // 2)
    return prefix + "*" * (len(rest) - shown) + (rest[-shown:] if shown else "")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class _Entry:
    """A stored object with its position key and its pre-serialized API rendering."""

    __slots__ = ("item_raws", "key", "obj", "raw")

    def __init__(self, obj: dict[str, Any], key: tuple[int, int]) -> None:
        self.obj = obj
        self.key = key
        self.raw = b""
        self.item_raws: list[bytes] = []


class _SortedList:
    """One list's objects, ascending by (created, insertion seq); reads walk it backwards.

    Sorting is lazy (bulk seeding appends, the first read sorts once) so seeding stays linear.
    """

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.keys: list[tuple[int, int]] = []
        self.by_id: dict[str, _Entry] = {}
        self._dirty = False

    def put(self, obj_id: str, entry: _Entry) -> None:
        if self.keys and entry.key < self.keys[-1]:
            self._dirty = True
        self.entries.append(entry)
        self.keys.append(entry.key)
        self.by_id[obj_id] = entry

    def remove(self, obj_id: str) -> _Entry:
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

    def newest_first(self) -> list[_Entry]:
        self._sort()
        return self.entries[::-1]

    def page(
        self,
        lo: int | None,
        hi: int | None,
        after: _Entry | None,
        before: _Entry | None,
        limit: int,
        predicate: Predicate | None,
    ) -> tuple[list[_Entry], bool]:
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


class _AccountData:
    """One Stripe account's objects (the platform, or one connected account)."""

    def __init__(self) -> None:
        self.lists: dict[str, _SortedList] = {
            name: _SortedList() for name in (*OBJECT_OF, "events")
        }
        self.deleted: dict[tuple[str, str], bytes] = {}
        self.item_owner: dict[str, str] = {}  # subscription item id -> subscription id


# --- query parameters ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ParamSpec:
    """Which parameters an endpoint accepts: plain, `name[sub]` hashes, and `name[]` arrays."""

    scalars: frozenset[str] = frozenset()
    hashes: dict[str, frozenset[str]] = field(default_factory=dict)
    arrays: frozenset[str] = frozenset()


_CREATED_HASH = {"created": frozenset(CREATED_OPS)}
_LIST_SCALARS = frozenset({"limit", "starting_after", "ending_before", "created"})

LIST_PARAMS: dict[str, _ParamSpec] = {
    "charges": _ParamSpec(
        _LIST_SCALARS | {"customer", "payment_intent", "transfer_group"},
        _CREATED_HASH,
        frozenset({"expand"}),
    ),
    "subscriptions": _ParamSpec(
        _LIST_SCALARS | {"status", "customer", "price", "plan", "collection_method", "test_clock"},
        _CREATED_HASH,
        frozenset({"expand"}),
    ),
    "refunds": _ParamSpec(
        _LIST_SCALARS | {"charge", "payment_intent"}, _CREATED_HASH, frozenset({"expand"})
    ),
    "balance_transactions": _ParamSpec(
        _LIST_SCALARS | {"type", "source", "currency", "payout"},
        _CREATED_HASH,
        frozenset({"expand"}),
    ),
    "customers": _ParamSpec(
        _LIST_SCALARS | {"email", "test_clock"}, _CREATED_HASH, frozenset({"expand"})
    ),
    "prices": _ParamSpec(
        _LIST_SCALARS | {"active", "currency", "product", "type"},
        {**_CREATED_HASH, "recurring": frozenset({"interval", "usage_type", "meter"})},
        frozenset({"expand", "lookup_keys"}),
    ),
    "events": _ParamSpec(
        _LIST_SCALARS | {"type", "delivery_success"}, _CREATED_HASH, frozenset({"expand", "types"})
    ),
    "subscription_items": _ParamSpec(
        frozenset({"limit", "starting_after", "ending_before", "subscription"}),
        {},
        frozenset({"expand"}),
    ),
}
RETRIEVE_PARAMS = _ParamSpec(arrays=frozenset({"expand"}))


@dataclass
class _Query:
    scalars: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    arrays: dict[str, list[str]] = field(default_factory=dict)


def _unknown(name: str) -> StripeError:
    return StripeError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
    )


def _parse_query(raw: dict[str, list[str]], spec: _ParamSpec) -> _Query:
    query = _Query()
    for name, values in raw.items():
        match = _BRACKETED.fullmatch(name)
        if match is None:
            if name in spec.arrays:
                raise StripeError(
                    400, f"Invalid array: {name} must be sent as {name}[]", param=name
                )
            if name not in spec.scalars:
                raise _unknown(name)
            query.scalars[name] = values[-1]
            continue
        base, sub = match.groups()
        if sub == "" or sub.isdigit():
            if base not in spec.arrays:
                raise _unknown(name)
            query.arrays.setdefault(base, []).extend(values)
        elif sub in spec.hashes.get(base, ()):
            if base in query.scalars:
                raise StripeError(
                    400, f"Invalid {base}: send either {base} or {base}[{sub}]", param=base
                )
            query.hashes.setdefault(base, {})[sub] = values[-1]
        else:
            raise _unknown(name)
    return query


def _integer(value: str, param: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        ) from None


def _boolean(value: str, param: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise StripeError(400, f"Invalid boolean: {value}", param=param)


def _limit(query: _Query) -> int:
    if "limit" not in query.scalars:
        return 10
    limit = _integer(query.scalars["limit"], "limit")
    if limit < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", param="limit")
    if limit > 100:
        raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
    return limit


def _created_range(query: _Query) -> tuple[int | None, int | None]:
    """The `created` filter as a half-open [lo, hi) interval of seconds."""
    lo: int | None = None
    hi: int | None = None
    if "created" in query.scalars:
        exact = _integer(query.scalars["created"], "created")
        return exact, exact + 1
    for op, value in query.hashes.get("created", {}).items():
        bound = _integer(value, f"created[{op}]")
        if op in ("gt", "gte"):
            low = bound + 1 if op == "gt" else bound
            lo = low if lo is None else max(lo, low)
        else:
            high = bound + 1 if op == "lte" else bound
            hi = high if hi is None else min(hi, high)
    return lo, hi


def _field_is(name: str, value: Any) -> Predicate:
    return lambda obj: obj.get(name) == value


def _all_of(predicates: list[Predicate]) -> Predicate | None:
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda obj: all(p(obj) for p in predicates)


def _subscription_status(value: str | None) -> Predicate | None:
    if value is None:
        return lambda obj: obj.get("status") not in HIDDEN_BY_DEFAULT
    if value == "all":
        return None
    if value == "ended":
        return lambda obj: obj.get("status") in ENDED
    if value not in SUBSCRIPTION_STATUSES:
        allowed = ", ".join(sorted({*SUBSCRIPTION_STATUSES, "all", "ended"}))
        raise StripeError(400, f"Invalid status: must be one of {allowed}", param="status")
    return _field_is("status", value)


def _has_item_price(price_id: str) -> Predicate:
    def check(obj: dict[str, Any]) -> bool:
        items = (obj.get("items") or {}).get("data") or []
        return any((item.get("price") or {}).get("id") == price_id for item in items)

    return check


def _filters(resource: str, query: _Query) -> Predicate | None:
    """The documented extra filters of each list endpoint, as one predicate."""
    s = query.scalars
    preds: list[Predicate] = []
    plain = {
        "charges": ("customer", "payment_intent", "transfer_group"),
        "subscriptions": ("customer", "collection_method"),
        "refunds": ("charge", "payment_intent"),
        "balance_transactions": ("type", "source", "currency"),
        "customers": ("email",),
        "prices": ("currency", "product", "type"),
    }.get(resource, ())
    preds.extend(_field_is(name, s[name]) for name in plain if name in s)
    if resource in ("customers", "subscriptions"):
        # Objects on a test clock are hidden unless asked for (subscriptions: also by customer).
        if "test_clock" in s:
            preds.append(_field_is("test_clock", s["test_clock"]))
        elif not (resource == "subscriptions" and "customer" in s):
            preds.append(lambda obj: obj.get("test_clock") is None)
    if resource == "subscriptions":
        status = _subscription_status(s.get("status"))
        if status is not None:
            preds.append(status)
        for name in ("price", "plan"):
            if name in s:
                preds.append(_has_item_price(s[name]))
    if resource == "balance_transactions" and "payout" in s:
        preds.append(lambda obj: False)  # only automatic payouts' transactions; none are modelled
    if resource == "prices":
        if "active" in s:
            preds.append(_field_is("active", _boolean(s["active"], "active")))
        for sub, value in query.hashes.get("recurring", {}).items():
            preds.append(lambda obj, k=sub, v=value: (obj.get("recurring") or {}).get(k) == v)
        lookup_keys = query.arrays.get("lookup_keys")
        if lookup_keys is not None:
            if len(lookup_keys) > 10:
                raise StripeError(
                    400, "Invalid array: lookup_keys may hold at most 10 keys", param="lookup_keys"
                )
            wanted = set(lookup_keys)
            preds.append(lambda obj: obj.get("lookup_key") in wanted)
    if resource == "events":
        preds.extend(_event_filters(query))
    return _all_of(preds)


def _event_filters(query: _Query) -> list[Predicate]:
    preds: list[Predicate] = []
    single = query.scalars.get("type")
    many = query.arrays.get("types")
    if single is not None and many is not None:
        raise StripeError(
            400, "You may only specify one of these parameters: type, types.", param="types"
        )
    if single is not None:
        if "*" in single:
            preds.append(lambda obj: fnmatch.fnmatchcase(obj.get("type", ""), single))
        else:
            preds.append(_field_is("type", single))
    if many is not None:
        if len(many) > MAX_EVENT_TYPES:
            raise StripeError(
                400,
                f"Invalid array: types may hold at most {MAX_EVENT_TYPES} event types",
                param="types",
            )
        wanted = frozenset(many)
        preds.append(lambda obj: obj.get("type") in wanted)
    if "delivery_success" in query.scalars:
        # The double has no webhook endpoints: every event counts as delivered.
        delivered = _boolean(query.scalars["delivery_success"], "delivery_success")
        preds.append(lambda obj: delivered)
    return preds


def _deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `changes` (nested dicts merge, anything else replaces); returns previous values."""
    previous: dict[str, Any] = {}
    for key, value in changes.items():
        old = target.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and key != "items":
            previous[key] = _deep_merge(old, value)
        else:
            previous[key] = copy.deepcopy(old)
            target[key] = copy.deepcopy(value)
    return previous


class _TokenBucket:
    """Requests per second with a one-second burst, like Stripe's per-account rate limiter."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# --- the double ------------------------------------------------------------------------------


class StripeDouble:
    """A Stripe API on 127.0.0.1 for tests, benchmarks and `bin/run` (see module docstring)."""

    def __init__(
        self,
        *,
        api_key: str = "sk_test_double",
        latency: float = 0.0,
        rate_limit_per_second: float | None = None,
        api_version: str = DEFAULT_API_VERSION,
        port: int = 0,
        account_id: str = PLATFORM_ACCOUNT,
    ) -> None:
        self.latency = latency
        self.api_version = api_version
        self.account_id = account_id
        self.now: Callable[[], int] = lambda: int(time.time())
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._port = port
        self._lock = threading.RLock()
        self._keys: dict[str, frozenset[str] | None] = {api_key: None}
        self._accounts: dict[str | None, _AccountData] = {None: _AccountData()}
        self._injections: list[_Injection] = []
        self._seq = itertools.count()
        self._rate: float | None = None
        self._buckets: dict[str | None, _TokenBucket] = {}
        self.rate_limit_per_second = rate_limit_per_second
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> StripeDouble:
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", self._port), self)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StripeDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # switches ------------------------------------------------------------------------------

    @property
    def rate_limit_per_second(self) -> float | None:
        return self._rate

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, value: float | None) -> None:
        with self._lock:
            self._rate = value
            self._buckets = {}

    def add_key(self, key: str, *, allowed: set[str] | None = None) -> None:
        """Accept another key; with `allowed` (list names, e.g. {"charges"}) it is restricted."""
        with self._lock:
            self._keys[key] = frozenset(allowed) if allowed is not None else None

    def add_account(self, account: str) -> None:
        """Make a connected account known (empty); add/seed with `account=` do this implicitly."""
        with self._lock:
            self._accounts.setdefault(account, _AccountData())

    def inject(
        self,
        path_prefix: str,
        *,
        status: int,
        times: int = 1,
        should_retry: bool | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        declared_length: int | None = None,
    ) -> None:
        """The next `times` requests under `path_prefix` get this answer instead of the real one.

        status 0 drops the connection unanswered; `body` replaces the Stripe error JSON (e.g. a
        cut-off document); `declared_length` claims a longer Content-Length than `body`, so the
        transfer itself is truncated.
        """
        with self._lock:
            self._injections.append(
                _Injection(
                    path_prefix,
                    status,
                    times,
                    should_retry,
                    body,
                    dict(headers or {}),
                    declared_length,
                )
            )

    def clear_requests(self) -> None:
        with self._lock:
            self.requests = []

    # data ----------------------------------------------------------------------------------

    def _data(self, account: str | None) -> _AccountData:
        if account == self.account_id:
            account = None
        data = self._accounts.get(account)
        if data is None:
            data = self._accounts[account] = _AccountData()
        return data

    @staticmethod
    def _check_resource(resource: str) -> None:
        if resource not in OBJECT_OF:
            raise KeyError(f"unknown resource {resource!r}; known: {sorted(OBJECT_OF)}")

    def _store(self, data: _AccountData, resource: str, obj: dict[str, Any]) -> None:
        lst = data.lists[resource]
        old = lst.by_id.get(obj["id"])
        if old is not None and old.key[0] != int(obj["created"]):
            lst.remove(obj["id"])  # re-added with another `created`: re-position it
            old = None
        entry = _Entry(obj, old.key if old else (int(obj["created"]), next(self._seq)))
        self._render(entry, resource)
        if old is not None:
            old.obj, old.raw, old.item_raws = entry.obj, entry.raw, entry.item_raws
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

    def _render(self, entry: _Entry, resource: str) -> None:
        entry.raw = _dumps(self._view(resource, entry.obj))
        if resource == "subscriptions":
            entry.item_raws = [_dumps(i) for i in (entry.obj.get("items") or {}).get("data") or []]

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

    def seed(
        self,
        counts: dict[str, int],
        *,
        start: int,
        end: int,
        seed: int = 0,
        account: str | None = None,
    ) -> None:
        """Realistic cross-linked objects (stripe_data.seed_objects), created in [start, end)."""
        built = seed_objects(counts, start=start, end=end, seed=seed)
        with self._lock:
            data = self._data(account)
            for resource, objs in built.items():
                for obj in objs:
                    self._store(data, resource, obj)

    def objects(self, resource: str, *, account: str | None = None) -> list[dict[str, Any]]:
        """Current stored objects, newest first; subscriptions with ALL their items."""
        self._check_resource(resource)
        with self._lock:
            entries = self._data(account).lists[resource].newest_first()
            return [copy.deepcopy(e.obj) for e in entries]

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
            obj = copy.deepcopy(entry.obj)
            previous = _deep_merge(obj, changes)
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
                obj = copy.deepcopy(lst.by_id[obj_id].obj)
                obj.update(status="canceled", canceled_at=when, ended_at=when)
                self._store(data, resource, obj)
            else:
                obj = lst.remove(obj_id).obj
                stub = {"id": obj_id, "object": OBJECT_OF[resource], "deleted": True}
                data.deleted[(resource, obj_id)] = _dumps(stub)
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
        data: _AccountData,
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

    def _put_event(self, data: _AccountData, event: dict[str, Any]) -> None:
        entry = _Entry(event, (int(event["created"]), next(self._seq)))
        entry.raw = _dumps(event)
        data.lists["events"].put(event["id"], entry)

    def events(self, *, account: str | None = None) -> list[dict[str, Any]]:
        """All stored events (retention not applied), newest first."""
        with self._lock:
            return [
                copy.deepcopy(e.obj) for e in self._data(account).lists["events"].newest_first()
            ]

    # HTTP --------------------------------------------------------------------------------------

    def _take_injection(self, path: str) -> _Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.remaining > 0 and path.startswith(injection.prefix):
                    injection.remaining -= 1
                    return injection
        return None

    def handle(self, handler: _Handler) -> None:
        """Answer one request (called on the server's handler thread)."""
        request_id = f"req_{os.urandom(7).hex()}"
        split = urlsplit(handler.path)
        path = split.path
        raw_params = parse_qs(split.query, keep_blank_values=True)
        headers = {name.title(): value for name, value in handler.headers.items()}
        with self._lock:
            self.requests.append(RecordedRequest(handler.command, path, raw_params, headers))
        if self.latency > 0:
            time.sleep(self.latency)
        injection = self._take_injection(path)
        if injection is not None:
            self._answer_injected(handler, injection, request_id)
            return
        version = headers.get("Stripe-Version") or self.api_version
        extra = {"Stripe-Version": version}
        try:
            if handler.command != "GET":
                handler.close_connection = True
                raise StripeError(
                    404,
                    f"Unrecognized request URL ({handler.command}: {path}). "
                    "This local Stripe double serves GET (read) endpoints only.",
                )
            body = self._answer(path, raw_params, headers, version)
            status = 200
        except StripeError as error:
            status, body = error.status, error.body
            extra.update(error.headers)
        _write(handler, status, body, request_id, extra)

    def _answer_injected(self, handler: _Handler, injection: _Injection, request_id: str) -> None:
        if injection.status == 0:
            handler.close_connection = True  # hang up without a single byte of answer
            return
        extra = dict(injection.headers)
        if injection.should_retry is not None:
            extra["Stripe-Should-Retry"] = "true" if injection.should_retry else "false"
        if injection.body is not None:
            body = injection.body
        else:
            error = _injected_error(injection.status)
            body = error.body
            extra = {**error.headers, **extra}
        if injection.declared_length is not None:
            handler.close_connection = True
        _write(
            handler,
            injection.status,
            body,
            request_id,
            extra,
            declared_length=injection.declared_length,
        )

    def _authenticate(self, headers: dict[str, str]) -> tuple[str, frozenset[str] | None]:
        auth = headers.get("Authorization", "")
        key = ""
        if auth.startswith("Bearer "):
            key = auth[len("Bearer ") :].strip()
        elif auth.startswith("Basic "):
            try:
                key = base64.b64decode(auth[len("Basic ") :].strip()).decode().split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                "https://stripe.com/docs/api#authentication for details, or we can help at "
                "https://support.stripe.com/.",
            )
        with self._lock:
            if key not in self._keys:
                raise StripeError(401, f"Invalid API Key provided: {mask_key(key)}")
            return key, self._keys[key]

    def _answer(
        self, path: str, raw: dict[str, list[str]], headers: dict[str, str], version: str
    ) -> bytes:
        key, allowed = self._authenticate(headers)
        if not _VERSION_PATTERN.fullmatch(version):
            raise StripeError(400, f"Invalid Stripe API version: {version}", param="Stripe-Version")
        account = headers.get("Stripe-Account") or None
        with self._lock:
            if account is not None and account != self.account_id and account not in self._accounts:
                raise StripeError(
                    403,
                    f"The provided key '{mask_key(key)}' does not have access to account "
                    f"'{account}' "
                    "(or that account does not exist). Application access may have been revoked.",
                    code="account_invalid",
                )
            if self._rate is not None:
                bucket = self._buckets.get(account)
                if bucket is None:
                    bucket = self._buckets[account] = _TokenBucket(self._rate)
                if not bucket.take():
                    raise _rate_limited("global-rate")
        resource, obj_id = _route(path)
        if (
            allowed is not None
            and resource not in allowed
            and not (resource == "subscription_items" and "subscriptions" in allowed)
        ):
            raise StripeError(
                403,
                f"The provided key '{mask_key(key)}' does not have the required permissions "
                "for this "
                f"endpoint on account '{account or self.account_id}'. Having the "
                f"'rak_{PERMISSION_OF[resource]}' permission would allow this request to continue.",
            )
        if obj_id is not None:
            _parse_query(raw, RETRIEVE_PARAMS)
            return self._retrieve(account, resource, obj_id)
        query = _parse_query(raw, LIST_PARAMS[resource])
        if resource == "subscription_items":
            return self._list_items(account, query, path)
        return self._list(account, resource, query, path)

    def _retrieve(self, account: str | None, resource: str, obj_id: str) -> bytes:
        with self._lock:
            data = self._data(account)
            if resource == "subscription_items":
                owner = data.lists["subscriptions"].by_id.get(data.item_owner.get(obj_id, ""))
                for item in (owner.obj.get("items") or {}).get("data", []) if owner else []:
                    if item["id"] == obj_id:
                        return _dumps(item)
                raise _no_such("subscription_item", obj_id, "id")
            entry = data.lists[resource].by_id.get(obj_id)
            if entry is not None:
                if (
                    resource == "events"
                    and entry.obj["created"] < self.now() - EVENT_RETENTION_SECONDS
                ):
                    raise _no_such("event", obj_id, "id")
                return entry.raw
            stub = data.deleted.get((resource, obj_id))
            if stub is not None:
                return stub
        raise _no_such(_object_name(resource), obj_id, "id")

    def _list(self, account: str | None, resource: str, query: _Query, path: str) -> bytes:
        limit = _limit(query)
        lo, hi = _created_range(query)
        predicate = _filters(resource, query)
        after_id = query.scalars.get("starting_after")
        before_id = query.scalars.get("ending_before")
        if after_id is not None and before_id is not None:
            raise StripeError(
                400,
                "You may only specify one of these parameters: ending_before, starting_after.",
                param="ending_before",
            )
        with self._lock:
            if resource == "events":
                floor = self.now() - EVENT_RETENTION_SECONDS
                lo = floor if lo is None else max(lo, floor)
            lst = self._data(account).lists[resource]
            after = _cursor(lst, resource, "starting_after", after_id)
            before = _cursor(lst, resource, "ending_before", before_id)
            entries, has_more = lst.page(lo, hi, after, before, limit, predicate)
            raws = [e.raw for e in entries]
        return _envelope(raws, has_more, path)

    def _list_items(self, account: str | None, query: _Query, path: str) -> bytes:
        limit = _limit(query)
        sub_id = query.scalars.get("subscription")
        if not sub_id:
            raise StripeError(
                400,
                "Missing required param: subscription.",
                code="parameter_missing",
                param="subscription",
            )
        after_id = query.scalars.get("starting_after")
        before_id = query.scalars.get("ending_before")
        if after_id is not None and before_id is not None:
            raise StripeError(
                400,
                "You may only specify one of these parameters: ending_before, starting_after.",
                param="ending_before",
            )
        with self._lock:
            entry = self._data(account).lists["subscriptions"].by_id.get(sub_id)
            if entry is None:
                raise _no_such("subscription", sub_id, "subscription")
            ids = [item["id"] for item in (entry.obj.get("items") or {}).get("data") or []]
            raws = entry.item_raws
        # Items are listed in the order Stripe embeds them, so page one equals the embedded page.
        if before_id is not None:
            if before_id not in ids:
                raise _no_such("subscription_item", before_id, "ending_before")
            stop = ids.index(before_id)
            start = max(0, stop - limit)
            return _envelope(raws[start:stop], start > 0, f"{path}?subscription={sub_id}")
        start = ids.index(after_id) + 1 if after_id is not None and after_id in ids else 0
        if after_id is not None and after_id not in ids:
            raise _no_such("subscription_item", after_id, "starting_after")
        stop = start + limit
        return _envelope(raws[start:stop], stop < len(raws), f"{path}?subscription={sub_id}")


def _object_name(resource: str) -> str:
    return (
        OBJECT_OF.get(resource)
        or {"events": "event", "subscription_items": "subscription_item"}[resource]
    )


def _cursor(lst: _SortedList, resource: str, param: str, obj_id: str | None) -> _Entry | None:
    if obj_id is None:
        return None
    entry = lst.by_id.get(obj_id)
    if entry is None:
        raise _no_such(_object_name(resource), obj_id, param)
    return entry


def _envelope(raws: Iterable[bytes], has_more: bool, url: str) -> bytes:
    return b"".join(
        (
            b'{"object":"list","data":[',
            b",".join(raws),
            b'],"has_more":',
            b"true" if has_more else b"false",
            b',"url":',
            json.dumps(url).encode(),
            b"}",
        )
    )


_ROUTES = frozenset({*OBJECT_OF, "events", "subscription_items"})


def _route(path: str) -> tuple[str, str | None]:
    """(resource, object id or None) for a /v1 path, or Stripe's unrecognized-URL 404."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["v1", "balance", "history"]:  # legacy alias of /v1/balance_transactions
        parts = ["v1", "balance_transactions", *parts[3:]]
    if len(parts) in (2, 3) and parts[0] == "v1" and parts[1] in _ROUTES and all(parts):
        return parts[1], parts[2] if len(parts) == 3 else None
    raise StripeError(
        404,
        f"Unrecognized request URL (GET: {path}). Please see https://stripe.com/docs or we can "
        "help "
        "at https://support.stripe.com/.",
    )


def _rate_limited(reason: str) -> StripeError:
    return StripeError(
        429,
        "Too many requests hit the API too quickly. "
        "We recommend an exponential backoff of your requests.",
        code="rate_limit",
        headers={"Stripe-Rate-Limited-Reason": reason},
    )


def _injected_error(status: int) -> StripeError:
    if status == 429:
        return _rate_limited("endpoint-rate")
    if status >= 500:
        return StripeError(
            status,
            "An unknown error occurred. Please try again later "
            "(injected by the local Stripe double).",
            type_="api_error",
        )
    return StripeError(status, f"Injected HTTP {status} from the local Stripe double.")


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Request Failed",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _write(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    request_id: str,
    extra: dict[str, str],
    *,
    declared_length: int | None = None,
) -> None:
    """One write per answer: the status line, headers and body in a single buffer."""
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
        "Content-Type: application/json",
        f"Content-Length: {declared_length if declared_length is not None else len(body)}",
        f"Request-Id: {request_id}",
    ]
    lines.extend(f"{name}: {value}" for name, value in extra.items())
    if handler.close_connection:
        lines.append("Connection: close")
    try:
        handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.double.handle(self)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve  # noqa: N815 - http.server names

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and benchmarks read `StripeDouble.requests` instead of a log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], double: StripeDouble) -> None:
        self.double = double
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        """Hang up kept-alive connections so no handler thread outlives `stop()`."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# --- command line (the emulator behind bin/run) ------------------------------------------------


def _timestamp(text: str) -> int:
    if text.lstrip("-").isdigit():
        return int(text)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return int(parsed.timestamp())


def _counts(text: str) -> dict[str, int]:
    counts = {}
    for part in filter(None, text.split(",")):
        name, _, number = part.partition("=")
        if name.strip() not in OBJECT_OF or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"bad seed count {part!r}: use resource=N with resource in {sorted(OBJECT_OF)}"
            )
        counts[name.strip()] = int(number)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the local Stripe API double until killed.")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_double")
    parser.add_argument(
        "--seed-counts", type=_counts, default={}, help="e.g. charges=2000,customers=500"
    )
    parser.add_argument(
        "--start", type=_timestamp, help="oldest `created` (unix seconds or ISO date)"
    )
    parser.add_argument(
        "--end", type=_timestamp, help="`created` upper bound, exclusive (default now)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for the generated data")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="requests per second (429 beyond)"
    )
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION)
    args = parser.parse_args(argv)

    end = args.end if args.end is not None else int(time.time())
    start = args.start if args.start is not None else end - 365 * 86_400
    double = StripeDouble(
        api_key=args.api_key,
        latency=args.latency,
        rate_limit_per_second=args.rate_limit,
        api_version=args.api_version,
        port=args.port,
    )
    if args.seed_counts:
        double.seed(args.seed_counts, start=start, end=end, seed=args.seed)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with double:
        print(double.url, flush=True)
        summary = {name: len(double.objects(name)) for name in args.seed_counts}
        print(
            f"stripe double serving {summary} created in [{start}, {end})",
            file=sys.stderr,
            flush=True,
        )
        stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
