"""Generated data sets: spread over the window, linked, covering the awkward cases, reproducible."""

from __future__ import annotations

from stripe_emulator import seed_data
from stripe_emulator.resources import SUBSCRIPTION_STATUSES

from tests.stripe_emulator.emulator_client import SEED_COUNTS, T0, walk


def test_seed_spreads_created_over_the_window_and_shares_seconds(emulator):
    emulator.seed(SEED_COUNTS, start=T0, end=T0 + 86_400)
    for resource, count in SEED_COUNTS.items():
        objs = emulator.objects(resource)
        assert len(objs) == count
        assert all(T0 <= o["created"] < T0 + 86_400 for o in objs)
    createds = [c["created"] for c in emulator.objects("charges")]
    assert len(set(createds)) < len(createds)
    every_id = [o["id"] for r in SEED_COUNTS for o in emulator.objects(r)]
    assert len(every_id) == len(set(every_id))
    assert walk(emulator, "/v1/charges", limit=100) == [
        c["id"] for c in emulator.objects("charges")
    ]


def test_seed_links_objects_and_covers_the_awkward_cases(emulator):
    emulator.seed(SEED_COUNTS, start=T0, end=T0 + 86_400, seed=3)
    customers = {c["id"] for c in emulator.objects("customers")}
    charges = {c["id"]: c for c in emulator.objects("charges")}
    subs = emulator.objects("subscriptions")
    prices = emulator.objects("prices")
    assert {c["customer"] for c in charges.values()} - {None} <= customers
    assert any(c["customer"] for c in charges.values())
    assert all(r["charge"] in charges for r in emulator.objects("refunds") if r["charge"])
    refunded: dict[str, int] = {}
    for refund in emulator.objects("refunds"):
        if refund["charge"]:
            refunded[refund["charge"]] = refunded.get(refund["charge"], 0) + refund["amount"]
    assert refunded
    assert all(charges[cid]["amount_refunded"] == total for cid, total in refunded.items())
    assert all(c["amount_refunded"] <= c["amount"] for c in charges.values())
    txn_sources = {t["source"] for t in emulator.objects("balance_transactions")}
    assert set(charges) & txn_sources
    assert {s["status"] for s in subs} == set(SUBSCRIPTION_STATUSES)
    assert any(len(s["items"]["data"]) > 10 for s in subs)
    assert any(not p["active"] for p in prices)
    assert "jpy" in {c["currency"] for c in charges.values()}
    assert len({c["currency"] for c in charges.values()}) >= 3
    price_ids = {p["id"] for p in prices}
    assert any(i["price"]["id"] in price_ids for s in subs for i in s["items"]["data"])


def test_seed_is_reproducible_from_its_seed():
    first = seed_data.seed_objects({"charges": 20, "customers": 5}, start=T0, end=T0 + 99, seed=4)
    again = seed_data.seed_objects({"charges": 20, "customers": 5}, start=T0, end=T0 + 99, seed=4)
    other = seed_data.seed_objects({"charges": 20, "customers": 5}, start=T0, end=T0 + 99, seed=5)
    assert first == again
    assert [c["id"] for c in first["charges"]] != [c["id"] for c in other["charges"]]


def long_subscriptions(emulator) -> int:
    return sum(len(s["items"]["data"]) > 10 for s in emulator.objects("subscriptions"))


def test_one_subscription_in_six_has_more_items_than_stripe_embeds_unless_told_otherwise(
    emulator,
):
    emulator.seed({"subscriptions": 600}, start=T0, end=T0 + 86_400)
    assert long_subscriptions(emulator) == 100


def test_long_subscriptions_every_n_seeds_fewer_and_always_keeps_one(emulator):
    emulator.seed({"subscriptions": 600}, start=T0, end=T0 + 86_400, long_subscriptions_every=100)
    assert long_subscriptions(emulator) == 6
    emulator.seed(
        {"subscriptions": 600},
        start=T0,
        end=T0 + 86_400,
        account="acct_1",
        long_subscriptions_every=0,
    )
    assert (
        sum(
            len(s["items"]["data"]) > 10
            for s in emulator.objects("subscriptions", account="acct_1")
        )
        == 1
    )
