"""The target end to end: settings checked up front, records through map/validate/deliver, STATE
only after the files holding every earlier record are in place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError
from target_aep.errors import InvalidXdmRecordError, UnmappedStreamError
from target_aep.settings import TargetSettings
from target_aep.target import TargetAep

from tests.target.examples import STREAMS, example, singer_schema
from tests.target.singer_run import run_in_process


def schema_message(stream: str) -> dict:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": singer_schema(stream),
        "key_properties": ["id"],
    }


def record_message(stream: str, record: dict) -> dict:
    return {"type": "RECORD", "stream": stream, "record": record}


def state_message(value: int) -> dict:
    return {"type": "STATE", "value": {"bookmarks": {"charges": {"replication_key_value": value}}}}


def charges(count: int) -> list[dict]:
    base = example("charges")
    return [{**base, "id": f"ch_{i:05d}", "created": base["created"] + i} for i in range(count)]


def written(folder: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("part-*.json"))
        for line in path.read_text().splitlines()
    ]


def base_config(tmp_path: Path, **extra) -> dict:
    return {"tenant_id": "acme", "output_dir": str(tmp_path / "out"), **extra}


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"output_dir": "x"}, "tenant_id"),
        ({"tenant_id": "_acme"}, "tenant_id"),
        ({"tenant_id": "acme", "destination": "streaming"}, "ims_org_id"),
        (
            {
                "tenant_id": "acme",
                "destination": "streaming",
                "ims_org_id": "o@AdobeOrg",
                "client_id": "c",
                "client_secret": "s3cr3t-value",
            },
            "inlet_id",
        ),
        (
            {
                "tenant_id": "acme",
                "destination": "streaming",
                "ims_org_id": "o@AdobeOrg",
                "client_id": "c",
                "client_secret": "s3cr3t-value",
                "inlet_id": "in",
                "streams": {"charges": {"dataset_id": "ds"}},
            },
            "streams.charges.schema_id",
        ),
        (
            {"tenant_id": "acme", "destination": "batch", "ims_org_id": "o", "client_id": "c"},
            "client_secret",
        ),
        (
            {"tenant_id": "acme", "streams": {"charges": {"schema_path": "/no/such.json"}}},
            "streams.charges.schema_path",
        ),
        ({"tenant_id": "acme", "file_max_records": 0}, "file_max_records"),
    ],
)
def test_a_missing_or_invalid_setting_fails_fast_naming_it(config, named):
    with pytest.raises(ConfigValidationError) as failure:
        TargetAep(config=config, validate_config=True)
    message = str(failure.value) + " ".join(failure.value.errors)
    assert named in message
    assert "s3cr3t-value" not in message


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"tenant_id": "acme", "destination": "ftp"}, "destination"),
        ({"tenant_id": "acme", "on_invalid_record": "ignore"}, "on_invalid_record"),
        ({"tenant_id": "acme", "mapping_mode": "raw"}, "mapping_mode"),
        ({"tenant_id": "acme", "streams": {"charges": {"mapping": "nope"}}}, "mapping"),
    ],
)
def test_a_value_outside_the_allowed_set_is_rejected_by_the_config_schema(config, named):
    with pytest.raises(ConfigValidationError) as failure:
        TargetAep(config=config, validate_config=True)
    assert any(named in error for error in failure.value.errors)


def test_a_stream_without_the_ids_its_destination_needs_fails_naming_the_setting():
    credentials = {"ims_org_id": "o@AdobeOrg", "client_id": "c", "client_secret": "s"}
    batch = TargetSettings.from_config({"destination": "batch", "streams": {}, **credentials})
    with pytest.raises(ConfigValidationError, match=r"streams\.refunds\.dataset_id"):
        batch.stream("refunds")
    TargetSettings.from_config({"tenant_id": "acme"}).stream("refunds")  # files need no ids


def test_every_setting_of_both_target_issues_is_declared_and_the_secret_is_marked():
    properties = TargetAep.config_jsonschema["properties"]
    for name in (
        "destination", "output_dir", "tenant_id", "mapping_mode", "identity_namespace",
        "streams", "dead_letter_path", "on_invalid_record", "ims_org_id", "client_id",
        "client_secret", "scopes", "sandbox_name", "ims_url", "platform_url", "dcs_url",
        "inlet_id",
    ):  # fmt: skip
        assert name in properties, name
    assert properties["client_secret"].get("secret") is True
    assert properties["sandbox_name"]["default"] == "prod"
    assert properties["scopes"]["default"].startswith("openid,AdobeID")
    per_stream = properties["streams"]["additionalProperties"]["properties"]
    assert {"dataset_id", "schema_id", "flow_id", "schema_path", "mapping"} <= set(per_stream)


# --- records through the target ---------------------------------------------------------


def test_every_shared_example_flows_to_its_dataset_folder_valid(tmp_path, capsys):
    config = base_config(tmp_path, streams={"customers": {"dataset_id": "ds_profiles"}})
    messages = []
    for stream in STREAMS:
        messages += [schema_message(stream), record_message(stream, example(stream))]
    messages.append(state_message(1))
    states = run_in_process(config, messages, capsys)
    out = tmp_path / "out"
    assert states == [state_message(1)["value"]]
    assert not (out / "dead_letter.jsonl").exists()
    assert written(out / "ds_profiles")[0]["person"]["name"]["fullName"] == "Jenny Rosen"
    for stream in set(STREAMS) - {"customers"}:
        (record,) = written(out / stream)
        assert record["_acme"]["stripe"]["id"] == example(stream)["id"]


def test_an_invalid_record_goes_to_the_dead_letter_file_and_the_rest_is_delivered(tmp_path, capsys):
    good, bad = charges(2)
    bad["currency"] = "us dollars"  # maps to currencyCode "US DOLLARS": fails ^[A-Z]{3}$
    config = base_config(tmp_path, dead_letter_path=str(tmp_path / "dl.jsonl"))
    messages = [schema_message("charges"), record_message("charges", good),
                record_message("charges", bad), state_message(2)]  # fmt: skip
    states = run_in_process(config, messages, capsys)
    assert states == [state_message(2)["value"]]
    assert [r["_acme"]["stripe"]["id"] for r in written(tmp_path / "out" / "charges")] == [
        good["id"]
    ]
    (letter,) = [json.loads(line) for line in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert letter["stream"] == "charges"
    assert letter["source_id"] == bad["id"]
    assert {e["path"] for e in letter["errors"]} == {
        "/commerce/order/currencyCode",
        "/commerce/order/payments/0/currencyCode",
    }
    assert letter["record"]["_acme"]["stripe"]["charge"]["currency"] == "us dollars"
    assert "invalid XDM" in letter["reason"]


def test_a_record_that_cannot_be_mapped_is_dead_lettered_with_its_source(tmp_path, capsys):
    (broken,) = charges(1)
    broken["created"] = "not a time"
    messages = [schema_message("charges"), record_message("charges", broken), state_message(3)]
    run_in_process(base_config(tmp_path), messages, capsys)
    (letter,) = [
        json.loads(line)
        for line in (tmp_path / "out" / "dead_letter.jsonl").read_text().splitlines()
    ]
    assert letter["reason"].startswith("mapping failed")
    assert letter["source"]["created"] == "not a time"


def test_on_invalid_record_fail_stops_the_run_before_any_state(tmp_path, capsys):
    (bad,) = charges(1)
    bad["currency"] = "usdx"
    messages = [schema_message("charges"), record_message("charges", bad), state_message(4)]
    with pytest.raises(InvalidXdmRecordError, match=r"ch_00000.*currencyCode"):
        run_in_process(base_config(tmp_path, on_invalid_record="fail"), messages, capsys)
    assert "bookmarks" not in capsys.readouterr().out


def test_a_stream_without_mapping_stops_the_run_naming_the_stream(tmp_path, capsys):
    schema = {"properties": {"id": {"type": "string"}}}
    messages = [
        {"type": "SCHEMA", "stream": "invoices", "schema": schema, "key_properties": ["id"]},
        record_message("invoices", {"id": "in_1"}),
    ]
    with pytest.raises(UnmappedStreamError, match="'invoices'"):
        run_in_process(base_config(tmp_path), messages, capsys)


def test_compat_mode_writes_adobes_source_layout(tmp_path, capsys):
    messages = [schema_message("charges"), *[record_message("charges", c) for c in charges(2)]]
    run_in_process(base_config(tmp_path, mapping_mode="compat"), messages, capsys)
    records = written(tmp_path / "out" / "charges")
    assert [r["_acme"]["charges_data"]["amount"] for r in records] == [1099, 1099]
    assert not (tmp_path / "out" / "dead_letter.jsonl").exists()


def test_a_deleted_customer_arrives_as_a_profile_marked_deleted(tmp_path, capsys):
    deleted = {"id": "cus_gone", "object": "customer", "deleted": True,
               "_sdc_deleted_at": "2024-05-01T12:00:00+00:00"}  # fmt: skip
    schema = {"type": "object", "properties": {
        "id": {"type": "string"}, "object": {"type": "string"}, "deleted": {"type": "boolean"},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}  # fmt: skip
    messages = [
        {"type": "SCHEMA", "stream": "customers", "schema": schema, "key_properties": ["id"]},
        record_message("customers", deleted),
    ]
    run_in_process(base_config(tmp_path), messages, capsys)
    (record,) = written(tmp_path / "out" / "customers")
    assert record["identityMap"]["StripeCustomerID"][0]["id"] == "cus_gone"
    assert record["_acme"]["stripe"]["deleted"] is True
    assert record["_acme"]["stripe"]["deletedAt"] == "2024-05-01T12:00:00Z"


# --- STATE after files (the target as a process) ---------------------------------------


def _target_process(config_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_state_is_printed_only_after_the_files_holding_every_earlier_record_exist(tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(
        json.dumps(base_config(tmp_path, batch_size_rows=40, file_max_records=25))
    )
    process = _target_process(config_path)
    records = charges(100)
    lines = [schema_message("charges")]
    for index, record in enumerate(records, start=1):
        lines.append(record_message("charges", record))
        if index % 30 == 0:
            lines.append(state_message(index))
    lines.append(state_message(100))
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write("".join(json.dumps(m) + "\n" for m in lines))
    process.stdin.close()
    folder = tmp_path / "out" / "charges"
    state_lines = 0
    for line in process.stdout:  # read as the target prints; check the disk at that moment
        state = json.loads(line)
        state_lines += 1
        covered = state["bookmarks"]["charges"]["replication_key_value"]
        on_disk = {r["_acme"]["stripe"]["id"] for r in written(folder)}
        assert {r["id"] for r in records[:covered]} <= on_disk
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["total_records"] == len(on_disk)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    assert state_lines >= 1


def test_a_failed_delivery_prints_no_state_and_fails_the_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "charges").write_text("a file where the dataset folder should be")
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(base_config(tmp_path)))
    process = _target_process(config_path)
    messages = [schema_message("charges"), *[record_message("charges", c) for c in charges(3)],
                state_message(3)]  # fmt: skip
    stdout, stderr = process.communicate(
        "".join(json.dumps(m) + "\n" for m in messages), timeout=60
    )
    assert process.returncode != 0
    assert stdout.strip() == ""
    assert "output_dir" in stderr
