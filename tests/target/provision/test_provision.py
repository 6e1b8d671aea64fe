"""`target-aep-provision` against the AEP double, from an empty sandbox to records landing.

The double's registry composes each schema from its class and field groups (Adobe's standard
ones from ../shared/xdm) and validates every streamed entity against it with objects closed,
so "accepted" here means valid against the schema provisioning created.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest
from target_aep.provision.cli import main

from tests.target.examples import STREAMS, example
from tests.target.singer_run import record_messages, run_in_process

STATE = {"bookmarks": {}}


def tap_schema(stream: str) -> dict:
    text = resources.files("tap_stripe_xdm.schemas").joinpath(f"{stream}.json").read_text()
    return json.loads(text)


def catalog(schemas: dict[str, dict] | None = None) -> dict:
    schemas = schemas or {stream: tap_schema(stream) for stream in STREAMS}
    return {
        "streams": [
            {"tap_stream_id": stream, "stream": stream, "schema": schema, "metadata": []}
            for stream, schema in schemas.items()
        ]
    }


@pytest.fixture
def aep(aep_xdm):
    return aep_xdm


def provision(aep, tmp_path, *extra: str, config_overrides=None, schemas=None):
    config = aep.config(destination="streaming", **(config_overrides or {}))
    config.pop("inlet_id")
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog(schemas)))
    output = tmp_path / "provisioned.json"
    code = main(
        [
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
            "--output",
            str(output),
            *extra,
        ],
        environ={},
    )
    return code, output, config


def writes(aep) -> int:
    return sum(
        1
        for exchange in aep.requests
        if exchange.method in ("POST", "PATCH", "PUT") and exchange.path.startswith("/data/")
    )


def test_from_an_empty_sandbox_every_example_record_lands_valid(aep, tmp_path, capsys):
    code, output, config = provision(aep, tmp_path)
    assert code == 0, capsys.readouterr()
    provisioned = json.loads(output.read_text())
    assert provisioned["tenant_id"] == "acme"
    assert set(provisioned["streams"]) == set(STREAMS)
    assert all(
        set(ids) == {"dataset_id", "schema_id", "flow_id"}
        for ids in provisioned["streams"].values()
    )
    capsys.readouterr()
    merged = {**config, **provisioned, "output_dir": str(tmp_path / "out")}
    messages = []
    for stream in STREAMS:
        records = [example(stream)]
        if stream == "charges":  # the shared example charge has no customer: add one that has
            records.append({**example(stream), "id": "ch_with_customer", "customer": "cus_1"})
        messages += record_messages(stream, tap_schema(stream), records, STATE)
    run_in_process(merged, messages, capsys)
    for stream in STREAMS:
        dataset_id = provisioned["streams"][stream]["dataset_id"]
        assert len(aep.dcs_entities[dataset_id]) == (2 if stream == "charges" else 1), stream
    dead_letters = tmp_path / "out" / "dead_letter.jsonl"
    assert not dead_letters.exists() or not dead_letters.read_text().strip()
    # Profile keeps every record that names its customer (the namespace was provisioned); the
    # example charge and refund name none, and Profile drops those, as Adobe documents.
    rejected = [reason for reasons in aep.profile_rejections.values() for reason in reasons]
    assert sorted(r.split(":")[1] + ":" + r.rsplit(": ", 1)[1] for r in rejected) == [
        "charges:no primary identity",
        "refunds:no primary identity",
    ]


def test_a_second_run_finds_everything_and_creates_nothing(aep, tmp_path, capsys):
    provision(aep, tmp_path)
    first = json.loads((tmp_path / "provisioned.json").read_text())
    before = writes(aep)
    capsys.readouterr()
    code, output, _ = provision(aep, tmp_path)
    assert code == 0
    assert writes(aep) == before
    assert json.loads(output.read_text()) == first
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line and not line.startswith(("summary", "target settings"))
    ]
    assert lines
    assert all("already there" in line for line in lines)


def test_dry_run_on_an_empty_sandbox_changes_nothing(aep, tmp_path, capsys):
    code, output, _ = provision(aep, tmp_path, "--dry-run")
    assert code == 0
    assert writes(aep) == 0
    assert not output.exists()
    out = capsys.readouterr().out
    assert "would be created" in out
    assert "created " not in out.replace("would be created", "")


def test_one_more_catalog_field_is_one_additive_update(aep, tmp_path, capsys):
    provision(aep, tmp_path)
    schemas = {stream: tap_schema(stream) for stream in STREAMS}
    schemas["charges"]["properties"]["surcharge_details"] = {
        "type": ["object", "null"],
        "properties": {"amount": {"type": ["integer", "null"]}},
    }
    before = list(aep.requests)
    capsys.readouterr()
    code, _, _ = provision(aep, tmp_path, schemas=schemas)
    assert code == 0
    new = aep.requests[len(before) :]
    patches = [
        e for e in new if e.method in ("PATCH", "POST", "PUT") and e.path.startswith("/data/")
    ]
    assert [(e.method, e.path.split("/")[5]) for e in patches] == [("PATCH", "fieldgroups")]
    out = capsys.readouterr().out
    assert "updated" in out
    assert "adds 1 field(s): _acme.stripe.charge.surchargeDetails" in out


def test_a_retyped_field_is_reported_with_its_path_and_left_alone(aep, tmp_path, capsys):
    provision(aep, tmp_path)
    schemas = {stream: tap_schema(stream) for stream in STREAMS}
    schemas["charges"]["properties"]["amount"] = {"type": ["string", "null"]}
    before = writes(aep)
    capsys.readouterr()
    code, _, _ = provision(aep, tmp_path, schemas=schemas)
    assert code == 0
    assert writes(aep) == before
    out = capsys.readouterr().out
    assert "type conflict" in out
    assert (
        "_acme.stripe.charge.amount: the field group has integer, the mapping writes string" in out
    )


@pytest.mark.parametrize(
    ("permission", "api"),
    [
        ("Manage Identity Namespaces", "Identity Service"),
        ("Manage Schemas", "Schema Registry"),
        ("Manage Datasets", "Catalog"),
        ("Manage Sources", "Flow Service"),
    ],
)
def test_a_403_names_the_api_and_the_permission(aep, tmp_path, capsys, permission, api):
    aep.revoke(permission)
    code, output, _ = provision(aep, tmp_path)
    assert code == 1
    assert not output.exists()
    err = capsys.readouterr().err
    assert f"{api} could not" in err
    assert f"'{permission}' permission" in err
    assert aep.client_secret not in err
    assert not any(token in err for token in aep.issued_tokens)


def test_a_run_stopped_part_way_is_continued_by_the_next(aep, tmp_path, capsys):
    aep.revoke("Manage Datasets")
    code, _, _ = provision(aep, tmp_path)
    assert code == 1
    first = capsys.readouterr().out
    assert "field group" in first
    assert "created" in first
    aep.permissions.add("Manage Datasets")
    code, output, _ = provision(aep, tmp_path)
    assert code == 0
    second = capsys.readouterr().out
    field_group_lines = [line for line in second.splitlines() if line.startswith("field group")]
    assert field_group_lines[0].split()[2:4] == ["already", "there"]
    assert len(json.loads(output.read_text())["streams"]) == len(STREAMS)


def test_compat_mode_provisions_a_record_class_and_records_land_valid(aep, tmp_path, capsys):
    code, output, config = provision(aep, tmp_path, config_overrides={"mapping_mode": "compat"})
    assert code == 0, capsys.readouterr()
    provisioned = json.loads(output.read_text())
    assert "Stripe object (target-aep)" in capsys.readouterr().out
    merged = {**config, **provisioned, "output_dir": str(tmp_path / "out")}
    messages = []
    for stream in STREAMS:
        messages += record_messages(
            stream, tap_schema(stream), [copy.deepcopy(example(stream))], STATE
        )
    run_in_process(merged, messages, capsys)
    for stream in STREAMS:
        assert len(aep.dcs_entities[provisioned["streams"][stream]["dataset_id"]]) == 1, stream


def test_a_tenant_id_other_than_the_sandboxs_is_refused_before_anything_is_made(
    aep, tmp_path, capsys
):
    code, _, _ = provision(aep, tmp_path, config_overrides={"tenant_id": "demo"})
    assert code == 1
    assert "setting 'tenant_id' is 'demo'" in capsys.readouterr().err
    assert writes(aep) == 0


def test_an_existing_schema_of_another_class_is_reported_and_left_alone(aep, tmp_path, capsys):
    from tests.doubles.platform_client import REGISTRY, Platform

    Platform(aep).call(
        "POST",
        REGISTRY + "/tenant/schemas",
        {
            "title": "Stripe prices (target-aep)",
            "description": "made by hand",
            "type": "object",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}],
        },
    )
    code, _, _ = provision(aep, tmp_path)
    assert code == 1
    captured = capsys.readouterr()
    assert (
        "its class is https://ns.adobe.com/xdm/context/profile, not "
        "https://ns.adobe.com/xdm/classes/product"
    ) in captured.out
    assert "not provisioned, because an existing object differs" in captured.err
    assert "prices" in captured.err
    datasets = [d.document["name"] for d in aep.catalog.datasets.values()]
    assert "Stripe prices (target-aep)" not in datasets  # nothing built on the wrong schema
    assert "Stripe charges (target-aep)" in datasets  # the other streams went on


def test_transient_platform_errors_are_retried_as_the_target_retries_them(aep, tmp_path, capsys):
    aep.inject("/data/foundation/schemaregistry/tenant/fieldgroups", 503, 429)
    aep.inject("/data/foundation/catalog/dataSets", 500)
    code, output, _ = provision(aep, tmp_path)
    assert code == 0, capsys.readouterr()
    assert aep.count("POST", "/data/foundation/schemaregistry/tenant/fieldgroups", 201) == len(
        STREAMS
    )
    assert len(json.loads(output.read_text())["streams"]) == len(STREAMS)
