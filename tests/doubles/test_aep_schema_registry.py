"""The double's Schema Registry behaves as Adobe documents it (groups, schemas, descriptors)."""

from __future__ import annotations

import pytest

from tests.doubles.platform_client import (
    REGISTRY,
    XED_FULL_V1,
    XED_ID,
    XED_V1,
    Platform,
    encoded,
    tenant_field_group,
)

EE = "https://ns.adobe.com/xdm/context/experienceevent"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
COMMERCE = "https://ns.adobe.com/xdm/context/experienceevent-commerce"


@pytest.fixture
def aep(aep_xdm):
    return aep_xdm


@pytest.fixture
def platform(aep):
    return Platform(aep)


def create_field_group(platform, fields, **options) -> dict:
    answer = platform.call(
        "POST", REGISTRY + "/tenant/fieldgroups", tenant_field_group("acme", fields, **options)
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def create_schema(platform, *refs, title="Stripe charges", tags=None) -> dict:
    body = {
        "title": title,
        "description": "Charges from Stripe.",
        "type": "object",
        "allOf": [{"$ref": ref} for ref in refs],
    }
    if tags:
        body["meta:immutableTags"] = tags
    answer = platform.call("POST", REGISTRY + "/tenant/schemas", body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_global_container_lists_the_standard_classes(platform):
    answer = platform.call("GET", REGISTRY + "/global/classes", accept=XED_ID)
    assert answer.status_code == 200
    ids = {item["$id"] for item in answer.json()["results"]}
    assert {EE, PROFILE, "https://ns.adobe.com/xdm/classes/product"} <= ids


def test_listing_needs_an_unversioned_accept_and_lookup_a_versioned_one(platform):
    assert platform.call("GET", REGISTRY + "/tenant/schemas", accept=XED_V1).status_code == 400
    lookup = platform.call("GET", REGISTRY + "/global/classes/" + encoded(EE), accept=XED_ID)
    assert lookup.status_code == 400


def test_a_created_field_group_is_found_by_title_altid_and_id(platform, aep):
    created = create_field_group(platform, {"chargeId": {"type": "string"}})
    assert created["$id"].startswith("https://ns.adobe.com/acme/mixins/")
    assert created["meta:altId"] == "_acme.mixins." + created["$id"].rsplit("/", 1)[-1]
    assert created["version"] == "1.0"
    create_field_group(platform, {"refundId": {"type": "string"}}, title="Stripe refund fields")
    listed = platform.call(
        "GET",
        REGISTRY + "/tenant/fieldgroups",
        accept=XED_ID,
        params={"property": "title==Stripe charge fields"},
    ).json()["results"]
    assert [item["$id"] for item in listed] == [created["$id"]]
    for identifier in (created["meta:altId"], encoded(created["$id"])):
        found = platform.call("GET", REGISTRY + "/tenant/fieldgroups/" + identifier, accept=XED_V1)
        assert found.json()["definitions"] == created["definitions"]


@pytest.mark.parametrize(
    ("field", "complaint"),
    [
        ({"anyOf": [{"type": "string"}, {"type": "object"}]}, "anyOf is not allowed"),
        ({"type": ["string", "null"]}, "type must be one of"),
        ({"type": "object"}, "an object needs declared sub-fields"),
        (
            {
                "type": "object",
                "meta:xdmType": "map",
                "additionalProperties": {"type": "object", "properties": {"a": {"type": "string"}}},
            },
            "a map holds only strings or integers",
        ),
        ({"type": "array"}, "an array needs items"),
    ],
)
def test_custom_fields_xdm_cannot_express_are_refused_with_their_path(platform, field, complaint):
    answer = platform.call(
        "POST",
        REGISTRY + "/tenant/fieldgroups",
        tenant_field_group("acme", {"charge": {"type": "object", "properties": {"x": field}}}),
    )
    assert answer.status_code == 400
    assert complaint in answer.json()["detail"]
    assert "/_acme/charge/x" in answer.json()["detail"]


def test_field_names_are_checked_and_compared_regardless_of_case(platform):
    for fields, complaint in (
        ({"_hidden": {"type": "string"}}, "no leading _"),
        ({"amount": {"type": "number"}, "Amount": {"type": "number"}}, "names ignore case"),
    ):
        answer = platform.call(
            "POST", REGISTRY + "/tenant/fieldgroups", tenant_field_group("acme", fields)
        )
        assert answer.status_code == 400
        assert complaint in answer.json()["detail"]


def test_custom_fields_outside_the_tenant_namespace_are_refused(platform):
    body = tenant_field_group("acme", {"a": {"type": "string"}})
    body["definitions"]["stripe"]["properties"]["stripe"] = {"type": "string"}
    answer = platform.call("POST", REGISTRY + "/tenant/fieldgroups", body)
    assert answer.status_code == 400
    assert "_acme" in answer.json()["detail"]


def test_a_schema_composes_its_class_and_field_groups(platform):
    group = create_field_group(platform, {"chargeId": {"type": "string"}})
    schema = create_schema(platform, EE, COMMERCE, group["$id"])
    assert schema["meta:class"] == EE
    assert schema["meta:extends"][:2] == [EE, "https://ns.adobe.com/xdm/data/time-series"]
    full = platform.call(
        "GET", REGISTRY + "/tenant/schemas/" + encoded(schema["$id"]), accept=XED_FULL_V1
    ).json()
    assert {"_id", "timestamp", "commerce", "identityMap", "_acme"} <= set(full["properties"])
    assert full["properties"]["_acme"]["properties"]["chargeId"] == {"type": "string"}
    assert set(full["required"]) == {"_id", "timestamp"}


def test_a_schema_needs_one_known_class_and_compatible_field_groups(platform):
    for refs, complaint in (
        ([COMMERCE], "exactly one class"),
        ([EE, "https://ns.adobe.com/acme/mixins/nothere"], "Unknown allOf reference"),
        ([PROFILE, COMMERCE], "not compatible"),
    ):
        answer = platform.call(
            "POST",
            REGISTRY + "/tenant/schemas",
            {
                "title": "t",
                "description": "d",
                "type": "object",
                "allOf": [{"$ref": r} for r in refs],
            },
        )
        assert answer.status_code == 400
        assert complaint in answer.json()["title"] + answer.json().get("detail", "")


def test_field_groups_that_define_one_field_twice_differently_cannot_be_composed(platform):
    first = create_field_group(platform, {"amount": {"type": "number"}})
    second = create_field_group(platform, {"amount": {"type": "string"}}, title="Other")
    answer = platform.call(
        "POST",
        REGISTRY + "/tenant/schemas",
        {
            "title": "t",
            "description": "d",
            "type": "object",
            "allOf": [{"$ref": r} for r in (EE, first["$id"], second["$id"])],
        },
    )
    assert answer.status_code == 400
    assert "/_acme/amount" in answer.json()["detail"]


def patch(platform, group, operations):
    return platform.call(
        "PATCH", REGISTRY + "/tenant/fieldgroups/" + encoded(group["$id"]), operations
    )


FIELDS = "/definitions/stripe/properties/_acme/properties"


def test_before_a_dataset_uses_it_a_field_group_may_change_freely(platform):
    group = create_field_group(platform, {"amount": {"type": "string"}})
    create_schema(platform, EE, group["$id"])
    answer = patch(
        platform,
        group,
        [{"op": "replace", "path": FIELDS + "/amount", "value": {"type": "number"}}],
    )
    assert answer.status_code == 200
    assert answer.json()["version"] == "1.1"


def test_once_a_dataset_uses_the_schema_only_additive_changes_pass(platform, aep):
    group = create_field_group(
        platform, {"amount": {"type": "number"}, "currency": {"type": "string"}}
    )
    schema = create_schema(platform, EE, group["$id"])
    dataset = platform.call(
        "POST",
        "/data/foundation/catalog/dataSets",
        {"name": "charges", "schemaRef": {"id": schema["$id"], "contentType": XED_FULL_V1}},
    )
    assert dataset.status_code == 201
    retype = patch(
        platform,
        group,
        [{"op": "replace", "path": FIELDS + "/amount", "value": {"type": "string"}}],
    )
    assert retype.status_code == 400
    assert "field /_acme/amount would change from number to string" in retype.json()["detail"]
    remove = patch(platform, group, [{"op": "remove", "path": FIELDS + "/amount"}])
    assert remove.status_code == 400
    assert "field /_acme/amount would be removed" in remove.json()["detail"]
    add = patch(
        platform, group, [{"op": "add", "path": FIELDS + "/fee", "value": {"type": "number"}}]
    )
    assert add.status_code == 200
    dataset_id = dataset.json()[0].split("/")[-1]
    validator = aep.registry.validator(aep.catalog.datasets[dataset_id].schema_id)
    event = {"_id": "e1", "timestamp": "2024-01-01T00:00:00Z", "_acme": {"fee": 1.5}}
    assert not list(validator.iter_errors(event))
    event["_acme"]["unknown"] = 1
    assert [e.validator for e in validator.iter_errors(event)] == ["additionalProperties"]


def test_profile_enablement_is_a_tag_that_cannot_be_removed(platform):
    schema = create_schema(platform, PROFILE, "https://ns.adobe.com/xdm/context/identitymap")
    path = REGISTRY + "/tenant/schemas/" + encoded(schema["$id"])
    enabled = platform.call(
        "PATCH", path, [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}]
    )
    assert enabled.status_code == 200
    assert enabled.json()["meta:immutableTags"] == ["union"]
    removed = platform.call("PATCH", path, [{"op": "remove", "path": "/meta:immutableTags"}])
    assert removed.status_code == 400


def test_identity_descriptors_name_a_string_field_and_one_primary(platform):
    group = create_field_group(
        platform, {"customerId": {"type": "string"}, "n": {"type": "integer"}}
    )
    schema = create_schema(platform, EE, group["$id"])
    descriptor = {
        "@type": "xdm:descriptorIdentity",
        "xdm:sourceSchema": schema["$id"],
        "xdm:sourceVersion": 1,
        "xdm:sourceProperty": "/_acme/customerId",
        "xdm:namespace": "Email",
        "xdm:property": "xdm:code",
        "xdm:isPrimary": True,
    }
    created = platform.call("POST", REGISTRY + "/tenant/descriptors", descriptor)
    assert created.status_code == 201
    second = platform.call("POST", REGISTRY + "/tenant/descriptors", descriptor)
    assert second.status_code == 400
    not_a_string = {**descriptor, "xdm:sourceProperty": "/_acme/n", "xdm:isPrimary": False}
    assert platform.call("POST", REGISTRY + "/tenant/descriptors", not_a_string).status_code == 400
    without_property = {k: v for k, v in descriptor.items() if k != "xdm:property"}
    assert (
        platform.call("POST", REGISTRY + "/tenant/descriptors", without_property).status_code == 400
    )
    listed = platform.call(
        "GET",
        REGISTRY + "/tenant/descriptors",
        accept="application/vnd.adobe.xdm+json",
        params={"property": f"xdm:sourceSchema=={schema['$id']}"},
    ).json()
    assert [d["@id"] for d in listed["xdm:descriptorIdentity"]] == [created.json()["@id"]]


def test_a_tenant_record_class_takes_field_groups_intended_for_it(platform):
    created = platform.call(
        "POST",
        REGISTRY + "/tenant/classes",
        {
            "title": "Stripe object",
            "description": "Stripe objects as records",
            "type": "object",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/record"}],
        },
    )
    assert created.status_code == 201, created.text
    class_id = created.json()["$id"]
    assert created.json()["meta:extends"] == ["https://ns.adobe.com/xdm/data/record"]
    body = tenant_field_group(
        "acme", {"chargesData": {"type": "object", "properties": {"id": {"type": "string"}}}}
    )
    body["meta:intendedToExtend"] = [class_id]
    group = platform.call("POST", REGISTRY + "/tenant/fieldgroups", body).json()
    schema = create_schema(platform, class_id, group["$id"])
    assert schema["meta:class"] == class_id
    full = platform.call(
        "GET", REGISTRY + "/tenant/schemas/" + encoded(schema["$id"]), accept=XED_FULL_V1
    ).json()
    assert set(full["properties"]) == {"_id", "_acme"}
    commerce = platform.call(
        "POST",
        REGISTRY + "/tenant/schemas",
        {
            "title": "t",
            "description": "d",
            "type": "object",
            "allOf": [{"$ref": class_id}, {"$ref": COMMERCE}],
        },
    )
    assert commerce.status_code == 400
