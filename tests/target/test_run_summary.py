"""The run summary a person reads at the end: per stream received, delivered, dead-lettered."""

from __future__ import annotations

import json
import logging

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
        "destination": str(tmp_path / "out" / "charges"),
    }
    assert summary["dead_letter_path"] == str(tmp_path / "out" / "dead_letter.jsonl")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Run summary" in logged
    assert "charges" in logged
    assert "dead letters (with the reasons)" in logged
