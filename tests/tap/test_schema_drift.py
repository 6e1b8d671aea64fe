"""schema_drift.py: fields Stripe adds are declared (evolve), removed (drop) or refused (fail),
so every record matches its stream's latest SCHEMA with objects closed."""

from __future__ import annotations

import copy
import json
import logging
import re
from typing import Any

import jsonschema
import pytest
from tap_stripe_xdm.errors import SchemaDriftError
from tap_stripe_xdm.schema_drift import SchemaDrift, infer, widen

from tests.doubles.stripe_api import StripeDouble
from tests.tap.schema_coverage import undeclared_fields
from tests.tap.tap_run import SEEDED_END, SEEDED_START, TapRun, base_config, run_tap

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "outcome": {
            "type": ["object", "null"],
            "properties": {"type": {"type": ["string", "null"]}},
        },
        "items": {
            "type": "object",
            "properties": {
                "data": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"id": {"type": "string"}}},
                }
            },
        },
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "payment_method_details": {"type": ["object", "null"]},
        "customer": {
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"id": {"type": "string"}}},
                {"type": "null"},
            ]
        },
    },
}


def record(**extra: Any) -> dict[str, Any]:
    base = {
        "id": "ch_1",
        "outcome": {"type": "authorized"},
        "items": {"data": [{"id": "si_1"}, {"id": "si_2"}]},
        "metadata": {"any": "key"},
        "payment_method_details": {"card": {"brand": "visa"}},
        "customer": "cus_1",
    }
    base.update(extra)
    return base


class Announced:
    """The schemas a drift check announced, in order."""

    def __init__(self) -> None:
        self.schemas: list[dict] = []

    def __call__(self, schema: dict) -> None:
        self.schemas.append(copy.deepcopy(schema))


def drift(mode: str, announced: Announced | None = None) -> SchemaDrift:
    return SchemaDrift(
        "charges",
        copy.deepcopy(SCHEMA),
        mode,
        announce=announced or Announced(),
        logger=logging.getLogger("test-drift"),
    )


def assert_matches(value: dict, schema: dict) -> None:
    """Valid against `schema`, with every object that declares properties closed."""
    jsonschema.Draft7Validator(schema).validate(value)
    assert undeclared_fields(value, schema) == []


def test_records_that_match_pass_unchanged_and_nothing_is_announced():
    announced = Announced()
    check = drift("evolve", announced)
    records = [record(), record(outcome=None, customer={"id": "cus_2"})]
    before = copy.deepcopy(records)
    check.check(records)
    assert records == before
    assert announced.schemas == []


def test_open_objects_and_maps_hold_any_keys():
    check = drift("fail")
    check.check([record(metadata={"new": "x"}, payment_method_details={"sepa": {"x": 1}})])


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"risk_score": 42}, "risk_score"),
        ({"outcome": {"type": "authorized", "advice_detail": "try"}}, "outcome.advice_detail"),
        ({"items": {"data": [{"id": "si_1", "tier": "low"}]}}, "items.data[].tier"),
        ({"customer": {"id": "cus_1", "segment": "vip"}}, "customer.segment"),
    ],
)
def test_fail_stops_naming_the_stream_and_the_field(extra, path):
    with pytest.raises(SchemaDriftError, match=rf"stream 'charges'.*field '{re.escape(path)}'"):
        drift("fail").check([record(**extra)])


def test_evolve_announces_each_new_field_before_the_record_and_records_match_it():
    announced = Announced()
    check = drift("evolve", announced)
    first, second, third = (
        record(),
        record(risk={"score": 3, "level": "low"}, outcome={"type": "x", "advice": "retry"}),
        record(items={"data": [{"id": "si_1", "tier": "low"}, {"id": "si_2", "tier": None}]}),
    )
    check.check([first, second, third])
    assert len(announced.schemas) == 2  # one per record that needed it
    latest = announced.schemas[-1]
    for value in (first, second, third):
        assert_matches(value, latest)
    assert_matches(second, announced.schemas[0])
    properties = latest["properties"]
    assert properties["risk"] == {
        "type": ["object", "null"],
        "properties": {
            "score": {"type": ["integer", "null"]},
            "level": {"type": ["string", "null"]},
        },
    }
    assert properties["outcome"]["properties"]["advice"] == {"type": ["string", "null"]}
    tier = properties["items"]["properties"]["data"]["items"]["properties"]["tier"]
    assert tier == {"type": ["string", "null"]}
    assert third["items"]["data"][1] == {"id": "si_2", "tier": None}  # declared by then: kept
    assert check.schema == latest


def test_evolve_leaves_a_null_field_out_until_a_value_shows_its_type():
    announced = Announced()
    check = drift("evolve", announced)
    nulls, valued = record(dispute=None), record(dispute="dp_1")
    check.check([nulls])
    assert "dispute" not in nulls
    assert announced.schemas == []
    check.check([valued])
    assert announced.schemas[-1]["properties"]["dispute"] == {"type": ["string", "null"]}
    later_null = record(dispute=None)
    check.check([later_null])
    assert later_null["dispute"] is None  # declared nullable now: kept


def test_evolve_widens_an_added_field_when_another_type_arrives():
    announced = Announced()
    check = drift("evolve", announced)
    records = [record(score=3), record(score=0.5), record(score="high"), record(score=4)]
    check.check(records)
    assert [s["properties"]["score"]["type"] for s in announced.schemas] == [
        ["integer", "null"],
        ["number", "null"],
        ["number", "string", "null"],
    ]
    for value in records:
        assert_matches(value, announced.schemas[-1])


def test_drop_removes_undeclared_fields_warns_once_per_path_and_counts(caplog):
    check = drift("drop")
    records = [
        record(risk_score=1, outcome={"type": "x", "advice": "a"}),
        record(risk_score=2),
        record(items={"data": [{"id": "si_1", "tier": "a"}, {"id": "si_2", "tier": "b"}]}),
    ]
    with caplog.at_level(logging.WARNING, logger="test-drift"):
        check.check(records)
    for value in records:
        assert_matches(value, SCHEMA)
    assert dict(check.dropped) == {"risk_score": 2, "outcome.advice": 1, "items.data[].tier": 2}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3
    assert any("dropping field risk_score" in w for w in warnings)
    assert check.summary() == (
        "Stream charges: dropped undeclared fields (schema_drift: drop): items.data[].tier from "
        "2 records, outcome.advice from 1 records, risk_score from 2 records"
    )


def test_inference_and_widening_of_values():
    assert infer({"a": 1, "b": None, "c": [1, 2.5]}) == {
        "type": ["object", "null"],
        "properties": {
            "a": {"type": ["integer", "null"]},
            "c": {"type": ["array", "null"], "items": {"type": ["number", "null"]}},
        },
    }
    assert infer({}) == {"type": ["object", "null"]}  # nothing shows its fields: open
    assert infer([]) == {"type": ["array", "null"]}
    assert infer(True) == {"type": ["boolean", "null"]}
    closed = {"type": ["object", "null"], "properties": {"a": {"type": ["integer", "null"]}}}
    assert widen(closed, {"type": ["object", "null"]}) == {"type": ["object", "null"]}
    assert widen(closed, infer({"b": "x"}))["properties"] == {
        "a": {"type": ["integer", "null"]},
        "b": {"type": ["string", "null"]},
    }


# --- the tap against the Stripe double serving fields its schemas lack --------------------------

ADDED_CHARGE_FIELDS = {
    "risk_insights": {"score": 12, "signals": ["velocity"]},  # top level, an object
    "outcome.advice_detail": "try_again_later",  # nested in a declared object
}
ADDED_SUBSCRIPTION_FIELDS = {"items.data.price.tier_hint": "low"}  # in a list's objects


@pytest.fixture
def drifting_double():
    """Charges and subscriptions carrying fields the tap's schemas lack."""
    with StripeDouble() as double:
        counts = {"charges": 60, "subscriptions": 12, "prices": 8, "customers": 10}
        double.seed(counts, start=SEEDED_START, end=SEEDED_END, seed=5)
        double.add_fields("charges", ADDED_CHARGE_FIELDS)
        double.add_fields("subscriptions", ADDED_SUBSCRIPTION_FIELDS)
        yield double


def latest_schema_per_record(run: TapRun) -> list[tuple[dict, dict]]:
    """(record, the latest SCHEMA of its stream before it), in output order."""
    latest: dict[str, dict] = {}
    pairs = []
    for message in run.messages:
        if message["type"] == "SCHEMA":
            latest[message["stream"]] = message["schema"]
        elif message["type"] == "RECORD":
            pairs.append((message["record"], latest[message["stream"]]))
    return pairs


def test_evolve_output_is_valid_singer_with_objects_closed(drifting_double, caplog):
    with caplog.at_level(logging.INFO):
        run = run_tap(base_config(drifting_double.url), streams={"charges", "subscriptions"})
    pairs = latest_schema_per_record(run)
    assert len(pairs) == 72
    for value, schema in pairs:
        assert_matches(value, schema)
    charges = run.records("charges")
    assert all(c["risk_insights"]["score"] == 12 for c in charges)  # nothing lost
    assert all(c["outcome"]["advice_detail"] == "try_again_later" for c in charges)
    items = [i for s in run.records("subscriptions") for i in s["items"]["data"]]
    assert all(item["price"]["tier_hint"] == "low" for item in items)
    schemas = [m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "charges"]
    assert len(schemas) == 2  # the stream's start, then the one update before the first record
    messages = caplog.text
    for path in ("risk_insights", "outcome.advice_detail"):
        assert messages.count(f"new field {path} ") == 1
    assert "new field items.data[].price.tier_hint (string)" in messages


def test_drop_removes_the_fields_and_counts_them_at_the_end(drifting_double, caplog):
    config = base_config(drifting_double.url, schema_drift="drop")
    with caplog.at_level(logging.WARNING):
        run = run_tap(config, streams={"charges", "subscriptions"})
    for value, schema in latest_schema_per_record(run):
        assert_matches(value, schema)
        assert "risk_insights" not in value
    announced = [m for m in run.messages if m["type"] == "SCHEMA"]
    assert len(announced) == 2  # one per stream: the schemas never change
    assert "outcome.advice_detail from 60 records" in caplog.text
    assert "risk_insights from 60 records" in caplog.text
    assert caplog.text.count("dropping field risk_insights") == 1


def test_fail_stops_the_run_naming_the_field_and_moves_no_bookmark_past_it(drifting_double):
    config = base_config(drifting_double.url, schema_drift="fail")
    with pytest.raises(SchemaDriftError, match="field 'risk_insights'") as stopped:
        run_tap(config, streams={"charges"})
    output = stopped.value.tap_run  # type: ignore[attr-defined]
    assert output.records("charges") == []
    assert "replication_key_value" not in json.dumps(output.states)


def test_a_field_on_some_objects_only_is_announced_just_before_the_first_one(drifting_double):
    charges = drifting_double.objects("charges")
    drifting_double.update("charges", charges[-1]["id"], {"fraud_flag": True})  # the oldest
    run = run_tap(base_config(drifting_double.url), streams={"charges"})
    messages = [m for m in run.messages if m["type"] in ("SCHEMA", "RECORD")]
    carrying = next(i for i, m in enumerate(messages) if "fraud_flag" in m.get("record", {}))
    declaring = [
        i
        for i, m in enumerate(messages)
        if m["type"] == "SCHEMA" and "fraud_flag" in m["schema"]["properties"]
    ]
    assert declaring[0] < carrying  # announced before the first record carrying it
    assert "fraud_flag" not in messages[0]["schema"]["properties"]  # and not from the start


def test_schema_drift_setting_is_checked():
    from tap_stripe_xdm.settings import SettingsError, TapSettings

    with pytest.raises(SettingsError, match="schema_drift must be one of evolve, drop, fail"):
        TapSettings.from_config(
            {**base_config("http://127.0.0.1:1"), "schema_drift": "ignore"}, user_agent="x"
        )
