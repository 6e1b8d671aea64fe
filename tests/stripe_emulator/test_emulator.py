"""The emulator's HTTP API as Stripe documents it: list mechanics and cursors, subscription items,
retrieve, authentication and headers, connected accounts, event retention, latency."""

from __future__ import annotations

import base64
import random
import time

import requests
from stripe_emulator import object_factories

from tests.stripe_emulator.emulator_client import KEY, T0, add_charges, get, ids, raw_event, walk


def test_list_envelope_is_newest_first_with_ties_in_a_stable_order(emulator):
    charges = add_charges(emulator, [T0 + 5, T0, T0 + 5, T0 + 9, T0 + 5])
    first = get(emulator, "/v1/charges")
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
    assert ids(get(emulator, "/v1/charges")) == ids(first)


def test_starting_after_pages_cover_every_object_exactly_once(emulator):
    charges = add_charges(emulator, [T0 + i // 4 for i in range(95)])  # 4 share each second
    seen = walk(emulator, "/v1/charges", limit=7)
    assert len(seen) == len(set(seen)) == 95
    assert set(seen) == {c["id"] for c in charges}


def test_cursor_paging_stays_inside_the_created_window(emulator):
    charges = add_charges(emulator, [T0 + i // 3 for i in range(60)])
    inside = {c["id"] for c in charges if T0 + 5 <= c["created"] < T0 + 15}
    seen = walk(
        emulator, "/v1/charges", limit=4, **{"created[gte]": T0 + 5, "created[lt]": T0 + 15}
    )
    assert sorted(seen) == sorted(inside)


def test_ending_before_pages_back_towards_the_newest(emulator):
    add_charges(emulator, [T0 + i for i in range(25)])
    everything = ids(get(emulator, "/v1/charges", limit=100))
    oldest = everything[-1]
    page = get(emulator, "/v1/charges", limit=10, ending_before=oldest).json()
    assert [c["id"] for c in page["data"]] == everything[-11:-1]
    assert page["has_more"] is True
    page = get(emulator, "/v1/charges", limit=10, ending_before=everything[10]).json()
    assert [c["id"] for c in page["data"]] == everything[:10]
    assert page["has_more"] is False


def test_has_more_is_false_exactly_on_the_last_page(emulator):
    add_charges(emulator, [T0 + i for i in range(20)])
    first = get(emulator, "/v1/charges", limit=10).json()
    assert first["has_more"] is True
    last = get(emulator, "/v1/charges", limit=10, starting_after=first["data"][-1]["id"]).json()
    assert len(last["data"]) == 10
    assert last["has_more"] is False


def test_both_cursors_at_once_are_rejected(emulator):
    a, b = add_charges(emulator, [T0, T0 + 1])
    response = get(emulator, "/v1/charges", starting_after=a["id"], ending_before=b["id"])
    assert response.status_code == 400
    assert "only specify one" in response.json()["error"]["message"]


def test_cursor_not_in_the_store_is_resource_missing(emulator):
    response = get(emulator, "/v1/charges", starting_after="ch_gone")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "resource_missing"
    assert error["param"] == "starting_after"
    assert error["message"] == "No such charge: 'ch_gone'"


def test_unrecognized_url_and_writes_are_404(emulator):
    assert get(emulator, "/v1/invoices").status_code == 404
    response = requests.post(
        emulator.url + "/v1/charges",
        data={"amount": 1},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert response.status_code == 404
    assert "Unrecognized request URL (POST: /v1/charges)" in response.json()["error"]["message"]


def test_embedded_items_show_ten_and_subscription_items_pages_them_all(emulator):
    rng = random.Random(8)
    prices = [object_factories.make_price(rng, T0) for _ in range(23)]
    sub = emulator.add(
        "subscriptions", object_factories.make_subscription(rng, T0, "cus_x", prices)
    )
    all_items = [item["id"] for item in sub["items"]["data"]]
    embedded = get(emulator, f"/v1/subscriptions/{sub['id']}").json()["items"]
    assert [i["id"] for i in embedded["data"]] == all_items[:10]
    assert embedded["has_more"] is True
    listed = get(emulator, "/v1/subscriptions", status="all").json()["data"][0]["items"]
    assert len(listed["data"]) == 10
    assert listed["has_more"] is True

    paged = walk(emulator, "/v1/subscription_items", subscription=sub["id"], limit=10)
    assert paged == all_items
    first = get(emulator, "/v1/subscription_items", subscription=sub["id"]).json()
    assert [i["id"] for i in first["data"]] == all_items[:10]
    assert emulator.objects("subscriptions")[0]["items"]["data"] == sub["items"]["data"]
    item = get(emulator, f"/v1/subscription_items/{all_items[15]}").json()
    assert item["subscription"] == sub["id"]


def test_subscription_items_requires_a_known_subscription(emulator):
    assert get(emulator, "/v1/subscription_items").status_code == 400
    response = get(emulator, "/v1/subscription_items", subscription="sub_nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_small_subscription_embeds_all_items_without_has_more(emulator):
    rng = random.Random(9)
    sub = emulator.add(
        "subscriptions",
        object_factories.make_subscription(
            rng, T0, "cus_x", [object_factories.make_price(rng, T0) for _ in range(3)]
        ),
    )
    embedded = get(emulator, f"/v1/subscriptions/{sub['id']}").json()["items"]
    assert len(embedded["data"]) == 3
    assert embedded["has_more"] is False


def test_retrieve_returns_the_object_and_404_resource_missing_otherwise(emulator):
    (charge,) = add_charges(emulator, [T0])
    assert get(emulator, f"/v1/charges/{charge['id']}").json() == charge
    response = get(emulator, "/v1/charges/ch_x")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error == {
        **error,
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": "No such charge: 'ch_x'",
    }


def test_missing_or_unknown_key_is_401_and_never_echoes_the_key(emulator):
    missing = get(emulator, "/v1/charges", key=None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    assert missing.json()["error"]["type"] == "invalid_request_error"
    secret = "sk_test_51Abcdefghijklmnopqrstuvwxyz9876"
    wrong = get(emulator, "/v1/charges", key=secret)
    assert wrong.status_code == 401
    message = wrong.json()["error"]["message"]
    assert message.startswith("Invalid API Key provided: sk_test_***")
    assert message.endswith("9876")
    assert secret not in wrong.text
    assert "abcdefghij" not in wrong.text


def test_basic_auth_with_the_key_as_username_is_accepted(emulator):
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    response = requests.get(
        emulator.url + "/v1/charges", headers={"Authorization": f"Basic {token}"}, timeout=10
    )
    assert response.status_code == 200


def test_restricted_key_without_permission_is_403_naming_the_permission(emulator):
    emulator.add_key("rk_test_onlycharges1234", allowed={"charges"})
    assert get(emulator, "/v1/charges", key="rk_test_onlycharges1234").status_code == 200
    response = get(emulator, "/v1/customers", key="rk_test_onlycharges1234")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert (
        "does not have the required permissions for this endpoint on account 'acct_"
        in error["message"]
    )
    assert "'rak_customer_read'" in error["message"]
    assert "rk_test_onlycharges1234" not in response.text


def test_every_answer_carries_a_unique_request_id(emulator):
    answers = [
        get(emulator, "/v1/charges"),
        get(emulator, "/v1/charges/ch_x"),
        get(emulator, "/v1/charges", key=None),
        get(emulator, "/v1/nothing"),
    ]
    request_ids = [a.headers["Request-Id"] for a in answers]
    assert all(rid.startswith("req_") for rid in request_ids)
    assert len(set(request_ids)) == len(request_ids)


def test_stripe_version_is_echoed_and_a_malformed_one_rejected(emulator):
    answer = get(emulator, "/v1/charges", headers={"Stripe-Version": "2025-03-31.basil"})
    assert answer.headers["Stripe-Version"] == "2025-03-31.basil"
    assert get(emulator, "/v1/charges").headers["Stripe-Version"] == emulator.api_version
    assert get(emulator, "/v1/charges", headers={"Stripe-Version": "latest"}).status_code == 400


def test_stripe_account_header_selects_a_separate_store(emulator):
    (platform_charge,) = add_charges(emulator, [T0])
    (connected_charge,) = add_charges(emulator, [T0 + 1], account="acct_connected1")
    assert ids(get(emulator, "/v1/charges")) == [platform_charge["id"]]
    connected = get(emulator, "/v1/charges", headers={"Stripe-Account": "acct_connected1"})
    assert ids(connected) == [connected_charge["id"]]
    assert emulator.objects("charges", account="acct_connected1")[0]["id"] == connected_charge["id"]


def test_unknown_connected_account_is_refused(emulator):
    response = get(emulator, "/v1/charges", headers={"Stripe-Account": "acct_unknown"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert "does not have access to account 'acct_unknown'" in error["message"]
    assert KEY not in response.text


def test_connected_accounts_are_listed_newest_first_in_pages(emulator):
    for i in range(25):
        emulator.add_account(f"acct_c{i:02d}", created=T0 + i // 2)  # two share each second
    add_charges(emulator, [T0], account="acct_implicit")  # connected by adding its data
    seen = walk(emulator, "/v1/accounts", limit=4)
    assert len(seen) == len(set(seen)) == 26
    assert set(seen) == {f"acct_c{i:02d}" for i in range(25)} | {"acct_implicit"}
    body = get(emulator, "/v1/accounts", limit=100).json()
    assert body["url"] == "/v1/accounts"
    createds = [a["created"] for a in body["data"]]
    assert createds == sorted(createds, reverse=True)
    assert {a["object"] for a in body["data"]} == {"account"}
    window = ids(get(emulator, "/v1/accounts", limit=100, **{"created[lt]": T0 + 2}))
    assert sorted(window) == ["acct_c00", "acct_c01", "acct_c02", "acct_c03"]
    newest = ids(get(emulator, "/v1/accounts", limit=100))
    before = get(emulator, "/v1/accounts", limit=3, ending_before=newest[5]).json()
    assert [a["id"] for a in before["data"]] == newest[2:5]
    assert before["has_more"] is True
    assert get(emulator, "/v1/accounts", starting_after="acct_nope").status_code == 404
    assert get(emulator, "/v1/accounts", status="x").status_code == 400  # unknown parameter


def test_a_connected_account_lists_no_accounts_and_a_removed_one_is_gone(emulator):
    emulator.add_account("acct_one", created=T0)
    emulator.add_account("acct_two", created=T0 + 1)
    as_connected = get(emulator, "/v1/accounts", headers={"Stripe-Account": "acct_one"})
    assert ids(as_connected) == []  # "If you're not a platform, the list is empty"
    assert get(emulator, "/v1/accounts/acct_two").json()["created"] == T0 + 1
    emulator.remove_account("acct_two")
    assert ids(get(emulator, "/v1/accounts")) == ["acct_one"]
    refused = get(emulator, "/v1/charges", headers={"Stripe-Account": "acct_two"})
    assert refused.status_code == 403


def test_events_older_than_thirty_days_are_not_listed_or_retrievable(emulator):
    now = T0 + 40 * 86_400
    emulator.now = lambda: now
    emulator.add_event(raw_event("charge.updated", now - 31 * 86_400, id="evt_old"))
    emulator.add_event(raw_event("charge.updated", now - 29 * 86_400, id="evt_recent"))
    assert ids(get(emulator, "/v1/events")) == ["evt_recent"]
    assert get(emulator, "/v1/events/evt_old").status_code == 404
    assert get(emulator, "/v1/events/evt_recent").status_code == 200
    emulator.now = lambda: now - 5 * 86_400  # back in time: the old one is visible again
    assert ids(get(emulator, "/v1/events")) == ["evt_recent", "evt_old"]


def test_latency_delays_every_answer(emulator):
    emulator.latency = 0.2
    started = time.monotonic()
    get(emulator, "/v1/charges")
    assert time.monotonic() - started >= 0.2


def test_account_retrieve_answers_for_the_platform_and_known_accounts_only(emulator):
    own = get(emulator, "/v1/account").json()
    assert own["id"] == emulator.account_id
    assert own["object"] == "account"
    assert own["settings"]["dashboard"]["display_name"]
    by_id = get(emulator, f"/v1/accounts/{emulator.account_id}").json()
    assert by_id == own
    emulator.add_account("acct_1Connected000001")
    assert get(emulator, "/v1/accounts/acct_1Connected000001").json()["id"] == (
        "acct_1Connected000001"
    )
    unknown = get(emulator, "/v1/accounts/acct_1Unknown00000001")
    assert unknown.status_code == 403
    assert unknown.json()["error"]["code"] == "account_invalid"
    assert get(emulator, "/v1/account", key=None).status_code == 401
