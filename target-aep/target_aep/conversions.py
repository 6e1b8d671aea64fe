"""One converter per kind of value: money, currency codes, timestamps, names, empties, ids.

These run for every field of every record, so they stay small and allocation-light. Each one
returns `None` for "nothing to write"; the mapping engine never writes `None` (Platform rejects
null and empty values, aep.md 6.6).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from decimal import Decimal
from typing import Any

import msgspec

# Stripe's currency exponents (https://docs.stripe.com/currencies, aep.md 7.1). Everything not
# listed has two decimals, including Stripe's special cases ISK, HUF and TWD.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

_EXPONENTS: dict[str, int] = {}  # filled as currencies are seen (a few per account)
_SCALE = {2: 100, 3: 1000}
_UTC = dt.timezone.utc
_EMPTY = (None, "", {}, [])


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of `currency` (ISO 4217 code, any case)."""
    code = currency.upper()
    exponent = (
        0 if code in ZERO_DECIMAL_CURRENCIES else 3 if code in THREE_DECIMAL_CURRENCIES else 2
    )
    if len(_EXPONENTS) < 1000:
        _EXPONENTS[currency] = exponent
    return exponent


def minor_to_major(amount: Any, currency: Any) -> float | int | None:
    """Stripe's integer minor units -> a JSON number in major units (sign kept).

    XDM numbers are doubles. Python's int / int is correctly rounded, so 1099 / 100 is the double
    nearest to 10.99 (the same as float("10.99")), with no Decimal detour on the hot path. A
    zero-decimal currency keeps the integer itself.
    """
    if amount is None or amount == "" or not currency:
        return None
    exponent = _EXPONENTS.get(currency)
    if exponent is None:
        exponent = currency_exponent(str(currency))
    if exponent == 0:
        return int(amount)
    return int(amount) / _SCALE[exponent]


def decimal_minor_to_major(amount: Any, currency: Any) -> float | None:
    """Stripe's `*_decimal` strings (fractional minor units, e.g. "1000.5") -> major units."""
    if amount is None or amount == "" or not currency:
        return None
    return float(Decimal(str(amount)).scaleb(-currency_exponent(str(currency))))


def currency_code(currency: Any) -> str | None:
    """Stripe's lower-case ISO code -> XDM's `^[A-Z]{3}$`."""
    return currency.upper() if currency else None


def country_code(country: Any) -> str | None:
    """ISO 3166-1 alpha-2, upper-case as XDM's address datatype requires."""
    return country.upper() if country else None


def lower_trimmed(value: Any) -> str | None:
    """E-mail identities are matched case-insensitively: store them lower-case, trimmed."""
    if not value:
        return None
    text = str(value).strip().lower()
    return text or None


# Unix seconds -> RFC 3339, for the stamps seen lately: a record repeats its moments (`created`,
# period bounds, its items'), and neighbours share them. Emptied when full, so memory stays flat.
_STAMPS: dict[int, str] = {}
_STAMPS_MAX = 4096
_LAST_STAMP: tuple[Any, Any] = (None, None)


def to_rfc3339(value: Any) -> str | None:
    """A timestamp in any form Stripe taps emit -> RFC 3339 UTC with 'Z' (XDM date-time).

    Accepts Unix seconds (int, float or numeric string), ISO 8601 strings, and the `datetime`
    objects the SDK makes of `date-time` fields before the sink sees them.
    """
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is int:  # the common case (Stripe's Unix seconds): no datetime object needed
        global _LAST_STAMP  # the last one first: a row often converts what the previous did
        last = _LAST_STAMP
        if last[0] == value:
            return last[1]
        stamp = _STAMPS.get(value)
        if stamp is None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
            if len(_STAMPS) >= _STAMPS_MAX:
                _STAMPS.clear()
            _STAMPS[value] = stamp
        _LAST_STAMP = (value, stamp)  # swapped as one tuple (thread-safe)
        return stamp
    if kind is bool:
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        moment = dt.datetime.fromtimestamp(value, _UTC)
    elif isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_UTC)
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            moment = dt.datetime.fromtimestamp(float(text), _UTC)
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_UTC)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    moment = moment.astimezone(_UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_date(value: Any) -> str | None:
    """A timestamp -> XDM `date` (YYYY-MM-DD, UTC)."""
    stamp = to_rfc3339(value)
    return stamp[:10] if stamp else None


_CAMEL_CACHE: dict[str, str] = {}


def camel_case(name: str) -> str:
    """Stripe's snake_case -> XDM's camelCase (`amount_captured` -> `amountCaptured`).

    Cached: the same few hundred field names come back on every record. Characters Platform does
    not allow in field names (anything but letters, digits, `-` and `_`) become `_`, and a leading
    `_` is dropped (only the tenant root may start with one, aep.md 6.6).
    """
    cached = _CAMEL_CACHE.get(name)
    if cached is not None:
        return cached
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    head, *rest = [part for part in cleaned.split("_") if part] or ["field"]
    result = head[:1].lower() + head[1:] + "".join(p[:1].upper() + p[1:] for p in rest)
    if result[:1].isdigit():
        result = "f" + result
    if len(_CAMEL_CACHE) < 10_000:
        _CAMEL_CACHE[name] = result
    return result


def is_empty(value: Any) -> bool:
    """Null and empty values are not sent: Platform rejects them (omit the key instead)."""
    return value is None or value in _EMPTY


def strip_empty(value: Any) -> Any:
    """Recursively drop null/empty values; returns None when nothing is left."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            item = strip_empty(item)
            if item is not None:
                kept[key] = item
        return kept or None
    if isinstance(value, list):
        kept_items = [item for item in map(strip_empty, value) if item is not None]
        return kept_items or None
    if value is None or value == "":
        return None
    return value


# Sorted keys make the encoding canonical; msgspec (already here through singer-sdk[msgspec])
# does it in ~2 µs for a charge where json.dumps(sort_keys=True) takes ~30 µs.
_CANONICAL = msgspec.json.Encoder(order="sorted", decimal_format="number")


def state_digest(obj: dict) -> str:
    """Canonical digest of an object's whole state (key order ignored).

    Changes whenever any field changes, so a changed object gets a new `_id` while a re-send of
    the same state keeps the old one.
    """
    return hashlib.blake2b(_CANONICAL.encode(obj), digest_size=12).hexdigest()


_SINGER_BOOKKEEPING = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)


def record_id(stream: str, source_id: Any, obj: Any) -> str:
    """Deterministic `_id`: stream + Stripe id + state digest (aep.md 7.1, design choice).

    Singer's `_sdc_*` bookkeeping (extraction time, sequence...) differs on every run and is
    not part of the object's state; only `_sdc_deleted_at` is, since a delete is a new state.
    """
    state = obj
    if not obj.keys().isdisjoint(_SINGER_BOOKKEEPING):  # no set built per record
        state = dict(obj)
        for key in _SINGER_BOOKKEEPING:
            state.pop(key, None)
    if source_id is None or source_id == "":
        return f"stripe:{stream}:{state_digest(state)}"
    return f"stripe:{stream}:{source_id}:{state_digest(state)}"
