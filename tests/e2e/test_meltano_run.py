"""`meltano run tap-stripe-xdm target-aep` with the real Meltano CLI, end to end.

Stripe is the local Stripe double, Experience Platform the local AEP double (which checks every
exchange against Adobe's OpenAPI specs and validates every entity against its dataset's closed
schema). Each test runs twice: the second run, after new objects appear in Stripe, must send
only those (plus documented boundary duplicates: objects created in the bookmark's own second),
with the bookmarks kept in Meltano's system database.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from stripe_emulator import object_factories
from tap_stripe_xdm import schemas as tap_schemas

from tests.doubles.aep_api import aep_double
from tests.doubles.stripe_api import StripeDouble
from tests.target.singer_run import dataset_schema

STREAMS = ("charges", "subscriptions", "refunds", "balance_transactions", "customers", "prices")
FIRST = {
    "charges": 60,
    "customers": 25,
    "subscriptions": 20,
    "refunds": 12,
    "balance_transactions": 60,
    "prices": 10,
}
LATER = {"charges": 7, "customers": 3, "refunds": 2, "balance_transactions": 5}
TENANT = "acme"
START = 1735689600  # 2025-01-01


def tap_env(stripe: StripeDouble) -> dict[str, str]:
    return {
        "TAP_STRIPE_XDM_API_URL": stripe.url,
        "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
        # No lag: objects created a second ago are already listed by the double.
        "TAP_STRIPE_XDM_VISIBILITY_LAG_SECONDS": "0",
    }


def target_env(config: dict) -> dict[str, str]:
    """Settings as Meltano reads them from the environment (objects as JSON, numbers as text)."""
    return {
        f"TARGET_AEP_{key.upper()}": json.dumps(value) if isinstance(value, dict) else str(value)
        for key, value in config.items()
    }


def stripe_ids(stripe: StripeDouble, stream: str) -> set[str]:
    return {obj["id"] for obj in stripe.objects(stream)}


def created_at_or_after(stripe: StripeDouble, stream: str, second: int) -> set[str]:
    return {obj["id"] for obj in stripe.objects(stream) if obj["created"] >= second}


def add_later_objects(stripe: StripeDouble) -> int:
    """New objects created now (after the first run's bookmark); returns their creation second."""
    now = int(time.time())
    stripe.seed(LATER, start=now, end=now + 1, seed=99, events=True)
    time.sleep(1.1)  # the tap reads up to "now": let that second pass
    return now


def entity_ids(entities: list[dict]) -> list[str]:
    return [entity[f"_{TENANT}"]["stripe"]["id"] for entity in entities]


def tap_schema(stream: str) -> dict:
    return json.loads((Path(tap_schemas.__file__).parent / f"{stream}.json").read_text())


def files_env(stripe: StripeDouble, output_dir: Path) -> dict[str, str]:
    return {
        **tap_env(stripe),
        "TARGET_AEP_DESTINATION": "files",
        "TARGET_AEP_OUTPUT_DIR": str(output_dir),
        "TARGET_AEP_TENANT_ID": TENANT,
    }


@pytest.fixture
def stripe():
    with StripeDouble() as double:
        double.seed(FIRST, start=START, end=START + 90 * 86_400, seed=5, events=True)
        yield double


def test_streaming_run_delivers_every_object_once_then_only_new_ones(
    installed_project, stripe, tmp_path
):
    with aep_double(tenant_id=TENANT) as aep:
        streams = {}
        for stream in STREAMS:
            dataset_id, schema_id = (
                f"ds_{stream}",
                f"https://ns.adobe.com/{TENANT}/schemas/{stream}",
            )
            aep.register_dataset(
                dataset_id, schema_id, dataset_schema(stream, TENANT, tap_schema(stream))
            )
            streams[stream] = {
                "dataset_id": dataset_id,
                "schema_id": schema_id,
                "flow_id": f"flow_{stream}",
            }
        config = aep.config(
            destination="streaming",
            tenant_id=TENANT,
            streams=streams,
            output_dir=str(tmp_path / "out"),
        )
        env = {**tap_env(stripe), **target_env(config)}
        suffix = ("--state-id-suffix", "streaming")

        installed_project.run(env, *suffix)
        first = {s: entity_ids(aep.dcs_entities[f"ds_{s}"]) for s in STREAMS}
        for stream in STREAMS:
            assert sorted(first[stream]) == sorted(stripe_ids(stripe, stream)), stream
        state = installed_project.state(env, "streaming")
        assert set(state["singer_state"]["bookmarks"]) >= set(STREAMS)

        before = {s: stripe_ids(stripe, s) for s in STREAMS}
        new_second = add_later_objects(stripe)
        installed_project.run(env, *suffix)
        for stream in STREAMS:
            second = entity_ids(aep.dcs_entities[f"ds_{stream}"])[len(first[stream]) :]
            new = stripe_ids(stripe, stream) - before[stream]
            assert new <= set(second), stream
            # Only new objects, or boundary duplicates from the bookmark's own second.
            assert set(second) - new <= created_at_or_after(stripe, stream, new_second - 1), stream
        summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())
        for stream in STREAMS:  # the second run's counts: nothing dead-lettered
            assert summary["streams"][stream]["dead_lettered"] == 0, stream
        assert not (tmp_path / "out" / "dead_letter.jsonl").exists()


def read_files(output_dir: Path, stream: str) -> list[dict]:
    folder = output_dir / stream
    if not folder.exists():
        return []
    manifest = json.loads((folder / "manifest.json").read_text())
    rows: list[dict] = []
    for entry in manifest["files"]:
        lines = (folder / entry["name"]).read_text().splitlines()
        assert len(lines) == entry["records"]
        rows.extend(json.loads(line) for line in lines)
    return rows


def test_files_run_writes_every_object_then_only_new_ones_and_full_refresh_rewrites(
    installed_project, stripe, tmp_path
):
    output_dir = tmp_path / "xdm"
    env = files_env(stripe, output_dir)
    suffix = ("--state-id-suffix", "files")

    installed_project.run(env, *suffix)
    first = {s: entity_ids(read_files(output_dir, s)) for s in STREAMS}
    for stream in STREAMS:
        assert sorted(first[stream]) == sorted(stripe_ids(stripe, stream)), stream

    before = {s: stripe_ids(stripe, s) for s in STREAMS}
    new_second = add_later_objects(stripe)
    installed_project.run(env, *suffix)
    for stream in STREAMS:
        second = entity_ids(read_files(output_dir, stream))[len(first[stream]) :]
        new = stripe_ids(stripe, stream) - before[stream]
        assert new <= set(second), stream
        assert set(second) - new <= created_at_or_after(stripe, stream, new_second - 1), stream

    installed_project.run(env, *suffix, "--full-refresh")
    for stream in STREAMS:
        everything = entity_ids(read_files(output_dir, stream))
        assert stripe_ids(stripe, stream) <= set(everything[len(first[stream]) :]), stream


def test_an_update_and_a_delete_after_the_first_run_arrive_on_the_next(
    installed_project, stripe, tmp_path
):
    output_dir = tmp_path / "xdm"
    env = files_env(stripe, output_dir)
    suffix = ("--state-id-suffix", "changes")
    installed_project.run(env, *suffix)
    first = {s: read_files(output_dir, s) for s in ("charges", "customers")}

    charge_id = stripe.objects("charges")[5]["id"]
    customer_id = stripe.objects("customers")[3]["id"]
    stripe.update("charges", charge_id, {"metadata": {"order_note": "gift wrap"}})
    stripe.delete("customers", customer_id)
    time.sleep(1.1)
    installed_project.run(env, *suffix)

    charges = read_files(output_dir, "charges")[len(first["charges"]) :]
    (updated,) = [c for c in charges if c[f"_{TENANT}"]["stripe"]["id"] == charge_id]
    assert updated[f"_{TENANT}"]["stripe"]["charge"]["metadata"]["order_note"] == "gift wrap"
    (original,) = [c for c in first["charges"] if c[f"_{TENANT}"]["stripe"]["id"] == charge_id]
    assert updated["_id"] != original["_id"]  # a new state is a new event

    customers = read_files(output_dir, "customers")[len(first["customers"]) :]
    (deleted,) = [c for c in customers if c[f"_{TENANT}"]["stripe"]["id"] == customer_id]
    assert deleted[f"_{TENANT}"]["stripe"]["deleted"] is True
    assert deleted["identityMap"]["StripeCustomerID"][0]["id"] == customer_id


def test_a_charge_refunded_then_edited_and_a_bank_debit_that_succeeds_count_one_purchase_each(
    installed_project, stripe, tmp_path
):
    """Change capture through `meltano run`: each change is its own event at the change's
    time; the purchase and its revenue count once, the refunded amount once (on the refund).
    A bank debit read while pending counts its purchase when it succeeds, between runs."""
    output_dir = tmp_path / "xdm"
    env = files_env(stripe, output_dir)
    suffix = ("--state-id-suffix", "change-events")
    charge = next(
        c
        for c in stripe.objects("charges")
        if c["status"] == "succeeded" and c["captured"] and c["currency"] == "usd"
    )
    debit = object_factories.make_charge(random.Random(2), START + 86_400, status="pending")
    stripe.add("charges", debit)
    installed_project.run(env, *suffix)

    refunded_at = int(time.time())
    stripe.update(
        "charges",
        debit["id"],
        {"status": "succeeded", "paid": True, "captured": True, "amount_captured": debit["amount"]},
        event_type="charge.succeeded",
        event_created=refunded_at,
    )
    refund = object_factories.make_refund(random.Random(1), refunded_at, charge, amount=100)
    stripe.add("refunds", refund)
    stripe.add_event({"type": "refund.created", "created": refunded_at, "data": {"object": refund}})
    stripe.update(
        "charges",
        charge["id"],
        {"amount_refunded": 100},
        event_type="charge.refunded",
        event_created=refunded_at,
    )
    time.sleep(1.1)
    installed_project.run(env, *suffix)
    edited_at = int(time.time())
    stripe.update("charges", charge["id"], {"metadata": {"gift": "yes"}}, event_created=edited_at)
    time.sleep(1.1)
    installed_project.run(env, *suffix)

    def of(stream: str, stripe_id: str) -> list[dict]:
        rows = read_files(output_dir, stream)
        return [row for row in rows if row[f"_{TENANT}"]["stripe"]["id"] == stripe_id]

    charges, refunds = of("charges", charge["id"]), of("refunds", refund["id"])
    assert [row["eventType"] for row in charges] == [
        "commerce.purchases",
        "stripe.charge.refunded",
        "stripe.charge.updated",
    ]
    assert len({row["_id"] for row in charges}) == 3
    stamps = [row["timestamp"] for row in charges]
    assert stamps == sorted(stamps)
    assert stamps[1:] == [iso(refunded_at), iso(edited_at)]
    events = charges + refunds
    assert sum(e.get("commerce", {}).get("purchases", {}).get("value", 0) for e in events) == 1
    totals = [e.get("commerce", {}).get("order", {}) for e in events]
    assert sum(order.get("priceTotal", 0) for order in totals) == charge["amount"] / 100
    assert sum(order.get("refundTotal", 0) for order in totals) == 1.0
    assert [row["commerce"]["order"]["refundTotal"] for row in refunds] == [1.0]

    debits = of("charges", debit["id"])
    assert [row["eventType"] for row in debits] == ["stripe.charge.pending", "commerce.purchases"]
    assert [row["timestamp"] for row in debits] == [iso(debit["created"]), iso(refunded_at)]
    assert [row.get("commerce", {}).get("purchases") for row in debits] == [None, {"value": 1}]
    assert sum(row["commerce"]["order"].get("priceTotal", 0) for row in debits) == (
        debit["amount"] / 100
    )


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
