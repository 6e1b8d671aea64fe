"""List parameters as Stripe documents them: accepted sets, `created` and `limit`, per-endpoint
filters (query.py, through the emulator's HTTP answers)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from stripe_emulator import StripeEmulator, object_factories
from stripe_emulator.resources import SUBSCRIPTION_STATUSES

from tests.stripe_emulator.emulator_client import T0, add_charges, get, ids, raw_event


@pytest.mark.parametrize(
    ("params", "expected_offsets"),
    [
        ({"created[gt]": T0 + 2}, [4, 3]),
        ({"created[gte]": T0 + 2}, [4, 3, 2, 2]),
        ({"created[lt]": T0 + 2}, [1, 0]),
        ({"created[lte]": T0 + 2}, [2, 2, 1, 0]),
        ({"created[gte]": T0 + 1, "created[lt]": T0 + 3}, [2, 2, 1]),
        ({"created": T0 + 2}, [2, 2]),
    ],
)
def test_created_filters_select_the_documented_range(emulator, params, expected_offsets):
    add_charges(emulator, [T0, T0 + 1, T0 + 2, T0 + 2, T0 + 3, T0 + 4])
    body = get(emulator, "/v1/charges", **params).json()
    assert [c["created"] - T0 for c in body["data"]] == expected_offsets


def test_limit_defaults_to_ten_and_accepts_one_to_hundred(emulator):
    add_charges(emulator, [T0 + i for i in range(120)])
    assert len(ids(get(emulator, "/v1/charges"))) == 10
    assert len(ids(get(emulator, "/v1/charges", limit=1))) == 1
    assert len(ids(get(emulator, "/v1/charges", limit=100))) == 100


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_limit_outside_bounds_is_a_400_naming_the_param(emulator, limit):
    response = get(emulator, "/v1/charges", limit=limit)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "limit"


def test_unknown_parameters_are_rejected_but_expand_is_accepted(emulator):
    response = get(emulator, "/v1/charges", colour="red")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Received unknown parameter: colour"
    assert response.json()["error"]["param"] == "colour"
    assert get(emulator, "/v1/charges", **{"created[after]": T0}).status_code == 400
    assert get(emulator, "/v1/charges", **{"expand[]": "data.customer"}).status_code == 200
    assert get(emulator, "/v1/charges", **{"expand[0]": "data.customer"}).status_code == 200


def _subscriptions_by_status(stripe: StripeEmulator) -> dict[str, str]:
    rng = random.Random(3)
    price = object_factories.make_price(rng, T0)
    made = {}
    for i, status in enumerate(SUBSCRIPTION_STATUSES):
        sub = stripe.add(
            "subscriptions",
            object_factories.make_subscription(rng, T0 + i, "cus_x", [price], status=status),
        )
        made[status] = sub["id"]
    return made


def test_subscriptions_default_hides_canceled_and_incomplete_expired(emulator):
    made = _subscriptions_by_status(emulator)
    listed = set(ids(get(emulator, "/v1/subscriptions", limit=100)))
    assert listed == {
        sid for status, sid in made.items() if status not in ("canceled", "incomplete_expired")
    }
    assert set(ids(get(emulator, "/v1/subscriptions", status="all", limit=100))) == set(
        made.values()
    )
    assert set(ids(get(emulator, "/v1/subscriptions", status="ended"))) == {
        made["canceled"],
        made["incomplete_expired"],
    }
    for status, sid in made.items():
        assert ids(get(emulator, "/v1/subscriptions", status=status)) == [sid]
    assert get(emulator, "/v1/subscriptions", status="sleeping").status_code == 400


def test_subscriptions_filter_by_customer(emulator):
    rng = random.Random(4)
    price = object_factories.make_price(rng, T0)
    mine = emulator.add(
        "subscriptions", object_factories.make_subscription(rng, T0, "cus_mine", [price])
    )
    emulator.add("subscriptions", object_factories.make_subscription(rng, T0, "cus_other", [price]))
    assert ids(get(emulator, "/v1/subscriptions", customer="cus_mine")) == [mine["id"]]


def test_subscriptions_filter_by_automatic_tax(emulator):
    rng = random.Random(4)
    price = object_factories.make_price(rng, T0)
    taxed = object_factories.make_subscription(rng, T0, "cus_a", [price])
    taxed["automatic_tax"] = {"enabled": True, "liability": None}
    taxed = emulator.add("subscriptions", taxed)
    untaxed = emulator.add(
        "subscriptions", object_factories.make_subscription(rng, T0, "c", [price])
    )
    assert ids(get(emulator, "/v1/subscriptions", **{"automatic_tax[enabled]": "true"})) == [
        taxed["id"]
    ]
    assert ids(get(emulator, "/v1/subscriptions", **{"automatic_tax[enabled]": "false"})) == [
        untaxed["id"]
    ]


def test_subscriptions_filter_on_item_billing_periods(emulator):
    rng = random.Random(4)
    price = object_factories.make_price(rng, T0)  # monthly: periods [created, created + 30 days)
    early = emulator.add("subscriptions", object_factories.make_subscription(rng, T0, "c", [price]))
    late = emulator.add(
        "subscriptions", object_factories.make_subscription(rng, T0 + 1000, "c", [price])
    )
    early_end = early["items"]["data"][0]["current_period_end"]

    def listed(**params: Any) -> list[str]:
        return ids(get(emulator, "/v1/subscriptions", **params))

    assert listed(**{"current_period_end[lte]": early_end}) == [early["id"]]
    assert listed(**{"current_period_end[gt]": early_end}) == [late["id"]]
    assert listed(**{"current_period_start[gte]": T0 + 1000}) == [late["id"]]


def test_prices_active_filter_and_both_without_it(emulator):
    rng = random.Random(5)
    live = emulator.add("prices", object_factories.make_price(rng, T0, active=True))
    archived = emulator.add("prices", object_factories.make_price(rng, T0 + 1, active=False))
    assert ids(get(emulator, "/v1/prices", active="true")) == [live["id"]]
    assert ids(get(emulator, "/v1/prices", active="false")) == [archived["id"]]
    assert ids(get(emulator, "/v1/prices")) == [archived["id"], live["id"]]
    assert get(emulator, "/v1/prices", active="yes").status_code == 400


def test_refunds_balance_transactions_and_customers_filters(emulator):
    rng = random.Random(6)
    charge = object_factories.make_charge(rng, T0)
    ours = emulator.add("refunds", object_factories.make_refund(rng, T0 + 1, charge))
    emulator.add(
        "refunds", object_factories.make_refund(rng, T0 + 2, object_factories.make_charge(rng, T0))
    )
    assert ids(get(emulator, "/v1/refunds", charge=charge["id"])) == [ours["id"]]

    payout = emulator.add(
        "balance_transactions",
        object_factories.make_balance_transaction(rng, T0, amount=-5, kind="payout"),
    )
    emulator.add(
        "balance_transactions", object_factories.make_balance_transaction(rng, T0, amount=9)
    )
    assert ids(get(emulator, "/v1/balance_transactions", type="payout")) == [payout["id"]]
    assert ids(get(emulator, "/v1/balance/history", type="payout")) == [payout["id"]]

    jenny = emulator.add(
        "customers", object_factories.make_customer(rng, T0, email="jenny@example.com")
    )
    emulator.add("customers", object_factories.make_customer(rng, T0, email="Jenny@example.com"))
    assert ids(get(emulator, "/v1/customers", email="jenny@example.com")) == [jenny["id"]]


def test_events_are_newest_first_and_filter_by_type_wildcard_and_types(emulator):
    now = T0 + 1000
    emulator.now = lambda: now
    for i, type_ in enumerate(
        [
            "charge.succeeded",
            "charge.updated",
            "customer.created",
            "charge.dispute.created",
            "price.updated",
        ]
    ):
        emulator.add_event(raw_event(type_, T0 + i))
    listed = get(emulator, "/v1/events").json()["data"]
    assert [e["created"] for e in listed] == [T0 + 4, T0 + 3, T0 + 2, T0 + 1, T0]
    assert all(e["object"] == "event" and e["id"].startswith("evt_") for e in listed)

    def types(**params: Any) -> list[str]:
        return [e["type"] for e in get(emulator, "/v1/events", **params).json()["data"]]

    assert types(type="charge.updated") == ["charge.updated"]
    assert types(type="charge.*") == [
        "charge.dispute.created",
        "charge.updated",
        "charge.succeeded",
    ]
    assert types(**{"types[]": ["customer.created", "price.updated"]}) == [
        "price.updated",
        "customer.created",
    ]
    assert types(**{"created[gte]": T0 + 3}) == ["price.updated", "charge.dispute.created"]
    both = get(emulator, "/v1/events", type="charge.updated", **{"types[]": "price.updated"})
    assert both.status_code == 400
    too_many = get(emulator, "/v1/events", **{"types[]": [f"t.{i}" for i in range(21)]})
    assert too_many.status_code == 400
