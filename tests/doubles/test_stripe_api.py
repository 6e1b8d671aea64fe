"""The Stripe double behaves as Stripe documents it (lists, filters, errors, events, switches)."""

from __future__ import annotations

import base64
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.doubles import stripe_data, stripe_seed
from tests.doubles.stripe_api import StripeDouble
from tests.shared_paths import REPO_ROOT, STRIPE_EXAMPLES, require

KEY = "sk_test_double"
T0 = 1_700_000_000


def get(
    double: StripeDouble,
    path: str,
    *,
    key: str | None = KEY,
    headers: dict | None = None,
    **params: Any,
) -> requests.Response:
    all_headers = {"Authorization": f"Bearer {key}"} if key else {}
    all_headers.update(headers or {})
    return requests.get(double.url + path, params=params, headers=all_headers, timeout=10)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [obj["id"] for obj in response.json()["data"]]


def add_charges(
    double: StripeDouble, createds: list[int], account: str | None = None
) -> list[dict]:
    rng = random.Random(7)
    return [
        double.add("charges", stripe_data.make_charge(rng, c), account=account) for c in createds
    ]


def walk(double: StripeDouble, path: str, **params: Any) -> list[str]:
    """Follow starting_after from the first page until has_more is false."""
    seen: list[str] = []
    cursor: dict[str, str] = {}
    while True:
        body = get(double, path, **params, **cursor).json()
        seen.extend(obj["id"] for obj in body["data"])
        if not body["has_more"]:
            return seen
        cursor = {"starting_after": body["data"][-1]["id"]}


# --- list mechanics ----------------------------------------------------------------------------


def test_list_envelope_is_newest_first_with_ties_in_a_stable_order(stripe_double):
    charges = add_charges(stripe_double, [T0 + 5, T0, T0 + 5, T0 + 9, T0 + 5])
    first = get(stripe_double, "/v1/charges")
    body = first.json()
    assert body["object"] == "list"
    assert body["url"] == "/v1/charges"
    assert body["has_more"] is False
    createds = [c["created"] for c in body["data"]]
    assert createds == sorted(createds, reverse=True)
    assert set(ids(first)) == {c["id"] for c in charges}
    # Ties at T0+5: the later-stored object first, the same on every request.
    tied = [c["id"] for c in charges if c["created"] == T0 + 5]
    assert ids(first)[1:4] == tied[::-1]
    assert ids(get(stripe_double, "/v1/charges")) == ids(first)


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
def test_created_filters_select_the_documented_range(stripe_double, params, expected_offsets):
    add_charges(stripe_double, [T0, T0 + 1, T0 + 2, T0 + 2, T0 + 3, T0 + 4])
    body = get(stripe_double, "/v1/charges", **params).json()
    assert [c["created"] - T0 for c in body["data"]] == expected_offsets


def test_limit_defaults_to_ten_and_accepts_one_to_hundred(stripe_double):
    add_charges(stripe_double, [T0 + i for i in range(120)])
    assert len(ids(get(stripe_double, "/v1/charges"))) == 10
    assert len(ids(get(stripe_double, "/v1/charges", limit=1))) == 1
    assert len(ids(get(stripe_double, "/v1/charges", limit=100))) == 100


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_limit_outside_bounds_is_a_400_naming_the_param(stripe_double, limit):
    response = get(stripe_double, "/v1/charges", limit=limit)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "limit"


def test_starting_after_pages_cover_every_object_exactly_once(stripe_double):
    charges = add_charges(stripe_double, [T0 + i // 4 for i in range(95)])  # 4 share each second
    seen = walk(stripe_double, "/v1/charges", limit=7)
    assert len(seen) == len(set(seen)) == 95
    assert set(seen) == {c["id"] for c in charges}


def test_cursor_paging_stays_inside_the_created_window(stripe_double):
    charges = add_charges(stripe_double, [T0 + i // 3 for i in range(60)])
    inside = {c["id"] for c in charges if T0 + 5 <= c["created"] < T0 + 15}
    seen = walk(
        stripe_double, "/v1/charges", limit=4, **{"created[gte]": T0 + 5, "created[lt]": T0 + 15}
    )
    assert sorted(seen) == sorted(inside)


def test_ending_before_pages_back_towards_the_newest(stripe_double):
    add_charges(stripe_double, [T0 + i for i in range(25)])
    everything = ids(get(stripe_double, "/v1/charges", limit=100))
    oldest = everything[-1]
    page = get(stripe_double, "/v1/charges", limit=10, ending_before=oldest).json()
    assert [c["id"] for c in page["data"]] == everything[-11:-1]
    assert page["has_more"] is True
    page = get(stripe_double, "/v1/charges", limit=10, ending_before=everything[10]).json()
    assert [c["id"] for c in page["data"]] == everything[:10]
    assert page["has_more"] is False


def test_has_more_is_false_exactly_on_the_last_page(stripe_double):
    add_charges(stripe_double, [T0 + i for i in range(20)])
    first = get(stripe_double, "/v1/charges", limit=10).json()
    assert first["has_more"] is True
    last = get(
        stripe_double, "/v1/charges", limit=10, starting_after=first["data"][-1]["id"]
    ).json()
    assert len(last["data"]) == 10
    assert last["has_more"] is False


def test_both_cursors_at_once_are_rejected(stripe_double):
    a, b = add_charges(stripe_double, [T0, T0 + 1])
    response = get(stripe_double, "/v1/charges", starting_after=a["id"], ending_before=b["id"])
    assert response.status_code == 400
    assert "only specify one" in response.json()["error"]["message"]


def test_cursor_not_in_the_store_is_resource_missing(stripe_double):
    response = get(stripe_double, "/v1/charges", starting_after="ch_gone")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "resource_missing"
    assert error["param"] == "starting_after"
    assert error["message"] == "No such charge: 'ch_gone'"


def test_unknown_parameters_are_rejected_but_expand_is_accepted(stripe_double):
    response = get(stripe_double, "/v1/charges", colour="red")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Received unknown parameter: colour"
    assert response.json()["error"]["param"] == "colour"
    assert get(stripe_double, "/v1/charges", **{"created[after]": T0}).status_code == 400
    assert get(stripe_double, "/v1/charges", **{"expand[]": "data.customer"}).status_code == 200
    assert get(stripe_double, "/v1/charges", **{"expand[0]": "data.customer"}).status_code == 200


def test_unrecognized_url_and_writes_are_404(stripe_double):
    assert get(stripe_double, "/v1/invoices").status_code == 404
    response = requests.post(
        stripe_double.url + "/v1/charges",
        data={"amount": 1},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert response.status_code == 404
    assert "Unrecognized request URL (POST: /v1/charges)" in response.json()["error"]["message"]


# --- expand[] ---------------------------------------------------------------------------------


def _charge_with_customer_and_refund(double: StripeDouble) -> tuple[dict, dict, dict]:
    rng = random.Random(11)
    customer = double.add("customers", stripe_data.make_customer(rng, T0))
    charge = double.add("charges", stripe_data.make_charge(rng, T0 + 1, customer["id"]))
    refund = double.add("refunds", stripe_data.make_refund(rng, T0 + 2, charge, amount=5))
    return customer, charge, refund


def test_expand_on_a_list_replaces_ids_by_stored_objects(stripe_double):
    customer, _, _ = _charge_with_customer_and_refund(stripe_double)
    (listed,) = get(stripe_double, "/v1/charges", **{"expand[]": "data.customer"}).json()["data"]
    assert listed["customer"] == customer
    plain = get(stripe_double, "/v1/charges").json()["data"][0]
    assert plain["customer"] == customer["id"]


def test_expand_walks_nested_paths_on_retrieve(stripe_double):
    customer, charge, refund = _charge_with_customer_and_refund(stripe_double)
    got = get(stripe_double, f"/v1/refunds/{refund['id']}", **{"expand[]": "charge.customer"})
    assert got.json()["charge"]["id"] == charge["id"]
    assert got.json()["charge"]["customer"] == customer


def test_expand_includes_a_charges_refunds_list(stripe_double):
    _, charge, refund = _charge_with_customer_and_refund(stripe_double)
    refunds = get(stripe_double, f"/v1/charges/{charge['id']}", **{"expand[]": "refunds"}).json()[
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
def test_invalid_expand_paths_are_rejected(stripe_double, path, message):
    answer = get(stripe_double, "/v1/charges", **{"expand[]": path})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(message)


def test_expand_through_embedded_objects_is_accepted(stripe_double):
    rng = random.Random(12)
    sub = stripe_data.make_subscription(rng, T0, None, [stripe_data.make_price(rng, T0)])
    stripe_double.add("subscriptions", sub)
    path = f"/v1/subscriptions/{sub['id']}"
    answer = get(stripe_double, path, **{"expand[]": "items.data.price.product"})
    assert answer.status_code == 200, answer.text
    item = answer.json()["items"]["data"][0]
    assert item["price"]["product"] == sub["items"]["data"][0]["price"]["product"]


def test_expand_balance_transaction_source_by_id_prefix(stripe_double):
    _, charge, _ = _charge_with_customer_and_refund(stripe_double)
    rng = random.Random(13)
    stripe_double.add(
        "balance_transactions",
        stripe_data.make_balance_transaction(
            rng, T0 + 1, amount=charge["amount"], source=charge["id"]
        ),
    )
    (txn,) = get(stripe_double, "/v1/balance_transactions", **{"expand[]": "data.source"}).json()[
        "data"
    ]
    assert txn["source"]["id"] == charge["id"]
    assert txn["source"]["object"] == "charge"


# --- per-endpoint filters ---------------------------------------------------------------------


def _subscriptions_by_status(double: StripeDouble) -> dict[str, str]:
    rng = random.Random(3)
    price = stripe_data.make_price(rng, T0)
    made = {}
    for i, status in enumerate(stripe_data.SUBSCRIPTION_STATUSES):
        sub = double.add(
            "subscriptions",
            stripe_data.make_subscription(rng, T0 + i, "cus_x", [price], status=status),
        )
        made[status] = sub["id"]
    return made


def test_subscriptions_default_hides_canceled_and_incomplete_expired(stripe_double):
    made = _subscriptions_by_status(stripe_double)
    listed = set(ids(get(stripe_double, "/v1/subscriptions", limit=100)))
    assert listed == {
        sid for status, sid in made.items() if status not in ("canceled", "incomplete_expired")
    }
    assert set(ids(get(stripe_double, "/v1/subscriptions", status="all", limit=100))) == set(
        made.values()
    )
    assert set(ids(get(stripe_double, "/v1/subscriptions", status="ended"))) == {
        made["canceled"],
        made["incomplete_expired"],
    }
    for status, sid in made.items():
        assert ids(get(stripe_double, "/v1/subscriptions", status=status)) == [sid]
    assert get(stripe_double, "/v1/subscriptions", status="sleeping").status_code == 400


def test_subscriptions_filter_by_customer(stripe_double):
    rng = random.Random(4)
    price = stripe_data.make_price(rng, T0)
    mine = stripe_double.add(
        "subscriptions", stripe_data.make_subscription(rng, T0, "cus_mine", [price])
    )
    stripe_double.add("subscriptions", stripe_data.make_subscription(rng, T0, "cus_other", [price]))
    assert ids(get(stripe_double, "/v1/subscriptions", customer="cus_mine")) == [mine["id"]]


def test_subscriptions_filter_by_automatic_tax(stripe_double):
    rng = random.Random(4)
    price = stripe_data.make_price(rng, T0)
    taxed = stripe_data.make_subscription(rng, T0, "cus_a", [price])
    taxed["automatic_tax"] = {"enabled": True, "liability": None}
    taxed = stripe_double.add("subscriptions", taxed)
    untaxed = stripe_double.add(
        "subscriptions", stripe_data.make_subscription(rng, T0, "c", [price])
    )
    assert ids(get(stripe_double, "/v1/subscriptions", **{"automatic_tax[enabled]": "true"})) == [
        taxed["id"]
    ]
    assert ids(get(stripe_double, "/v1/subscriptions", **{"automatic_tax[enabled]": "false"})) == [
        untaxed["id"]
    ]


def test_subscriptions_filter_on_item_billing_periods(stripe_double):
    rng = random.Random(4)
    price = stripe_data.make_price(rng, T0)  # monthly: periods [created, created + 30 days)
    early = stripe_double.add("subscriptions", stripe_data.make_subscription(rng, T0, "c", [price]))
    late = stripe_double.add(
        "subscriptions", stripe_data.make_subscription(rng, T0 + 1000, "c", [price])
    )
    early_end = early["items"]["data"][0]["current_period_end"]

    def listed(**params: Any) -> list[str]:
        return ids(get(stripe_double, "/v1/subscriptions", **params))

    assert listed(**{"current_period_end[lte]": early_end}) == [early["id"]]
    assert listed(**{"current_period_end[gt]": early_end}) == [late["id"]]
    assert listed(**{"current_period_start[gte]": T0 + 1000}) == [late["id"]]


def test_prices_active_filter_and_both_without_it(stripe_double):
    rng = random.Random(5)
    live = stripe_double.add("prices", stripe_data.make_price(rng, T0, active=True))
    archived = stripe_double.add("prices", stripe_data.make_price(rng, T0 + 1, active=False))
    assert ids(get(stripe_double, "/v1/prices", active="true")) == [live["id"]]
    assert ids(get(stripe_double, "/v1/prices", active="false")) == [archived["id"]]
    assert ids(get(stripe_double, "/v1/prices")) == [archived["id"], live["id"]]
    assert get(stripe_double, "/v1/prices", active="yes").status_code == 400


def test_refunds_balance_transactions_and_customers_filters(stripe_double):
    rng = random.Random(6)
    charge = stripe_data.make_charge(rng, T0)
    ours = stripe_double.add("refunds", stripe_data.make_refund(rng, T0 + 1, charge))
    stripe_double.add(
        "refunds", stripe_data.make_refund(rng, T0 + 2, stripe_data.make_charge(rng, T0))
    )
    assert ids(get(stripe_double, "/v1/refunds", charge=charge["id"])) == [ours["id"]]

    payout = stripe_double.add(
        "balance_transactions",
        stripe_data.make_balance_transaction(rng, T0, amount=-5, kind="payout"),
    )
    stripe_double.add(
        "balance_transactions", stripe_data.make_balance_transaction(rng, T0, amount=9)
    )
    assert ids(get(stripe_double, "/v1/balance_transactions", type="payout")) == [payout["id"]]
    assert ids(get(stripe_double, "/v1/balance/history", type="payout")) == [payout["id"]]

    jenny = stripe_double.add(
        "customers", stripe_data.make_customer(rng, T0, email="jenny@example.com")
    )
    stripe_double.add("customers", stripe_data.make_customer(rng, T0, email="Jenny@example.com"))
    assert ids(get(stripe_double, "/v1/customers", email="jenny@example.com")) == [jenny["id"]]


# --- subscription items -------------------------------------------------------------------------


def test_embedded_items_show_ten_and_subscription_items_pages_them_all(stripe_double):
    rng = random.Random(8)
    prices = [stripe_data.make_price(rng, T0) for _ in range(23)]
    sub = stripe_double.add(
        "subscriptions", stripe_data.make_subscription(rng, T0, "cus_x", prices)
    )
    all_items = [item["id"] for item in sub["items"]["data"]]
    embedded = get(stripe_double, f"/v1/subscriptions/{sub['id']}").json()["items"]
    assert [i["id"] for i in embedded["data"]] == all_items[:10]
    assert embedded["has_more"] is True
    listed = get(stripe_double, "/v1/subscriptions", status="all").json()["data"][0]["items"]
    assert len(listed["data"]) == 10
    assert listed["has_more"] is True

    paged = walk(stripe_double, "/v1/subscription_items", subscription=sub["id"], limit=10)
    assert paged == all_items
    first = get(stripe_double, "/v1/subscription_items", subscription=sub["id"]).json()
    assert [i["id"] for i in first["data"]] == all_items[:10]
    assert stripe_double.objects("subscriptions")[0]["items"]["data"] == sub["items"]["data"]
    item = get(stripe_double, f"/v1/subscription_items/{all_items[15]}").json()
    assert item["subscription"] == sub["id"]


def test_subscription_items_requires_a_known_subscription(stripe_double):
    assert get(stripe_double, "/v1/subscription_items").status_code == 400
    response = get(stripe_double, "/v1/subscription_items", subscription="sub_nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_small_subscription_embeds_all_items_without_has_more(stripe_double):
    rng = random.Random(9)
    sub = stripe_double.add(
        "subscriptions",
        stripe_data.make_subscription(
            rng, T0, "cus_x", [stripe_data.make_price(rng, T0) for _ in range(3)]
        ),
    )
    embedded = get(stripe_double, f"/v1/subscriptions/{sub['id']}").json()["items"]
    assert len(embedded["data"]) == 3
    assert embedded["has_more"] is False


# --- retrieve, auth, headers ------------------------------------------------------------------


def test_retrieve_returns_the_object_and_404_resource_missing_otherwise(stripe_double):
    (charge,) = add_charges(stripe_double, [T0])
    assert get(stripe_double, f"/v1/charges/{charge['id']}").json() == charge
    response = get(stripe_double, "/v1/charges/ch_x")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error == {
        **error,
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": "No such charge: 'ch_x'",
    }


def test_missing_or_unknown_key_is_401_and_never_echoes_the_key(stripe_double):
    missing = get(stripe_double, "/v1/charges", key=None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    assert missing.json()["error"]["type"] == "invalid_request_error"
    secret = "sk_test_51Abcdefghijklmnopqrstuvwxyz9876"
    wrong = get(stripe_double, "/v1/charges", key=secret)
    assert wrong.status_code == 401
    message = wrong.json()["error"]["message"]
    assert message.startswith("Invalid API Key provided: sk_test_***")
    assert message.endswith("9876")
    assert secret not in wrong.text
    assert "abcdefghij" not in wrong.text


def test_basic_auth_with_the_key_as_username_is_accepted(stripe_double):
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    response = requests.get(
        stripe_double.url + "/v1/charges", headers={"Authorization": f"Basic {token}"}, timeout=10
    )
    assert response.status_code == 200


def test_restricted_key_without_permission_is_403_naming_the_permission(stripe_double):
    stripe_double.add_key("rk_test_onlycharges1234", allowed={"charges"})
    assert get(stripe_double, "/v1/charges", key="rk_test_onlycharges1234").status_code == 200
    response = get(stripe_double, "/v1/customers", key="rk_test_onlycharges1234")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert (
        "does not have the required permissions for this endpoint on account 'acct_"
        in error["message"]
    )
    assert "'rak_customer_read'" in error["message"]
    assert "rk_test_onlycharges1234" not in response.text


def test_every_answer_carries_a_unique_request_id(stripe_double):
    answers = [
        get(stripe_double, "/v1/charges"),
        get(stripe_double, "/v1/charges/ch_x"),
        get(stripe_double, "/v1/charges", key=None),
        get(stripe_double, "/v1/nothing"),
    ]
    request_ids = [a.headers["Request-Id"] for a in answers]
    assert all(rid.startswith("req_") for rid in request_ids)
    assert len(set(request_ids)) == len(request_ids)


def test_stripe_version_is_recorded_and_a_malformed_one_rejected(stripe_double):
    answer = get(stripe_double, "/v1/charges", headers={"Stripe-Version": "2025-03-31.basil"})
    assert answer.headers["Stripe-Version"] == "2025-03-31.basil"
    assert stripe_double.requests[-1].headers["Stripe-Version"] == "2025-03-31.basil"
    assert stripe_double.requests[-1].path == "/v1/charges"
    assert (
        get(stripe_double, "/v1/charges", headers={"Stripe-Version": "latest"}).status_code == 400
    )


def test_requests_record_params_and_can_be_cleared(stripe_double):
    get(stripe_double, "/v1/charges", limit=5, **{"created[gte]": T0})
    assert stripe_double.requests[-1].params == {"limit": ["5"], "created[gte]": [str(T0)]}
    held = stripe_double.requests
    stripe_double.clear_requests()
    assert held == []  # cleared in place
    get(stripe_double, "/v1/charges")
    assert [r.path for r in held] == ["/v1/charges"]


# --- connected accounts ------------------------------------------------------------------------


def test_stripe_account_header_selects_a_separate_store(stripe_double):
    (platform_charge,) = add_charges(stripe_double, [T0])
    (connected_charge,) = add_charges(stripe_double, [T0 + 1], account="acct_connected1")
    assert ids(get(stripe_double, "/v1/charges")) == [platform_charge["id"]]
    connected = get(stripe_double, "/v1/charges", headers={"Stripe-Account": "acct_connected1"})
    assert ids(connected) == [connected_charge["id"]]
    assert (
        stripe_double.objects("charges", account="acct_connected1")[0]["id"]
        == connected_charge["id"]
    )


def test_unknown_connected_account_is_refused(stripe_double):
    response = get(stripe_double, "/v1/charges", headers={"Stripe-Account": "acct_unknown"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert "does not have access to account 'acct_unknown'" in error["message"]
    assert KEY not in response.text


# --- events -----------------------------------------------------------------------------------


def _event(type_: str, created: int, **extra: Any) -> dict:
    return {
        "type": type_,
        "created": created,
        "data": {"object": {"id": "x", "object": "thing"}},
        **extra,
    }


def test_events_are_newest_first_and_filter_by_type_wildcard_and_types(stripe_double):
    now = T0 + 1000
    stripe_double.now = lambda: now
    for i, type_ in enumerate(
        [
            "charge.succeeded",
            "charge.updated",
            "customer.created",
            "charge.dispute.created",
            "price.updated",
        ]
    ):
        stripe_double.add_event(_event(type_, T0 + i))
    listed = get(stripe_double, "/v1/events").json()["data"]
    assert [e["created"] for e in listed] == [T0 + 4, T0 + 3, T0 + 2, T0 + 1, T0]
    assert all(e["object"] == "event" and e["id"].startswith("evt_") for e in listed)

    def types(**params: Any) -> list[str]:
        return [e["type"] for e in get(stripe_double, "/v1/events", **params).json()["data"]]

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
    both = get(stripe_double, "/v1/events", type="charge.updated", **{"types[]": "price.updated"})
    assert both.status_code == 400
    too_many = get(stripe_double, "/v1/events", **{"types[]": [f"t.{i}" for i in range(21)]})
    assert too_many.status_code == 400


def test_events_older_than_thirty_days_are_not_listed_or_retrievable(stripe_double):
    now = T0 + 40 * 86_400
    stripe_double.now = lambda: now
    stripe_double.add_event(_event("charge.updated", now - 31 * 86_400, id="evt_old"))
    stripe_double.add_event(_event("charge.updated", now - 29 * 86_400, id="evt_recent"))
    assert ids(get(stripe_double, "/v1/events")) == ["evt_recent"]
    assert get(stripe_double, "/v1/events/evt_old").status_code == 404
    assert get(stripe_double, "/v1/events/evt_recent").status_code == 200
    stripe_double.now = lambda: now - 5 * 86_400  # back in time: the old one is visible again
    assert ids(get(stripe_double, "/v1/events")) == ["evt_recent", "evt_old"]


def test_update_changes_the_object_and_records_an_updated_event(stripe_double):
    (charge,) = add_charges(stripe_double, [T0])
    stripe_double.now = lambda: T0 + 100
    updated = stripe_double.update(
        "charges",
        charge["id"],
        {"metadata": {"note": "vip"}, "description": "x"},
        event_created=T0 + 50,
    )
    assert updated["metadata"]["note"] == "vip"
    assert get(stripe_double, f"/v1/charges/{charge['id']}").json()["description"] == "x"
    (event,) = get(stripe_double, "/v1/events").json()["data"]
    assert event["type"] == "charge.updated"
    assert event["created"] == T0 + 50
    assert event["api_version"] == stripe_double.api_version
    assert event["data"]["object"] == updated
    assert event["data"]["previous_attributes"] == {
        "metadata": {"note": None},
        "description": charge["description"],
    }
    assert event["livemode"] is False
    assert event["pending_webhooks"] == 0
    assert "request" in event


def test_update_event_type_and_api_version_can_be_chosen(stripe_double):
    (charge,) = add_charges(stripe_double, [T0])
    stripe_double.now = lambda: T0 + 10
    stripe_double.update(
        "charges",
        charge["id"],
        {"captured": True},
        event_type="charge.captured",
        event_api_version="2024-06-20",
    )
    (event,) = get(stripe_double, "/v1/events").json()["data"]
    assert (event["type"], event["api_version"]) == ("charge.captured", "2024-06-20")


def test_balance_transaction_updates_emit_no_event(stripe_double):
    rng = random.Random(2)
    txn = stripe_double.add(
        "balance_transactions", stripe_data.make_balance_transaction(rng, T0, amount=100)
    )
    stripe_double.update("balance_transactions", txn["id"], {"status": "available"})
    assert stripe_double.events() == []
    assert stripe_double.objects("balance_transactions")[0]["status"] == "available"


def test_deleted_customer_leaves_lists_and_retrieve_shows_a_deleted_stub(stripe_double):
    rng = random.Random(1)
    gone = stripe_double.add("customers", stripe_data.make_customer(rng, T0))
    kept = stripe_double.add("customers", stripe_data.make_customer(rng, T0))
    stripe_double.now = lambda: T0 + 10
    stripe_double.delete("customers", gone["id"])
    assert ids(get(stripe_double, "/v1/customers")) == [kept["id"]]
    assert get(stripe_double, f"/v1/customers/{gone['id']}").json() == {
        "id": gone["id"],
        "object": "customer",
        "deleted": True,
    }
    (event,) = get(stripe_double, "/v1/events").json()["data"]
    assert event["type"] == "customer.deleted"
    assert event["data"]["object"]["id"] == gone["id"]
    assert get(stripe_double, "/v1/customers", starting_after=gone["id"]).status_code == 404


def test_deleted_price_emits_price_deleted(stripe_double):
    rng = random.Random(1)
    price = stripe_double.add("prices", stripe_data.make_price(rng, T0))
    stripe_double.now = lambda: T0 + 10
    stripe_double.delete("prices", price["id"])
    assert ids(get(stripe_double, "/v1/prices")) == []
    assert [e["type"] for e in stripe_double.events()] == ["price.deleted"]


def test_deleting_a_subscription_cancels_it(stripe_double):
    rng = random.Random(1)
    sub = stripe_double.add(
        "subscriptions",
        stripe_data.make_subscription(rng, T0, "cus_x", [stripe_data.make_price(rng, T0)]),
    )
    stripe_double.now = lambda: T0 + 10
    stripe_double.delete("subscriptions", sub["id"])
    assert ids(get(stripe_double, "/v1/subscriptions")) == []
    assert ids(get(stripe_double, "/v1/subscriptions", status="canceled")) == [sub["id"]]
    assert [e["type"] for e in stripe_double.events()] == ["customer.subscription.deleted"]
    with pytest.raises(ValueError, match="cannot delete charges"):
        stripe_double.delete("charges", "ch_x")


def test_connect_events_carry_the_account(stripe_double):
    (charge,) = add_charges(stripe_double, [T0], account="acct_c1")
    stripe_double.now = lambda: T0 + 10
    stripe_double.update("charges", charge["id"], {"description": "y"}, account="acct_c1")
    (event,) = get(stripe_double, "/v1/events", headers={"Stripe-Account": "acct_c1"}).json()[
        "data"
    ]
    assert event["account"] == "acct_c1"
    assert ids(get(stripe_double, "/v1/events")) == []


# --- switches: injected failures, rate limit, latency --------------------------------------------


def test_injected_500_answers_with_stripe_error_and_retry_advice_then_recovers(stripe_double):
    stripe_double.inject("/v1/charges", status=500, times=2, should_retry=True)
    for _ in range(2):
        failed = get(stripe_double, "/v1/charges")
        assert failed.status_code == 500
        assert failed.json()["error"]["type"] == "api_error"
        assert failed.headers["Stripe-Should-Retry"] == "true"
        assert failed.headers["Request-Id"].startswith("req_")
    assert get(stripe_double, "/v1/charges").status_code == 200
    assert get(stripe_double, "/v1/customers").status_code == 200


def test_injection_only_hits_its_path_prefix(stripe_double):
    stripe_double.inject("/v1/customers", status=503)
    assert get(stripe_double, "/v1/charges").status_code == 200
    assert get(stripe_double, "/v1/customers").status_code == 503
    assert get(stripe_double, "/v1/customers").status_code == 200


def test_injected_429_has_rate_limit_shape(stripe_double):
    stripe_double.inject("/v1/", status=429, should_retry=False)
    answer = get(stripe_double, "/v1/charges")
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "rate_limit"
    assert answer.headers["Stripe-Rate-Limited-Reason"]
    assert answer.headers["Stripe-Should-Retry"] == "false"


def test_injected_broken_body_is_served_raw(stripe_double):
    stripe_double.inject("/v1/charges", status=200, body=b'{"object": "list", "data": [')
    answer = get(stripe_double, "/v1/charges")
    assert answer.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()


def test_injected_truncated_transfer_breaks_the_read(stripe_double):
    stripe_double.inject("/v1/charges", status=200, body=b'{"object": "li', declared_length=500)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(stripe_double, "/v1/charges")
    assert get(stripe_double, "/v1/charges").status_code == 200


def test_injected_drop_closes_the_connection_without_an_answer(stripe_double):
    stripe_double.inject("/v1/charges", status=0)
    with pytest.raises(requests.exceptions.ConnectionError):
        get(stripe_double, "/v1/charges")
    assert get(stripe_double, "/v1/charges").status_code == 200


def test_rate_limit_answers_429_with_reason_header_beyond_the_budget():
    with StripeDouble(rate_limit_per_second=3) as double:
        statuses = [get(double, "/v1/charges") for _ in range(6)]
        limited = [a for a in statuses if a.status_code == 429]
        assert limited, [a.status_code for a in statuses]
        assert limited[0].headers["Stripe-Rate-Limited-Reason"] == "global-rate"
        assert limited[0].json()["error"]["code"] == "rate_limit"
        double.rate_limit_per_second = None
        assert get(double, "/v1/charges").status_code == 200


def test_latency_delays_every_answer(stripe_double):
    stripe_double.latency = 0.2
    started = time.monotonic()
    get(stripe_double, "/v1/charges")
    assert time.monotonic() - started >= 0.2


# --- seeded data --------------------------------------------------------------------------------


SEED_COUNTS = {
    "customers": 40,
    "prices": 30,
    "subscriptions": 30,
    "charges": 200,
    "refunds": 30,
    "balance_transactions": 240,
}


def test_seed_spreads_created_over_the_window_and_shares_seconds(stripe_double):
    stripe_double.seed(SEED_COUNTS, start=T0, end=T0 + 86_400)
    for resource, count in SEED_COUNTS.items():
        objs = stripe_double.objects(resource)
        assert len(objs) == count
        assert all(T0 <= o["created"] < T0 + 86_400 for o in objs)
    createds = [c["created"] for c in stripe_double.objects("charges")]
    assert len(set(createds)) < len(createds)
    every_id = [o["id"] for r in SEED_COUNTS for o in stripe_double.objects(r)]
    assert len(every_id) == len(set(every_id))
    assert walk(stripe_double, "/v1/charges", limit=100) == [
        c["id"] for c in stripe_double.objects("charges")
    ]


def test_seed_links_objects_and_covers_the_awkward_cases(stripe_double):
    stripe_double.seed(SEED_COUNTS, start=T0, end=T0 + 86_400, seed=3)
    customers = {c["id"] for c in stripe_double.objects("customers")}
    charges = {c["id"]: c for c in stripe_double.objects("charges")}
    subs = stripe_double.objects("subscriptions")
    prices = stripe_double.objects("prices")
    assert {c["customer"] for c in charges.values()} - {None} <= customers
    assert any(c["customer"] for c in charges.values())
    assert all(r["charge"] in charges for r in stripe_double.objects("refunds") if r["charge"])
    refunded: dict[str, int] = {}
    for refund in stripe_double.objects("refunds"):
        if refund["charge"]:
            refunded[refund["charge"]] = refunded.get(refund["charge"], 0) + refund["amount"]
    assert refunded
    assert all(charges[cid]["amount_refunded"] == total for cid, total in refunded.items())
    assert all(c["amount_refunded"] <= c["amount"] for c in charges.values())
    txn_sources = {t["source"] for t in stripe_double.objects("balance_transactions")}
    assert set(charges) & txn_sources
    assert {s["status"] for s in subs} == set(stripe_data.SUBSCRIPTION_STATUSES)
    assert any(len(s["items"]["data"]) > 10 for s in subs)
    assert any(not p["active"] for p in prices)
    assert "jpy" in {c["currency"] for c in charges.values()}
    assert len({c["currency"] for c in charges.values()}) >= 3
    price_ids = {p["id"] for p in prices}
    assert any(i["price"]["id"] in price_ids for s in subs for i in s["items"]["data"])


def test_seeded_objects_keep_every_field_of_stripes_examples(stripe_double):
    require(STRIPE_EXAMPLES)
    stripe_double.seed(SEED_COUNTS, start=T0, end=T0 + 86_400)
    for resource, name in stripe_data.OBJECT_OF.items():
        example_fields = set(stripe_data.example(name))
        for obj in stripe_double.objects(resource):
            assert example_fields <= set(obj), (resource, example_fields - set(obj))
            assert obj["object"] == name


def test_seed_is_reproducible_from_its_seed():
    first = stripe_seed.seed_objects({"charges": 20, "customers": 5}, start=T0, end=T0 + 99, seed=4)
    again = stripe_seed.seed_objects({"charges": 20, "customers": 5}, start=T0, end=T0 + 99, seed=4)
    other = stripe_seed.seed_objects({"charges": 20, "customers": 5}, start=T0, end=T0 + 99, seed=5)
    assert first == again
    assert [c["id"] for c in first["charges"]] != [c["id"] for c in other["charges"]]


def test_seed_with_events_records_each_creation_event(stripe_double):
    stripe_double.now = lambda: T0 + 86_400
    counts = {"customers": 3, "prices": 3, "subscriptions": 2, "charges": 6, "refunds": 2}
    stripe_double.seed({**counts, "balance_transactions": 4}, start=T0, end=T0 + 3600, events=True)
    events = stripe_double.events()
    assert len(events) == sum(counts.values())
    by_object = {e["data"]["object"]["id"]: e for e in events}
    for charge in stripe_double.objects("charges"):
        assert by_object[charge["id"]]["type"] == f"charge.{charge['status']}"
        assert by_object[charge["id"]]["created"] == charge["created"]
    for customer in stripe_double.objects("customers"):
        assert by_object[customer["id"]]["type"] == "customer.created"
    assert {e["type"] for e in events} >= {"price.created", "customer.subscription.created"}
    assert not {t["id"] for t in stripe_double.objects("balance_transactions")} & set(by_object)


def test_without_shared_examples_builtin_templates_are_used_and_said(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(stripe_data, "EXAMPLES_DIR", tmp_path / "absent")
    stripe_data._example_text.cache_clear()
    stripe_data._item_template_text.cache_clear()
    try:
        charge = stripe_data.example("charge")
        built = stripe_seed.seed_objects({"subscriptions": 2, "charges": 3}, start=T0, end=T0 + 9)
    finally:
        stripe_data._example_text.cache_clear()
        stripe_data._item_template_text.cache_clear()
    assert charge["object"] == "charge"
    assert "payment_method_details" not in charge  # the built-in template is the small one
    assert stripe_data.BUILTIN_NOTE in caplog.text
    assert len(built["charges"]) == 3
    assert all(len(s["items"]["data"]) >= 1 for s in built["subscriptions"])


def test_example_returns_an_independent_copy():
    first = stripe_data.example("charge")
    first["metadata"]["x"] = "changed"
    assert "x" not in stripe_data.example("charge")["metadata"]
    with pytest.raises(KeyError):
        stripe_data.example("invoice")


# --- concurrency and lifecycle -----------------------------------------------------------------


def test_concurrent_readers_each_page_through_everything(stripe_double):
    stripe_double.seed({"charges": 450}, start=T0, end=T0 + 600)
    expected = [c["id"] for c in stripe_double.objects("charges")]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: walk(stripe_double, "/v1/charges", limit=40), range(6)))
    assert all(result == expected for result in results)


def test_stop_hangs_up_kept_alive_connections():
    double = StripeDouble().start()
    session = requests.Session()
    answer = session.get(double.url + "/v1/charges", headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200
    double.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(
            double.url + "/v1/charges", headers={"Authorization": f"Bearer {KEY}"}, timeout=5
        )


# --- the emulator command line -------------------------------------------------------------------


def test_command_line_serves_seeded_data_and_prints_its_url_first():
    command = [
        sys.executable,
        "-m",
        "tests.doubles.stripe_api",
        "--port",
        "0",
        "--seed-counts",
        "charges=30,customers=5",
        "--start",
        str(T0),
        "--end",
        str(T0 + 3600),
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        answer = requests.get(
            url + "/v1/charges",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        assert len(answer.json()["data"]) == 30
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_account_retrieve_answers_for_the_platform_and_known_accounts_only(stripe_double):
    own = get(stripe_double, "/v1/account").json()
    assert own["id"] == stripe_double.account_id
    assert own["object"] == "account"
    assert own["settings"]["dashboard"]["display_name"]
    by_id = get(stripe_double, f"/v1/accounts/{stripe_double.account_id}").json()
    assert by_id == own
    stripe_double.add_account("acct_1Connected000001")
    assert get(stripe_double, "/v1/accounts/acct_1Connected000001").json()["id"] == (
        "acct_1Connected000001"
    )
    unknown = get(stripe_double, "/v1/accounts/acct_1Unknown00000001")
    assert unknown.status_code == 403
    assert unknown.json()["error"]["code"] == "account_invalid"
    assert get(stripe_double, "/v1/account", key=None).status_code == 401


def test_a_pre_basil_version_sees_the_legacy_subscription_fields(stripe_double):
    rng = random.Random(21)
    single = stripe_data.make_subscription(rng, T0, None, [stripe_data.make_price(rng, T0)])
    prices = [stripe_data.make_price(rng, T0), stripe_data.make_price(rng, T0)]
    double = stripe_data.make_subscription(rng, T0 + 1, None, prices)
    for sub in (single, double):
        stripe_double.add("subscriptions", sub)
    old = {"Stripe-Version": "2022-11-15"}

    listed = get(stripe_double, "/v1/subscriptions", headers=old, **{"expand[]": "data.plan.tiers"})
    assert listed.status_code == 200, listed.text
    by_id = {sub["id"]: sub for sub in listed.json()["data"]}
    item = single["items"]["data"][0]
    legacy = by_id[single["id"]]
    assert legacy["plan"]["id"] == item["price"]["id"]
    assert legacy["plan"]["object"] == "plan"
    assert legacy["quantity"] == item["quantity"]
    assert legacy["current_period_start"] == item["current_period_start"]
    assert legacy["current_period_end"] == item["current_period_end"]
    assert by_id[double["id"]]["plan"] is None  # several items: no single plan
    retrieved = get(stripe_double, f"/v1/subscriptions/{single['id']}", headers=old).json()
    assert retrieved["plan"]["id"] == item["price"]["id"]

    current = get(stripe_double, "/v1/subscriptions").json()["data"]
    assert all("plan" not in sub for sub in current)
    rejected = get(stripe_double, "/v1/subscriptions", **{"expand[]": "data.plan.tiers"})
    assert rejected.status_code == 400  # the current version has no subscription plan
