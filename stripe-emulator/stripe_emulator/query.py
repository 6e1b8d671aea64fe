"""Query parameters of the list endpoints: which ones each accepts, parsing, and the filters.

Stripe rejects unknown parameters ("Received unknown parameter: x"); the accepted sets below
are the documented ones (https://docs.stripe.com/api, each list endpoint's parameters; the same
sets as stripe-python 16.1.0's `*ListParams` types).
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stripe_emulator import resources
from stripe_emulator.errors import StripeError, exclusive, unknown_parameter

MAX_EVENT_TYPES = 20
MAX_LOOKUP_KEYS = 10
SUBSCRIPTION_STATUSES = frozenset(resources.SUBSCRIPTION_STATUSES)
# `status=ended` means exactly these; subscriptions listed without `status` leave them out.
ENDED = frozenset({"canceled", "incomplete_expired"})
CREATED_OPS = ("gt", "gte", "lt", "lte")
_BRACKETED = re.compile(r"([A-Za-z_]+)\[([A-Za-z_]*|\d*)\]")
Predicate = Callable[[dict[str, Any]], bool]
_COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


@dataclass(frozen=True)
class ParamSpec:
    """Which parameters an endpoint accepts: plain, `name[sub]` hashes, and `name[]` arrays."""

    scalars: frozenset[str] = frozenset()
    hashes: dict[str, frozenset[str]] = field(default_factory=dict)
    arrays: frozenset[str] = frozenset()


_CREATED_HASH = {"created": frozenset(CREATED_OPS)}
_LIST_SCALARS = frozenset({"limit", "starting_after", "ending_before", "created"})

# https://docs.stripe.com/api/accounts/list
ACCOUNTS_PARAMS = ParamSpec(_LIST_SCALARS, _CREATED_HASH, frozenset({"expand"}))

LIST_PARAMS: dict[str, ParamSpec] = {
    "charges": ParamSpec(
        _LIST_SCALARS | {"customer", "payment_intent", "transfer_group"},
        _CREATED_HASH,
        frozenset({"expand"}),
    ),
    "subscriptions": ParamSpec(
        _LIST_SCALARS
        | {"status", "customer", "customer_account", "price", "plan", "collection_method"}
        | {"test_clock"},
        {
            **_CREATED_HASH,
            "automatic_tax": frozenset({"enabled"}),
            "current_period_start": frozenset(CREATED_OPS),
            "current_period_end": frozenset(CREATED_OPS),
        },
        frozenset({"expand"}),
    ),
    "refunds": ParamSpec(
        _LIST_SCALARS | {"charge", "payment_intent"}, _CREATED_HASH, frozenset({"expand"})
    ),
    "balance_transactions": ParamSpec(
        _LIST_SCALARS | {"type", "source", "currency", "payout"},
        _CREATED_HASH,
        frozenset({"expand"}),
    ),
    "customers": ParamSpec(
        _LIST_SCALARS | {"email", "test_clock"}, _CREATED_HASH, frozenset({"expand"})
    ),
    "prices": ParamSpec(
        _LIST_SCALARS | {"active", "currency", "product", "type"},
        {**_CREATED_HASH, "recurring": frozenset({"interval", "usage_type", "meter"})},
        frozenset({"expand", "lookup_keys"}),
    ),
    "events": ParamSpec(
        _LIST_SCALARS | {"type", "delivery_success"}, _CREATED_HASH, frozenset({"expand", "types"})
    ),
    "subscription_items": ParamSpec(
        frozenset({"limit", "starting_after", "ending_before", "subscription"}),
        {},
        frozenset({"expand"}),
    ),
}


RETRIEVE_PARAMS = ParamSpec(arrays=frozenset({"expand"}))

# Filters that keep objects whose property of the same name equals the parameter.
EQUALITY_FILTERS: dict[str, tuple[str, ...]] = {
    "charges": ("customer", "payment_intent", "transfer_group"),
    "subscriptions": ("customer", "customer_account", "collection_method"),
    "refunds": ("charge", "payment_intent"),
    "balance_transactions": ("type", "source", "currency"),
    "customers": ("email",),  # exact and case-sensitive, as documented
    "prices": ("currency", "product", "type"),
}


@dataclass
class Query:
    """A request's parameters, sorted by form: `a=1`, `a[b]=1`, `a[]=1` (or `a[0]=1`)."""

    scalars: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    arrays: dict[str, list[str]] = field(default_factory=dict)


def parse_query(raw: dict[str, list[str]], spec: ParamSpec) -> Query:
    """Sort `raw` by form, rejecting what the endpoint does not accept, as Stripe does."""
    query = Query()
    for name, values in raw.items():
        match = _BRACKETED.fullmatch(name)
        if match is None:
            if name in spec.arrays:
                raise StripeError(
                    400, f"Invalid array: {name} must be sent as {name}[]", param=name
                )
            if name not in spec.scalars:
                raise unknown_parameter(name)
            query.scalars[name] = values[-1]
            continue
        base, sub = match.groups()
        if sub == "" or sub.isdigit():
            if base not in spec.arrays:
                raise unknown_parameter(name)
            query.arrays.setdefault(base, []).extend(values)
        elif sub in spec.hashes.get(base, ()):
            if base in query.scalars:
                raise StripeError(
                    400, f"Invalid {base}: send either {base} or {base}[{sub}]", param=base
                )
            query.hashes.setdefault(base, {})[sub] = values[-1]
        else:
            raise unknown_parameter(name)
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


def page_limit(query: Query) -> int:
    """`limit`: 1 to 100, 10 when absent."""
    if "limit" not in query.scalars:
        return 10
    limit = _integer(query.scalars["limit"], "limit")
    if limit < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", param="limit")
    if limit > 100:
        raise StripeError(400, "This value must be less than or equal to 100.", param="limit")
    return limit


def created_range(query: Query) -> tuple[int | None, int | None]:
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


def _recurring_is(name: str, value: Any) -> Predicate:
    return lambda obj: (obj.get("recurring") or {}).get(name) == value


def _all_of(predicates: list[Predicate]) -> Predicate | None:
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda obj: all(p(obj) for p in predicates)


def _subscription_status(value: str | None) -> Predicate | None:
    if value is None:
        return lambda obj: obj.get("status") not in ENDED
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


def _period_filters(query: Query) -> list[Predicate]:
    """`current_period_start|end[op]`: since basil periods live on items, so Stripe compares
    the latest item start and the earliest item end."""
    preds: list[Predicate] = []
    for name, pick in (("current_period_start", max), ("current_period_end", min)):
        for op, value in query.hashes.get(name, {}).items():
            bound = _integer(value, f"{name}[{op}]")
            compare = _COMPARISONS[op]

            def check(
                obj: dict[str, Any],
                name: str = name,
                pick: Callable[[list[int]], int] = pick,
                bound: int = bound,
                compare: Callable[[int, int], bool] = compare,
            ) -> bool:
                items = (obj.get("items") or {}).get("data") or []
                periods = [item[name] for item in items if item.get(name) is not None]
                return bool(periods) and compare(pick(periods), bound)

            preds.append(check)
    return preds


def list_filter(resource: str, query: Query) -> Predicate | None:
    """The documented extra filters of each list endpoint, as one predicate."""
    s = query.scalars
    preds = [_field_is(name, s[name]) for name in EQUALITY_FILTERS.get(resource, ()) if name in s]
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
        if "enabled" in query.hashes.get("automatic_tax", {}):
            enabled = _boolean(query.hashes["automatic_tax"]["enabled"], "automatic_tax[enabled]")
            preds.append(lambda obj: (obj.get("automatic_tax") or {}).get("enabled") is enabled)
        for name in ("price", "plan"):
            if name in s:
                preds.append(_has_item_price(s[name]))
        preds.extend(_period_filters(query))
    if resource == "balance_transactions" and "payout" in s:
        preds.append(lambda obj: False)  # only automatic payouts' transactions; none are modelled
    if resource == "prices":
        if "active" in s:
            preds.append(_field_is("active", _boolean(s["active"], "active")))
        for sub, value in query.hashes.get("recurring", {}).items():
            preds.append(_recurring_is(sub, value))
        lookup_keys = query.arrays.get("lookup_keys")
        if lookup_keys is not None:
            if len(lookup_keys) > MAX_LOOKUP_KEYS:
                raise StripeError(
                    400,
                    f"Invalid array: lookup_keys may hold at most {MAX_LOOKUP_KEYS} keys",
                    param="lookup_keys",
                )
            wanted = set(lookup_keys)
            preds.append(lambda obj: obj.get("lookup_key") in wanted)
    if resource == "events":
        preds.extend(_event_filters(query))
    return _all_of(preds)


def _event_filters(query: Query) -> list[Predicate]:
    preds: list[Predicate] = []
    single = query.scalars.get("type")
    many = query.arrays.get("types")
    if single is not None and many is not None:
        raise exclusive("type", "types")
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
        # The emulator has no webhook endpoints: every event counts as delivered.
        delivered = _boolean(query.scalars["delivery_success"], "delivery_success")
        preds.append(lambda obj: delivered)
    return preds
