"""End to end through the target: Singer messages in -> XDM at the (double's) DCS -> STATE out.

The dataset schema the double enforces is the target's own built-in charges schema with the
tenant area, so the double checks every delivered entity against a closed XDM schema; the
target fetches the same schema from the (double's) Schema Registry to validate before sending.
"""

from __future__ import annotations

import json
import logging

import pytest
from target_aep.errors import DeliveryError

from tests.doubles.aep_api import aep_double
from tests.target.examples import example, singer_schema
from tests.target.singer_run import dataset_schema, record_messages, run_in_process

DATASET_ID = "65f0c0ffee00000000charges"
SCHEMA_ID = "https://ns.adobe.com/acme/schemas/charges0000000000000000000000000"
FLOW_ID = "flow-charges-0001"
STATE = {"bookmarks": {"charges": {"replication_key_value": 1700000000}}}


@pytest.fixture
def aep():
    with aep_double() as double:
        schema = dataset_schema("charges", "acme", singer_schema("charges"))
        double.register_dataset(DATASET_ID, SCHEMA_ID, schema)
        yield double


def target_config(aep, **overrides) -> dict:
    return aep.config(
        destination="streaming",
        tenant_id="acme",
        streams={"charges": {"dataset_id": DATASET_ID, "schema_id": SCHEMA_ID, "flow_id": FLOW_ID}},
        **overrides,
    )


def singer_input(count: int) -> list[dict]:
    charge = example("charges")
    records = [
        {**charge, "id": f"ch_e2e_{n:05d}", "created": charge["created"] + n} for n in range(count)
    ]
    return record_messages("charges", singer_schema("charges"), records, STATE)


def test_singer_records_arrive_as_xdm_once_each_and_state_follows_acceptance(aep, capsys, tmp_path):
    emitted = run_in_process(target_config(aep, output_dir=str(tmp_path)), singer_input(25), capsys)
    received = aep.dcs_entities[DATASET_ID]
    assert len(received) == 25
    assert len({entity["_id"] for entity in received}) == 25
    assert all(entity["_acme"] for entity in received)  # tenant area filled
    assert emitted == [STATE]
    assert (
        not (tmp_path / "dead_letter.jsonl").exists()
        or not (tmp_path / "dead_letter.jsonl").read_text().strip()
    )


def test_streaming_failure_stops_the_run_without_state_and_without_leaking_secrets(
    aep, capsys, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    aep.inject("/collection/batch/", *[503] * 3)
    config = target_config(aep, output_dir=str(tmp_path), max_retries=2)
    with pytest.raises(DeliveryError, match="HTTP 503") as failure:
        run_in_process(config, singer_input(5), capsys)
    output = capsys.readouterr()
    assert output.out.strip() == ""  # no STATE: the next run replays these records
    assert not aep.dcs_entities[DATASET_ID]
    files = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file())
    for secret in [aep.client_secret, *aep.issued_tokens]:
        for text in (caplog.text, str(failure.value), output.err, files):
            assert secret not in text


def test_records_dcs_refuses_are_dead_lettered_with_adobes_reason_before_state(
    aep, capsys, tmp_path
):
    aep.fail_messages(400, 1)  # DCS refuses the first message for good
    emitted = run_in_process(target_config(aep, output_dir=str(tmp_path)), singer_input(3), capsys)
    assert emitted == [STATE]
    assert len(aep.dcs_entities[DATASET_ID]) == 2
    letters = [
        json.loads(line) for line in (tmp_path / "dead_letter.jsonl").read_text().splitlines()
    ]
    assert len(letters) == 1
    assert letters[0]["errors"][0]["status"] == 400
    assert "Message refused" in letters[0]["errors"][0]["message"]
