"""Money: minor -> major units by currency exponent (sign kept), upper-case currency codes."""

from __future__ import annotations

import pytest
from target_aep.mapping.money import currency_code, minor_to_major


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1099, "usd", 10.99),
        (500, "jpy", 500),
        (5120, "kwd", 5.12),
        (-400, "usd", -4.0),
        (1000, "krw", 1000),
        (12345, "bhd", 12.345),
        (100, "isk", 1.0),  # Stripe keeps ISK two-decimal in the API
        (0, "eur", 0.0),
        (-500, "jpy", -500),
    ],
)
def test_minor_to_major_uses_the_currency_exponent_and_keeps_the_sign(amount, currency, expected):
    result = minor_to_major(amount, currency)
    assert result == expected
    assert type(result) is type(expected)


def test_minor_to_major_without_amount_or_currency_writes_nothing():
    assert minor_to_major(None, "usd") is None
    assert minor_to_major(100, None) is None


def test_currency_codes_are_upper_case():
    assert currency_code("usd") == "USD"
    assert currency_code(None) is None
