"""End to end through the target with `destination: batch`: one Platform batch per drain,
STATE only after Catalog reports the batch succeeded."""

from __future__ import annotations

import io
import json

import pytest
from target_aep.delivery.base import DeliveryError
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.target import TargetAep
from target_aep.validation import builtin_schema, with_tenant

from tests.doubles.aep_api import aep_double
from tests.target.examples import example, singer_schema

DATASET_ID = "65f0c0ffee00000000charges"
SCHEMA_ID = "https://ns.adobe.com/acme/schemas/charges0000000000000000000000000"
STATE = {"bookmarks": {"charges": {"replication_key_value": 1700000000}}}


@pytest.fixture
def aep():
    with aep_double() as double:
        options = MappingOptions(tenant_id="acme", identity_namespace="StripeCustomerID")
        mapper = mapper_for("charges", target_config(double), options)
        schema = with_tenant(
            builtin_schema(mapper.schema), "acme", mapper.tenant_schema(singer_schema("charges"))
        )
        double.register_dataset(DATASET_ID, SCHEMA_ID, schema)
        yield double


def target_config(aep, **overrides) -> dict:
    return aep.config(
        destination="batch",
        tenant_id="acme",
        streams={"charges": {"dataset_id": DATASET_ID, "schema_id": SCHEMA_ID}},
        **overrides,
    )


def singer_input(count: int) -> str:
    charge = example("charges")
    lines = [
        {
            "type": "SCHEMA",
            "stream": "charges",
            "schema": singer_schema("charges"),
            "key_properties": ["id"],
        }
    ]
    for n in range(count):
        record = {**charge, "id": f"ch_batch_{n:05d}", "created": charge["created"] + n}
        lines.append({"type": "RECORD", "stream": "charges", "record": record})
    lines.append({"type": "STATE", "value": STATE})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def run_target(config: dict, text: str, capsys) -> list[dict]:
    target = TargetAep(config=config, validate_config=True)
    target.listen(file_input=io.StringIO(text))
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_singer_records_land_in_one_successful_batch_before_state(aep, capsys, tmp_path):
    emitted = run_target(target_config(aep, output_dir=str(tmp_path)), singer_input(30), capsys)
    rows = aep.batch_rows[DATASET_ID]
    assert len(rows) == 30
    assert len({row["_id"] for row in rows}) == 30
    assert len(aep.batch_ids) == 1
    assert emitted == [STATE]


def test_a_failed_batch_stops_the_run_without_emitting_state(aep, capsys, tmp_path):
    aep.fail_next_batch()
    with pytest.raises(DeliveryError, match="ended 'failed'"):
        run_target(target_config(aep, output_dir=str(tmp_path)), singer_input(5), capsys)
    assert capsys.readouterr().out.strip() == ""
    assert not aep.batch_rows[DATASET_ID]
