"""The record path without the SDK: a stream's route maps, validates, keeps or dead-letters each
record, and delivers a drain's kept records before the dead letters are made durable."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from target_aep.errors import InvalidXdmRecordError
from target_aep.mapping import tenant
from target_aep.route import Routes
from target_aep.settings import TargetSettings

from tests.target.examples import example, singer_schema, tap_schema
from tests.target.mutations import mutations


def routes(tmp_path: Path, **config) -> Routes:
    return Routes(
        TargetSettings.from_config({"tenant_id": "acme", "output_dir": str(tmp_path), **config})
    )


def letters(tmp_path: Path) -> list[dict]:
    path = tmp_path / "dead_letter.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_valid_record_is_kept_then_delivered_and_counted(tmp_path):
    run = routes(tmp_path)
    route = run.route_for("charges", singer_schema("charges"))
    kept = route.take(example("charges"))
    assert kept is not None
    assert kept.source_id == example("charges")["id"]
    assert kept.xdm["commerce"]["order"]["currencyCode"] == "USD"
    route.deliver([kept])
    run.close()
    (part,) = (tmp_path / "charges").glob("part-*.json")
    assert json.loads(part.read_text()) == kept.xdm
    tally = run.summary.tallies["charges"]
    assert (tally.received, tally.delivered, tally.dead_lettered) == (1, 1, 0)
    assert tally.destination == str(tmp_path / "charges")


def test_an_invalid_record_is_dead_lettered_with_its_paths_and_not_kept(tmp_path):
    run = routes(tmp_path)
    route = run.route_for("charges", singer_schema("charges"))
    assert route.take({**example("charges"), "currency": "us dollars"}) is None
    route.deliver([])  # a drain makes the dead letters durable even with nothing to deliver
    (letter,) = letters(tmp_path)
    assert letter["reason"].startswith("invalid XDM for built-in schema")
    assert "/commerce/order/currencyCode" in {error["path"] for error in letter["errors"]}
    assert run.summary.tallies["charges"].dead_lettered == 1


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_record_holding_a_nan_is_dead_lettered_with_its_path_and_the_others_are_kept(
    tmp_path, value
):
    # what a stream map could hand the target (Singer's JSON has no NaN): the tenant area
    # declares application_fee_percent a number, so the mapping doubts it and it is validated
    run = routes(tmp_path)
    route = run.route_for("subscriptions", tap_schema("subscriptions"))
    good = route.take(example("subscriptions"))
    bad = route.take({**example("subscriptions"), "application_fee_percent": value})
    assert good is not None
    assert bad is None
    route.deliver([good])
    run.close()
    (letter,) = letters(tmp_path)
    path = "/_acme/stripe/subscription/applicationFeePercent"
    assert letter["reason"].startswith("invalid XDM for built-in schema")
    assert [error["path"] for error in letter["errors"]] == [path]
    assert letter["errors"][0]["message"] == f"{path} is NaN or infinite; JSON has no such number"
    (part,) = (tmp_path / "subscriptions").glob("part-*.json")
    assert json.loads(part.read_text()) == good.xdm


def test_a_record_that_cannot_be_mapped_is_dead_lettered_with_its_source(tmp_path):
    route = routes(tmp_path).route_for("charges", singer_schema("charges"))
    assert route.take({**example("charges"), "created": "not a time"}) is None
    route.deliver([])
    (letter,) = letters(tmp_path)
    assert letter["reason"].startswith("mapping failed at timestamp")  # the field's path
    assert {"path": "/timestamp", "keyword": "mapping"}.items() <= letter["errors"][0].items()
    assert "not a time" in letter["errors"][0]["message"]
    assert letter["source"]["created"] == "not a time"


def test_on_invalid_record_fail_raises_instead_of_dead_lettering(tmp_path):
    route = routes(tmp_path, on_invalid_record="fail").route_for(
        "charges", singer_schema("charges")
    )
    with pytest.raises(InvalidXdmRecordError, match="currencyCode"):
        route.take({**example("charges"), "currency": "usdx"})
    assert letters(tmp_path) == []


def test_each_stream_gets_its_mapping_dataset_and_schema_from_the_settings(tmp_path):
    ids = {"mapping": "customers", "dataset_id": "ds_profiles"}
    run = routes(tmp_path, streams={"stripe_customers": ids})
    route = run.route_for("stripe_customers", singer_schema("customers"))
    assert route.dataset.dataset_id == "ds_profiles"
    assert route.dataset.is_profile
    assert route.validator.source == "built-in schema profile.json"
    kept = route.take(example("customers"))
    assert kept is not None
    assert kept.xdm["_id"].startswith("stripe:stripe_customers:")


def test_a_value_a_mapping_row_cannot_convert_is_dead_lettered_naming_its_field_paths(tmp_path):
    route = routes(tmp_path).route_for("charges", singer_schema("charges"))
    assert route.take({**example("charges"), "amount": "abc"}) is None
    route.deliver([])
    (letter,) = letters(tmp_path)
    by_path = {error["path"]: error for error in letter["errors"]}
    # The XDM field the row writes, and the source field it read, both by path.
    assert by_path["/commerce/order/priceTotal"]["keyword"] == "mapping"
    assert "amount='abc'" in by_path["/commerce/order/priceTotal"]["message"]
    assert "/_acme/stripe/charge/amount" in by_path
    assert "" not in by_path


@pytest.mark.parametrize("stream", ["charges", "subscriptions"])
def test_records_whose_tenant_fields_fit_by_construction_get_the_same_verdicts(
    tmp_path, stream, monkeypatch
):
    """Whatever a record holds, a route that skips the tenant fields its mapping vouches for
    keeps and refuses exactly what a route validating everything does, the same XDM."""
    monkeypatch.setattr(tenant, "_SHAPES", {})  # this test's layouts only
    certifying = routes(tmp_path / "a").route_for(stream, singer_schema(stream))
    plain = routes(tmp_path / "b").route_for(stream, singer_schema(stream))
    assert certifying.accepts_certified is not None
    plain.accepts_certified = None
    skipped_reading = 0
    check = certifying.accepts_certified

    def counting(xdm: dict) -> bool:
        nonlocal skipped_reading
        accepted = check(xdm)
        skipped_reading += accepted
        return accepted

    certifying.accepts_certified = counting
    kept = 0
    for change, record in mutations(example(stream)):
        ours, theirs = certifying.take(record), plain.take(record)
        assert (ours is None) == (theirs is None), change
        if ours is not None and theirs is not None:
            kept += 1
            assert ours.xdm == theirs.xdm, change
    assert skipped_reading > 100  # both paths were taken
    assert kept > skipped_reading


def test_a_field_the_dataset_declares_otherwise_is_still_checked(tmp_path):
    """A schema file (or the Registry) may declare a tenant field with more rules than the
    Singer schema says: a record the mapping vouches for is still held to them."""
    run = routes(tmp_path)
    schema = run.validator_for(
        "charges", run.route_for("charges", singer_schema("charges")).mapper,
        singer_schema("charges"),
    ).schema  # fmt: skip
    detail = schema["properties"]["_acme"]["properties"]["stripe"]["properties"]["charge"]
    detail["properties"]["amountCaptured"] = {"type": "integer", "maximum": 10}
    path = tmp_path / "charges.schema.json"
    path.write_text(json.dumps(schema))
    route = routes(tmp_path, streams={"charges": {"schema_path": str(path)}}).route_for(
        "charges", singer_schema("charges")
    )
    assert route.accepts_certified is not None  # the other fields are still vouched for
    record = {**example("charges"), "amount_captured": 11}
    assert route.take(record) is None
    assert route.take({**record, "amount_captured": 10}) is not None
    route.deliver([])
    (letter,) = letters(tmp_path)
    assert "/_acme/stripe/charge/amountCaptured" in {error["path"] for error in letter["errors"]}
