"""The dead-letter file: JSON Lines with stream, Stripe id, reason, every error and the record."""

from __future__ import annotations

import datetime as dt
import json

from target_aep.deadletter import DeadLetterWriter


def test_letters_are_json_lines_with_everything_needed_to_fix_and_replay(tmp_path):
    writer = DeadLetterWriter(tmp_path / "dl" / "dead.jsonl")
    writer.write(
        stream="charges",
        source_id="ch_1",
        reason="invalid XDM",
        errors=[{"path": "/timestamp", "message": "bad", "keyword": "format"}],
        record={"_id": "x", "timestamp": "nope"},
    )
    writer.write(
        stream="charges",
        source_id="ch_2",
        reason="mapping failed",
        source={"id": "ch_2", "created": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)},
    )
    writer.close()
    first, second = (
        json.loads(line) for line in (tmp_path / "dl" / "dead.jsonl").read_text().splitlines()
    )
    assert first["stream"] == "charges"
    assert first["source_id"] == "ch_1"
    assert first["errors"] == [{"path": "/timestamp", "message": "bad", "keyword": "format"}]
    assert first["record"] == {"_id": "x", "timestamp": "nope"}
    assert second["source"]["created"] == "2024-01-01T00:00:00+00:00"
    assert writer.count == 2


def test_no_file_is_created_when_nothing_is_rejected(tmp_path):
    writer = DeadLetterWriter(tmp_path / "dead.jsonl")
    writer.flush()
    writer.close()
    assert not (tmp_path / "dead.jsonl").exists()


def test_letters_append_across_runs(tmp_path):
    for run in range(2):
        writer = DeadLetterWriter(tmp_path / "dead.jsonl")
        writer.write(stream="s", source_id=str(run), reason="r")
        writer.close()
    assert len((tmp_path / "dead.jsonl").read_text().splitlines()) == 2


def test_a_letter_holding_a_nan_or_infinity_is_json_any_parser_reads(tmp_path):
    writer = DeadLetterWriter(tmp_path / "dead.jsonl")
    writer.write(
        stream="charges",
        source_id="ch_nan",
        reason="rejected by the destination",
        errors=[{"path": "/_acme/rate", "message": "record is not valid JSON"}],
        record={"_acme": {"rate": float("nan"), "caps": [float("inf"), -float("inf"), 1.5]}},
    )
    writer.close()

    def refuse(word: str) -> None:
        raise AssertionError(f"{word} is not JSON")

    (letter,) = [
        json.loads(line, parse_constant=refuse)
        for line in (tmp_path / "dead.jsonl").read_text().splitlines()
    ]
    assert letter["record"] == {"_acme": {"rate": "nan", "caps": ["inf", "-inf", 1.5]}}
    assert letter["errors"][0]["path"] == "/_acme/rate"
