"""`expand[]`: replace ids by the objects they name, as Stripe does on request
(https://docs.stripe.com/expand).

Stripe checks every path: at most 4 levels (on lists the leading `data` is one of them), and the
last property must be expandable ("This property cannot be expanded (x)."); embedded objects
and lists on the way can be walked through (`data.items.data.price.product`; a null one ends the
walk). The emulator expands properties naming objects it stores (customers, charges, refunds,
balance transactions), fills the includable `charge.refunds` and `customer.subscriptions`, and
accepts the documented expandables it does not model (payment_intent, product, latest_invoice,
...) leaving their ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_emulator.errors import StripeError

MAX_DEPTH = 4


@dataclass(frozen=True)
class Ref:
    """The id names an object in this stored list (`by_prefix` picks the list from the id)."""

    resource: str | None = None
    by_prefix: bool = False


@dataclass(frozen=True)
class Children:
    """Includable list: stored `resource` objects whose `field` is this object's id."""

    resource: str
    field: str


NOT_MODELLED = Ref()
SOURCE_LISTS = {"ch_": "charges", "py_": "charges", "re_": "refunds", "pyr_": "refunds"}

# object -> property -> how to expand it (docs: each object's "Expandable" attributes).
EXPANDABLE: dict[str, dict[str, Ref | Children]] = {
    "charge": {
        "customer": Ref("customers"),
        "balance_transaction": Ref("balance_transactions"),
        "failure_balance_transaction": Ref("balance_transactions"),
        "refunds": Children("refunds", "charge"),
        **dict.fromkeys(
            (
                "application",
                "application_fee",
                "invoice",
                "on_behalf_of",
                "payment_intent",
                "review",
                "source_transfer",
                "transfer",
            ),
            NOT_MODELLED,
        ),
    },
    "refund": {
        "charge": Ref("charges"),
        "customer": Ref("customers"),
        "balance_transaction": Ref("balance_transactions"),
        "failure_balance_transaction": Ref("balance_transactions"),
        **dict.fromkeys(
            ("payment_intent", "payment_method", "source_transfer_reversal", "transfer_reversal"),
            NOT_MODELLED,
        ),
    },
    "subscription": {
        "customer": Ref("customers"),
        **dict.fromkeys(
            (
                "application",
                "default_payment_method",
                "default_source",
                "latest_invoice",
                "on_behalf_of",
                "pending_setup_intent",
                "schedule",
                "test_clock",
            ),
            NOT_MODELLED,
        ),
    },
    "balance_transaction": {"source": Ref(by_prefix=True)},
    "customer": {
        "subscriptions": Children("subscriptions", "customer"),
        **dict.fromkeys(
            (
                "default_source",
                "test_clock",
                "sources",
                "tax_ids",
                "tax",
                "cash_balance",
                "invoice_credit_balance",
            ),
            NOT_MODELLED,
        ),
    },
    "price": dict.fromkeys(("product", "currency_options", "tiers"), NOT_MODELLED),
    "plan": dict.fromkeys(("product", "tiers"), NOT_MODELLED),
    "subscription_item": {},
}
EMBEDDED_LIST_PAGE = 10

Lookup = Callable[[str, str], "dict[str, Any] | None"]
ChildLookup = Callable[[str, str, str], "list[dict[str, Any]]"]


def expansion_paths(
    paths: list[str], object_name: str, *, on_list: bool
) -> list[tuple[str, list[str]]]:
    """Validated (path, segments) pairs; on lists the segments lose the leading `data`.

    One-property paths are checked here, so an empty list rejects them too; deeper paths are
    checked while expanding (whether a step is an embedded object depends on the data).
    """
    parsed = []
    for path in paths:
        segments = path.split(".")
        if len(segments) > MAX_DEPTH:
            raise StripeError(
                400,
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        if on_list:
            if segments[0] != "data" or len(segments) < 2:
                raise _cannot_expand(path)
            segments = segments[1:]
        if len(segments) == 1 and segments[0] not in EXPANDABLE.get(object_name, {}):
            raise _cannot_expand(path)
        parsed.append((path, segments))
    return parsed


def expand(
    obj: dict[str, Any], segments: list[str], path: str, lookup: Lookup, children: ChildLookup
) -> None:
    """Expand one path in place on `obj` (a deep copy the caller owns)."""
    rules = EXPANDABLE.get(str(obj.get("object")), {})
    field, rest = segments[0], segments[1:]
    rule = rules.get(field)
    value = obj.get(field)
    if rule is None and (not rest or not (isinstance(value, dict) or field in obj)):
        raise _cannot_expand(path)  # a property present but null ends the walk
    if isinstance(rule, Children):
        value = obj[field] = _child_list(rule, obj["id"], children)
    elif isinstance(rule, Ref) and isinstance(value, str):
        resource = SOURCE_LISTS.get(value.split("_")[0] + "_") if rule.by_prefix else rule.resource
        target = lookup(resource, value) if resource else None
        if target is not None:
            value = obj[field] = target
    if not rest or not isinstance(value, dict):
        return
    if value.get("object") == "list" and rest[0] == "data":
        if len(rest) > 1:
            for item in value.get("data") or []:
                expand(item, rest[1:], path, lookup, children)
        return
    expand(value, rest, path, lookup, children)


def _child_list(rule: Children, parent_id: str, children: ChildLookup) -> dict[str, Any]:
    found = children(rule.resource, rule.field, parent_id)
    return {
        "object": "list",
        "data": found[:EMBEDDED_LIST_PAGE],
        "has_more": len(found) > EMBEDDED_LIST_PAGE,
        "total_count": len(found),
        "url": f"/v1/{rule.resource}?{rule.field}={parent_id}",
    }


def _cannot_expand(path: str) -> StripeError:
    return StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
