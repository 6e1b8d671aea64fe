"""A request pinned to an older `Stripe-Version` sees the documented older shapes (versions.py)."""

from __future__ import annotations

import random

from stripe_emulator import object_factories

from tests.stripe_emulator.emulator_client import T0, get


def test_a_pre_basil_version_sees_the_legacy_subscription_fields(emulator):
    rng = random.Random(21)
    single = object_factories.make_subscription(
        rng, T0, None, [object_factories.make_price(rng, T0)]
    )
    prices = [object_factories.make_price(rng, T0), object_factories.make_price(rng, T0)]
    double = object_factories.make_subscription(rng, T0 + 1, None, prices)
    for sub in (single, double):
        emulator.add("subscriptions", sub)
    old = {"Stripe-Version": "2022-11-15"}

    listed = get(emulator, "/v1/subscriptions", headers=old, **{"expand[]": "data.plan.tiers"})
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
    retrieved = get(emulator, f"/v1/subscriptions/{single['id']}", headers=old).json()
    assert retrieved["plan"]["id"] == item["price"]["id"]

    current = get(emulator, "/v1/subscriptions").json()["data"]
    assert all("plan" not in sub for sub in current)
    rejected = get(emulator, "/v1/subscriptions", **{"expand[]": "data.plan.tiers"})
    assert rejected.status_code == 400  # the current version has no subscription plan
