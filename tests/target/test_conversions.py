"""The value converters: money by currency exponent, currency codes, timestamps, empties, ids."""

from __future__ import annotations

import datetime as dt

import pytest
from target_aep.conversions import (
    camel_case,
    currency_code,
    minor_to_major,
    record_id,
    strip_empty,
    to_date,
    to_rfc3339,
)


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


@pytest.mark.parametrize(
    "value",
    [
        1679090539,
        "1679090539",
        1679090539.0,
        "2023-03-17T22:02:19Z",
        "2023-03-17T22:02:19+00:00",
        "2023-03-17T23:02:19+01:00",
        dt.datetime(2023, 3, 17, 22, 2, 19, tzinfo=dt.timezone.utc),
        dt.datetime(2023, 3, 17, 22, 2, 19),  # naive: the SDK's parse of a UTC string
    ],
)
def test_every_timestamp_form_becomes_rfc3339_utc_with_z(value):
    assert to_rfc3339(value) == "2023-03-17T22:02:19Z"


def test_fractional_seconds_are_kept_and_dates_are_cut_from_timestamps():
    assert to_rfc3339("2023-03-17T22:02:19.250Z") == "2023-03-17T22:02:19.250000Z"
    assert to_date(1679090539) == "2023-03-17"
    assert to_rfc3339(None) is None


def test_a_boolean_is_not_a_timestamp():
    with pytest.raises(ValueError, match="not a timestamp"):
        to_rfc3339(True)


def test_nulls_and_empties_are_removed_recursively():
    source = {
        "a": None,
        "b": "",
        "c": {},
        "d": [],
        "e": {"f": None, "g": [None, {}]},
        "h": 0,
        "i": False,
    }
    assert strip_empty(source) == {"h": 0, "i": False}


def test_camel_case_follows_xdm_naming():
    assert camel_case("amount_captured") == "amountCaptured"
    assert camel_case("last4") == "last4"
    assert camel_case("address_line1_check") == "addressLine1Check"
    assert camel_case("_private") == "private"
    assert camel_case("with space") == "withSpace"


def test_same_state_gives_the_same_id_and_a_changed_state_a_new_one():
    charge = {"id": "ch_1", "status": "pending", "amount": 1099, "metadata": {"b": "2", "a": "1"}}
    reordered = {
        "metadata": {"a": "1", "b": "2"},
        "amount": 1099,
        "status": "pending",
        "id": "ch_1",
    }
    changed = {**charge, "status": "succeeded"}
    assert record_id("charges", "ch_1", charge) == record_id("charges", "ch_1", reordered)
    assert record_id("charges", "ch_1", charge) != record_id("charges", "ch_1", changed)
    assert record_id("charges", "ch_1", charge).startswith("stripe:charges:ch_1:")


def test_singer_bookkeeping_does_not_change_the_id_but_a_delete_does():
    charge = {"id": "cus_1", "email": "a@example.com"}
    with_metadata = {**charge, "_sdc_extracted_at": "2024-01-01T00:00:00Z", "_sdc_sequence": 5}
    deleted = {**charge, "_sdc_deleted_at": "2024-02-01T00:00:00Z"}
    assert record_id("customers", "cus_1", charge) == record_id("customers", "cus_1", with_metadata)
    assert record_id("customers", "cus_1", charge) != record_id("customers", "cus_1", deleted)
