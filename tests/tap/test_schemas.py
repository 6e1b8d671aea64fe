"""schemas/*.json: Stripe's example objects pass through the tap intact and valid."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from tests.doubles.stripe_api import StripeDouble
from tests.shared_paths import STRIPE_EXAMPLES, STRIPE_FIXTURES, require
from tests.tap.schema_coverage import undeclared_fields
from tests.tap.tap_run import base_config, run_tap

OBJECT_OF = {
    "charges": "charge",
    "subscriptions": "subscription",
    "refunds": "refund",
    "balance_transactions": "balance_transaction",
    "customers": "customer",
    "prices": "price",
}
VALIDATOR = jsonschema.Draft202012Validator

# Nullable top-level fields per Stripe's OpenAPI spec for 2024-06-20
# (https://github.com/stripe/openapi, spec3.json, `nullable: true`).
NULLABLE = {
    "charges": "application application_fee application_fee_amount balance_transaction "
    "calculated_statement_descriptor customer description failure_balance_transaction "
    "failure_code failure_message fraud_details invoice on_behalf_of outcome payment_intent "
    "payment_method receipt_email receipt_number receipt_url review shipping source_transfer "
    "statement_descriptor statement_descriptor_suffix transfer_data transfer_group",
    "subscriptions": "application application_fee_percent billing_cycle_anchor_config "
    "billing_thresholds cancel_at canceled_at cancellation_details days_until_due "
    "default_payment_method default_source default_tax_rates description discount ended_at "
    "latest_invoice next_pending_invoice_item_invoice on_behalf_of pause_collection "
    "payment_settings pending_invoice_item_interval pending_setup_intent pending_update "
    "schedule test_clock transfer_data trial_end trial_settings trial_start",
    "refunds": "balance_transaction charge metadata payment_intent reason receipt_number "
    "source_transfer_reversal status transfer_reversal",
    "balance_transactions": "description exchange_rate source",
    "customers": "address currency default_source delinquent description discount email "
    "invoice_prefix name phone preferred_locales shipping tax_exempt test_clock",
    "prices": "custom_unit_amount lookup_key nickname recurring tax_behavior tiers_mode "
    "transform_quantity unit_amount unit_amount_decimal",
}
EXPANDABLE = {
    "charges": "application application_fee balance_transaction customer "
    "failure_balance_transaction invoice on_behalf_of payment_intent review source_transfer",
    "subscriptions": "application customer default_payment_method default_source "
    "latest_invoice on_behalf_of pending_setup_intent schedule test_clock",
    "refunds": "balance_transaction charge payment_intent source_transfer_reversal "
    "transfer_reversal customer payment_method",
    "balance_transactions": "source",
    "customers": "default_source test_clock",
    "prices": "product",
}


def schema_of(stream: str) -> dict:
    text = resources.files("tap_stripe_xdm.schemas").joinpath(f"{stream}.json").read_text()
    return json.loads(text)


def shared_objects(stream: str) -> list[dict]:
    """The stripe-examples object and the fixtures3.json object for `stream`."""
    name = OBJECT_OF[stream]
    example = json.loads((require(STRIPE_EXAMPLES) / f"{name}.json").read_text())
    fixture = json.loads(require(STRIPE_FIXTURES).read_text())["resources"][name]
    return [example, fixture]


@pytest.fixture(scope="module")
def shared_run():
    """Every shared example and fixture object, served by the double and read by the tap."""
    with StripeDouble() as double:
        originals: dict[str, list[dict]] = {}
        for stream in OBJECT_OF:
            originals[stream] = shared_objects(stream)
            for obj in originals[stream]:
                double.add(stream, obj)
        config = base_config(
            double.url, start_date="2009-01-01T00:00:00Z", end_date="2030-01-01T00:00:00Z"
        )
        yield originals, run_tap(config)


@pytest.mark.parametrize("stream", list(OBJECT_OF))
def test_shared_examples_pass_through_the_tap_unchanged(shared_run, stream: str) -> None:
    originals, run = shared_run
    emitted = {r["id"]: r for r in run.records(stream)}
    assert set(emitted) == {o["id"] for o in originals[stream]}
    for original in originals[stream]:
        assert emitted[original["id"]] == {**original, "account_id": None}


@pytest.mark.parametrize("stream", list(OBJECT_OF))
def test_shared_examples_validate_and_every_field_is_declared(shared_run, stream: str) -> None:
    _, run = shared_run
    schema = schema_of(stream)
    validator = VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER)
    for record in run.records(stream):
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(record)]
        assert errors == [], record["id"]
        assert undeclared_fields(record, schema) == [], record["id"]


@pytest.mark.parametrize("stream", list(OBJECT_OF))
def test_tap_announces_the_schema_file(shared_run, stream: str) -> None:
    _, run = shared_run
    announced = [m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream]
    assert announced[0]["schema"] == schema_of(stream)
    assert announced[0]["key_properties"] == ["id"]
    assert announced[0]["bookmark_properties"] == ["created"]


@pytest.mark.parametrize("stream", list(OBJECT_OF))
def test_schema_is_valid_json_schema_with_key_fields(stream: str) -> None:
    schema = schema_of(stream)
    VALIDATOR.check_schema(schema)
    props = schema["properties"]
    assert props["id"]["type"] == "string"
    assert props["created"]["type"] == "integer"
    assert {"id", "created"} <= set(schema["required"])
    assert props["account_id"]["type"] == ["string", "null"]


# Balance transactions are the one object of the six without metadata.
@pytest.mark.parametrize("stream", [s for s in OBJECT_OF if s != "balance_transactions"])
def test_metadata_is_a_map_of_strings(stream: str) -> None:
    metadata = schema_of(stream)["properties"]["metadata"]
    validator = VALIDATOR(metadata)
    assert validator.is_valid({"order_id": "6735", "any key": "x"})
    assert not validator.is_valid({"order_id": 6735})


@pytest.mark.parametrize("stream", list(OBJECT_OF))
def test_nullable_fields_accept_null(stream: str) -> None:
    props = schema_of(stream)["properties"]
    for field in NULLABLE[stream].split():
        assert VALIDATOR(props[field]).is_valid(None), field


@pytest.mark.parametrize("stream", list(OBJECT_OF))
def test_expandable_fields_accept_an_id_or_the_object(stream: str) -> None:
    props = schema_of(stream)["properties"]
    for field in EXPANDABLE[stream].split():
        validator = VALIDATOR(props[field])
        assert validator.is_valid("obj_123"), field
        assert validator.is_valid({"id": "obj_123", "object": "thing"}), field
        assert not validator.is_valid(123), field
