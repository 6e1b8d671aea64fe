"""The AEP double behaves as Adobe documents it (aep.md §1-5), independently of target-aep."""

from __future__ import annotations

import json

import pytest
import requests

from tests.doubles.aep_api import (
    EXAMPLE_DATASET_ID,
    EXAMPLE_FLOW_ID,
    EXAMPLE_SCHEMA_ID,
    AepDouble,
    example_event,
)
from tests.doubles.aep_contract import AepContract
from tests.shared_paths import AEP_OPENAPI, require

XED = "application/vnd.adobe.xed-full+json;version=1"


def token(aep: AepDouble) -> str:
    answer = requests.post(
        aep.url + "/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": aep.client_id,
            "client_secret": aep.client_secret,
            "scope": "openid,AdobeID",
        },
        timeout=5,
    )
    assert answer.status_code == 200
    return answer.json()["access_token"]


def platform_headers(aep: AepDouble, access_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "x-api-key": aep.client_id,
        "x-gw-ims-org-id": aep.ims_org_id,
        "x-sandbox-name": aep.sandbox_name,
    }


def message(entity: dict, *, dataset_id: str = EXAMPLE_DATASET_ID) -> dict:
    ref = {"id": EXAMPLE_SCHEMA_ID, "contentType": XED}
    return {
        "header": {
            "schemaRef": ref,
            "imsOrgId": "0123456789ABCDEF01234567@AdobeOrg",
            "datasetId": dataset_id,
            "flowId": EXAMPLE_FLOW_ID,
        },
        "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": entity},
    }


def test_ims_issues_bearer_tokens_only_for_the_right_client_credentials(aep):
    answer = token(aep)
    assert answer in aep.issued_tokens
    wrong = requests.post(
        aep.url + "/ims/token/v3",
        timeout=5,
        data={
            "grant_type": "client_credentials",
            "client_id": aep.client_id,
            "client_secret": "wrong",
            "scope": "openid",
        },
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client"}


def test_platform_refuses_missing_or_revoked_tokens_with_401(aep):
    stats = aep.url + "/data/foundation/schemaregistry/stats"
    headers = platform_headers(aep, token(aep))
    assert requests.get(stats, headers=headers, timeout=5).status_code == 200
    aep.revoke_tokens()
    assert requests.get(stats, headers=headers, timeout=5).status_code == 401


def test_batch_collection_answers_207_per_message_and_closes_objects(aep):
    extra_key = example_event(2)
    extra_key["_acme"]["stripe"]["unknown"] = "x"
    body = {
        "messages": [
            message(example_event(1)),
            message(extra_key),
            message(example_event(3), dataset_id="no-such-dataset"),
        ]
    }
    answer = requests.post(
        aep.url + f"/collection/batch/{aep.inlet_id}",
        json=body,
        timeout=5,
        headers=platform_headers(aep, token(aep)),
    )
    assert answer.status_code == 207
    first, second, third = answer.json()["responses"]
    assert set(first) == {"xactionId"}
    assert second["statusCode"] == 400
    violation = second["report"]["cause"]["_streamingValidation"][0]
    assert violation["keyword"] == "additionalProperties"
    assert violation["pointerToViolation"] == "#/_acme/stripe"
    assert "extraneous key [unknown]" in violation["message"]
    assert third["statusCode"] == 400
    assert aep.dcs_entities[EXAMPLE_DATASET_ID] == [example_event(1)]


def test_requests_over_one_megabyte_get_413(aep):
    big = message(example_event(1, note="x" * 1_000_001))
    answer = requests.post(
        aep.url + f"/collection/batch/{aep.inlet_id}",
        json={"messages": [big]},
        headers=platform_headers(aep, token(aep)),
        timeout=5,
    )
    assert answer.status_code == 413
    assert not aep.dcs_entities


def test_catalog_moves_a_completed_batch_from_loading_to_processing_to_success(aep):
    headers = platform_headers(aep, token(aep))
    base = aep.url + "/data/foundation"
    created = requests.post(
        base + "/import/batches",
        headers=headers,
        timeout=5,
        json={"datasetId": EXAMPLE_DATASET_ID, "inputFormat": {"format": "JSON"}},
    )
    assert created.status_code == 201
    batch_id = created.json()["id"]
    rows = "\n".join(json.dumps(example_event(i)) for i in range(3)).encode()
    put = requests.put(
        f"{base}/import/batches/{batch_id}/datasets/{EXAMPLE_DATASET_ID}/files/a.json",
        data=rows,
        timeout=5,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 200
    assert aep.batch(batch_id).status == "loading"
    done = requests.post(
        f"{base}/import/batches/{batch_id}",
        params={"action": "COMPLETE"},
        headers=headers,
        timeout=5,
    )
    assert done.status_code == 200
    statuses = [
        requests.get(f"{base}/catalog/batches/{batch_id}", headers=headers, timeout=5).json()[
            batch_id
        ]["status"]
        for _ in range(2)
    ]
    assert statuses == ["processing", "success"]
    assert aep.batch_rows[EXAMPLE_DATASET_ID] == [example_event(i) for i in range(3)]


@pytest.mark.parametrize(
    ("tolerance", "status", "ingested"), [(None, "failed", 0), (50, "success", 1)]
)
def test_invalid_rows_fail_a_batch_unless_partial_ingestion_tolerates_them(
    aep, tolerance, status, ingested
):
    headers = platform_headers(aep, token(aep))
    base = aep.url + "/data/foundation"
    request = {"datasetId": EXAMPLE_DATASET_ID, "inputFormat": {"format": "JSON"}}
    if tolerance is not None:
        request["partialIngestionPercentage"] = tolerance
    batch_id = requests.post(
        base + "/import/batches", headers=headers, json=request, timeout=5
    ).json()["id"]
    rows = json.dumps(example_event(1)) + "\n" + json.dumps({"_id": "x"})  # 2nd lacks timestamp
    requests.put(
        f"{base}/import/batches/{batch_id}/datasets/{EXAMPLE_DATASET_ID}/files/a.json",
        data=rows.encode(),
        timeout=5,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    requests.post(
        f"{base}/import/batches/{batch_id}",
        params={"action": "COMPLETE"},
        headers=headers,
        timeout=5,
    )
    for _ in range(2):
        batch = requests.get(
            f"{base}/catalog/batches/{batch_id}", headers=headers, timeout=5
        ).json()[batch_id]
    assert batch["status"] == status
    assert batch["metrics"]["failedRecordCount"] == 1
    assert batch["errors"][0]["code"] == "INGEST-1212-400"
    assert len(aep.batch_rows[EXAMPLE_DATASET_ID]) == ingested


def test_resolved_schema_needs_the_xed_full_accept_header(aep):
    headers = platform_headers(aep, token(aep))
    url = (
        aep.url
        + "/data/foundation/schemaregistry/tenant/schemas/"
        + requests.utils.quote(EXAMPLE_SCHEMA_ID, safe="")
    )
    assert (
        requests.get(url, headers={**headers, "Accept": "application/json"}, timeout=5).status_code
        == 400
    )
    answer = requests.get(url, headers={**headers, "Accept": XED}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["$id"] == EXAMPLE_SCHEMA_ID


def test_injected_faults_answer_the_next_matching_requests_in_order(aep):
    headers = platform_headers(aep, token(aep))
    stats = aep.url + "/data/foundation/schemaregistry/stats"
    aep.inject("/data/foundation/schemaregistry", 429, 503, "drop")
    assert requests.get(stats, headers=headers, timeout=5).status_code == 429
    assert requests.get(stats, headers=headers, timeout=5).status_code == 503
    with pytest.raises(requests.ConnectionError):
        requests.get(stats, headers=headers, timeout=5)
    assert requests.get(stats, headers=headers, timeout=5).status_code == 200


def test_contract_check_reports_requests_outside_adobes_spec():
    contract = AepContract(require(AEP_OPENAPI))
    with AepDouble(contract=contract) as aep:
        aep.register_dataset(EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID, {"type": "object"})
        headers = platform_headers(aep, token(aep))
        # "inputFormat" is required by the spec (the double itself would answer 400 anyway)
        requests.post(
            aep.url + "/data/foundation/import/batches",
            headers=headers,
            timeout=5,
            json={"datasetId": EXAMPLE_DATASET_ID, "inputFormat": {"format": "xml"}},
        )
        del headers["x-sandbox-name"]
        requests.get(aep.url + "/data/foundation/catalog/batches/x", headers=headers, timeout=5)
    assert any("'xml' is not one of" in found for found in aep.contract_violations)
    assert any("x-sandbox-name" in found for found in aep.contract_violations)


def test_single_message_endpoint_answers_200_with_an_xaction_id_or_the_violation(aep):
    url = aep.url + f"/collection/{aep.inlet_id}"
    headers = platform_headers(aep, token(aep))
    accepted = requests.post(url, json=message(example_event(1)), headers=headers, timeout=5)
    assert accepted.status_code == 200
    assert accepted.json()["xactionId"]
    invalid = {key: value for key, value in example_event(2).items() if key != "_id"}
    refused = requests.post(url, json=message(invalid), headers=headers, timeout=5)
    assert refused.status_code == 400
    assert refused.json()["report"]["cause"]["_streamingValidation"][0]["keyword"] == "required"
    assert aep.dcs_entities[EXAMPLE_DATASET_ID] == [example_event(1)]


def test_a_missing_permission_is_a_403_from_that_api_only(aep):
    from tests.doubles.platform_client import Platform

    platform = Platform(aep)
    aep.revoke("Manage Schemas", "View Sources")
    body = {"title": "t", "type": "object", "meta:intendedToExtend": []}
    registry = "/data/foundation/schemaregistry"
    assert platform.call("POST", registry + "/tenant/fieldgroups", body).status_code == 403
    listing = platform.call(
        "GET", registry + "/tenant/fieldgroups", accept="application/vnd.adobe.xed-id+json"
    )
    assert listing.status_code == 200
    assert platform.call("GET", "/data/foundation/flowservice/connections").status_code == 403
    assert platform.call("GET", "/data/core/idnamespace/identities").status_code == 200
