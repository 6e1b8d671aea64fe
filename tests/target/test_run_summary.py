"""The run summary a person reads at the end: per stream received, delivered, dead-lettered."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import pytest
from target_aep.run_summary import StreamTally, Timing, main, write_summary

from tests.target.test_target import (
    base_config,
    charges,
    record_message,
    run_in_process,
    schema_message,
    state_message,
)


def test_summary_counts_delivered_and_dead_lettered_records_and_names_the_folder(
    tmp_path, capsys, caplog
):
    records = charges(4)
    records[1]["currency"] = "us dollars"  # invalid XDM currency code -> dead letter
    messages = [schema_message("charges"), *(record_message("charges", r) for r in records),
                state_message(4)]  # fmt: skip
    config = base_config(tmp_path)
    with caplog.at_level(logging.INFO):
        run_in_process(config, messages, capsys)

    summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())
    assert summary["streams"]["charges"] == {
        "received": 4,
        "delivered": 3,
        "dead_lettered": 1,
        "skipped": 0,
        "destination": str(tmp_path / "out" / "charges"),
        "dropped_fields": {},
        "added_fields": [],
        "trimmed": 0,
    }
    assert summary["dead_letter_path"] == str(tmp_path / "out" / "dead_letter.jsonl")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Run summary" in logged
    assert "charges" in logged
    assert "dead letters (with the reasons)" in logged


def test_summary_times_the_records_from_the_first_one_received(tmp_path, capsys, caplog):
    messages = [schema_message("charges"), *(record_message("charges", r) for r in charges(3))]
    before = time.time()
    with caplog.at_level(logging.INFO):
        run_in_process(base_config(tmp_path), messages, capsys)
    after = time.time()

    timing = json.loads((tmp_path / "out" / "run_summary.json").read_text())["timing"]
    first = dt.datetime.fromisoformat(timing["first_record_at"]).timestamp()
    finished = dt.datetime.fromisoformat(timing["finished_at"]).timestamp()
    assert before - 0.001 <= first <= finished <= after + 0.001
    assert timing["seconds"] == pytest.approx(finished - first, abs=0.002)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "3 records in " in logged
    assert "from the first one received" in logged


def test_summary_without_records_has_no_timing(tmp_path, capsys):
    run_in_process(base_config(tmp_path), [schema_message("charges")], capsys)
    assert "timing" not in json.loads((tmp_path / "out" / "run_summary.json").read_text())


def test_the_printed_summary_says_how_long_the_records_took(tmp_path, capsys):
    tallies = {"charges": StreamTally(received=5000, delivered=5000)}
    path = tmp_path / "run_summary.json"
    write_summary(path, tallies, tmp_path / "dl.jsonl", Timing(100.0, 102.0))
    assert main([str(path)]) == 0
    assert "5,000 records in 2.0 s from the first one received (2,500 records/s)" in (
        capsys.readouterr().out
    )
