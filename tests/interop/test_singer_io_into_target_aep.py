"""singer-io's tap-stripe 3.3.0, run against the Stripe double, feeding target-aep.

The tap reads the double through the `stripe` library (see singer_io_launcher.py), pinned to
API version 2022-11-15, and emits its own shapes: ids where this project's tap expands objects
(`subscriptions.items` is a list of `si_...` strings), ISO strings for every date-time at any
depth, and every object a second time from its creation event, stamped with `updated` and
`updated_by_event_type` but otherwise unchanged.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.doubles.stripe_api import StripeDouble
from tests.interop.singer_pipe import (
    Messages,
    dead_letters,
    run_singer_io,
    run_summary,
    run_target_aep,
    xdm_rows,
)

TENANT = "acme"
MAPPED = {"charges", "customers", "subscriptions", "balance_transactions"}
COUNTS = {
    "customers": 30,
    "prices": 6,
    "charges": 80,
    "refunds": 12,
    "subscriptions": 30,
    "balance_transactions": 40,
}
DAY = 86_400


@dataclass(frozen=True)
class Changes:
    refunded_charge: str
    deleted_customer: dict
    edited_subscription: str
    succeeded_debit: str


@pytest.fixture(scope="module")
def stripe() -> StripeDouble:
    """Objects created over the last 20 days, each with its creation event (inside Stripe's
    30-day event retention, so singer-io's change pass re-sends every one of them), then a
    charge refunded, a customer deleted, a subscription edited and a pending charge (a bank
    debit) succeeded an hour ago."""
    now = int(time.time())
    with StripeDouble() as double:
        double.seed(COUNTS, start=now - 20 * DAY, end=now - 7200, seed=12, events=True)
        yield double


@pytest.fixture(scope="module")
def changes(stripe) -> Changes:
    an_hour_ago = int(time.time()) - 3600
    charge = next(c for c in stripe.objects("charges") if c["status"] == "succeeded")
    stripe.update(
        "charges",
        charge["id"],
        {"amount_refunded": charge["amount"], "refunded": True},
        event_type="charge.refunded",
        event_created=an_hour_ago,
    )
    customer = stripe.objects("customers")[4]
    stripe.delete("customers", customer["id"], event_created=an_hour_ago)
    subscription = stripe.objects("subscriptions")[2]["id"]
    stripe.update(
        "subscriptions", subscription, {"metadata": {"plan": "gold"}}, event_created=an_hour_ago
    )
    debit = next(c for c in stripe.objects("charges") if c["status"] == "pending")
    stripe.update(
        "charges",
        debit["id"],
        {"status": "succeeded", "paid": True, "captured": True, "amount_captured": debit["amount"]},
        event_type="charge.succeeded",
        event_created=an_hour_ago,
    )
    return Changes(charge["id"], customer, subscription, debit["id"])


def iso_days_ago(days: int) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def singer_io_output(singer_io_tap_stripe, stripe, changes, tmp_path_factory) -> Messages:
    return run_singer_io(
        singer_io_tap_stripe,
        stripe_url=stripe.url,
        account_id=stripe.account_id,
        start_date=iso_days_ago(21),
        streams=MAPPED,
        folder=tmp_path_factory.mktemp("singer-io"),
    )


def target_config(output_dir: Path, **extra) -> dict:
    return {"destination": "files", "output_dir": str(output_dir), "tenant_id": TENANT, **extra}


def test_singer_io_reads_the_double_and_resends_every_object_from_its_newest_event(
    singer_io_output, stripe, changes
):
    deleted = changes.deleted_customer["id"]
    for stream in MAPPED:
        ids = {record["id"] for record in singer_io_output.records(stream)}
        listed = {obj["id"] for obj in stripe.objects(stream)}
        assert ids == (listed | {deleted} if stream == "customers" else listed), stream
    for stream in MAPPED - {"balance_transactions"}:  # balance transactions have no events
        records = singer_io_output.records(stream)
        resent = {r["id"] for r in records if r.get("updated_by_event_type")}
        assert resent == {r["id"] for r in records}, stream  # each from its (newest) events
    kinds = {
        (r["id"], r.get("updated_by_event_type"))
        for stream in MAPPED
        for r in singer_io_output.records(stream)
    }
    assert (changes.refunded_charge, "charge.refunded") in kinds
    assert (deleted, "customer.deleted") in kinds
    assert (changes.edited_subscription, "customer.subscription.updated") in kinds
    (subscription, *_) = singer_io_output.records("subscriptions")
    assert all(isinstance(item, str) for item in subscription["items"])


def test_every_singer_io_record_is_written_and_none_dead_lettered(singer_io_output, tmp_path):
    run_target_aep(target_config(tmp_path), singer_io_output, tmp_path)
    summary = run_summary(tmp_path)
    for stream, count in singer_io_output.record_counts().items():
        assert summary[stream]["received"] == count, stream
        assert summary[stream]["delivered"] == count, stream
        assert len(xdm_rows(tmp_path, stream)) == count, stream
    assert dead_letters(tmp_path) == []


def test_every_singer_io_record_is_written_in_compat_mode(singer_io_output, tmp_path):
    run_target_aep(target_config(tmp_path, mapping_mode="compat"), singer_io_output, tmp_path)
    summary = run_summary(tmp_path)
    for stream, count in singer_io_output.record_counts().items():
        assert summary[stream]["delivered"] == count, stream
    assert dead_letters(tmp_path) == []


def xdm_ids_per_object(output_dir: Path, stream: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for row in xdm_rows(output_dir, stream):
        found[row[f"_{TENANT}"]["stripe"]["id"]].add(row["_id"])
    return found


def test_an_unchanged_object_sent_again_keeps_its_id(singer_io_output, changes, tmp_path):
    """singer-io re-sends every charge from its creation event, stamped with its bookkeeping
    (`updated`, `updated_by_event_type`) but otherwise unchanged: one purchase event per charge.
    (Its customers differ for real between the two: the list read expands `subscriptions`, the
    event does not; Profile merges both records by identity.)"""
    run_target_aep(target_config(tmp_path), singer_io_output, tmp_path)
    changed = {changes.refunded_charge}
    for stream in ("charges", "balance_transactions"):
        per_object = xdm_ids_per_object(tmp_path, stream)
        assert per_object, stream
        unchanged = {key: ids for key, ids in per_object.items() if key not in changed}
        assert all(len(ids) == 1 for ids in unchanged.values()), stream


def test_singer_ios_changes_are_change_events_and_its_delete_keeps_the_customer(
    singer_io_output, changes, tmp_path
):
    run_target_aep(target_config(tmp_path), singer_io_output, tmp_path)
    charges = [
        row
        for row in xdm_rows(tmp_path, "charges")
        if row[f"_{TENANT}"]["stripe"]["id"] == changes.refunded_charge
    ]
    by_id = {row["_id"]: row for row in charges}  # AEP keeps one event per _id
    assert sorted(row["eventType"] for row in by_id.values()) == [
        "commerce.purchases",
        "stripe.charge.refunded",
    ]
    assert (
        sum(row.get("commerce", {}).get("purchases", {}).get("value", 0) for row in by_id.values())
        == 1
    )
    customer = changes.deleted_customer
    (deleted,) = {
        row["_id"]: row
        for row in xdm_rows(tmp_path, "customers")
        if row[f"_{TENANT}"]["stripe"].get("deleted")
    }.values()
    assert deleted[f"_{TENANT}"]["stripe"]["id"] == customer["id"]
    assert deleted["personalEmail"]["address"] == customer["email"].lower()


def test_a_bank_debit_that_succeeded_later_is_one_purchase_on_both_singer_io_records(
    singer_io_output, changes, tmp_path
):
    """singer-io reads the charge succeeded (stamped `updated` = `created`) and re-sends it from
    its charge.succeeded an hour ago: both records carry the purchase, with the one `_id` of
    the charge's purchase, so AEP keeps one purchase."""
    run_target_aep(target_config(tmp_path), singer_io_output, tmp_path)
    rows = [
        row
        for row in xdm_rows(tmp_path, "charges")
        if row[f"_{TENANT}"]["stripe"]["id"] == changes.succeeded_debit
    ]
    assert [row["eventType"] for row in rows] == ["commerce.purchases", "commerce.purchases"]
    assert {row["_id"] for row in rows} == {f"stripe:charges:{changes.succeeded_debit}"}
    assert [row["commerce"]["purchases"] for row in rows] == [{"value": 1}, {"value": 1}]


def test_an_unmapped_singer_io_stream_does_not_stop_the_run(
    singer_io_tap_stripe, stripe, changes, tmp_path
):
    output = run_singer_io(
        singer_io_tap_stripe,
        stripe_url=stripe.url,
        account_id=stripe.account_id,
        start_date=iso_days_ago(21),
        streams={"subscriptions", "subscription_items"},
        folder=tmp_path,
    )
    assert output.record_counts()["subscription_items"] > 0
    printed = run_target_aep(target_config(tmp_path, on_unmapped_stream="skip"), output, tmp_path)
    assert printed.target_state() == output.last_state()
    summary = run_summary(tmp_path)
    assert summary["subscription_items"]["skipped"] == output.record_counts()["subscription_items"]
    assert summary["subscriptions"]["delivered"] == output.record_counts()["subscriptions"]
