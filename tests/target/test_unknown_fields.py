"""Tenant fields the dataset's schema lacks are dropped and counted, never a dead letter; standard
XDM fields stay strictly validated; a SCHEMA that changes mid-stream re-derives the tenant area."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest
from target_aep.route import Routes
from target_aep.run_summary import render_table
from target_aep.settings import TargetSettings
from target_aep.unknown_fields import UnknownTenantFields

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config, run_tap
from tests.target.examples import example, singer_schema
from tests.target.singer_run import run_in_process

COUNTS = {"charges": 40, "subscriptions": 10, "customers": 12, "prices": 6}

SCHEMA = {
    "type": "object",
    "properties": {
        "eventType": {"type": "string"},
        "_acme": {
            "type": "object",
            "properties": {
                "stripe": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                        "items": {
                            "type": "array",
                            "items": {"type": "object", "properties": {"id": {"type": "string"}}},
                        },
                        "outcome": {"type": "object", "properties": {"type": {"type": "string"}}},
                    },
                }
            },
        },
    },
}


def test_drop_removes_what_the_tenant_schema_lacks_at_any_depth_and_names_it():
    unknown = UnknownTenantFields(SCHEMA, "acme")
    xdm = {
        "eventType": "x",
        "notStandard": 1,  # outside the tenant area: not touched (validation refuses it)
        "_acme": {
            "stripe": {
                "id": "ch_1",
                "riskScore": 3,
                "metadata": {"any": "key"},  # a map holds any key
                "items": [{"id": "si_1", "tier": "a"}, {"id": "si_2", "tier": "b"}],
                "outcome": {"advice": "x"},  # left empty once dropped: removed too
            }
        },
    }
    dropped = unknown.drop(xdm)
    assert sorted(set(dropped)) == [
        "_acme.stripe.items[].tier",
        "_acme.stripe.outcome.advice",
        "_acme.stripe.riskScore",
    ]
    assert xdm == {
        "eventType": "x",
        "notStandard": 1,
        "_acme": {
            "stripe": {
                "id": "ch_1",
                "metadata": {"any": "key"},
                "items": [{"id": "si_1"}, {"id": "si_2"}],
            }
        },
    }


def routes(tmp_path: Path, **config) -> Routes:
    settings = {"tenant_id": "acme", "output_dir": str(tmp_path), **config}
    return Routes(TargetSettings.from_config(settings))


def test_a_record_with_fields_stripe_added_is_kept_without_them_and_counted(tmp_path, caplog):
    run = routes(tmp_path)
    route = run.route_for("charges", singer_schema("charges"))
    added = {"risk_insights": {"score": 3}, "outcome": {**example("charges")["outcome"], "x": 1}}
    with caplog.at_level(logging.WARNING):
        first = route.take({**example("charges"), **added})
        second = route.take({**example("charges"), **added, "id": "ch_second"})
    assert first is not None
    assert second is not None
    charge = first.xdm["_acme"]["stripe"]["charge"]
    assert "riskInsights" not in charge
    assert "x" not in charge["outcome"]
    assert charge["outcome"]["type"] == example("charges")["outcome"]["type"]
    tally = run.summary.tallies["charges"]
    assert tally.dead_lettered == 0
    assert tally.dropped_fields == {
        "_acme.stripe.charge.riskInsights": 2,
        "_acme.stripe.charge.outcome.x": 2,
    }
    assert caplog.text.count("field _acme.stripe.charge.riskInsights is not in") == 1
    lines = render_table(run.summary.tallies, tmp_path / "dead_letter.jsonl")
    assert any("_acme.stripe.charge.riskInsights (2 records)" in line for line in lines)
    assert any("target-aep-provision" in line for line in lines)


def test_standard_xdm_fields_stay_strict_and_a_bad_value_in_the_tenant_area_too(tmp_path):
    run = routes(tmp_path)
    route = run.route_for("charges", singer_schema("charges"))
    assert route.take({**example("charges"), "currency": "us dollars"}) is None
    assert route.take({**example("charges"), "amount": "a lot", "risk_insights": {"a": 1}}) is None
    route.deliver([])
    letters = (tmp_path / "dead_letter.jsonl").read_text().splitlines()
    assert len(letters) == 2
    assert run.summary.tallies["charges"].dead_lettered == 2


def test_a_schema_that_changes_mid_stream_brings_the_new_field_into_the_tenant_area(
    tmp_path, capsys
):
    """The tap's schema_drift: evolve sends an updated SCHEMA before the first record carrying
    a new field; the target re-derives the tenant schema from it and keeps the field."""
    before = singer_schema("charges")
    after = copy.deepcopy(before)
    after["properties"]["risk_insights"] = {
        "type": ["object", "null"],
        "properties": {"score": {"type": ["integer", "null"]}},
    }
    charge = example("charges")
    messages = [
        {"type": "SCHEMA", "stream": "charges", "schema": before, "key_properties": ["id"]},
        {"type": "RECORD", "stream": "charges", "record": {**charge, "id": "ch_old"}},
        {"type": "SCHEMA", "stream": "charges", "schema": after, "key_properties": ["id"]},
        {
            "type": "RECORD",
            "stream": "charges",
            "record": {**charge, "id": "ch_new", "risk_insights": {"score": 7}},
        },
        {"type": "STATE", "value": {"bookmarks": {}}},
    ]
    config = {"tenant_id": "acme", "output_dir": str(tmp_path)}
    run_in_process(config, messages, capsys)
    rows = [
        json.loads(line)
        for part in sorted((tmp_path / "charges").glob("part-*.json"))
        for line in part.read_text().splitlines()
    ]
    by_id = {row["_acme"]["stripe"]["id"]: row["_acme"]["stripe"]["charge"] for row in rows}
    assert by_id["ch_new"]["riskInsights"] == {"score": 7}
    assert "riskInsights" not in by_id["ch_old"]
    assert (
        not (tmp_path / "dead_letter.jsonl").exists()
        or not (tmp_path / "dead_letter.jsonl").read_text()
    )
    summary = json.loads((tmp_path / "run_summary.json").read_text())
    assert summary["streams"]["charges"]["dropped_fields"] == {}


@pytest.mark.parametrize("schema_drift", ["evolve", "drop"])
def test_the_taps_output_of_either_shape_dead_letters_nothing(schema_drift, tmp_path, capsys):
    """tap-stripe-xdm against a Stripe that added fields (top level, nested, in list items),
    into the target: with evolve the fields arrive declared and are kept in the tenant copy,
    with drop they never arrive; either way every record is delivered."""
    with StripeDouble() as stripe:
        stripe.seed(COUNTS, start=SEEDED_START, end=SEEDED_END, seed=9)
        stripe.add_fields("charges", {"risk_insights": {"score": 12}, "outcome.detail": "x"})
        stripe.add_fields("subscriptions", {"items.data.price.tier_hint": "low"})
        tap_config = base_config(stripe.url, schema_drift=schema_drift)
        output = run_tap(tap_config, streams={"charges", "subscriptions", "customers"})
    config = {"tenant_id": "acme", "output_dir": str(tmp_path)}
    run_in_process(config, output.messages, capsys)
    summary = json.loads((tmp_path / "run_summary.json").read_text())["streams"]
    for stream in ("charges", "subscriptions", "customers"):
        assert summary[stream]["delivered"] == COUNTS[stream], stream
        assert summary[stream]["dropped_fields"] == {}, stream
    assert (
        not (tmp_path / "dead_letter.jsonl").exists()
        or not (tmp_path / "dead_letter.jsonl").read_text()
    )
    charges = [
        json.loads(line)["_acme"]["stripe"]["charge"]
        for part in (tmp_path / "charges").glob("part-*.json")
        for line in part.read_text().splitlines()
    ]
    kept = schema_drift == "evolve"
    assert all(("riskInsights" in charge) == kept for charge in charges)
    assert all(("detail" in charge["outcome"]) == kept for charge in charges)
