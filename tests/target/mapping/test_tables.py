"""Each stream's table maps its Stripe example to the XDM fields its class and field groups hold."""

from __future__ import annotations

import datetime as dt

import pytest
from target_aep.mapping import UnmappedStreamError, mapper_for
from target_aep.mapping.converters import MappingOptions

from tests.target.examples import example

OPTIONS = MappingOptions(tenant_id="acme")


def mapped(stream: str, record: dict | None = None) -> dict:
    return mapper_for(stream, OPTIONS).map(record or example(stream))


def leaves(value, prefix=()):
    """Every non-empty scalar of a nested value, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*prefix, index))
    elif value is not None and value != "":
        yield prefix, value


def test_charge_maps_to_a_commerce_purchase_event():
    xdm = mapped("charges")
    assert xdm["timestamp"] == "2023-03-17T22:02:19Z"
    assert xdm["eventType"] == "commerce.purchases"
    assert xdm["commerce"]["purchases"] == {"value": 1}
    order = xdm["commerce"]["order"]
    assert order["priceTotal"] == 10.99
    assert order["currencyCode"] == "USD"
    assert order["purchaseID"] == "ch_3MmlLrLkdIwHu7ix0snN0B15"  # no payment_intent: the charge
    assert order["payments"] == [
        {
            "transactionID": "ch_3MmlLrLkdIwHu7ix0snN0B15",
            "paymentAmount": 10.99,
            "paymentType": "credit_card",
            "currencyCode": "USD",
        }
    ]
    assert "refundTotal" not in order  # amount_refunded is 0
    stripe = xdm["_acme"]["stripe"]
    assert stripe["objectType"] == "charge"
    assert stripe["charge"]["outcome"]["riskScore"] == 32
    assert stripe["charge"]["paymentMethodDetails"]["card"]["last4"] == "4242"


def test_a_failed_charge_is_a_stripe_event_type_with_identities():
    charge = {
        **example("charges"),
        "status": "failed",
        "captured": False,
        "customer": "cus_1",
        "billing_details": {"email": " Jenny@Example.com ", "address": {"country": "us"}},
        "payment_intent": "pi_1",
        "amount_refunded": 500,
    }
    xdm = mapped("charges", charge)
    assert xdm["eventType"] == "stripe.charge.failed"
    assert "purchases" not in xdm["commerce"]
    assert xdm["commerce"]["order"]["purchaseID"] == "pi_1"
    assert "refundTotal" not in xdm["commerce"]["order"]  # counted on the refund's own event
    assert xdm["_acme"]["stripe"]["charge"]["amountRefunded"] == 500
    assert xdm["commerce"]["billing"]["address"] == {"countryCode": "US"}
    assert xdm["identityMap"] == {
        "StripeCustomerID": [
            {"id": "cus_1", "primary": True, "authenticatedState": "authenticated"}
        ],
        "Email": [{"id": "jenny@example.com", "primary": False}],
    }


def test_a_guest_charge_makes_its_email_the_primary_identity():
    charge = {**example("charges"), "receipt_email": "guest@example.com"}
    assert mapped("charges", charge)["identityMap"] == {
        "Email": [{"id": "guest@example.com", "primary": True}]
    }


def test_identity_namespace_is_configurable():
    options = MappingOptions(tenant_id="acme", identity_namespace="StripeCus")
    xdm = mapper_for("subscriptions", options).map(example("subscriptions"))
    assert list(xdm["identityMap"]) == ["StripeCus"]


def test_refund_keeps_stripe_reason_in_the_tenant_area_not_in_refund_reason():
    refund = {**example("refunds"), "reason": "requested_by_customer"}
    xdm = mapped("refunds", refund)
    assert xdm["eventType"] == "stripe.refund.succeeded"
    order = xdm["commerce"]["order"]
    assert order["purchaseID"] == "pi_1GszsK2eZvKYlo2CfhZyoZLp"
    assert order["refundTotal"] == 10.0
    assert order["refunds"] == [
        {
            "transactionID": "re_1Nispe2eZvKYlo2Cd31jOCgZ",
            "refundAmount": 10.0,
            "refundPaymentType": "other",
            "currencyCode": "USD",
        }
    ]
    assert xdm["_acme"]["stripe"]["refund"]["reason"] == "requested_by_customer"


def test_refund_with_expanded_charge_gets_the_customer_and_card_funding():
    charge = {
        "id": "ch_1",
        "customer": "cus_9",
        "payment_method_details": {"type": "card", "card": {"funding": "debit"}},
    }
    xdm = mapped("refunds", {**example("refunds"), "charge": charge, "payment_intent": None})
    assert xdm["identityMap"]["StripeCustomerID"][0]["id"] == "cus_9"
    assert xdm["commerce"]["order"]["purchaseID"] == "ch_1"
    assert xdm["commerce"]["order"]["refunds"][0]["refundPaymentType"] == "debit_card"


def test_subscription_items_become_product_list_items():
    xdm = mapped("subscriptions")
    assert xdm["eventType"] == "stripe.subscription.active"
    assert xdm["timestamp"] == "2023-03-23T22:16:07Z"
    assert xdm["productListItems"] == [
        {
            "_id": "si_Na6dzxczY5fwHx",
            "SKU": "price_1MowQULkdIwHu7ixraBm864M",
            "name": "prod_Na6dGcTsmU0I4R",
            "quantity": 1,
            "priceTotal": 10.0,
            "currencyCode": "USD",
        }
    ]


def test_a_subscriptions_first_record_is_stamped_with_its_creation():
    sub = {**example("subscriptions"), "canceled_at": 1690000000}
    assert mapped("subscriptions", sub)["timestamp"] == "2023-03-23T22:16:07Z"


def test_balance_transaction_money_in_major_units_plus_raw_integers():
    xdm = mapped("balance_transactions")
    assert xdm["timestamp"] == "2023-03-05T19:17:24Z"
    assert xdm["eventType"] == "stripe.balance_transaction.transfer"
    assert "identityMap" not in xdm
    detail = xdm["_acme"]["stripe"]["balanceTransaction"]
    assert detail["amount"] == -4.0
    assert detail["amountMinor"] == -400
    assert detail["fee"] == 0
    assert detail["net"] == -4.0
    assert detail["currency"] == "USD"
    assert detail["availableOn"] == "2023-03-05T19:17:24Z"
    assert detail["reportingCategory"] == "transfer"


def test_customer_maps_to_a_profile_with_identities():
    xdm = mapped("customers")
    assert xdm["person"] == {"name": {"fullName": "Jenny Rosen"}}
    assert xdm["personalEmail"] == {"address": "jennyrosen@example.com"}
    assert xdm["extSourceSystemAudit"] == {
        "externalID": "cus_NffrFeUfNV2Hib",
        "createdDate": "2023-04-07T18:59:53Z",
    }
    assert xdm["identityMap"]["StripeCustomerID"][0] == {
        "id": "cus_NffrFeUfNV2Hib",
        "primary": True,
        "authenticatedState": "authenticated",
    }
    assert xdm["identityMap"]["Email"] == [{"id": "jennyrosen@example.com", "primary": False}]
    assert "mobilePhone" not in xdm
    assert "homeAddress" not in xdm


def test_customer_addresses_and_phones():
    customer = {
        **example("customers"),
        "phone": "+15555550100",
        "address": {"line1": "1 Main St", "city": "SF", "state": "CA", "country": "us"},
        "shipping": {"phone": "+15555550101", "address": {"country": "DE", "state": "Bavaria"}},
    }
    xdm = mapped("customers", customer)
    assert xdm["mobilePhone"] == {"number": "+15555550100"}
    assert xdm["homeAddress"] == {
        "street1": "1 Main St",
        "city": "SF",
        "state": "CA",
        "stateProvince": "US-CA",
        "countryCode": "US",
    }
    # "DE-BAVARIA" is not ISO 3166-2: stateProvince is left out, the free-text state kept
    assert xdm["shippingAddress"] == {"state": "Bavaria", "countryCode": "DE"}
    assert xdm["shippingAddressPhone"] == {"number": "+15555550101"}


def test_a_deleted_customer_keeps_its_profile_with_a_tenant_deleted_flag():
    customer = {"id": "cus_1", "object": "customer", "deleted": True}
    customer["_sdc_deleted_at"] = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    xdm = mapped("customers", customer)
    assert xdm["identityMap"]["StripeCustomerID"][0]["id"] == "cus_1"
    assert xdm["_acme"]["stripe"]["deleted"] is True
    assert xdm["_acme"]["stripe"]["deletedAt"] == "2024-05-01T12:00:00Z"
    assert "_sdc_deleted_at" not in str(xdm)


def test_a_deleted_price_keeps_the_mark_in_the_tenant_area():
    price = {**example("prices"), "_sdc_deleted_at": "2024-05-01T12:00:00Z"}
    assert mapped("prices", price)["_acme"]["stripe"]["deletedAt"] == "2024-05-01T12:00:00Z"


def test_price_maps_to_product_fields():
    xdm = mapped("prices")
    assert xdm["productID"] == "price_1MoBy5LkdIwHu7ixZhnattbh"
    assert xdm["productName"] == "prod_NZKdYqrwEYx6iK"
    assert xdm["productListPrice"] == {"amount": 10.0, "currencyCode": "USD"}
    fractional = {**example("prices"), "unit_amount": None, "unit_amount_decimal": "1000.5"}
    assert mapped("prices", fractional)["productListPrice"]["amount"] == 10.005


def test_datetime_objects_from_the_sdk_map_like_unix_seconds():
    as_int = mapped("charges")
    parsed = {
        **example("charges"),
        "created": dt.datetime(2023, 3, 17, 22, 2, 19, tzinfo=dt.timezone.utc),
    }
    as_datetime = mapped("charges", parsed)
    assert as_datetime["timestamp"] == as_int["timestamp"]
    assert as_datetime["_acme"]["stripe"]["charge"]["created"] == "2023-03-17T22:02:19Z"


@pytest.mark.parametrize("stream", ["charges", "subscriptions", "customers"])
def test_nothing_of_the_stripe_object_is_lost(stream):
    """Every non-empty value of the example is kept in the tenant area (camelCased)."""
    source = example(stream)
    tenant = mapped(stream)["_acme"]["stripe"]
    kept = {value for _, value in leaves(tenant)}
    for path, value in leaves(source):
        if path[-1] in (
            "created",
            "billing_cycle_anchor",
            "current_period_start",
            "current_period_end",
            "start_date",
            "available_on",
        ):
            continue  # timestamps are kept converted (checked elsewhere)
        assert value in kept, f"{'.'.join(map(str, path))}={value!r} missing from the tenant area"


def _assert_no_empty(value, path="") -> None:
    if isinstance(value, dict):
        assert value, f"empty object at {path}"
        for key, item in value.items():
            _assert_no_empty(item, f"{path}/{key}")
    elif isinstance(value, list):
        assert value, f"empty array at {path}"
        for index, item in enumerate(value):
            _assert_no_empty(item, f"{path}/{index}")
    else:
        assert value not in (None, ""), f"null or empty at {path}"


@pytest.mark.parametrize(
    "stream", ["charges", "refunds", "subscriptions", "balance_transactions", "customers", "prices"]
)
def test_no_null_or_empty_value_is_ever_written(stream):
    _assert_no_empty(mapped(stream))
    _assert_no_empty(mapper_for(stream, OPTIONS, "compat").map(example(stream)))


def test_an_objects_business_event_has_one_id_and_a_records_state_its_own():
    first = mapped("charges")["_id"]
    reread = mapped("charges", {**example("charges"), "amount_refunded": 1099})["_id"]
    assert first == reread == "stripe:charges:ch_3MmlLrLkdIwHu7ix0snN0B15"  # one purchase
    price = mapped("prices")["_id"]
    assert mapped("prices", {**example("prices"), "nickname": "Gold"})["_id"] != price


def test_an_unmapped_stream_is_an_error_naming_it_and_the_fix():
    with pytest.raises(UnmappedStreamError, match=r"'invoices'.*streams\.invoices\.mapping"):
        mapper_for("invoices", OPTIONS)


def test_an_extra_stream_can_be_mapped_with_a_table_in_config():
    xdm = mapper_for("stripe_charges", OPTIONS, "charges").map(example("charges"))
    assert xdm["eventType"] == "commerce.purchases"
    assert xdm["_id"].startswith("stripe:stripe_charges:")


def test_generic_mapping_keeps_any_record_under_the_tenant():
    xdm = mapper_for("invoices", OPTIONS, "generic").map({"id": 7, "total_due": 5, "note": None})
    assert xdm["_acme"] == {"invoices": {"id": 7, "totalDue": 5}}
    assert xdm["_id"].startswith("stripe:invoices:7:")


def test_compat_mode_reproduces_adobes_stripe_source_layout():
    xdm = mapper_for("charges", OPTIONS, "compat").map(example("charges"))
    assert set(xdm) == {"_id", "_acme"}
    data = xdm["_acme"]["charges_data"]
    assert data["amount"] == 1099  # raw minor units
    assert data["created"] == 1679090539  # raw epoch seconds
    assert data["payment_method_details"]["card"]["last4"] == "4242"  # snake_case kept
    assert "customer" not in data  # null dropped: Platform rejects nulls


def test_compat_mode_turns_sdk_datetimes_back_into_epoch_seconds():
    record = {
        **example("charges"),
        "created": dt.datetime(2023, 3, 17, 22, 2, 19, tzinfo=dt.timezone.utc),
    }
    xdm = mapper_for("charges", OPTIONS, "compat").map(record)
    assert xdm["_acme"]["charges_data"]["created"] == 1679090539
