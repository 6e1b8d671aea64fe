"""End to end through the target with `destination: batch`: one Platform batch per drain,
STATE only after Catalog reports the batch succeeded."""

from __future__ import annotations

import pytest
from target_aep.errors import DeliveryError

from tests.doubles.aep_api import aep_double
from tests.target.examples import example, singer_schema
from tests.target.singer_run import dataset_schema, record_messages, run_in_process

DATASET_ID = "65f0c0ffee00000000charges"
SCHEMA_ID = "https://ns.adobe.com/acme/schemas/charges0000000000000000000000000"
STATE = {"bookmarks": {"charges": {"replication_key_value": 1700000000}}}


@pytest.fixture
def aep():
    with aep_double() as double:
        schema = dataset_schema("charges", "acme", singer_schema("charges"))
        double.register_dataset(DATASET_ID, SCHEMA_ID, schema)
        yield double


def target_config(aep, **overrides) -> dict:
    return aep.config(
        destination="batch",
        tenant_id="acme",
        streams={"charges": {"dataset_id": DATASET_ID, "schema_id": SCHEMA_ID}},
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
