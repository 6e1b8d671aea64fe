"""`schema_evolution`: a field the tap declared mid-stream reaches a provisioned AEP dataset.

The AEP double's registry composes each provisioned schema from its class and field groups and
validates every streamed entity against it with objects closed, so an entity it accepts is valid
against the schema as Platform would hold it.
"""

from __future__ import annotations

import copy
import json
import logging

import pytest

from tests.target.examples import example
from tests.target.provision.test_provision import provision, tap_schema
from tests.target.singer_run import run_in_process

NEW_FIELD = {
    "type": ["object", "null"],
    "properties": {"score": {"type": ["integer", "null"]}, "level": {"type": ["string", "null"]}},
}


@pytest.fixture
def aep(aep_xdm):
    return aep_xdm


@pytest.fixture
def provisioned(aep, tmp_path, capsys):
    """The six streams provisioned from the tap's own schemas (no `risk_insights` field)."""
    code, output, config = provision(aep, tmp_path)
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    return {**config, **json.loads(output.read_text()), "output_dir": str(tmp_path / "out")}


def drifted_input() -> list[dict]:
    """What the tap sends with schema_drift evolve: a charge, an updated SCHEMA declaring the
    field Stripe added, then a charge carrying it."""
    before = tap_schema("charges")
    after = copy.deepcopy(before)
    after["properties"]["risk_insights"] = NEW_FIELD
    charge = {**example("charges"), "customer": "cus_1"}
    schema = {"type": "SCHEMA", "stream": "charges", "key_properties": ["id"]}
    return [
        {**schema, "schema": before},
        {"type": "RECORD", "stream": "charges", "record": {**charge, "id": "ch_before"}},
        {**schema, "schema": after},
        {
            "type": "RECORD",
            "stream": "charges",
            "record": {**charge, "id": "ch_after", "risk_insights": {"score": 7, "level": "low"}},
        },
        {"type": "STATE", "value": {"bookmarks": {}}},
    ]


def tenant_field_group(aep) -> dict:
    (group,) = [
        r.document
        for r in aep.registry.tenant.values()
        if r.kind == "mixins" and r.document["title"].startswith("Stripe charges fields")
    ]
    return group


def landed(aep, config) -> dict[str, dict]:
    entities = aep.dcs_entities[config["streams"]["charges"]["dataset_id"]]
    return {
        entity["_acme"]["stripe"]["id"]: entity["_acme"]["stripe"]["charge"] for entity in entities
    }


def dead_letters(config) -> list[str]:
    path = config["output_dir"] + "/dead_letter.jsonl"
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except FileNotFoundError:
        return []


def run_summary(config) -> dict:
    with open(config["output_dir"] + "/run_summary.json", encoding="utf-8") as handle:
        return json.load(handle)["streams"]["charges"]


def test_add_fields_extends_the_field_group_and_the_record_lands_with_the_field(
    aep, provisioned, capsys
):
    group_before = tenant_field_group(aep)
    assert "riskInsights" not in json.dumps(group_before)
    run_in_process({**provisioned, "schema_evolution": "add_fields"}, drifted_input(), capsys)
    group = tenant_field_group(aep)
    charge_fields = group["definitions"]["stripe"]["properties"]["_acme"]["properties"]["stripe"][
        "properties"
    ]["charge"]["properties"]
    assert charge_fields["riskInsights"]["properties"]["score"]["type"] == "integer"
    assert set(charge_fields) - {"riskInsights"} == set(
        group_before["definitions"]["stripe"]["properties"]["_acme"]["properties"]["stripe"][
            "properties"
        ]["charge"]["properties"]
    )  # additive only: everything else as it was
    assert landed(aep, provisioned)["ch_after"]["riskInsights"] == {"score": 7, "level": "low"}
    assert "riskInsights" not in landed(aep, provisioned)["ch_before"]
    assert dead_letters(provisioned) == []
    summary = run_summary(provisioned)
    assert summary["added_fields"] == ["_acme.stripe.charge.riskInsights"]
    assert summary["dropped_fields"] == {}
    patches = [e for e in aep.requests if e.method == "PATCH" and "/tenant/" in e.path]
    assert len(patches) == 1


def test_drop_delivers_the_record_without_the_field_and_counts_it(aep, provisioned, capsys):
    group_before = tenant_field_group(aep)
    run_in_process(provisioned, drifted_input(), capsys)
    assert tenant_field_group(aep) == group_before
    assert set(landed(aep, provisioned)) == {"ch_before", "ch_after"}
    assert "riskInsights" not in landed(aep, provisioned)["ch_after"]
    assert dead_letters(provisioned) == []
    assert run_summary(provisioned)["dropped_fields"] == {"_acme.stripe.charge.riskInsights": 1}


def test_without_write_access_add_fields_drops_and_says_which_permission(
    aep, provisioned, capsys, caplog
):
    aep.revoke("Manage Schemas")
    with caplog.at_level(logging.WARNING):
        run_in_process({**provisioned, "schema_evolution": "add_fields"}, drifted_input(), capsys)
    assert "riskInsights" not in landed(aep, provisioned)["ch_after"]
    assert dead_letters(provisioned) == []
    assert run_summary(provisioned)["dropped_fields"] == {"_acme.stripe.charge.riskInsights": 1}
    assert "'Manage Schemas' permission" in caplog.text
