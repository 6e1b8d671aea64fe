"""Streams no mapping covers (another tap's `plans`, `subscription_items`, `events`...):
`on_unmapped_stream` decides what happens to their records; their SCHEMA alone never stops a run."""

from __future__ import annotations

import json
import logging

import pytest

from tests.target.test_target import (
    base_config,
    charges,
    record_message,
    run_in_process,
    schema_message,
    state_message,
)

PLANS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "plans",
    "schema": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}},
    },
    "key_properties": ["id"],
}
PLAN = {"type": "RECORD", "stream": "plans", "record": {"id": "plan_1", "amount": 500}}


def with_plans(*plan_messages: dict) -> list[dict]:
    return [
        PLANS_SCHEMA,
        schema_message("charges"),
        *plan_messages,
        *(record_message("charges", r) for r in charges(2)),
        state_message(2),
    ]


@pytest.mark.parametrize("setting", ["fail", "generic", "skip"])
def test_an_unmapped_stream_without_records_never_stops_the_run(setting, tmp_path, capsys):
    states = run_in_process(base_config(tmp_path, on_unmapped_stream=setting), with_plans(), capsys)
    assert states[-1] == {"bookmarks": {"charges": {"replication_key_value": 2}}}
    summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())["streams"]
    assert summary["charges"]["delivered"] == 2


def test_fail_stops_at_the_first_record_naming_the_stream_and_how_to_map_it(tmp_path, capsys):
    with pytest.raises(Exception, match=r"plans.*streams\.plans\.mapping.*on_unmapped_stream"):
        run_in_process(base_config(tmp_path, on_unmapped_stream="fail"), with_plans(PLAN), capsys)
    assert capsys.readouterr().out.strip() == ""  # no STATE


def test_generic_keeps_the_records_under_the_stream_name_and_warns(tmp_path, capsys, caplog):
    config = base_config(tmp_path, on_unmapped_stream="generic")
    with caplog.at_level(logging.WARNING):
        states = run_in_process(config, with_plans(PLAN), capsys)
    assert states
    rows = [
        json.loads(line)
        for path in sorted((tmp_path / "out" / "plans").glob("part-*.json"))
        for line in path.read_text().splitlines()
    ]
    assert [row["_acme"]["plans"] for row in rows] == [{"id": "plan_1", "amount": 500}]
    warned = [r.getMessage() for r in caplog.records if "plans" in r.getMessage()]
    assert any("streams.plans.mapping" in message for message in warned), warned


def test_skip_counts_the_records_in_the_run_summary(tmp_path, capsys):
    config = base_config(tmp_path, on_unmapped_stream="skip")
    states = run_in_process(config, with_plans(PLAN, PLAN), capsys)
    assert states
    summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())["streams"]
    assert summary["plans"]["received"] == 2
    assert summary["plans"]["skipped"] == 2
    assert summary["plans"]["delivered"] == 0
    assert not (tmp_path / "out" / "plans").exists()
