"""tap-stripe-xdm into other Singer targets: target-jsonl and MeltanoLabs' target-csv.

Each target runs in its own venv. The first run lands every object of the six streams; then
Stripe changes (new objects, an edited charge, a deleted customer) and the second run, started
from the STATE the target printed after the first, brings only those: new objects, changed
objects, and the documented boundary duplicates (objects created in the bookmark's own second).
"""

from __future__ import annotations

import ast
import csv
import json
import sys
import time
from pathlib import Path

import pytest

from tests.doubles.stripe_api import StripeDouble
from tests.interop.foreign_venv import ForeignVenv
from tests.interop.singer_pipe import Messages, run, run_foreign_target, run_tap_stripe_xdm
from tests.tap.tap_run import base_config

STREAMS = ("charges", "subscriptions", "refunds", "balance_transactions", "customers", "prices")
FIRST = {
    "charges": 40,
    "customers": 15,
    "subscriptions": 12,
    "refunds": 8,
    "balance_transactions": 30,
    "prices": 6,
}
LATER = {"charges": 5, "customers": 2, "refunds": 2, "balance_transactions": 3}
START = 1735689600  # 2025-01-01: long before the runs, so only the changes made now are events
csv.field_size_limit(sys.maxsize)


@pytest.fixture
def stripe() -> StripeDouble:
    with StripeDouble() as double:
        double.seed(FIRST, start=START, end=START + 60 * 86_400, seed=3, events=True)
        yield double


def tap_config(stripe: StripeDouble) -> dict:
    config = base_config(stripe.url, visibility_lag_seconds=0)
    del config["end_date"]  # read up to now: the second run must see what is created now
    return config


def change_stripe(stripe: StripeDouble) -> tuple[dict[str, set[str]], int]:
    """New objects, an edited charge and a deleted customer; returns the ids the second run
    must bring per stream and the second the new objects were created in."""
    before = {stream: {obj["id"] for obj in stripe.objects(stream)} for stream in STREAMS}
    edited = stripe.objects("charges")[3]["id"]
    deleted = stripe.objects("customers")[2]["id"]
    stripe.update("charges", edited, {"metadata": {"order_note": "gift wrap"}})
    stripe.delete("customers", deleted)
    now = int(time.time())
    stripe.seed(LATER, start=now, end=now + 1, seed=4, events=True)
    time.sleep(1.1)  # the tap reads up to "now": let the creation second pass
    expected = {
        stream: {obj["id"] for obj in stripe.objects(stream)} - before[stream] for stream in STREAMS
    }
    expected["charges"].add(edited)
    expected["customers"].add(deleted)
    return expected, now


def created_at_or_after(stripe: StripeDouble, stream: str, second: int) -> set[str]:
    return {obj["id"] for obj in stripe.objects(stream) if obj["created"] >= second}


def jsonl_ids(folder: Path, stream: str) -> list[str]:
    path = folder / f"{stream}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def csv_ids(folder: Path, stream: str) -> list[str]:
    paths = sorted(folder.glob(f"{stream}*.csv"))
    ids: list[str] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            ids.extend(row["id"] for row in csv.DictReader(handle))
    return ids


def two_runs(
    stripe: StripeDouble,
    tmp_path: Path,
    land: callable,  # (messages, run folder) -> the target's stdout
    read_ids: callable,  # (run folder, stream) -> ids written
) -> None:
    config = tap_config(stripe)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()

    first_out = land(run_tap_stripe_xdm(config, first_dir), first_dir)
    for stream in STREAMS:
        written = read_ids(first_dir, stream)
        assert sorted(written) == sorted(o["id"] for o in stripe.objects(stream)), stream

    expected, new_second = change_stripe(stripe)
    land(run_tap_stripe_xdm(config, second_dir, state=first_out.target_state()), second_dir)
    for stream in STREAMS:
        written = set(read_ids(second_dir, stream))
        assert expected[stream] <= written, stream
        boundary = created_at_or_after(stripe, stream, new_second - 1)
        assert written - expected[stream] <= boundary, stream


def test_every_object_lands_in_target_jsonl_and_the_second_run_brings_only_changes(
    target_jsonl: ForeignVenv, stripe, tmp_path
):
    def land(messages: Messages, folder: Path) -> Messages:
        config = {"destination_path": str(folder / "out"), "do_timestamp_file": False}
        return run_foreign_target(target_jsonl, "target-jsonl", config, messages, folder)

    two_runs(stripe, tmp_path, land, lambda folder, stream: jsonl_ids(folder / "out", stream))


def test_every_object_lands_in_target_csv_and_the_second_run_brings_only_changes(
    target_csv: ForeignVenv, stripe, tmp_path
):
    def land(messages: Messages, folder: Path) -> Messages:
        config = {"output_path": str(folder / "out")}
        return run_foreign_target(target_csv, "target-csv", config, messages, folder)

    two_runs(stripe, tmp_path, land, lambda folder, stream: csv_ids(folder / "out", stream))


def test_singer_check_tap_accepts_the_taps_output_with_and_without_state(
    singer_tools: ForeignVenv, stripe, tmp_path
):
    """singer-check-tap validates every record against its stream's latest SCHEMA (with
    format checks: date-times must be RFC 3339) and the message order, for a first run and for
    a run from that run's last STATE. The tap's output is piped to it: its own `--tap` mode
    reads the summary before its reader thread is done (an intermittent AttributeError)."""
    check = singer_tools.executable("singer-check-tap")
    config = tap_config(stripe)
    first = run_tap_stripe_xdm(config, tmp_path)
    again = run_tap_stripe_xdm(config, tmp_path, state=first.last_state())
    reports = [
        run([check], stdin=output.raw, cwd=tmp_path).stdout.decode() for output in (first, again)
    ]
    for report in reports:
        assert "The output is valid." in report, report
    assert records_per_stream(reports[0]) == FIRST
    assert records_per_stream(reports[1]) == dict.fromkeys(STREAMS, 0)  # nothing changed


def records_per_stream(report: str) -> dict[str, int]:
    """singer-check-tap's "Details by stream" table: {stream: records}."""
    table: dict[str, int] = {}
    for line in report.splitlines():
        if line.startswith("| ") and not line.startswith("| stream"):
            stream, records, _schemas = (cell.strip() for cell in line.strip("|").split("|"))
            table[stream] = int(records)
    return table


# Fields Stripe adds without a new API version: top level (an object and a null), nested in a
# declared object, and in the objects of a list.
ADDED_CHARGE_FIELDS = {
    "risk_insights": {"score": 12, "signals": ["velocity"]},
    "dispute": None,
    "outcome.advice_detail": "try_again_later",
}
ADDED_SUBSCRIPTION_FIELDS = {"items.data.price.tier_hint": "low"}


def add_stripe_fields(stripe: StripeDouble) -> None:
    stripe.add_fields("charges", ADDED_CHARGE_FIELDS)
    stripe.add_fields("subscriptions", ADDED_SUBSCRIPTION_FIELDS)


def test_fields_stripe_adds_land_in_target_csv_as_columns(
    target_csv: ForeignVenv, stripe, tmp_path
):
    """MeltanoLabs target-csv writes the columns its SCHEMA names and refuses a record with more
    ("dict contains fields not in fieldnames"); schema_drift: evolve declares them first."""
    add_stripe_fields(stripe)
    messages = run_tap_stripe_xdm(tap_config(stripe), tmp_path)
    config = {"output_path": str(tmp_path / "out")}
    run_foreign_target(target_csv, "target-csv", config, messages, tmp_path)
    (path,) = sorted((tmp_path / "out").glob("charges*.csv"))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["id"] for row in rows) == sorted(o["id"] for o in stripe.objects("charges"))
    # target-csv writes an object as its Python literal
    assert all(ast.literal_eval(row["risk_insights"])["score"] == 12 for row in rows)
    outcomes = [ast.literal_eval(row["outcome"]) for row in rows]
    assert all(outcome["advice_detail"] == "try_again_later" for outcome in outcomes)
    assert csv_ids(tmp_path / "out", "subscriptions")


def test_singer_check_tap_accepts_the_output_when_stripe_adds_fields(
    singer_tools: ForeignVenv, stripe, tmp_path
):
    add_stripe_fields(stripe)
    output = run_tap_stripe_xdm(tap_config(stripe), tmp_path)
    report = run(
        [singer_tools.executable("singer-check-tap")], stdin=output.raw, cwd=tmp_path
    ).stdout.decode()
    assert "The output is valid." in report, report
    assert records_per_stream(report) == FIRST
