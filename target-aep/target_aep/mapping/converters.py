"""Named converters the mapping tables refer to: `(value, source_object, options) -> value | None`.

A table names a converter as a string, e.g. `"money"` or `"event_type(stripe.refund.)"` (a
factory with one argument). Each entry also says the JSON Schema of what it produces, so fields a
table adds to the tenant area are validated like everything else. `None` means "write nothing".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from target_aep.mapping.changes import CHANGE_TIME_FIELD
from target_aep.mapping.money import currency_code, decimal_minor_to_major, minor_to_major
from target_aep.mapping.timestamps import to_rfc3339
from target_aep.sdk_adapters import SDC_DELETED_AT
from target_aep.settings import TargetSettings


@dataclass(frozen=True)
class MappingOptions:
    """Settings that change what the converters produce."""

    tenant_id: str
    identity_namespace: str = TargetSettings.identity_namespace  # the setting's default
    id_ignore_fields: frozenset[str] = frozenset(TargetSettings.id_ignore_fields)


Converter = Callable[[Any, Mapping[str, Any], MappingOptions], Any]

_NUMBER = {"type": "number"}
_INTEGER = {"type": "integer"}
_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_DATE_TIME = {"type": "string", "format": "date-time"}


def id_of(value: Any) -> str | None:
    """Stripe's expandable fields hold an id or the expanded object; either way, the id."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    return str(value)


def _text(value: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    if type(value) is str:  # the common case, without a call
        return value or None
    return id_of(value)


def _raw(value: Any, _obj: Mapping, _opts: MappingOptions) -> Any:
    return None if value in ({}, []) else value


def _integer(value: Any, _obj: Mapping, _opts: MappingOptions) -> int | None:
    return None if value is None or value == "" else int(value)


def _money(value: Any, obj: Mapping, _opts: MappingOptions) -> float | int | None:
    return minor_to_major(value, obj.get("currency"))


def _money_if_positive(value: Any, obj: Mapping, opts: MappingOptions) -> float | int | None:
    return _money(value, obj, opts) if value else None


def _currency(value: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    return currency_code(value)


def _country(value: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    """ISO 3166-1 alpha-2, upper-case as XDM's address datatype requires (`^[A-Z]{2}$`)."""
    return value.upper() if value else None


def _timestamp(value: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    return to_rfc3339(value)


def _lower_trimmed(value: Any) -> str | None:
    """E-mail identities are matched case-insensitively: store them lower-case, trimmed."""
    if not value:
        return None
    text = str(value).strip().lower()
    return text or None


def _email(value: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    return _lower_trimmed(value)


def _state_province(address: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    """XDM's `stateProvince` is ISO 3166-2 (`US-CA`); only built when Stripe's parts fit it."""
    if not isinstance(address, dict):
        return None
    country, state = address.get("country"), address.get("state")
    if not country or not state:
        return None
    code = f"{country.upper()}-{str(state).upper()}"
    head, _, tail = code.partition("-")
    if len(head) == 2 and head.isalpha() and 1 <= len(tail) <= 3 and tail.isalnum():
        return code
    return None


def _customer_identity(value: Any, _obj: Mapping, opts: MappingOptions) -> dict | None:
    """The Stripe customer id in the custom namespace (`identity_namespace`), the primary
    identity: it is the person, wherever the object names one."""
    customer = id_of(value)
    if not customer:
        return None
    item = {"id": customer, "primary": True, "authenticatedState": "authenticated"}
    return {opts.identity_namespace: [item]}


def _charge_customer_identity(charge: Any, obj: Mapping, opts: MappingOptions) -> dict | None:
    """Refunds name only their charge; when the tap expanded it, its customer is the person."""
    if isinstance(charge, dict):
        return _customer_identity(charge.get("customer"), obj, opts)
    return None


def _email_identity(value: Any, _obj: Mapping, _opts: MappingOptions) -> dict | None:
    """E-mail as a secondary identity (promoted to primary by the engine when it is alone)."""
    email = _lower_trimmed(value)
    if not email or "@" not in email:
        return None
    return {"Email": [{"id": email, "primary": False}]}


_CARD_FUNDING: dict[Any, str] = {"credit": "credit_card", "debit": "debit_card"}


def _payment_type(details: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    """Stripe payment method -> XDM's paymentType values (credit_card, debit_card, paypal, other,
    ...: https://experienceleague.adobe.com/en/docs/experience-platform/xdm/data-types/payment-item)."""
    if not isinstance(details, dict) or not details.get("type"):
        return None
    kind = details["type"]
    if kind == "card":
        funding = (details.get("card") or {}).get("funding")
        return _CARD_FUNDING.get(funding, "other")
    if kind == "paypal":
        return "paypal"
    return "other"


def _refund_payment_type(refund: Any, _obj: Mapping, opts: MappingOptions) -> str | None:
    """`refundPaymentType` is a strict enum: a card refund is credit/debit only when known."""
    charge = refund.get("charge")
    if isinstance(charge, dict):
        known = _payment_type(charge.get("payment_method_details"), charge, opts)
        if known:
            return known
    return "other" if refund.get("destination_details") or refund.get("charge") else None


def _is_purchase(charge: Any, _obj: Mapping, _opts: MappingOptions) -> bool | None:
    """A charge is a purchase once it has succeeded and been captured: a bank debit is
    `pending` for days first, an authorisation `succeeded` but not `captured`
    (https://docs.stripe.com/api/charges/object#charge_object-status,
    https://docs.stripe.com/api/charges/object#charge_object-captured)."""
    return (charge.get("status") == "succeeded" and charge.get("captured", True)) or None


def _refund_in_effect(refund: Any, _obj: Mapping, _opts: MappingOptions) -> bool | None:
    """A refund returns money unless it failed or was canceled; `pending` counts, as Stripe
    counts it in the charge's `amount_refunded`
    (https://docs.stripe.com/api/refunds/object#refund_object-status)."""
    return refund.get("status") not in ("failed", "canceled") or None


def _charge_event_type(charge: Any, obj: Mapping, opts: MappingOptions) -> str | None:
    """A purchase is `commerce.purchases`; every other state is a Stripe event type."""
    if _is_purchase(charge, obj, opts):
        return "commerce.purchases"
    status = charge.get("status")
    return f"stripe.charge.{status}" if status else "stripe.charge"


def _purchase_measure(charge: Any, obj: Mapping, opts: MappingOptions) -> int | None:
    return 1 if _is_purchase(charge, obj, opts) else None


def _captured_amount(charge: Any, _obj: Mapping, _opts: MappingOptions) -> float | int | None:
    """What was actually paid: `amount_captured` once captured, else the authorised amount."""
    amount = charge.get("amount_captured") if charge.get("captured") else None
    if amount is None:
        amount = charge.get("amount")
    return minor_to_major(amount, charge.get("currency"))


def _modified_at(obj: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    """When the object took this state: the change's time, else its creation."""
    return to_rfc3339(obj.get(CHANGE_TIME_FIELD) or obj.get(SDC_DELETED_AT) or obj.get("created"))


def _item_price(item: Mapping) -> Mapping:
    return item.get("price") or item.get("plan") or {}


def _item_currency(item: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
    return currency_code(_item_price(item).get("currency"))


def _item_price_total(item: Any, _obj: Mapping, _opts: MappingOptions) -> float | int | None:
    """Unit price x quantity of a subscription item, in major units of the price's currency."""
    price = _item_price(item)
    unit = price.get("unit_amount", price.get("amount"))
    if unit is None:
        return None
    return minor_to_major(int(unit) * int(item.get("quantity") or 1), price.get("currency"))


def _unit_price(price: Any, _obj: Mapping, _opts: MappingOptions) -> float | int | None:
    """A price's amount; `unit_amount_decimal` keeps fractional minor units."""
    if price.get("unit_amount") is not None:
        return minor_to_major(price["unit_amount"], price.get("currency"))
    return decimal_minor_to_major(price.get("unit_amount_decimal"), price.get("currency"))


def _event_type(prefix: str) -> Converter:
    def convert(value: Any, _obj: Mapping, _opts: MappingOptions) -> str | None:
        return f"{prefix}{value}" if value else prefix.rstrip(".")

    return convert


CONVERTERS: dict[str, tuple[Converter, dict]] = {
    "text": (_text, _STRING),
    "raw": (_raw, {}),
    "integer": (_integer, _INTEGER),
    "boolean": (_raw, _BOOLEAN),
    "money": (_money, _NUMBER),
    "money_if_positive": (_money_if_positive, _NUMBER),
    "currency": (_currency, _STRING),
    "country": (_country, _STRING),
    "timestamp": (_timestamp, _DATE_TIME),
    "email": (_email, _STRING),
    "state_province": (_state_province, _STRING),
    "customer_identity": (_customer_identity, {}),
    "charge_customer_identity": (_charge_customer_identity, {}),
    "email_identity": (_email_identity, {}),
    "payment_type": (_payment_type, _STRING),
    "refund_payment_type": (_refund_payment_type, _STRING),
    "is_purchase": (_is_purchase, _BOOLEAN),
    "refund_in_effect": (_refund_in_effect, _BOOLEAN),
    "charge_event_type": (_charge_event_type, _STRING),
    "purchase_measure": (_purchase_measure, _INTEGER),
    "captured_amount": (_captured_amount, _NUMBER),
    "modified_at": (_modified_at, _DATE_TIME),
    "item_currency": (_item_currency, _STRING),
    "item_price_total": (_item_price_total, _NUMBER),
    "unit_price": (_unit_price, _NUMBER),
}

# Converters that write nothing for a null (they return None): the generated rows do not call
# them for one. Others may write something for it (`event_type`: the bare prefix).
NOTHING_FOR_NULL = frozenset(
    {"text", "raw", "integer", "boolean", "money", "money_if_positive", "currency", "country",
     "timestamp", "email", "state_province", "customer_identity", "charge_customer_identity",
     "email_identity", "payment_type"}
)  # fmt: skip

CONVERTER_FACTORIES: dict[str, tuple[Callable[[str], Converter], dict]] = {
    "event_type": (_event_type, _STRING),
}


def converter_named(name: str) -> tuple[Converter, dict]:
    """Look a converter up by its table name; `factory(arg)` names build one with an argument."""
    if name in CONVERTERS:
        return CONVERTERS[name]
    factory_name, _, rest = name.partition("(")
    if rest.endswith(")") and factory_name in CONVERTER_FACTORIES:
        factory, schema = CONVERTER_FACTORIES[factory_name]
        return factory(rest[:-1]), schema
    raise KeyError(f"unknown converter {name!r} in a mapping table")
