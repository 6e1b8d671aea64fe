"""The Stripe API emulator: Stripe's documented read behaviour over HTTP, standard library only.

Serves the six list endpoints (charges, subscriptions, refunds, balance_transactions, customers,
prices) plus retrieve, subscription_items, events and the account, on 127.0.0.1 from a daemon
thread, as
https://docs.stripe.com/api documents them: newest-first lists with cursors
(https://docs.stripe.com/api/pagination), `created` filters, `limit` 1-100, unknown parameters
rejected, Stripe's error bodies (https://docs.stripe.com/api/errors), a `Request-Id` on every
answer, restricted keys (https://docs.stripe.com/keys#limit-access), `Stripe-Account` data
separation (https://docs.stripe.com/connect/authentication) and 30-day event retention
(https://docs.stripe.com/api/events/list). Objects are stored in the newest version's shape;
versions.py renders the documented older shapes for requests pinned to an older
`Stripe-Version`. Switches add latency to every answer, or per-account rate limits: a global
one and one per endpoint (https://docs.stripe.com/rate-limits); both are off unless set.

The data side (add, seed, update, delete, add_event, objects, events, now) is the store's; this
module adds the server, the switches, authentication, routing and the answers. A subclass sees
every request twice: `received` (as read, before the latency) and `answer` (after it).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from stripe_emulator.errors import (
    StripeError,
    exclusive,
    invalid_key,
    missing_key,
    missing_permission,
    no_account_access,
    no_such,
    rate_limited,
    unrecognized_url,
)
from stripe_emulator.expand import expand, expansion_paths
from stripe_emulator.http_server import (
    Handler,
    Request,
    StripeServer,
    new_request_id,
    read_request,
    write_answer,
)
from stripe_emulator.query import (
    ACCOUNTS_PARAMS,
    LIST_PARAMS,
    RETRIEVE_PARAMS,
    Query,
    created_range,
    list_filter,
    page_limit,
    parse_query,
)
from stripe_emulator.rate_limit import AccountLimits
from stripe_emulator.resources import OBJECT_OF, PERMISSION_OF, object_name
from stripe_emulator.store import (
    AccountData,
    Entry,
    SortedList,
    StripeStore,
    dumps,
)
from stripe_emulator.versions import render, renders_differently

DEFAULT_API_VERSION = "2026-10-28.endive"
EVENT_RETENTION_SECONDS = 30 * 86_400
PLATFORM_ACCOUNT = "acct_1DoubLePLatf0rm"

ExpandPaths = list[tuple[str, list[str]]]
# `Stripe-Version` is checked for its form (YYYY-MM-DD, optionally .name) and echoed
# (https://docs.stripe.com/api/versioning).
_VERSION_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")


class StripeEmulator(StripeStore):
    """A Stripe API on 127.0.0.1 for `bin/run`, tests and benchmarks (see module docstring)."""

    def __init__(
        self,
        *,
        api_key: str = "sk_test_double",
        latency: float = 0.0,
        rate_limit_per_second: float | None = None,
        endpoint_rate_limit_per_second: float | None = None,
        api_version: str = DEFAULT_API_VERSION,
        port: int = 0,
        account_id: str = PLATFORM_ACCOUNT,
    ) -> None:
        super().__init__(api_version=api_version, account_id=account_id)
        self.latency = latency
        self.url = ""
        self._port = port
        self._keys: dict[str, frozenset[str] | None] = {api_key: None}
        self._limits = AccountLimits(rate_limit_per_second, endpoint_rate_limit_per_second)
        self._server: StripeServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> StripeEmulator:
        if self._server is not None:
            return self
        self._server = StripeServer(("127.0.0.1", self._port), self)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-emulator",
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

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # switches ------------------------------------------------------------------------------

    @property
    def rate_limit_per_second(self) -> float | None:
        """Requests per second per account over all endpoints (Stripe: 100 live, 25 test)."""
        return self._limits.global_rate

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, value: float | None) -> None:
        with self._lock:
            self._limits = AccountLimits(value, self._limits.endpoint_rate)

    @property
    def endpoint_rate_limit_per_second(self) -> float | None:
        """Requests per second per account to one endpoint (Stripe's default: 25)."""
        return self._limits.endpoint_rate

    @endpoint_rate_limit_per_second.setter
    def endpoint_rate_limit_per_second(self, value: float | None) -> None:
        with self._lock:
            self._limits = AccountLimits(self._limits.global_rate, value)

    @property
    def rate_limited(self) -> int:
        """429s answered since the limits were last set."""
        with self._lock:
            return self._limits.refused

    def add_key(self, key: str, *, allowed: set[str] | None = None) -> None:
        """Accept another key; with `allowed` (list names, e.g. {"charges"}) it is restricted."""
        with self._lock:
            self._keys[key] = frozenset(allowed) if allowed is not None else None

    # HTTP --------------------------------------------------------------------------------------

    def handle(self, handler: Handler) -> None:
        """Answer one request (called on the server's handler thread)."""
        request = read_request(handler)
        self.received(request)
        if self.latency > 0:
            time.sleep(self.latency)
        self.answer(handler, request)

    def received(self, request: Request) -> None:
        """Sees every request as read, before the latency; the emulator itself keeps nothing."""

    def answer(self, handler: Handler, request: Request) -> None:
        """Write Stripe's answer to `request`."""
        version = request.headers.get("Stripe-Version") or self.api_version
        extra = {"Stripe-Version": version}
        try:
            if request.method != "GET":
                handler.close_connection = True
                raise unrecognized_url(request.method, request.path)
            body = self._answer(request.path, request.params, request.headers, version)
            status = 200
        except StripeError as error:
            status, body = error.status, error.body
            extra.update(error.headers)
        write_answer(handler, status, body, new_request_id(), extra)

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
            refused_by = self._limits.admit(account, _endpoint(path))
            if refused_by is not None:
                raise rate_limited(refused_by)
        account_id = _account_route(path, account or self.account_id)
        if account_id is not None:
            return self._account(key, account_id)
        if path.rstrip("/") == "/v1/accounts":
            return self._list_accounts(account, parse_query(raw, ACCOUNTS_PARAMS), path)
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
            created = self._connected.get(account_id)
        if not known:
            raise no_account_access(key, account_id)
        return dumps(_account_object(account_id, created))

    def _list_accounts(self, account: str | None, query: Query, path: str) -> bytes:
        """`GET /v1/accounts` (https://docs.stripe.com/api/accounts/list): the platform's
        connected accounts, newest first, paginated like every list; empty for a connected
        account, which is no platform ("If you're not a platform, the list is empty")."""
        limit = page_limit(query)
        lo, hi = created_range(query)
        after_id, before_id = _cursor_ids(query)
        listed = [] if account not in (None, self.account_id) else self.connected_accounts()
        ids = [a for _, a in listed]
        for param, cursor in (("starting_after", after_id), ("ending_before", before_id)):
            if cursor is not None and cursor not in ids:
                raise no_such("account", cursor, param)
        chosen = [(c, a) for c, a in listed if (lo is None or c >= lo) and (hi is None or c < hi)]
        if after_id is not None:
            mark = listed[ids.index(after_id)]
            chosen = [item for item in chosen if item < mark]
        if before_id is not None:
            mark = listed[ids.index(before_id)]
            newer = [item for item in chosen if item > mark]
            page, has_more = newer[-limit:], len(newer) > limit
        else:
            page, has_more = chosen[:limit], len(chosen) > limit
        return _envelope((dumps(_account_object(a, c)) for c, a in page), has_more, path)

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


def _account_object(account_id: str, created: int | None) -> dict[str, Any]:
    """An account as https://docs.stripe.com/api/accounts/object shows it, the fields clients
    read on connect (`created` only for connected accounts, as Stripe sends it)."""
    account: dict[str, Any] = {
        "id": account_id,
        "object": "account",
        "country": "US",
        "default_currency": "usd",
        "charges_enabled": True,
        "payouts_enabled": True,
        "settings": {"dashboard": {"display_name": "Stripe emulator", "timezone": "Etc/UTC"}},
    }
    if created is not None:
        account.update(created=created, type="standard")
    return account


_ROUTES = frozenset({*OBJECT_OF, "events", "subscription_items"})


def _account_route(path: str, own_account: str) -> str | None:
    """The account id `/v1/account` (the caller's own) or `/v1/accounts/{id}` names, else None."""
    parts = path.strip("/").split("/")
    if parts == ["v1", "account"]:
        return own_account
    if len(parts) == 3 and parts[:2] == ["v1", "accounts"] and parts[2]:
        return parts[2]
    return None


def _endpoint(path: str) -> str:
    """The named operation a request counts against for the per-endpoint limit: its list,
    or retrieving one of its objects (`GET /v1/charges` and `GET /v1/charges/:id` differ)."""
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[:3] == ["v1", "balance", "history"]:
        parts = ["v1", "balance_transactions", *parts[3:]]
    if len(parts) == 3:
        parts[2] = ":id"
    return "GET /" + "/".join(parts)


def _route(path: str) -> tuple[str, str | None]:
    """(resource, object id or None) for a /v1 path, or Stripe's unrecognized-URL 404."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["v1", "balance", "history"]:  # legacy alias of /v1/balance_transactions
        parts = ["v1", "balance_transactions", *parts[3:]]
    if len(parts) in (2, 3) and parts[0] == "v1" and parts[1] in _ROUTES and all(parts):
        return parts[1], parts[2] if len(parts) == 3 else None
    raise unrecognized_url("GET", path)
