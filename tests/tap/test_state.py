"""Incremental and resumable: bookmarks per stream and per account, never ahead of emitted data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tap_stripe_xdm.errors import StripeRequestError

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import (
    SEEDED_END,
    SEEDED_START,
    TapRun,
    base_config,
    charges_only_catalog,
    kill_after,
    run_tap,
)

END_2025 = 1_735_689_600  # base_config's end_date


def charge_ids(double: StripeDouble, account: str | None = None) -> set[str]:
    return {c["id"] for c in double.objects("charges", account=account)}


def test_first_run_bookmarks_every_stream_at_the_end_of_the_range(seeded_double) -> None:
    run = run_tap(base_config(seeded_double.url))
    bookmarks = run.final_state["bookmarks"]
    assert set(bookmarks) == {
        "charges",
        "subscriptions",
        "refunds",
        "balance_transactions",
        "customers",
        "prices",
    }
    for stream, bookmark in bookmarks.items():
        assert bookmark["replication_key"] == "created", stream
        assert bookmark["replication_key_value"] == END_2025, stream
        assert "progress_markers" not in bookmark


def test_second_run_with_no_new_data_emits_nothing(seeded_double) -> None:
    first = run_tap(base_config(seeded_double.url))
    assert len(first.records()) > 900
    second = run_tap(base_config(seeded_double.url), state=first.final_state)
    assert second.records() == []
    for stream, bookmark in second.final_state["bookmarks"].items():
        before = first.final_state["bookmarks"][stream]
        assert bookmark["replication_key_value"] == before["replication_key_value"], stream
        # change capture moves on to this run's end (no events: nothing emitted)
        assert bookmark.get("events_bookmark", 0) >= before.get("events_bookmark", 0), stream


def test_next_run_brings_only_objects_created_since(seeded_double) -> None:
    config = base_config(seeded_double.url, end_date="2024-10-27T00:00:00Z")  # 1_729_987_200
    first = run_tap(config, streams={"charges"})
    seeded_double.seed({"charges": 25}, start=1_729_990_000, end=1_729_999_000, seed=99)
    config["end_date"] = "2025-01-01T00:00:00Z"
    second = run_tap(config, state=first.final_state, streams={"charges"})
    assert set(first.ids()) | set(second.ids()) == charge_ids(seeded_double)
    assert not set(first.ids()) & set(second.ids()), "no object is emitted twice"
    assert len(second.ids()) == 25 + sum(
        1 for c in seeded_double.objects("charges") if 1_729_987_200 <= c["created"] < 1_729_990_000
    )


def test_start_date_and_end_date_bound_the_first_run(seeded_double) -> None:
    config = base_config(
        seeded_double.url, start_date="2024-01-01T00:00:00Z", end_date="2024-03-01T00:00:00Z"
    )
    run = run_tap(config, streams={"charges"})
    expected = {
        c["id"]
        for c in seeded_double.objects("charges")
        if 1_704_067_200 <= c["created"] < 1_709_251_200
    }
    assert expected
    assert set(run.ids()) == expected
    assert run.final_state["bookmarks"]["charges"]["replication_key_value"] == 1_709_251_200


def test_every_state_printed_covers_only_records_printed_before_it() -> None:
    with StripeDouble(latency=0.002) as double:
        # dense data (about 40 a day), so windows hold several pages and get split to 5 days
        double.seed({"charges": 2_400}, start=SEEDED_START, end=SEEDED_START + 60 * 86_400)
        config = base_config(double.url, window_size_days=5, max_concurrency=6)
        run = run_tap(config, streams={"charges"})
        emitted: set[str] = set()
        checked = 0
        for message in run.messages:
            if message["type"] == "RECORD":
                emitted.add(message["record"]["id"])
            elif message["type"] == "STATE" and "charges" in message["value"]["bookmarks"]:
                bookmark = message["value"]["bookmarks"]["charges"]["replication_key_value"]
                covered = {c["id"] for c in double.objects("charges") if c["created"] < bookmark}
                assert covered <= emitted, f"STATE at {bookmark} is ahead of emitted records"
                checked += 1
        assert checked >= 4, "the bookmark should advance window by window"


def test_resuming_from_any_printed_state_loses_nothing() -> None:
    with StripeDouble() as double:
        double.seed({"charges": 800}, start=SEEDED_START, end=SEEDED_END, seed=4)
        config = base_config(double.url, window_size_days=30, max_concurrency=4)
        full = run_tap(config, streams={"charges"})
        positions = [i for i, m in enumerate(full.messages) if m["type"] == "STATE"]
        for position in positions[1:-1:3]:  # a sample of mid-run states
            before = TapRun(full.messages[:position])
            state = full.messages[position]["value"]
            resumed = run_tap(config, state=state, streams={"charges"})
            assert set(before.ids()) | set(resumed.ids()) == charge_ids(double)


def test_kill_9_mid_backfill_then_rerun_from_last_state_loses_nothing(tmp_path: Path) -> None:
    with StripeDouble(latency=0.01) as double:
        double.seed({"charges": 3_000}, start=SEEDED_START, end=SEEDED_END, seed=5)
        # 10 requests/s for ~40 requests: the run lasts seconds, the kill lands well inside it
        config = base_config(
            double.url, window_size_days=15, max_concurrency=4, max_requests_per_second=10
        )
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config))
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(charges_only_catalog(config_file)))
        tap = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tap_stripe_xdm.tap",
                "--config",
                str(config_file),
                "--catalog",
                str(catalog),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        killed = kill_after(tap, records=1_000, states=3)
        assert 0 < len(killed.ids()) < 3_000, "the kill must land mid-backfill"
        last_state = killed.final_state
        bookmark = last_state["bookmarks"]["charges"]["replication_key_value"]
        assert SEEDED_START <= bookmark < SEEDED_END
        resumed = run_tap(config, state=last_state, streams={"charges"})
        assert set(killed.ids()) | set(resumed.ids()) == charge_ids(double)
        # only objects of windows finished beyond the bookmark may be re-read
        repeated = set(killed.ids()) & set(resumed.ids())
        assert all(
            c["created"] >= bookmark for c in double.objects("charges") if c["id"] in repeated
        )


def test_connect_accounts_keep_own_bookmarks_and_records_name_their_account() -> None:
    with StripeDouble() as double:
        double.seed({"charges": 120}, start=SEEDED_START, end=1_720_000_000, account="acct_1A")
        double.seed({"charges": 80}, start=SEEDED_START, end=1_710_000_000, account="acct_1B")
        double.seed({"charges": 50}, start=SEEDED_START, end=SEEDED_END)  # platform's own
        config = base_config(double.url, account_ids=["acct_1A", "acct_1B"])
        first = run_tap(config, streams={"charges"})
        by_account: dict[str, set[str]] = {}
        for record in first.records():
            by_account.setdefault(record["account_id"], set()).add(record["id"])
        assert by_account == {
            "acct_1A": charge_ids(double, "acct_1A"),
            "acct_1B": charge_ids(double, "acct_1B"),
        }
        partitions = first.final_state["bookmarks"]["charges"]["partitions"]
        assert {p["context"]["account_id"]: p["replication_key_value"] for p in partitions} == {
            "acct_1A": END_2025,
            "acct_1B": END_2025,
        }
        requests = [r for r in double.requests if r.path == "/v1/charges"]
        assert {r.headers.get("Stripe-Account") for r in requests} == {"acct_1A", "acct_1B"}

        # a new object in one account arrives, tagged with that account, and nothing else
        double.add(
            "charges",
            {
                **double.objects("charges", account="acct_1B")[0],
                "id": "ch_new",
                "created": 1_740_000_000,
            },
            account="acct_1B",
        )
        config["end_date"] = "2025-06-01T00:00:00Z"
        second = run_tap(config, state=first.final_state, streams={"charges"})
        assert [(r["id"], r["account_id"]) for r in second.records()] == [("ch_new", "acct_1B")]


def test_records_of_the_keys_own_account_carry_a_null_account_id(seeded_double) -> None:
    run = run_tap(base_config(seeded_double.url), streams={"prices"})
    assert run.records()
    assert all(r["account_id"] is None for r in run.records())


def test_fatal_error_stops_without_moving_the_bookmark(seeded_double) -> None:
    first = run_tap(
        base_config(seeded_double.url, end_date="2024-06-01T00:00:00Z"), streams={"charges"}
    )
    seeded_double.inject("/v1/charges", status=403, times=100)
    state = first.final_state
    with pytest.raises(StripeRequestError, match="HTTP 403") as caught:
        run_tap(base_config(seeded_double.url), state=state, streams={"charges"})
    failed_run = caught.value.tap_run
    assert failed_run.records() == []
    assert all(
        s["bookmarks"]["charges"]["replication_key_value"] == 1_717_200_000
        for s in failed_run.states
    )


def test_states_carry_the_window_bookmark_not_the_sdks_running_maximum() -> None:
    with StripeDouble() as double:
        double.seed({"charges": 2_000}, start=SEEDED_START, end=SEEDED_START + 40 * 86_400)
        run = run_tap(base_config(double.url, window_size_days=4), streams={"charges"})
        charge_states = [s["bookmarks"]["charges"] for s in run.states if s["bookmarks"]]
        assert len(charge_states) > 2
        assert all("progress_markers" not in state for state in charge_states)
