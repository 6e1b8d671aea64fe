"""The data side: updates and deletes as Stripe applies them, the events they record, seeding
with creation events, connected accounts' own events."""

from __future__ import annotations

import random

import pytest
from stripe_emulator import object_factories

from tests.stripe_emulator.emulator_client import T0, add_charges, get, ids


def test_update_changes_the_object_and_records_an_updated_event(emulator):
    (charge,) = add_charges(emulator, [T0])
    emulator.now = lambda: T0 + 100
    updated = emulator.update(
        "charges",
        charge["id"],
        {"metadata": {"note": "vip"}, "description": "x"},
        event_created=T0 + 50,
    )
    assert updated["metadata"]["note"] == "vip"
    assert get(emulator, f"/v1/charges/{charge['id']}").json()["description"] == "x"
    (event,) = get(emulator, "/v1/events").json()["data"]
    assert event["type"] == "charge.updated"
    assert event["created"] == T0 + 50
    assert event["api_version"] == emulator.api_version
    assert event["data"]["object"] == updated
    assert event["data"]["previous_attributes"] == {
        "metadata": {"note": None},
        "description": charge["description"],
    }
    assert event["livemode"] is False
    assert event["pending_webhooks"] == 0
    assert "request" in event


def test_update_event_type_and_api_version_can_be_chosen(emulator):
    (charge,) = add_charges(emulator, [T0])
    emulator.now = lambda: T0 + 10
    emulator.update(
        "charges",
        charge["id"],
        {"captured": True},
        event_type="charge.captured",
        event_api_version="2024-06-20",
    )
    (event,) = get(emulator, "/v1/events").json()["data"]
    assert (event["type"], event["api_version"]) == ("charge.captured", "2024-06-20")


def test_balance_transaction_updates_emit_no_event(emulator):
    rng = random.Random(2)
    txn = emulator.add(
        "balance_transactions", object_factories.make_balance_transaction(rng, T0, amount=100)
    )
    emulator.update("balance_transactions", txn["id"], {"status": "available"})
    assert emulator.events() == []
    assert emulator.objects("balance_transactions")[0]["status"] == "available"


def test_deleted_customer_leaves_lists_and_retrieve_shows_a_deleted_stub(emulator):
    rng = random.Random(1)
    gone = emulator.add("customers", object_factories.make_customer(rng, T0))
    kept = emulator.add("customers", object_factories.make_customer(rng, T0))
    emulator.now = lambda: T0 + 10
    emulator.delete("customers", gone["id"])
    assert ids(get(emulator, "/v1/customers")) == [kept["id"]]
    assert get(emulator, f"/v1/customers/{gone['id']}").json() == {
        "id": gone["id"],
        "object": "customer",
        "deleted": True,
    }
    (event,) = get(emulator, "/v1/events").json()["data"]
    assert event["type"] == "customer.deleted"
    assert event["data"]["object"]["id"] == gone["id"]
    assert get(emulator, "/v1/customers", starting_after=gone["id"]).status_code == 404


def test_deleted_price_emits_price_deleted(emulator):
    rng = random.Random(1)
    price = emulator.add("prices", object_factories.make_price(rng, T0))
    emulator.now = lambda: T0 + 10
    emulator.delete("prices", price["id"])
    assert ids(get(emulator, "/v1/prices")) == []
    assert [e["type"] for e in emulator.events()] == ["price.deleted"]


def test_deleting_a_subscription_cancels_it(emulator):
    rng = random.Random(1)
    sub = emulator.add(
        "subscriptions",
        object_factories.make_subscription(
            rng, T0, "cus_x", [object_factories.make_price(rng, T0)]
        ),
    )
    emulator.now = lambda: T0 + 10
    emulator.delete("subscriptions", sub["id"])
    assert ids(get(emulator, "/v1/subscriptions")) == []
    assert ids(get(emulator, "/v1/subscriptions", status="canceled")) == [sub["id"]]
    assert [e["type"] for e in emulator.events()] == ["customer.subscription.deleted"]
    with pytest.raises(ValueError, match="cannot delete charges"):
        emulator.delete("charges", "ch_x")


def test_connect_events_carry_the_account(emulator):
    (charge,) = add_charges(emulator, [T0], account="acct_c1")
    emulator.now = lambda: T0 + 10
    emulator.update("charges", charge["id"], {"description": "y"}, account="acct_c1")
    (event,) = get(emulator, "/v1/events", headers={"Stripe-Account": "acct_c1"}).json()["data"]
    assert event["account"] == "acct_c1"
    assert ids(get(emulator, "/v1/events")) == []


def test_seed_with_events_records_each_creation_event(emulator):
    emulator.now = lambda: T0 + 86_400
    counts = {"customers": 3, "prices": 3, "subscriptions": 2, "charges": 6, "refunds": 2}
    emulator.seed({**counts, "balance_transactions": 4}, start=T0, end=T0 + 3600, events=True)
    events = emulator.events()
    assert len(events) == sum(counts.values())
    by_object = {e["data"]["object"]["id"]: e for e in events}
    for charge in emulator.objects("charges"):
        assert by_object[charge["id"]]["type"] == f"charge.{charge['status']}"
        assert by_object[charge["id"]]["created"] == charge["created"]
    for customer in emulator.objects("customers"):
        assert by_object[customer["id"]]["type"] == "customer.created"
    assert {e["type"] for e in events} >= {"price.created", "customer.subscription.created"}
    assert not {t["id"] for t in emulator.objects("balance_transactions")} & set(by_object)
