"""The double's Flow Service wires an HTTP API inlet to a dataset as Adobe documents it; the DCS
then validates what arrives against the schema composed by the registry (objects closed)."""

from __future__ import annotations

import pytest

from tests.doubles.aep_flow_service import DATA_LAKE_SPEC, HTTP_API_SPEC, XDM_FLOW_SPEC
from tests.doubles.platform_client import REGISTRY, XED_FULL_V1, Platform, tenant_field_group

FLOWS = "/data/foundation/flowservice"
EE = "https://ns.adobe.com/xdm/context/experienceevent"


@pytest.fixture
def aep(aep_xdm):
    return aep_xdm


@pytest.fixture
def platform(aep):
    return Platform(aep)


def created_id(answer) -> str:
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def dataset_on_new_schema(platform, title: str) -> tuple[str, str]:
    group = platform.call(
        "POST",
        REGISTRY + "/tenant/fieldgroups",
        tenant_field_group("acme", {"chargeId": {"type": "string"}}, title=title),
    ).json()
    schema_id = platform.call(
        "POST",
        REGISTRY + "/tenant/schemas",
        {
            "title": title,
            "description": "d",
            "type": "object",
            "allOf": [{"$ref": EE}, {"$ref": group["$id"]}],
        },
    ).json()["$id"]
    answer = platform.call(
        "POST",
        "/data/foundation/catalog/dataSets",
        {"name": title, "schemaRef": {"id": schema_id, "contentType": XED_FULL_V1}},
    )
    return answer.json()[0].split("/")[-1], schema_id


def streaming_flow(platform, base_id: str, dataset_id: str, schema_id: str) -> str:
    source = created_id(
        platform.call(
            "POST",
            FLOWS + "/sourceConnections",
            {
                "name": f"source {dataset_id}",
                "baseConnectionId": base_id,
                "connectionSpec": {"id": HTTP_API_SPEC, "version": "1.0"},
                "data": {"format": "json"},
            },
        )
    )
    target = created_id(
        platform.call(
            "POST",
            FLOWS + "/targetConnections",
            {
                "name": f"target {dataset_id}",
                "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
                "data": {
                    "format": "parquet_xdm",
                    "schema": {"id": schema_id, "version": XED_FULL_V1},
                },
                "params": {"dataSetId": dataset_id},
            },
        )
    )
    return created_id(
        platform.call(
            "POST",
            FLOWS + "/flows",
            {
                "name": f"flow {dataset_id}",
                "flowSpec": {"id": XDM_FLOW_SPEC, "version": "1.0"},
                "sourceConnectionIds": [source],
                "targetConnectionIds": [target],
            },
        )
    )


def base_connection(platform) -> tuple[str, str]:
    base_id = created_id(
        platform.call(
            "POST",
            FLOWS + "/connections",
            {
                "name": "Stripe streaming",
                "connectionSpec": {"id": HTTP_API_SPEC, "version": "1.0"},
                "auth": {
                    "specName": "Streaming Connection",
                    "params": {"dataType": "xdm", "authenticationRequired": True},
                },
            },
        )
    )
    (item,) = platform.call("GET", f"{FLOWS}/connections/{base_id}").json()["items"]
    return base_id, item["auth"]["params"]["inletId"]


def message(dataset_id: str, schema_id: str, flow_id: str, entity: dict, org: str) -> dict:
    ref = {"id": schema_id, "contentType": XED_FULL_V1}
    return {
        "header": {"schemaRef": ref, "imsOrgId": org, "datasetId": dataset_id, "flowId": flow_id},
        "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": entity},
    }


def test_the_base_connection_carries_its_inlet_and_lists_by_name(platform, aep):
    base_id, inlet_id = base_connection(platform)
    (item,) = platform.call("GET", f"{FLOWS}/connections/{base_id}").json()["items"]
    assert item["auth"]["params"]["inletUrl"] == f"{aep.url}/collection/{inlet_id}"
    assert item["auth"]["params"]["authenticationRequired"] is True
    listed = platform.call(
        "GET", FLOWS + "/connections", params={"property": "name==Stripe streaming"}
    ).json()["items"]
    assert [i["id"] for i in listed] == [base_id]


def test_a_dataflow_routes_its_inlet_to_its_dataset_with_closed_validation(platform, aep):
    base_id, inlet_id = base_connection(platform)
    charges, charges_schema = dataset_on_new_schema(platform, "charges")
    refunds, refunds_schema = dataset_on_new_schema(platform, "refunds")
    charge_flow = streaming_flow(platform, base_id, charges, charges_schema)
    event = {"_id": "e1", "timestamp": "2024-01-01T00:00:00Z", "_acme": {"chargeId": "ch_1"}}
    extra = {**event, "_id": "e2", "_acme": {"chargeId": "ch_2", "unknown": 1}}
    wrong_dataset = message(refunds, refunds_schema, charge_flow, event, aep.ims_org_id)
    answer = platform.call(
        "POST",
        f"/collection/batch/{inlet_id}",
        {
            "messages": [
                message(charges, charges_schema, charge_flow, event, aep.ims_org_id),
                message(charges, charges_schema, charge_flow, extra, aep.ims_org_id),
                wrong_dataset,
                message(charges, charges_schema, "no-such-flow", event, aep.ims_org_id),
            ]
        },
    )
    accepted, closed, misrouted, unknown = answer.json()["responses"]
    assert set(accepted) == {"xactionId"}
    assert "extraneous key [unknown]" in closed["message"]
    assert "does not route" in misrouted["message"]
    assert "not found" in unknown["message"]
    assert aep.dcs_entities[charges] == [event]


def test_a_target_connection_must_name_the_schema_of_its_dataset(platform):
    charges, _ = dataset_on_new_schema(platform, "charges")
    _, other_schema = dataset_on_new_schema(platform, "other")
    answer = platform.call(
        "POST",
        FLOWS + "/targetConnections",
        {
            "name": "t",
            "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
            "data": {"format": "parquet_xdm", "schema": {"id": other_schema, "version": "1"}},
            "params": {"dataSetId": charges},
        },
    )
    assert answer.status_code == 400
    assert "must be the schema of the dataset" in answer.json()["title"]


def test_profile_keeps_only_entities_with_a_primary_identity_in_a_known_namespace(platform, aep):
    schema_id = platform.call(
        "POST",
        REGISTRY + "/tenant/schemas",
        {
            "title": "customers",
            "description": "d",
            "type": "object",
            "meta:immutableTags": ["union"],
            "allOf": [
                {"$ref": "https://ns.adobe.com/xdm/context/profile"},
                {"$ref": "https://ns.adobe.com/xdm/context/identitymap"},
            ],
        },
    ).json()["$id"]
    dataset_id = (
        platform.call(
            "POST",
            "/data/foundation/catalog/dataSets",
            {
                "name": "customers",
                "schemaRef": {"id": schema_id, "contentType": XED_FULL_V1},
                "tags": {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]},
            },
        )
        .json()[0]
        .split("/")[-1]
    )
    base_id, inlet_id = base_connection(platform)
    flow_id = streaming_flow(platform, base_id, dataset_id, schema_id)
    entities = [
        {"_id": "p1", "identityMap": {"Email": [{"id": "a@example.com", "primary": True}]}},
        {"_id": "p2", "identityMap": {"Email": [{"id": "b@example.com", "primary": False}]}},
        {"_id": "p3", "identityMap": {"StripeCustomerID": [{"id": "cus_1", "primary": True}]}},
    ]
    answer = platform.call(
        "POST",
        f"/collection/batch/{inlet_id}",
        {
            "messages": [
                message(dataset_id, schema_id, flow_id, e, aep.ims_org_id) for e in entities
            ]
        },
    )
    assert all(set(r) == {"xactionId"} for r in answer.json()["responses"])
    assert len(aep.dcs_entities[dataset_id]) == 3  # the data lake keeps them all
    assert aep.profile_rejections[dataset_id] == [
        "p2: no primary identity",
        "p3: identity namespace(s) ['StripeCustomerID'] not registered",
    ]
