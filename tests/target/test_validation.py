"""Validation of mapped XDM: closed objects, every error with its path, the three schema sources."""

from __future__ import annotations

import json

import pytest
from target_aep.errors import SchemaSourceError
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.target import TargetAep
from target_aep.validation import (
    RecordValidator,
    builtin_schema,
    close_objects,
    with_tenant,
)

from tests.shared_paths import STRIPE_FIXTURES, require
from tests.target.examples import EXAMPLE_FILES, STREAMS, example, singer_schema, tap_schema

OPTIONS = MappingOptions(tenant_id="acme")


def builtin_validator(stream: str, singer: dict | None = None) -> RecordValidator:
    mapper = mapper_for(stream, OPTIONS)
    tenant = mapper.tenant_schema(singer or singer_schema(stream))
    return RecordValidator(with_tenant(builtin_schema(mapper.schema), "acme", tenant), stream)


def test_close_objects_closes_every_object_with_properties_but_keeps_maps():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "list": {"type": "array", "items": {"type": "object", "properties": {"c": {}}}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "either": {"anyOf": [{"type": "string"}, {"properties": {"d": {}}}]},
        },
    }
    closed = close_objects(schema)
    assert closed["additionalProperties"] is False
    assert closed["properties"]["a"]["additionalProperties"] is False
    assert closed["properties"]["list"]["items"]["additionalProperties"] is False
    assert closed["properties"]["map"]["additionalProperties"] == {"type": "string"}
    assert closed["properties"]["either"]["anyOf"][1]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the input is left alone


@pytest.mark.parametrize("stream", STREAMS)
def test_every_mapped_example_is_valid_against_its_builtin_schema(stream):
    validator = builtin_validator(stream)
    assert validator.errors(mapper_for(stream, OPTIONS).map(example(stream))) == []


@pytest.mark.parametrize("stream", STREAMS)
def test_examples_are_valid_with_the_tenant_area_derived_from_the_taps_schemas(stream):
    validator = builtin_validator(stream, tap_schema(stream))
    mapper = mapper_for(stream, OPTIONS, singer_schema=tap_schema(stream))
    assert validator.errors(mapper.map(example(stream))) == []


@pytest.mark.parametrize("stream", STREAMS)
def test_stripes_openapi_fixtures_map_to_valid_xdm_too(stream):
    """A second real shape per object: Stripe's own sample objects (fixtures3.json)."""
    fixtures = json.loads(require(STRIPE_FIXTURES).read_text())["resources"]
    source = fixtures[EXAMPLE_FILES[stream].removesuffix(".json")]
    validator = builtin_validator(stream, tap_schema(stream))
    mapper = mapper_for(stream, OPTIONS, singer_schema=tap_schema(stream))
    assert validator.errors(mapper.map(source)) == []


def test_every_error_of_a_broken_record_is_listed_with_its_path():
    record = mapper_for("charges", OPTIONS).map(example("charges"))
    record["commerce"]["order"]["currencyCode"] = "usd"
    record["commerce"]["order"]["payments"][0]["paymentAmount"] = "10.99"
    record["_acme"]["stripe"]["charge"]["surprise"] = 1
    del record["timestamp"]
    errors = {(error.path, error.keyword) for error in builtin_validator("charges").errors(record)}
    assert errors == {
        ("/", "required"),
        ("/commerce/order/currencyCode", "pattern"),
        ("/commerce/order/payments/0/paymentAmount", "type"),
        ("/_acme/stripe/charge", "additionalProperties"),
    }


def test_an_unknown_tenant_root_or_standard_field_is_rejected():
    validator = builtin_validator("customers")
    record = mapper_for("customers", OPTIONS).map(example("customers"))
    assert validator.errors(record) == []
    assert validator.errors({**record, "_other": {"x": 1}})
    assert validator.errors({**record, "workEmail2": {"address": "a@b.c"}})


def test_a_date_time_field_holding_a_bad_string_is_rejected():
    record = mapper_for("charges", OPTIONS).map(example("charges"))
    record["timestamp"] = "2023-03-17 22:02:19"
    errors = builtin_validator("charges").errors(record)
    assert [error.path for error in errors] == ["/timestamp"]


def test_validation_never_inserts_schema_defaults_into_the_record():
    record = mapper_for("charges", OPTIONS).map(example("charges"))
    assert builtin_validator("charges").errors(record) == []
    assert "producedBy" not in record  # the class's default "self" must not be added


def test_an_unusable_schema_is_an_error_naming_its_source():
    with pytest.raises(SchemaSourceError, match=r"streams\.charges\.schema_path"):
        RecordValidator(
            {"type": "object", "properties": {"a": {"type": 5}}}, "streams.charges.schema_path"
        )


class _Registry:
    """Stands in for target_aep.adobe.schema_registry.SchemaRegistry (the agreed contract)."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.asked: list[str] = []

    def resolved_schema(self, schema_id: str) -> dict:
        self.asked.append(schema_id)
        return self.schema

    def tenant_id(self) -> str:
        return "fromregistry"


def _target(tmp_path, **config) -> TargetAep:
    return TargetAep(config={"output_dir": str(tmp_path), **config}, validate_config=True)


def test_a_schema_path_file_is_the_dataset_schema(tmp_path):
    schema_file = tmp_path / "charges.schema.json"
    schema_file.write_text(
        json.dumps({"type": "object", "properties": {"_id": {"type": "string"}}})
    )
    target = _target(
        tmp_path, tenant_id="acme", streams={"charges": {"schema_path": str(schema_file)}}
    )
    mapper = mapper_for("charges", OPTIONS)
    validator = target.routes.validator_for("charges", mapper, singer_schema("charges"))
    assert "schema_path" in validator.source
    errors = validator.errors(mapper.map(example("charges")))
    assert {error.keyword for error in errors} == {"additionalProperties"}  # closed: only _id


def test_with_credentials_and_schema_id_the_registry_schema_is_used_and_gives_the_tenant(tmp_path):
    target = _target(
        tmp_path,
        ims_org_id="ORG@AdobeOrg",
        client_id="cid",
        client_secret="not-a-real-secret",
        streams={"charges": {"schema_id": "https://ns.adobe.com/acme/schemas/abc"}},
    )
    registry = _Registry({"type": "object", "properties": {"_id": {"type": "string"}}})
    target.routes.__dict__["schema_registry"] = registry  # the lazily built client, replaced
    assert target.routes.tenant_id == "fromregistry"
    mapper = mapper_for("charges", target.routes.mapping_options)
    validator = target.routes.validator_for("charges", mapper, singer_schema("charges"))
    assert registry.asked == ["https://ns.adobe.com/acme/schemas/abc"]
    assert validator.errors({"_id": "x"}) == []
    assert validator.errors({"_id": "x", "_fromregistry": {}})  # closed like Platform
