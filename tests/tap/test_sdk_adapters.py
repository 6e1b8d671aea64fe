"""sdk_adapters.py: the bent SDK internals keep the SDK's behaviour (selection, stream maps)
and are still present in the installed singer-sdk."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from singer_sdk import Stream
from tap_stripe_xdm.instants import iso
from tap_stripe_xdm.sdk_adapters import SDK_ENV_NOTICE, missing_sdk_internals
from tap_stripe_xdm.tap import TapStripeXdm

from tests.tap.conftest import SEED_COUNTS
from tests.tap.tap_run import base_config, run_tap


def test_a_deselected_property_is_left_out_of_records(seeded_double) -> None:
    catalog = TapStripeXdm(config=base_config(seeded_double.url), parse_env_config=False)
    catalog_dict = catalog.catalog_dict
    for entry in catalog_dict["streams"]:
        for metadata in entry["metadata"]:
            breadcrumb = metadata["breadcrumb"]
            if breadcrumb == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "customers"
            elif breadcrumb == ["properties", "email"]:
                metadata["metadata"]["selected"] = False
    run = run_tap(base_config(seeded_double.url), catalog=catalog_dict)
    assert len(run.records("customers")) == SEED_COUNTS["customers"]
    assert all("email" not in r and "name" in r for r in run.records("customers"))


def test_stream_maps_apply_to_records(seeded_double) -> None:
    config = base_config(
        seeded_double.url,
        stream_maps={"prices": {"nickname": "__NULL__", "amount_x2": "unit_amount * 2"}},
    )
    run = run_tap(config, streams={"prices"})
    for record in run.records("prices"):
        assert "nickname" not in record
        if record["unit_amount"] is not None:
            assert record["amount_x2"] == 2 * record["unit_amount"]


def test_the_installed_sdk_still_has_every_internal_the_overrides_rely_on() -> None:
    missing = missing_sdk_internals()
    assert missing == [], "\n".join(missing)


def test_an_internal_gone_from_the_sdk_is_reported_naming_the_override(monkeypatch) -> None:
    monkeypatch.delattr(Stream, "_increment_stream_state")
    (message,) = missing_sdk_internals()
    assert message.startswith("AdaptedStream._increment_stream_state relies on ")
    assert "sdk_adapters.py" in message


def test_a_reshaped_internal_is_reported_too(monkeypatch) -> None:
    def renamed_parameter(self, message_record):  # pragma: no cover - never called
        yield from ()

    monkeypatch.setattr(Stream, "_generate_record_messages", renamed_parameter)
    assert [m.split()[0] for m in missing_sdk_internals()] == [
        "AdaptedStream._generate_record_messages"
    ]


def test_the_sdk_keeps_no_running_maximum_and_does_not_warn(seeded_double, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        run = run_tap(base_config(seeded_double.url), streams={"charges"})
    assert len(run.records()) == SEED_COUNTS["charges"]
    assert not [r for r in caplog.records if "not resumable" in r.getMessage()]
    assert all("progress_markers" not in s["bookmarks"].get("charges", {}) for s in run.states)


def test_the_sdks_env_settings_notice_is_not_logged(seeded_double, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base_config(seeded_double.url)))
    tap = [sys.executable, "-m", "tap_stripe_xdm.tap", "--config", str(config)]
    for command in ([*tap, "--discover"], tap):  # what Meltano runs: discovery, then the sync
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        assert SDK_ENV_NOTICE not in done.stderr
    assert "tap-stripe-xdm v" in done.stderr  # the SDK's other start-up lines still come


def test_the_sdks_starting_bookmark_line_shows_iso_8601_utc_on_a_first_run_and_a_rerun(
    seeded_double, caplog
) -> None:
    config = base_config(seeded_double.url, start_date="2023-11-01")  # a date, as a user types it
    with caplog.at_level(logging.INFO):
        first = run_tap(config, streams={"charges"})
    bookmark = first.final_state["bookmarks"]["charges"]["replication_key_value"]
    assert isinstance(bookmark, int)  # the state keeps Unix seconds
    with caplog.at_level(logging.INFO):
        run_tap(config, state=first.final_state, streams={"charges"})
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Starting incr")]
    assert lines == [
        "Starting incremental sync of 'charges' with bookmark value: 2023-11-01T00:00:00+00:00",
        f"Starting incremental sync of 'charges' with bookmark value: {iso(bookmark)}",
    ]
