"""The double's Catalog datasets behave as Adobe documents them."""

from __future__ import annotations

import pytest

from tests.doubles.aep_api import aep_double
from tests.doubles.platform_client import REGISTRY, XED_FULL_V1, Platform
from tests.shared_paths import XDM_DIR, require

DATASETS = "/data/foundation/catalog/dataSets"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
PROFILE_TAGS = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}


@pytest.fixture
def platform():
    require(XDM_DIR)
    with aep_double() as double:
        yield Platform(double)


def schema(platform, *, union: bool) -> str:
    body = {
        "title": "Stripe customers",
        "description": "Profiles",
        "type": "object",
        "allOf": [{"$ref": PROFILE}, {"$ref": "https://ns.adobe.com/xdm/context/identitymap"}],
    }
    if union:
        body["meta:immutableTags"] = ["union"]
    return platform.call("POST", REGISTRY + "/tenant/schemas", body).json()["$id"]


def dataset(name: str, schema_id: str, **extra) -> dict:
    return {"name": name, "schemaRef": {"id": schema_id, "contentType": XED_FULL_V1}, **extra}


def test_a_dataset_on_a_schema_answers_its_path_and_is_found_by_name(platform):
    schema_id = schema(platform, union=False)
    created = platform.call("POST", DATASETS, dataset("Stripe customers", schema_id))
    assert created.status_code == 201
    (path,) = created.json()
    assert path.startswith("@/dataSets/")
    dataset_id = path.split("/")[-1]
    platform.call("POST", DATASETS, dataset("Other", schema_id))
    found = platform.call("GET", DATASETS, params={"property": "name==Stripe customers"}).json()
    assert list(found) == [dataset_id]
    one = platform.call("GET", f"{DATASETS}/{dataset_id}").json()[dataset_id]
    assert one["schemaRef"] == {"id": schema_id, "contentType": XED_FULL_V1}


def test_a_dataset_needs_an_existing_schema_and_the_xed_full_content_type(platform):
    missing = platform.call("POST", DATASETS, dataset("x", "https://ns.adobe.com/acme/schemas/0"))
    assert missing.status_code == 400
    wrong = dataset("x", schema(platform, union=False))
    wrong["schemaRef"]["contentType"] = "application/json"
    assert platform.call("POST", DATASETS, wrong).status_code == 400


def test_profile_tags_need_a_schema_enabled_for_profile(platform):
    plain = platform.call(
        "POST", DATASETS, dataset("x", schema(platform, union=False), tags=PROFILE_TAGS)
    )
    assert plain.status_code == 400
    assert "enabled for Profile" in plain.json()["title"]
    union = platform.call(
        "POST", DATASETS, dataset("y", schema(platform, union=True), tags=PROFILE_TAGS)
    )
    assert union.status_code == 201


def test_profile_is_enabled_later_with_a_json_patch(platform):
    created = platform.call("POST", DATASETS, dataset("x", schema(platform, union=True)))
    dataset_id = created.json()[0].split("/")[-1]
    patched = platform.call(
        "PATCH",
        f"{DATASETS}/{dataset_id}",
        [{"op": "add", "path": "/tags/unifiedProfile", "value": ["enabled:true"]}],
        content_type="application/json-patch+json",
    )
    assert patched.status_code == 200
    tags = platform.call("GET", f"{DATASETS}/{dataset_id}").json()[dataset_id]["tags"]
    assert tags == {"unifiedProfile": ["enabled:true"]}
