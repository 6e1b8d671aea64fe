"""Change capture against the Stripe double: updates and deletes arrive on the next run.

The first run of each test reads everything; its state is then moved back two days ("it ran
two days ago") so that changes made now, with events stamped a day ago, fall in the next run's
events range without waiting on the clock.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import pytest
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.partition_read import PartitionRead

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START, TapRun, base_config, run_tap

DAY = 86_400
END_2025 = 1_735_689_600  # base_config's end_date
COUNTS = {
    "customers": 12,
    "prices": 6,
    "subscriptions": 8,
    "charges": 12,
    "refunds": 4,
    "balance_transactions": 6,
}
EVENT_STREAMS = ("charges", "subscriptions", "refunds", "customers", "prices")
PINNED = "2026-10-28.endive"


def ago(seconds: int) -> int:
    return int(time.time()) - seconds


def iso(unix_seconds: int) -> str:
    return datetime.datetime.fromtimestamp(unix_seconds, datetime.timezone.utc).isoformat()


def partitions(state: dict[str, Any], stream: str) -> list[dict[str, Any]]:
    bookmark = state["bookmarks"][stream]
    return bookmark.get("partitions", [bookmark])


def rewound(state: dict[str, Any], seconds: int = 2 * DAY) -> dict[str, Any]:
    """`state` as if the run that wrote it had run `seconds` earlier (events bookmarks)."""
    state = copy.deepcopy(state)
    for stream in state["bookmarks"]:
        for partition in partitions(state, stream):
            if "events_bookmark" in partition:
                partition["events_bookmark"] -= seconds
    return state


def events_requests(double: StripeDouble) -> list[Any]:
    return [r for r in double.requests if r.path == "/v1/events"]


def stored(double: StripeDouble, stream: str, obj_id: str, account: str | None = None) -> dict:
    (obj,) = [o for o in double.objects(stream, account=account) if o["id"] == obj_id]
    return obj


@pytest.fixture
def synced() -> Iterator[tuple[StripeDouble, dict[str, Any], dict[str, Any]]]:
    """A double after a first full run: (double, config, the state as if from 2 days ago)."""
    with StripeDouble() as double:
        double.seed(COUNTS, start=SEEDED_START, end=SEEDED_END, seed=11)
        config = base_config(double.url)
        first = run_tap(config)
        assert len(first.records()) == sum(COUNTS.values())
        double.clear_requests()
        yield double, config, rewound(first.final_state)


def test_an_update_after_the_first_sync_arrives_on_the_next_run(synced) -> None:
    double, config, state = synced
    customer = double.objects("customers")[3]
    when = ago(DAY)
    double.update("customers", customer["id"], {"email": "new@example.com"}, event_created=when)
    run = run_tap(config, state=state)
    assert run.records() == [
        {
            **stored(double, "customers", customer["id"]),
            "account_id": None,
            # the change's Stripe event, under the names singer-io's tap-stripe uses
            "updated_by_event_type": "customer.updated",
            "updated": iso(when),
        }
    ]
    assert run.records()[0]["email"] == "new@example.com"
    for stream in state["bookmarks"]:
        (before,) = partitions(state, stream)
        (after,) = partitions(run.final_state, stream)
        # an updated object never moves the created bookmark
        assert after["replication_key_value"] == before["replication_key_value"] == END_2025
        if stream in EVENT_STREAMS:
            assert after["events_bookmark"] >= ago(400), "change capture moved to this run's end"
    assert len(events_requests(double)) == len(EVENT_STREAMS)


def test_each_streams_events_bring_its_own_changes(synced) -> None:
    double, config, state = synced
    when = ago(DAY)
    changed = {}
    for stream in EVENT_STREAMS:
        obj = double.objects(stream)[0]
        kind = "charge.refund.updated" if stream == "refunds" else None  # the legacy type
        double.update(
            stream, obj["id"], {"metadata": {"k": "v"}}, event_type=kind, event_created=when
        )
        changed[stream] = obj["id"]
    run = run_tap(config, state=state)
    for stream, obj_id in changed.items():
        assert run.ids(stream) == [obj_id], stream
        assert run.records(stream)[0]["metadata"] == {**stored(double, stream, obj_id)["metadata"]}
    assert run.records("balance_transactions") == []
    for request in events_requests(double):
        types = request.params["types[]"]
        assert 1 <= len(types) <= 20
        assert request.params["created[lt]"][0].isdigit()


def test_many_events_for_one_object_yield_its_newest_state_once(synced) -> None:
    double, config, state = synced
    charge = double.objects("charges")[5]
    when = ago(DAY)
    for n in range(6):
        double.update(
            "charges", charge["id"], {"metadata": {"n": str(n)}}, event_created=when + 60 * n
        )
    run = run_tap(config, state=state, streams={"charges"})
    newest = {"updated_by_event_type": "charge.updated", "updated": iso(when + 300)}
    assert run.records() == [
        {**stored(double, "charges", charge["id"]), "account_id": None, **newest}
    ]
    assert run.records()[0]["metadata"]["n"] == "5"
    assert not [r for r in double.requests if r.path.startswith("/v1/charges/")], (
        "snapshots in the pinned version are used as they are"
    )


def test_a_charge_that_succeeds_then_changes_again_keeps_its_success_as_a_record() -> None:
    """A bank debit read while pending succeeds, then is refunded before the next run: the
    transition to a purchase is a record of its own, before the newest state."""
    with StripeDouble() as double:
        double.seed({"charges": 3}, start=SEEDED_START, end=SEEDED_END, seed=4)
        template = double.objects("charges")[0]
        pending = {**template, "id": "ch_bank_debit", "status": "pending", "paid": False}
        double.add("charges", pending)
        config = base_config(double.url)
        first = run_tap(config, streams={"charges"})
        assert ("ch_bank_debit", "pending") in [(r["id"], r["status"]) for r in first.records()]
        when = ago(DAY)
        succeeded = double.update(
            "charges",
            "ch_bank_debit",
            {"status": "succeeded", "paid": True, "captured": True},
            event_type="charge.succeeded",
            event_created=when,
        )
        refunded = double.update(
            "charges",
            "ch_bank_debit",
            {"amount_refunded": 100},
            event_type="charge.refunded",
            event_created=when + 60,
        )
        double.clear_requests()
        run = run_tap(config, state=rewound(first.final_state), streams={"charges"})
        assert run.records() == [
            {
                **succeeded,
                "account_id": None,
                "updated_by_event_type": "charge.succeeded",
                "updated": iso(when),
            },
            {
                **refunded,
                "account_id": None,
                "updated_by_event_type": "charge.refunded",
                "updated": iso(when + 60),
            },
        ]
        assert run.records()[0]["amount_refunded"] == 0, "the state the success left"
        assert not [r for r in double.requests if r.path.startswith("/v1/charges/")], (
            "both snapshots are in the pinned version"
        )


def test_events_of_one_object_in_the_same_second_make_the_tap_fetch_its_state(synced) -> None:
    double, config, state = synced
    charge = double.objects("charges")[2]
    when = ago(DAY)
    double.update("charges", charge["id"], {"metadata": {"n": "1"}}, event_created=when)
    double.update("charges", charge["id"], {"metadata": {"n": "2"}}, event_created=when)
    run = run_tap(config, state=state, streams={"charges"})
    stamps = {"updated_by_event_type": "charge.updated", "updated": iso(when)}
    assert run.records() == [
        {**stored(double, "charges", charge["id"]), "account_id": None, **stamps}
    ]
    assert [r.path for r in double.requests if r.path.startswith("/v1/charges/")] == [
        f"/v1/charges/{charge['id']}"
    ]


def test_deletes_arrive_as_records_marked_deleted(synced) -> None:
    double, config, state = synced
    customer = double.objects("customers")[1]
    price = double.objects("prices")[1]
    subscription = double.objects("subscriptions")[1]
    when = ago(DAY)
    double.delete("customers", customer["id"], event_created=when)
    double.delete("prices", price["id"], event_created=when + 1)
    double.delete("subscriptions", subscription["id"], event_created=when + 2)
    run = run_tap(config, state=state)
    deleted = {r["id"]: r for r in run.records() if r.get("_sdc_deleted_at")}
    assert set(deleted) == {customer["id"], price["id"], subscription["id"]}
    # the last state Stripe sent with the delete, marked with the event's time
    assert deleted[customer["id"]] == {
        **customer,
        "account_id": None,
        "_sdc_deleted_at": iso(when),
        "updated_by_event_type": "customer.deleted",
        "updated": iso(when),
    }
    assert deleted[price["id"]] == {
        **price,
        "account_id": None,
        "_sdc_deleted_at": iso(when + 1),
        "updated_by_event_type": "price.deleted",
        "updated": iso(when + 1),
    }
    # a deleted subscription is canceled (still listed by Stripe with status=all)
    assert deleted[subscription["id"]]["status"] == "canceled"
    assert deleted[subscription["id"]]["_sdc_deleted_at"] == iso(when + 2)
    for stream in ("customers", "prices", "subscriptions"):
        schema = json.loads(
            resources.files("tap_stripe_xdm.schemas").joinpath(f"{stream}.json").read_text()
        )
        for record in run.records(stream):
            jsonschema.validate(record, schema)


def test_a_delete_in_another_api_version_keeps_the_data_its_event_carried(synced, caplog) -> None:
    double, config, state = synced
    customer = double.objects("customers")[4]
    double.delete("customers", customer["id"], event_created=ago(5 * DAY))  # before the bookmark
    old_shape = {k: v for k, v in customer.items() if k not in ("invoice_settings", "tax_exempt")}
    when = ago(DAY)
    double.add_event(
        {
            "type": "customer.deleted",
            "api_version": "2024-06-20",
            "created": when,
            "data": {"object": {**old_shape, "default_card": None}},
        }
    )
    with caplog.at_level(logging.WARNING):
        run = run_tap(config, state=state, streams={"customers"})
    (record,) = run.records()
    # the customer as its delete event carried it (email, name, address...), reduced to the
    # fields the pinned schema declares: an upserting target keeps the person's data
    assert record == {
        **old_shape,
        "account_id": None,
        "_sdc_deleted_at": iso(when),
        "updated_by_event_type": "customer.deleted",
        "updated": iso(when),
    }
    assert record["email"] == customer["email"]
    assert any("default_card" in r.getMessage() for r in caplog.records)
    assert [r.path for r in double.requests if r.path.startswith("/v1/customers/")] == [
        f"/v1/customers/{customer['id']}"
    ]


def test_an_event_in_another_api_version_is_refetched_in_the_pinned_shape(synced) -> None:
    double, config, state = synced
    subscription = double.objects("subscriptions")[2]
    template = subscription["items"]["data"][0]
    items = [{**template, "id": f"si_twelve{n:02d}"} for n in range(12)]
    current = double.add(
        "subscriptions",
        {**subscription, "items": {**subscription["items"], "data": items, "has_more": False}},
    )
    # what the event carries: the object as an older version rendered it
    old_shape = {
        **{k: v for k, v in subscription.items() if k != "items"},
        "plan": template["plan"],
    }
    when = ago(DAY)
    double.add_event(
        {
            "type": "customer.subscription.updated",
            "api_version": "2024-06-20",
            "created": when,
            "data": {"object": old_shape, "previous_attributes": {"quantity": 1}},
        }
    )
    run = run_tap(config, state=state, streams={"subscriptions"})
    stamps = {"updated_by_event_type": "customer.subscription.updated", "updated": iso(when)}
    assert run.records() == [{**current, "account_id": None, **stamps}]
    assert len(run.records()[0]["items"]["data"]) == 12, "items completed past the 10 embedded"
    (fetch,) = [r for r in double.requests if r.path == f"/v1/subscriptions/{subscription['id']}"]
    assert fetch.headers["Stripe-Version"] == PINNED
    assert [r for r in double.requests if r.path == "/v1/subscription_items"]


def test_a_changed_subscription_with_more_than_10_items_arrives_complete(synced) -> None:
    double, config, state = synced
    subscription = double.objects("subscriptions")[3]
    template = subscription["items"]["data"][0]
    items = [{**template, "id": f"si_fifteen{n:02d}"} for n in range(15)]
    double.add("subscriptions", {**subscription, "items": {**subscription["items"], "data": items}})
    current = double.update(
        "subscriptions", subscription["id"], {"metadata": {"k": "v"}}, event_created=ago(DAY)
    )
    (event,) = [e for e in double.events() if e["data"]["object"]["id"] == subscription["id"]]
    assert event["data"]["object"]["items"]["has_more"] is True, "Stripe embeds 10 items"
    run = run_tap(config, state=state, streams={"subscriptions"})
    (record,) = run.records()
    assert [i["id"] for i in record["items"]["data"]] == [i["id"] for i in items]
    assert record["items"]["has_more"] is False
    assert record["metadata"] == current["metadata"]


def test_a_bookmark_older_than_the_horizon_rereads_the_stream_in_full_with_a_warning(
    synced, caplog
) -> None:
    double, config, state = synced
    stale = rewound(state, 29 * DAY)  # 31 days old now
    customer = double.objects("customers")[0]
    double.update(
        "customers", customer["id"], {"name": "Changed In The Gap"}, event_created=ago(35 * DAY)
    )
    with caplog.at_level(logging.WARNING):
        run = run_tap(config, state=stale, streams={"customers"})
    assert sorted(run.ids()) == sorted(c["id"] for c in double.objects("customers"))
    assert stored(double, "customers", customer["id"])["name"] in {
        r["name"] for r in run.records()
    }, "the change no event can tell any more arrives with the re-read"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "customers" in w and "events_horizon_days" in w and "in full from start_date" in w
        for w in warnings
    ), warnings
    assert events_requests(double) == [], "the gap is not read from events"
    (after,) = partitions(run.final_state, "customers")
    assert after["replication_key_value"] == END_2025, "the created bookmark stays"
    assert after["events_bookmark"] >= ago(400), "change capture resumes from this run"
    assert "full_reread_created" not in after

    # the next run is back to change capture: nothing changed, nothing emitted
    double.clear_requests()
    again = run_tap(config, state=rewound(run.final_state), streams={"customers"})
    assert again.records() == []
    assert len(events_requests(double)) == 1


def test_an_interrupted_full_reread_resumes_from_its_position() -> None:
    with StripeDouble() as double:
        double.seed({"customers": 300}, start=SEEDED_START, end=SEEDED_START + 60 * DAY, seed=3)
        config = base_config(double.url, window_size_days=5, max_concurrency=3)
        first = run_tap(config, streams={"customers"})
        stale = rewound(first.final_state, 31 * DAY)
        full = run_tap(config, state=stale, streams={"customers"})
        positions = [
            i
            for i, m in enumerate(full.messages)
            if m["type"] == "STATE"
            and "full_reread_created" in partitions(m["value"], "customers")[0]
        ]
        assert len(positions) >= 3, "a re-read records its progress"
        position = positions[len(positions) // 2]
        mid_state = full.messages[position]["value"]
        reread_at = partitions(mid_state, "customers")[0]["full_reread_created"]
        before = TapRun(full.messages[:position])
        covered = {c["id"] for c in double.objects("customers") if c["created"] < reread_at}
        assert covered <= set(before.ids()), "the position never passes unemitted objects"
        resumed = run_tap(config, state=mid_state, streams={"customers"})
        assert set(before.ids()) | set(resumed.ids()) == {
            c["id"] for c in double.objects("customers")
        }
        assert not set(resumed.ids()) & covered, "the resumed re-read starts at its position"
        (after,) = partitions(resumed.final_state, "customers")
        assert "full_reread_created" not in after


def test_a_balance_transaction_status_change_within_the_lookback_arrives() -> None:
    with StripeDouble() as double:
        double.seed({"balance_transactions": 5}, start=SEEDED_START, end=SEEDED_END, seed=2)
        template = double.objects("balance_transactions")[0]
        for obj_id, age in (("txn_recent", 3), ("txn_old", 20)):
            double.add(
                "balance_transactions",
                {**template, "id": obj_id, "created": END_2025 - age * DAY, "status": "pending"},
            )
        config = base_config(double.url)
        first = run_tap(config, streams={"balance_transactions"})
        for obj_id in ("txn_recent", "txn_old"):
            double.update("balance_transactions", obj_id, {"status": "available"})
        second = run_tap(config, state=first.final_state, streams={"balance_transactions"})
        assert [(r["id"], r["status"]) for r in second.records()] == [("txn_recent", "available")]
        # no event exists: the re-read says what changed and when (the status, at available_on)
        (recent,) = second.records()
        assert recent["updated_by_event_type"] == "balance_transaction.available"
        assert recent["updated"] == iso(recent["available_on"])
        assert not [r for r in first.records() if "updated_by_event_type" in r]
        (after,) = partitions(second.final_state, "balance_transactions")
        assert after["replication_key_value"] == END_2025
        assert "events_bookmark" not in after
        assert events_requests(double) == []
        # the window is the setting
        wider = run_tap(
            {**config, "balance_transactions_lookback_days": 30},
            state=first.final_state,
            streams={"balance_transactions"},
        )
        assert sorted(wider.ids()) == ["txn_old", "txn_recent"]


def test_with_capture_changes_false_only_objects_created_since_are_read() -> None:
    with StripeDouble() as double:
        double.seed(
            {"customers": 10, "balance_transactions": 4}, start=SEEDED_START, end=SEEDED_END
        )
        config = base_config(double.url, capture_changes=False)
        first = run_tap(config, streams={"customers", "balance_transactions"})
        customer = double.objects("customers")[0]
        double.update("customers", customer["id"], {"name": "Changed"}, event_created=ago(DAY))
        double.delete("customers", double.objects("customers")[1]["id"], event_created=ago(DAY))
        txn = double.objects("balance_transactions")[0]
        double.update("balance_transactions", txn["id"], {"status": "available"})
        second = run_tap(
            config, state=first.final_state, streams={"customers", "balance_transactions"}
        )
        assert second.records() == []
        assert events_requests(double) == []
        for stream in ("customers", "balance_transactions"):
            assert "events_bookmark" not in partitions(second.final_state, stream)[0]


def test_every_state_covers_only_changes_emitted_before_it(monkeypatch) -> None:
    with StripeDouble() as double:
        double.seed({"customers": 20}, start=SEEDED_START, end=SEEDED_END, seed=8)
        config = base_config(double.url)
        state = rewound(run_tap(config, streams={"customers"}).final_state)
        start = ago(DAY + 3_600)
        ids = [c["id"] for c in double.objects("customers")]
        for n in range(300):  # 15 changes per customer over an hour
            obj_id = ids[n % 20]
            double.update(
                "customers", obj_id, {"metadata": {"n": str(n)}}, event_created=start + 12 * n
            )
        monkeypatch.setattr(PartitionRead, "max_events_per_window", 60)  # hold < one page of 100
        run = run_tap(config, state=state, streams={"customers"})

        events = double.events()
        last_emitted: dict[str, str] = {}
        checked = 0
        for message in run.messages:
            if message["type"] == "RECORD":
                record = message["record"]
                last_emitted[record["id"]] = record["metadata"].get("n")
            elif message["type"] == "STATE":
                bookmark = partitions(message["value"], "customers")[0].get("events_bookmark")
                # every change before the bookmark is out, in its newest state before it
                newest: dict[str, str] = {}
                for event in sorted(events, key=lambda e: e["created"]):
                    if start <= event["created"] < bookmark:
                        newest[event["data"]["object"]["id"]] = event["data"]["object"]["metadata"][
                            "n"
                        ]
                assert {k: last_emitted.get(k) for k in newest} == newest
                checked += bool(newest)
        assert checked >= 3, "the events bookmark moves window by window"
        assert last_emitted == {c["id"]: c["metadata"]["n"] for c in double.objects("customers")}
        assert len(run.records()) < 300, "one record per object per window, not per event"


def test_connect_accounts_keep_separate_events_bookmarks() -> None:
    with StripeDouble() as double:
        for account, seed in (("acct_1A", 1), ("acct_1B", 2)):
            double.seed(
                {"customers": 5}, start=SEEDED_START, end=SEEDED_END, seed=seed, account=account
            )
        config = base_config(double.url, account_ids=["acct_1A", "acct_1B"])
        first = run_tap(config, streams={"customers"})
        state = rewound(first.final_state)
        by_account = {p["context"]["account_id"]: p for p in partitions(state, "customers")}
        assert set(by_account) == {"acct_1A", "acct_1B"}
        assert all("events_bookmark" in p for p in by_account.values())

        customer = double.objects("customers", account="acct_1A")[0]
        double.update(
            "customers",
            customer["id"],
            {"name": "A only"},
            event_created=ago(DAY),
            account="acct_1A",
        )
        double.clear_requests()
        second = run_tap(config, state=state, streams={"customers"})
        assert [(r["id"], r["account_id"], r["name"]) for r in second.records()] == [
            (customer["id"], "acct_1A", "A only")
        ]
        assert {r.headers.get("Stripe-Account") for r in events_requests(double)} == {
            "acct_1A",
            "acct_1B",
        }

        # only B's bookmark is past the horizon: only B is re-read in full
        third_state = copy.deepcopy(second.final_state)
        for partition in partitions(third_state, "customers"):
            if partition["context"]["account_id"] == "acct_1B":
                partition["events_bookmark"] -= 40 * DAY
        third = run_tap(config, state=third_state, streams={"customers"})
        assert {r["account_id"] for r in third.records()} == {"acct_1B"}
        assert len(third.records()) == 5


def test_a_restricted_key_without_events_access_stops_naming_capture_changes() -> None:
    with StripeDouble() as double:
        double.seed({"customers": 5}, start=SEEDED_START, end=SEEDED_END)
        key = "rk_test_51NoEventsAbcdefghijklmn"
        double.add_key(key, allowed={"customers"})
        config = base_config(double.url, api_key=key)
        first = run_tap(config, streams={"customers"})  # the first read needs no events
        assert len(first.records()) == 5
        with pytest.raises(StripeRequestError) as caught:
            run_tap(config, state=rewound(first.final_state), streams={"customers"})
        message = str(caught.value)
        assert "may not read events" in message
        assert "event_read" in message
        assert "capture_changes" in message
        assert key not in message
        failed = caught.value.tap_run  # type: ignore[attr-defined]
        assert failed.states
        assert all(
            partitions(s, "customers")[0]["events_bookmark"]
            == partitions(rewound(first.final_state), "customers")[0]["events_bookmark"]
            for s in failed.states
        ), "the events bookmark did not move"
