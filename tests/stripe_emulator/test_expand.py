"""`expand[]` as Stripe documents it: stored objects replace ids, includable lists, path checks."""

from __future__ import annotations

import random

import pytest
from stripe_emulator import StripeEmulator, object_factories

from tests.stripe_emulator.emulator_client import T0, get


def _charge_with_customer_and_refund(stripe: StripeEmulator) -> tuple[dict, dict, dict]:
    rng = random.Random(11)
    customer = stripe.add("customers", object_factories.make_customer(rng, T0))
    charge = stripe.add("charges", object_factories.make_charge(rng, T0 + 1, customer["id"]))
    refund = stripe.add("refunds", object_factories.make_refund(rng, T0 + 2, charge, amount=5))
    return customer, charge, refund


def test_expand_on_a_list_replaces_ids_by_stored_objects(emulator):
    customer, _, _ = _charge_with_customer_and_refund(emulator)
    (listed,) = get(emulator, "/v1/charges", **{"expand[]": "data.customer"}).json()["data"]
    assert listed["customer"] == customer
    plain = get(emulator, "/v1/charges").json()["data"][0]
    assert plain["customer"] == customer["id"]


def test_expand_walks_nested_paths_on_retrieve(emulator):
    customer, charge, refund = _charge_with_customer_and_refund(emulator)
    got = get(emulator, f"/v1/refunds/{refund['id']}", **{"expand[]": "charge.customer"})
    assert got.json()["charge"]["id"] == charge["id"]
    assert got.json()["charge"]["customer"] == customer


def test_expand_includes_a_charges_refunds_list(emulator):
    _, charge, refund = _charge_with_customer_and_refund(emulator)
    refunds = get(emulator, f"/v1/charges/{charge['id']}", **{"expand[]": "refunds"}).json()[
        "refunds"
    ]
    assert refunds["object"] == "list"
    assert [r["id"] for r in refunds["data"]] == [refund["id"]]
    assert refunds["has_more"] is False
    assert refunds["url"] == f"/v1/refunds?charge={charge['id']}"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("customer", "This property cannot be expanded (customer)."),
        ("data.metadata", "This property cannot be expanded (data.metadata)."),
        ("data.a.b.c.d", "You cannot expand more than 4 levels of a property."),
    ],
)
def test_invalid_expand_paths_are_rejected(emulator, path, message):
    answer = get(emulator, "/v1/charges", **{"expand[]": path})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(message)


def test_expand_through_embedded_objects_is_accepted(emulator):
    rng = random.Random(12)
    sub = object_factories.make_subscription(rng, T0, None, [object_factories.make_price(rng, T0)])
    emulator.add("subscriptions", sub)
    path = f"/v1/subscriptions/{sub['id']}"
    answer = get(emulator, path, **{"expand[]": "items.data.price.product"})
    assert answer.status_code == 200, answer.text
    item = answer.json()["items"]["data"][0]
    assert item["price"]["product"] == sub["items"]["data"][0]["price"]["product"]


def test_expand_balance_transaction_source_by_id_prefix(emulator):
    _, charge, _ = _charge_with_customer_and_refund(emulator)
    rng = random.Random(13)
    emulator.add(
        "balance_transactions",
        object_factories.make_balance_transaction(
            rng, T0 + 1, amount=charge["amount"], source=charge["id"]
        ),
    )
    (txn,) = get(emulator, "/v1/balance_transactions", **{"expand[]": "data.source"}).json()["data"]
    assert txn["source"]["id"] == charge["id"]
    assert txn["source"]["object"] == "charge"
