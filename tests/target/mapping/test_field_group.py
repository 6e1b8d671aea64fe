"""Each stream's tenant field group is accepted by the Schema Registry (the AEP double) and every
mapped record validates against the schema composed from it; evolution is additive JSON Patch."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.mapping.field_group import (
    NotExpressibleError,
    TypeConflict,
    field_group_changes,
    field_group_document,
)
from target_aep.validation import builtin_schema

from tests.doubles.aep_api import aep_double
from tests.doubles.json_patch import apply_patch
from tests.doubles.platform_client import REGISTRY, XED_FULL_V1, Platform
from tests.shared_paths import XDM_DIR, require
from tests.target.examples import STREAMS, example

OPTIONS = MappingOptions(tenant_id="acme")
TENANT_FIELDS = "/definitions/stripe/properties/_acme"


def tap_schema(stream: str) -> dict:
    text = resources.files("tap_stripe_xdm.schemas").joinpath(f"{stream}.json").read_text()
    return json.loads(text)


def document_for(stream: str, tenant_schema: dict, class_id: str) -> dict:
    return field_group_document(
        title=f"Stripe {stream}",
        description=f"Stripe {stream} fields",
        class_id=class_id,
        tenant_id="acme",
        tenant_schema=tenant_schema,
    )


@pytest.mark.parametrize("stream", STREAMS)
def test_the_field_group_is_accepted_and_the_mapped_example_validates(stream):
    require(XDM_DIR)
    mapper = mapper_for(stream, OPTIONS)
    tenant = mapper.tenant_schema(tap_schema(stream))
    builtin = builtin_schema(mapper.schema)
    class_id = builtin["meta:class"]
    with aep_double() as aep:
        platform = Platform(aep)
        group = platform.call(
            "POST", REGISTRY + "/tenant/fieldgroups", document_for(stream, tenant, class_id)
        )
        assert group.status_code == 201, group.text
        parts = [class_id, *builtin["meta:fieldGroups"], group.json()["$id"]]
        schema = platform.call(
            "POST",
            REGISTRY + "/tenant/schemas",
            {
                "title": stream,
                "description": stream,
                "type": "object",
                "allOf": [{"$ref": ref} for ref in parts],
            },
        )
        assert schema.status_code == 201, schema.text
        dataset = platform.call(
            "POST",
            "/data/foundation/catalog/dataSets",
            {"name": stream, "schemaRef": {"id": schema.json()["$id"], "contentType": XED_FULL_V1}},
        )
        validator = aep.registry.validator(schema.json()["$id"])
        errors = [e.message for e in validator.iter_errors(mapper.map(example(stream)))]
        assert dataset.status_code == 201
    assert errors == []


WANTED = {
    "type": "object",
    "properties": {
        "stripe": {
            "type": "object",
            "properties": {
                "amount": {"type": "integer"},
                "created": {"type": "string", "format": "date-time"},
                "card": {"type": "object", "properties": {"last4": {"type": "string"}}},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "quantity": {"type": "integer"}},
                    },
                },
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
EE = "https://ns.adobe.com/xdm/context/experienceevent"


def wanted_with(change) -> dict:
    schema = json.loads(json.dumps(WANTED))
    change(schema["properties"]["stripe"]["properties"])
    return document_for("charges", schema, EE)


def test_an_up_to_date_field_group_needs_no_change():
    document = document_for("charges", WANTED, EE)
    changes = field_group_changes(document, document, "acme")
    assert changes.additions == ()
    assert changes.conflicts == ()


def test_missing_fields_become_one_add_each_at_their_deepest_existing_parent():
    existing = wanted_with(
        lambda p: (p.pop("card"), p["items"]["items"]["properties"].pop("quantity"))
    )
    wanted = document_for("charges", WANTED, EE)
    changes = field_group_changes(existing, wanted, "acme")
    stripe = TENANT_FIELDS + "/properties/stripe/properties"
    assert [op["path"] for op in changes.additions] == [
        stripe + "/card",
        stripe + "/items/items/properties/quantity",
    ]
    assert changes.added_paths == ("_acme.stripe.card", "_acme.stripe.items[].quantity")
    assert changes.conflicts == ()
    patched = apply_patch(existing, list(changes.additions))
    assert field_group_changes(patched, wanted, "acme").additions == ()


def test_a_retyped_field_is_a_conflict_with_its_path_and_is_left_alone():
    def change(fields):
        fields.update(amount={"type": "string"}, Card=fields.pop("card"))

    existing = wanted_with(change)
    changes = field_group_changes(existing, document_for("charges", WANTED, EE), "acme")
    assert changes.conflicts == (
        TypeConflict("_acme.stripe.amount", "string", "integer"),
        TypeConflict("_acme.stripe.card", "a field named Card", "object"),
    )
    assert all("/amount" not in op["path"] for op in changes.additions)


def test_a_schema_xdm_cannot_express_is_refused_with_its_path():
    schema = {"type": "object", "properties": {"x": {"anyOf": [{"type": "string"}]}}}
    with pytest.raises(NotExpressibleError, match=r"_acme\.x"):
        document_for("charges", schema, EE)


@pytest.mark.parametrize("stream", STREAMS)
def test_compat_field_groups_extend_a_tenant_record_class_and_the_example_validates(stream):
    require(XDM_DIR)
    mapper = mapper_for(stream, OPTIONS, "compat")
    tenant = mapper.tenant_schema(tap_schema(stream))
    with aep_double() as aep:
        platform = Platform(aep)
        record_class = platform.call(
            "POST",
            REGISTRY + "/tenant/classes",
            {
                "title": "Stripe object",
                "description": "A Stripe object as Adobe's Stripe source lays it out",
                "type": "object",
                "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/record"}],
            },
        ).json()["$id"]
        group = platform.call(
            "POST", REGISTRY + "/tenant/fieldgroups", document_for(stream, tenant, record_class)
        )
        assert group.status_code == 201, group.text
        schema_id = platform.call(
            "POST",
            REGISTRY + "/tenant/schemas",
            {
                "title": stream,
                "description": stream,
                "type": "object",
                "allOf": [{"$ref": record_class}, {"$ref": group.json()["$id"]}],
            },
        ).json()["$id"]
        validator = aep.registry.validator(schema_id)
        errors = [e.message for e in validator.iter_errors(mapper.map(example(stream)))]
    assert errors == []
