"""End to end through the target with `destination: batch`: one Platform batch per dataset per
run (or per batch_max_records), STATE only after Catalog reports the batches succeeded."""

from __future__ import annotations

import pytest
from singer_sdk import Target
from target_aep.errors import DeliveryError
from target_aep.target import TargetAep

from tests.doubles.aep_api import aep_double
from tests.target.examples import example, singer_schema
from tests.target.singer_run import dataset_schema, record_messages, run_in_process

DATASET_ID = "65f0c0ffee00000000charges"
SCHEMA_ID = "https://ns.adobe.com/acme/schemas/charges0000000000000000000000000"
LEDGER_DATASET_ID = "65f0c0ffee0000000000ledger"
LEDGER_SCHEMA_ID = "https://ns.adobe.com/acme/schemas/ledger00000000000000000000000000"
STATE = {"bookmarks": {"charges": {"replication_key_value": 1700000000}}}


@pytest.fixture
def aep():
    with aep_double() as double:
        schema = dataset_schema("charges", "acme", singer_schema("charges"))
        double.register_dataset(DATASET_ID, SCHEMA_ID, schema)
        ledger = dataset_schema(
            "balance_transactions", "acme", singer_schema("balance_transactions")
        )
        double.register_dataset(LEDGER_DATASET_ID, LEDGER_SCHEMA_ID, ledger)
        yield double


def target_config(aep, **overrides) -> dict:
    return aep.config(
        destination="batch",
        tenant_id="acme",
        streams={
            "charges": {"dataset_id": DATASET_ID, "schema_id": SCHEMA_ID},
            "balance_transactions": {
                "dataset_id": LEDGER_DATASET_ID,
                "schema_id": LEDGER_SCHEMA_ID,
            },
        },
        **overrides,
    )


def singer_input(count: int) -> list[dict]:
    charge = example("charges")
    records = [
        {**charge, "id": f"ch_batch_{n:05d}", "created": charge["created"] + n}
        for n in range(count)
    ]
    return record_messages("charges", singer_schema("charges"), records, STATE)


def test_singer_records_land_in_one_successful_batch_before_state(aep, capsys, tmp_path):
    emitted = run_in_process(target_config(aep, output_dir=str(tmp_path)), singer_input(30), capsys)
    rows = aep.batch_rows[DATASET_ID]
    assert len(rows) == 30
    assert len({row["_id"] for row in rows}) == 30
    assert len(aep.batch_ids) == 1
    assert emitted == [STATE]


def test_a_failed_batch_stops_the_run_without_emitting_state(aep, capsys, tmp_path):
    aep.fail_next_batch()
    with pytest.raises(DeliveryError, match="ended 'failed'"):
        run_in_process(target_config(aep, output_dir=str(tmp_path)), singer_input(5), capsys)
    assert capsys.readouterr().out.strip() == ""
    assert not aep.batch_rows[DATASET_ID]


def ledger_input(count: int) -> list[dict]:
    transaction = example("balance_transactions")
    records = [
        {**transaction, "id": f"txn_batch_{n:05d}", "created": transaction["created"] + n}
        for n in range(count)
    ]
    return record_messages(
        "balance_transactions", singer_schema("balance_transactions"), records, STATE
    )


def test_25000_records_in_one_run_make_one_batch_per_dataset(aep, capsys, tmp_path):
    """Three drains of 10,000 (batch_size_rows) and more, one batch per dataset for the run."""
    messages = singer_input(15_000)[:-1] + ledger_input(10_000)
    emitted = run_in_process(target_config(aep, output_dir=str(tmp_path)), messages, capsys)
    assert len(aep.batch_ids) == 2
    batches = {aep.batch(b).dataset_id: aep.batch(b) for b in aep.batch_ids}
    assert batches[DATASET_ID].rows == 15_000
    assert batches[LEDGER_DATASET_ID].rows == 10_000
    assert {batch.status for batch in batches.values()} == {"success"}
    assert emitted == [STATE]


def forced_drains(monkeypatch, aep) -> list[list[str]]:
    """Make the SDK drain every sink after every record (as it does when records are 5 minutes
    old); the batches' statuses each time the target prints STATE."""
    monkeypatch.setattr(TargetAep, "_MAX_RECORD_AGE_IN_MINUTES", -1.0)
    seen: list[list[str]] = []
    original = Target._write_state_message

    def noting(self, state):
        seen.append([aep.batch(b).status for b in aep.batch_ids])
        original(self, state)

    monkeypatch.setattr(Target, "_write_state_message", noting)
    return seen


def states_every(messages: list[dict], every: int) -> list[dict]:
    """`messages` with a STATE after every `every` records (as a tap writes them)."""
    out, count = [], 0
    for message in messages[:-1]:
        out.append(message)
        if message["type"] == "RECORD":
            count += 1
            if count % every == 0:
                out.append({"type": "STATE", "value": {"bookmarks": {"charges": {"n": count}}}})
    return [*out, messages[-1]]


def test_state_is_held_while_the_runs_batch_is_open(aep, capsys, tmp_path, monkeypatch):
    seen = forced_drains(monkeypatch, aep)
    messages = states_every(singer_input(30), 10)
    emitted = run_in_process(target_config(aep, output_dir=str(tmp_path)), messages, capsys)
    assert emitted == [STATE]  # the STATEs between were held: the batch was still open
    assert seen == [["success"]]
    assert len(aep.batch_ids) == 1


def test_with_batch_max_records_each_state_follows_the_batches_it_covers(
    aep, capsys, tmp_path, monkeypatch
):
    seen = forced_drains(monkeypatch, aep)
    messages = states_every(singer_input(30), 10)
    config = target_config(aep, output_dir=str(tmp_path), batch_max_records=1_000)
    emitted = run_in_process(config, messages, capsys)
    assert len(emitted) > 1  # intermediate STATEs: each after its batch succeeded
    assert emitted[-1] == STATE
    assert all(statuses and set(statuses) == {"success"} for statuses in seen)
    assert sum(aep.batch(b).rows for b in aep.batch_ids) == 30


def test_a_run_that_stops_mid_input_aborts_its_open_batch_and_prints_no_state(
    aep, capsys, tmp_path
):
    messages = singer_input(20)[:-1]
    messages.insert(12, {"type": "RECORD", "stream": "unknown_stream", "record": {"id": "x"}})
    config = target_config(aep, output_dir=str(tmp_path), batch_size_rows=5)  # drains: a batch
    with pytest.raises(Exception, match="unknown_stream"):
        run_in_process(config, messages, capsys)
    assert capsys.readouterr().out.strip() == ""
    assert [aep.batch(b).status for b in aep.batch_ids] == ["aborted"]
