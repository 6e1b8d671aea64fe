"""Realistic Stripe objects for the emulator's data sets and for tests.

Every factory starts from Stripe's example object `<examples dir>/<name>.json` (copied, every
field kept) so clients see Stripe's real shapes; only ids, timestamps, amounts, currency, status,
links and metadata are varied. The examples dir is `$STRIPE_XDM_SHARED/stripe-examples`, by
default the `shared/stripe-examples` folder beside the repository this package sits in. When it
is absent, the small templates in builtin_examples.json (package data) stand in (logged, see
BUILTIN_NOTE) so the emulator still runs from a bare clone or an installed wheel. Whole linked
data sets: seed_data.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import string
from pathlib import Path
from typing import Any

from stripe_emulator.resources import OBJECT_OF

_log = logging.getLogger(__name__)
# stripe-emulator/stripe_emulator/object_factories.py -> the repository holding the package.
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("STRIPE_XDM_SHARED", REPO_ROOT.parent / "shared"))
EXAMPLES_DIR = SHARED / "stripe-examples"

BUILTIN_EXAMPLES = Path(__file__).with_name("builtin_examples.json")
BUILTIN_NOTE = (
    "built-in minimal template: the folder of Stripe's example objects is absent, so objects "
    "carry only a subset of Stripe's fields"
)

CURRENCIES = ("usd", "eur", "gbp", "jpy")
CURRENCY_WEIGHTS = (6, 2, 1, 1)
ZERO_DECIMAL = frozenset({"jpy", "krw", "vnd", "clp", "xof", "xaf"})

SUBSCRIPTION_STATUS_WEIGHTS = (10, 2, 1, 1, 3, 1, 1, 1)

DAY = 86_400
_ID_ALPHABET = string.ascii_letters + string.digits
# Random byte -> id character (a table lookup keeps id creation off the seeding profile).
_ID_BYTES = bytes(ord(_ID_ALPHABET[i % len(_ID_ALPHABET)]) for i in range(256))
_NAMES = ("Jenny Rosen", "Ada Okafor", "Kenji Sato", "Lena Vogel", "Marta Silva", "Omar Haddad")


@functools.cache
def _example_text(name: str) -> str:
    path = EXAMPLES_DIR / f"{name}.json"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    _log.warning("Stripe example %s: %s (looked for %s)", name, BUILTIN_NOTE, path)
    return json.dumps(_builtin_examples()[name])


@functools.cache
def _builtin_examples() -> dict[str, dict[str, Any]]:
    return json.loads(BUILTIN_EXAMPLES.read_text(encoding="utf-8"))


@functools.cache
def _item_template_text() -> str:
    """The example subscription's first item (an empty template without the examples)."""
    items = (example("subscription").get("items") or {}).get("data") or [{}]
    return json.dumps(items[0])


def _clone(obj: Any) -> Any:
    """A deep copy of plain JSON data (several times faster than copy.deepcopy)."""
    return json.loads(json.dumps(obj))


def examples_available() -> bool:
    """True when Stripe's example objects are used (False: built-in templates, see BUILTIN_NOTE)."""
    return EXAMPLES_DIR.is_dir()


def example(name: str) -> dict[str, Any]:
    """A fresh deep copy of Stripe's example `name` object (e.g. "charge")."""
    if name not in OBJECT_OF.values():
        raise KeyError(f"no Stripe example for {name!r}; known: {sorted(OBJECT_OF.values())}")
    return json.loads(_example_text(name))


def new_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    """A Stripe-looking id (`ch_3Mml...`); 24 random base62 characters make collisions moot."""
    return f"{prefix}_" + rng.randbytes(length).translate(_ID_BYTES).decode("ascii")


def random_amount(rng: random.Random, currency: str) -> int:
    """An amount in the currency's minor unit (yen has none, so whole yen)."""
    if currency in ZERO_DECIMAL:
        return rng.randrange(100, 50_000, 10)
    return rng.randrange(50, 250_000)


def pick_currency(rng: random.Random) -> str:
    return rng.choices(CURRENCIES, CURRENCY_WEIGHTS)[0]


def _metadata(rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.5:
        return {}
    return {"order_id": str(rng.randrange(10**6, 10**7)), "channel": rng.choice(("web", "app"))}


def make_customer(
    rng: random.Random, created: int, *, email: str | None = None, currency: str | None = None
) -> dict[str, Any]:
    customer = example("customer")
    name = rng.choice(_NAMES)
    customer.update(
        id=new_id(rng, "cus", 14),
        created=created,
        name=name,
        email=email or f"{name.split()[0].lower()}.{rng.randrange(10**6)}@example.com",
        currency=currency,
        metadata=_metadata(rng),
    )
    if "invoice_prefix" in customer:
        customer["invoice_prefix"] = "".join(
            rng.choices(string.ascii_uppercase + "0123456789", k=8)
        )
    return customer


def make_price(
    rng: random.Random,
    created: int,
    *,
    currency: str = "usd",
    active: bool = True,
    recurring: bool = True,
    product: str | None = None,
) -> dict[str, Any]:
    price = example("price")
    amount = random_amount(rng, currency)
    price.update(
        id=new_id(rng, "price"),
        created=created,
        currency=currency,
        active=active,
        product=product or new_id(rng, "prod", 14),
        unit_amount=amount,
        unit_amount_decimal=str(amount),
        metadata=_metadata(rng),
        type="recurring" if recurring else "one_time",
    )
    if recurring:
        template = price.get("recurring") or _builtin_examples()["price"]["recurring"]
        price["recurring"] = {**template, "interval": rng.choice(("month", "month", "year"))}
    else:
        price["recurring"] = None
    return price


def make_charge(
    rng: random.Random,
    created: int,
    customer_id: str | None = None,
    currency: str = "usd",
    *,
    status: str = "succeeded",
    billing_email: str | None = None,
    amount: int | None = None,
) -> dict[str, Any]:
    charge = example("charge")
    amount = amount if amount is not None else random_amount(rng, currency)
    succeeded = status == "succeeded"
    charge.update(
        id=new_id(rng, "ch"),
        created=created,
        amount=amount,
        amount_captured=amount if succeeded else 0,
        amount_refunded=0,
        refunded=False,
        captured=succeeded,
        paid=succeeded,
        status=status,
        currency=currency,
        customer=customer_id,
        balance_transaction=new_id(rng, "txn") if succeeded else None,
        payment_intent=new_id(rng, "pi"),
        payment_method=new_id(rng, "pm"),
        metadata=_metadata(rng),
    )
    if isinstance(charge.get("billing_details"), dict):
        charge["billing_details"]["email"] = billing_email
    if status == "failed":
        charge.update(failure_code="card_declined", failure_message="Your card was declined.")
        if isinstance(charge.get("outcome"), dict):
            charge["outcome"].update(
                network_status="declined_by_network",
                reason="generic_decline",
                seller_message="The bank did not return any further details with this decline.",
                type="issuer_declined",
            )
    return charge


def make_refund(
    rng: random.Random,
    created: int,
    charge: dict[str, Any] | None = None,
    *,
    amount: int | None = None,
) -> dict[str, Any]:
    refund = example("refund")
    currency = charge["currency"] if charge else "usd"
    refund.update(
        id=new_id(rng, "re"),
        created=created,
        amount=amount if amount is not None else random_amount(rng, currency),
        currency=currency,
        charge=charge["id"] if charge else None,
        payment_intent=charge.get("payment_intent") if charge else None,
        balance_transaction=new_id(rng, "txn"),
        status=rng.choices(("succeeded", "pending", "failed"), (8, 1, 1))[0],
        metadata=_metadata(rng),
    )
    return refund


def make_balance_transaction(
    rng: random.Random,
    created: int,
    *,
    amount: int,
    currency: str = "usd",
    kind: str = "charge",
    source: str | None = None,
    txn_id: str | None = None,
) -> dict[str, Any]:
    txn = example("balance_transaction")
    fee = max(0, round(abs(amount) * 0.029) + (30 if currency not in ZERO_DECIMAL else 0))
    fee = fee if kind == "charge" else 0
    available_on = created + 2 * DAY
    txn.update(
        id=txn_id or new_id(rng, "txn"),
        created=created,
        available_on=available_on,
        amount=amount,
        currency=currency,
        fee=fee,
        fee_details=(
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        ),
        net=amount - fee,
        reporting_category=kind,
        source=source,
        status=rng.choice(("available", "available", "pending")),
        type=kind,
    )
    return txn


def make_subscription_item(
    rng: random.Random,
    created: int,
    subscription_id: str,
    price: dict[str, Any],
    period: tuple[int, int],
) -> dict[str, Any]:
    """A subscription item; since basil the billing period lives on the item."""
    item = json.loads(_item_template_text())
    item.update(
        id=new_id(rng, "si", 14),
        object="subscription_item",
        created=created,
        metadata={},
        price=_clone(price),
        plan=_plan_view(price),
        quantity=rng.randint(1, 5),
        subscription=subscription_id,
        current_period_start=period[0],
        current_period_end=period[1],
    )
    item.setdefault("tax_rates", [])
    return item


def _plan_view(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` rendering of a recurring price (Stripe still embeds both on items)."""
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price.get("active", True),
        "aggregate_usage": recurring.get("aggregate_usage"),
        "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme", "per_unit"),
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": False,
        "metadata": price.get("metadata", {}),
        "nickname": price.get("nickname"),
        "product": price.get("product"),
        "tiers_mode": price.get("tiers_mode"),
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def make_subscription(
    rng: random.Random,
    created: int,
    customer_id: str | None,
    prices: list[dict[str, Any]],
    *,
    status: str = "active",
) -> dict[str, Any]:
    """A subscription with one item per price; `items` holds ALL items (the store
    embeds the first 10, as Stripe does)."""
    sub = example("subscription")
    sub_id = new_id(rng, "sub")
    interval = ((prices[0].get("recurring") or {}).get("interval") if prices else None) or "month"
    length = 365 * DAY if interval == "year" else 30 * DAY
    period = (created, created + length)
    items = [make_subscription_item(rng, created + 1, sub_id, p, period) for p in prices]
    sub.update(
        id=sub_id,
        created=created,
        start_date=created,
        billing_cycle_anchor=created,
        currency=prices[0]["currency"] if prices else "usd",
        customer=customer_id,
        status=status,
        metadata=_metadata(rng),
        latest_invoice=new_id(rng, "in"),
        quantity=items[0]["quantity"] if len(items) == 1 else None,
        items={
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
    )
    if "current_period_start" in sub:
        sub["current_period_start"], sub["current_period_end"] = period
    if status in ("canceled", "incomplete_expired"):
        ended = created + rng.randrange(DAY, 20 * DAY)
        sub.update(canceled_at=ended, ended_at=ended)
        if isinstance(sub.get("cancellation_details"), dict):
            sub["cancellation_details"]["reason"] = (
                "cancellation_requested" if status == "canceled" else "payment_failed"
            )
    if status == "trialing":
        sub.update(trial_start=created, trial_end=created + 14 * DAY)
    if status == "paused":
        sub["pause_collection"] = {"behavior": "void", "resumes_at": None}
    return sub
