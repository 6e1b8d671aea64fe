"""Money: Stripe's integer minor units -> XDM numbers in major units, and currency codes.

Stripe sends every amount as an integer in the currency's smallest unit, except zero-decimal
currencies, whose integer is the amount itself; three-decimal currencies count thousandths
(https://docs.stripe.com/currencies). XDM's `currencyCode` fields take an upper-case ISO 4217
code (`^[A-Z]{3}$`, https://github.com/adobe/xdm/blob/master/components/datatypes/data/order.schema.json).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# Stripe's zero- and three-decimal lists (https://docs.stripe.com/currencies). Everything else
# has two decimals, including Stripe's special cases ISK, HUF and TWD, which the API keeps
# two-decimal.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

_EXPONENTS: dict[str, int] = {}  # filled as currencies are seen (a few per account)
_SCALE = {2: 100, 3: 1000}


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
