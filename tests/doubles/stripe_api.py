"""A local Stripe API double: Stripe's DOCUMENTED read behaviour over HTTP, standard library only.

Serves the six list endpoints the tap reads (charges, subscriptions, refunds, balance_transactions,
customers, prices) plus retrieve, subscription_items and events, on 127.0.0.1 from a daemon
thread. Behaviour follows docs.stripe.com (see ../shared/reference/stripe.md sections 2, 4-6, 8):
newest-first lists, `created` filters, `limit` 1-100, mutually exclusive cursors, unknown
parameters rejected, Stripe's error bodies, `Request-Id` on every answer, restricted keys,
`Stripe-Account` data separation, 30-day event retention. Switches let tests add latency, a rate
limit, or inject failures (5xx/429/4xx, broken bodies, dropped connections).

Layout: stripe_store (objects and events, in API order, kept as JSON bytes for speed),
stripe_query (accepted parameters and filters), stripe_expand (expand[]), stripe_errors (Stripe's
error answers), stripe_http (server plumbing), stripe_data (realistic objects) and stripe_seed
(linked data sets). This module: the switches, auth, routing and the CLI.

Run standalone as the emulator for `bin/run`:
    python -m tests.doubles.stripe_api --port 12111 --seed-counts charges=2000,customers=500
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.stripe_data import OBJECT_OF
from tests.doubles.stripe_errors import (
    StripeError,
    exclusive,
    injected_error,
    invalid_key,
    missing_key,
    missing_permission,
    no_account_access,
    no_such,
    rate_limited,
    unrecognized_url,
)
from tests.doubles.stripe_expand import expand, expansion_paths
from tests.doubles.stripe_http import Handler, StripeServer, write_answer
from tests.doubles.stripe_query import (
    LIST_PARAMS,
    RETRIEVE_PARAMS,
    Query,
    created_range,
    list_filter,
    page_limit,
    parse_query,
)
from tests.doubles.stripe_store import (
    AccountData,
    Entry,
    SortedList,
    StripeStore,
    dumps,
    object_name,
)
from tests.doubles.stripe_versions import render, renders_differently

DEFAULT_API_VERSION = "2026-10-28.endive"
EVENT_RETENTION_SECONDS = 30 * 86_400
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

ExpandPaths = list[tuple[str, list[str]]]
_VERSION_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")


@dataclass
class RecordedRequest:
    """One request as the double saw it; header names are Title-Cased (`Stripe-Version`)."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class _Injection:
    """A canned answer for the next `remaining` requests under `prefix` (see inject)."""

    prefix: str
    status: int
    remaining: int
    should_retry: bool | None
    body: bytes | None
    headers: dict[str, str]
    declared_length: int | None


class _TokenBucket:
    """Requests per second with a one-second burst, like Stripe's per-account rate limiter."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# --- the double ------------------------------------------------------------------------------


class StripeDouble(StripeStore):
    """A Stripe API on 127.0.0.1 for tests, benchmarks and `bin/run` (see module docstring).

    The data side (add, seed, update, delete, add_event, objects, events, now) comes from
    StripeStore; this class adds the server, the switches and the HTTP answers.
    """

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
        super().__init__(api_version=api_version, account_id=account_id)
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._port = port
        self._keys: dict[str, frozenset[str] | None] = {api_key: None}
        self._injections: list[_Injection] = []
        self._rate: float | None = None
        self._buckets: dict[str | None, _TokenBucket] = {}
        self.rate_limit_per_second = rate_limit_per_second
        self._server: StripeServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> StripeDouble:
        if self._server is not None:
            return self
        self._server = StripeServer(("127.0.0.1", self._port), self)
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
            self.requests.clear()  # in place: callers may hold the list

    # HTTP --------------------------------------------------------------------------------------

    def _take_injection(self, path: str) -> _Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.remaining > 0 and path.startswith(injection.prefix):
                    injection.remaining -= 1
                    return injection
        return None

    def handle(self, handler: Handler) -> None:
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
                raise unrecognized_url(handler.command, path)
            body = self._answer(path, raw_params, headers, version)
            status = 200
        except StripeError as error:
            status, body = error.status, error.body
            extra.update(error.headers)
        write_answer(handler, status, body, request_id, extra)

    def _answer_injected(self, handler: Handler, injection: _Injection, request_id: str) -> None:
        if injection.status == 0:
            handler.close_connection = True  # hang up without a single byte of answer
            return
        extra = dict(injection.headers)
        if injection.should_retry is not None:
            extra["Stripe-Should-Retry"] = "true" if injection.should_retry else "false"
        if injection.body is not None:
            body = injection.body
        else:
            error = injected_error(injection.status)
            body = error.body
            extra = {**error.headers, **extra}
        if injection.declared_length is not None:
            handler.close_connection = True
        write_answer(
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
            raise missing_key()
        with self._lock:
            if key not in self._keys:
                raise invalid_key(key)
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
                raise no_account_access(key, account)
            if self._rate is not None:
                bucket = self._buckets.get(account)
                if bucket is None:
                    bucket = self._buckets[account] = _TokenBucket(self._rate)
                if not bucket.take():
                    raise rate_limited("global-rate")
        account_id = _account_route(path, account or self.account_id)
        if account_id is not None:
            return self._account(key, account_id)
        resource, obj_id = _route(path)
        if (
            allowed is not None
            and resource not in allowed
            and not (resource == "subscription_items" and "subscriptions" in allowed)
        ):
            raise missing_permission(key, account or self.account_id, PERMISSION_OF[resource])
        if obj_id is not None:
            query = parse_query(raw, RETRIEVE_PARAMS)
            expand_paths = query.arrays.get("expand", [])
            paths = expansion_paths(expand_paths, object_name(resource), on_list=False)
            return self._retrieve(account, resource, obj_id, paths, version)
        query = parse_query(raw, LIST_PARAMS[resource])
        if resource == "subscription_items":
            return self._list_items(account, query, path)
        return self._list(account, resource, query, path, version)

    def _account(self, key: str, account_id: str) -> bytes:
        """`GET /v1/account` or `/v1/accounts/{id}`: the platform or a known connected account
        (https://docs.stripe.com/api/accounts/retrieve); the fields clients read on connect."""
        with self._lock:
            known = account_id == self.account_id or account_id in self._accounts
        if not known:
            raise no_account_access(key, account_id)
        return dumps(
            {
                "id": account_id,
                "object": "account",
                "country": "US",
                "default_currency": "usd",
                "charges_enabled": True,
                "payouts_enabled": True,
                "settings": {"dashboard": {"display_name": "Stripe double", "timezone": "Etc/UTC"}},
            }
        )

    def _retrieve(
        self,
        account: str | None,
        resource: str,
        obj_id: str,
        paths: ExpandPaths,
        version: str,
    ) -> bytes:
        with self._lock:
            data = self._data(account)
            if resource == "subscription_items":
                owner = data.lists["subscriptions"].by_id.get(data.item_owner.get(obj_id, ""))
                for item in (owner.obj.get("items") or {}).get("data", []) if owner else []:
                    if item["id"] == obj_id:
                        return self._expanded(data, item, paths) if paths else dumps(item)
                raise no_such("subscription_item", obj_id, "id")
            entry = data.lists[resource].by_id.get(obj_id)
            if entry is not None:
                if resource == "events" and entry.key[0] < self.now() - EVENT_RETENTION_SECONDS:
                    raise no_such("event", obj_id, "id")
                if paths:
                    shown = render(resource, self._view(resource, entry.obj), version)
                    return self._expanded(data, shown, paths)
                if renders_differently(resource, version):
                    return dumps(render(resource, self._view(resource, entry.obj), version))
                return entry.raw
            stub = data.deleted.get((resource, obj_id))
            if stub is not None:
                return stub
        raise no_such(object_name(resource), obj_id, "id")

    def _list(
        self, account: str | None, resource: str, query: Query, path: str, version: str
    ) -> bytes:
        limit = page_limit(query)
        lo, hi = created_range(query)
        predicate = list_filter(resource, query)
        paths = expansion_paths(query.arrays.get("expand", []), object_name(resource), on_list=True)
        after_id, before_id = _cursor_ids(query)
        with self._lock:
            if resource == "events":
                floor = self.now() - EVENT_RETENTION_SECONDS
                lo = floor if lo is None else max(lo, floor)
            data = self._data(account)
            lst = data.lists[resource]
            after = _cursor(lst, resource, "starting_after", after_id)
            before = _cursor(lst, resource, "ending_before", before_id)
            entries, has_more = lst.page(lo, hi, after, before, limit, predicate)
            if paths:
                raws = [
                    self._expanded(
                        data, render(resource, self._view(resource, e.obj), version), paths
                    )
                    for e in entries
                ]
            elif renders_differently(resource, version):
                raws = [
                    dumps(render(resource, self._view(resource, e.obj), version)) for e in entries
                ]
            else:
                raws = [e.raw for e in entries]
        return _envelope(raws, has_more, path)

    def _expanded(self, data: AccountData, obj: dict[str, Any], paths: ExpandPaths) -> bytes:
        """`obj` (a fresh decode) with `expand[]` applied; rare, so decoding per object is fine."""

        def lookup(resource: str, obj_id: str) -> dict[str, Any] | None:
            entry = data.lists[resource].by_id.get(obj_id)
            return self._view(resource, entry.obj) if entry else None

        def children(resource: str, field: str, parent_id: str) -> list[dict[str, Any]]:
            decoded = (e.obj for e in data.lists[resource].newest_first())
            return [self._view(resource, o) for o in decoded if o.get(field) == parent_id]

        for path, segments in paths:
            expand(obj, segments, path, lookup, children)
        return dumps(obj)

    def _list_items(self, account: str | None, query: Query, path: str) -> bytes:
        limit = page_limit(query)
        sub_id = query.scalars.get("subscription")
        if not sub_id:
            raise StripeError(
                400,
                "Missing required param: subscription.",
                code="parameter_missing",
                param="subscription",
            )
        after_id, before_id = _cursor_ids(query)
        paths = expansion_paths(query.arrays.get("expand", []), "subscription_item", on_list=True)
        with self._lock:
            data = self._data(account)
            entry = data.lists["subscriptions"].by_id.get(sub_id)
            if entry is None:
                raise no_such("subscription", sub_id, "subscription")
            items = (entry.obj.get("items") or {}).get("data") or []
            ids = [item["id"] for item in items]
            # Listed in the order Stripe embeds them, so page one equals the embedded page.
            if before_id is not None:
                if before_id not in ids:
                    raise no_such("subscription_item", before_id, "ending_before")
                stop = ids.index(before_id)
                start = max(0, stop - limit)
                has_more = start > 0
            else:
                if after_id is not None and after_id not in ids:
                    raise no_such("subscription_item", after_id, "starting_after")
                start = ids.index(after_id) + 1 if after_id is not None else 0
                stop = start + limit
                has_more = stop < len(ids)
            if paths:
                raws = [self._expanded(data, item, paths) for item in items[start:stop]]
            else:
                raws = entry.item_raws[start:stop]
        return _envelope(raws, has_more, path)


def _cursor_ids(query: Query) -> tuple[str | None, str | None]:
    after_id = query.scalars.get("starting_after")
    before_id = query.scalars.get("ending_before")
    if after_id is not None and before_id is not None:
        raise exclusive("ending_before", "starting_after")
    return after_id, before_id


def _cursor(lst: SortedList, resource: str, param: str, obj_id: str | None) -> Entry | None:
    if obj_id is None:
        return None
    entry = lst.by_id.get(obj_id)
    if entry is None:
        raise no_such(object_name(resource), obj_id, param)
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


def _account_route(path: str, own_account: str) -> str | None:
    """The account id `/v1/account` (the caller's own) or `/v1/accounts/{id}` names, else None."""
    parts = path.strip("/").split("/")
    if parts == ["v1", "account"]:
        return own_account
    if len(parts) == 3 and parts[:2] == ["v1", "accounts"] and parts[2]:
        return parts[2]
    return None


def _route(path: str) -> tuple[str, str | None]:
    """(resource, object id or None) for a /v1 path, or Stripe's unrecognized-URL 404."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["v1", "balance", "history"]:  # legacy alias of /v1/balance_transactions
        parts = ["v1", "balance_transactions", *parts[3:]]
    if len(parts) in (2, 3) and parts[0] == "v1" and parts[1] in _ROUTES and all(parts):
        return parts[1], parts[2] if len(parts) == 3 else None
    raise unrecognized_url("GET", path)


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
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--api-key", default="sk_test_double", help="the key clients must send")
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
    parser.add_argument(
        "--events", action="store_true", help="also record each seeded object's creation event"
    )
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
        double.seed(args.seed_counts, start=start, end=end, seed=args.seed, events=args.events)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with double:
        print(double.url, flush=True)
        print(
            f"stripe double serving {args.seed_counts or 'no objects'} created in [{start}, {end})",
            file=sys.stderr,
            flush=True,
        )
        stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
