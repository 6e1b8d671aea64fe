"""Catalog datasets of the AEP double (`/data/foundation/catalog/dataSets`).

Follows ../shared/aep-openapi/catalog.yaml and Adobe's guides
(https://experienceleague.adobe.com/en/docs/experience-platform/catalog/api/create-dataset,
https://experienceleague.adobe.com/en/docs/experience-platform/profile/tutorials/dataset-configuration):
a dataset is created on an existing schema (`schemaRef.id`, `contentType`
`application/vnd.adobe.xed-full+json;version=1`) and answers 201 with `["@/dataSets/{id}"]`;
`tags.unifiedProfile: ["enabled:true"]` (and `unifiedIdentity`) enable it for Profile, which
needs a schema enabled for Profile (`union`); a lookup or list answers an object keyed by id;
PATCH takes a JSON Patch array (`application/json-patch+json`, as Adobe's Profile guide sends
it) or a partial object (`application/json`). The list filters by `name`, `property=name==...`
and `property=schemaRef.id==...`, pages with `limit` (at most 100) and `start`.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.doubles.aep_http import Answer, RefusalError, json_body, matches, problem
from tests.doubles.aep_schema_registry import SchemaRegistry
from tests.doubles.json_patch import PatchError, apply_patch

PREFIX = "/data/foundation/catalog/dataSets"
XED_FULL_V1 = "application/vnd.adobe.xed-full+json;version=1"
PROFILE_TAGS = ("unifiedProfile", "unifiedIdentity")
ENABLED = "enabled:true"
MAX_LIMIT = 100


@dataclass
class Dataset:
    dataset_id: str
    schema_id: str
    document: dict = field(default_factory=dict)
    registered: bool = False  # set up by AepDouble.register_dataset, not through the API

    @property
    def profile_enabled(self) -> bool:
        return ENABLED in self.document.get("tags", {}).get("unifiedProfile", [])


class Catalog:
    def __init__(self, *, ims_org_id: str, client_id: str, registry: SchemaRegistry) -> None:
        self.ims_org_id = ims_org_id
        self.client_id = client_id
        self.registry = registry
        self.datasets: dict[str, Dataset] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def schema_in_use(self, schema_id: str) -> bool:
        return any(d.schema_id == schema_id for d in self.datasets.values())

    def register(self, dataset_id: str, schema_id: str) -> None:
        self.datasets[dataset_id] = Dataset(
            dataset_id, schema_id, self._document(f"dataset {dataset_id}", schema_id, {}), True
        )

    def handle(self, method, path, query, headers, body) -> Answer:
        rest = path[len(PREFIX) :].strip("/")
        try:
            if not rest and method == "GET":
                return self._list(query)
            if not rest and method == "POST":
                return self._create(json_body(body))
            dataset = self.datasets.get(rest)
            if dataset is None:
                return Answer(404, {"title": f"Dataset {rest} not found"})
            if method == "GET":
                return Answer(200, {dataset.dataset_id: self._view(dataset, query)})
            if method == "PATCH":
                return self._patch(dataset, headers, json_body(body))
        except RefusalError as refusal:
            return refusal.answer
        return Answer(405)

    def _document(self, name: str, schema_id: str, request: dict) -> dict:
        now = int(time.time() * 1000)
        return {
            "name": name,
            "description": str(request.get("description", "")),
            "imsOrg": self.ims_org_id,
            "schemaRef": {"id": schema_id, "contentType": XED_FULL_V1},
            "tags": copy.deepcopy(request.get("tags", {})),
            "fileDescription": copy.deepcopy(
                request.get("fileDescription", {"persisted": True, "format": "parquet"})
            ),
            "created": now,
            "updated": now,
            "createdClient": self.client_id,
            "version": "1.0.0",
        }

    def _view(self, dataset: Dataset, query: dict[str, str]) -> dict:
        document = copy.deepcopy(dataset.document)
        wanted = [p for p in query.get("properties", "").split(",") if p]
        if wanted:
            document = {k: v for k, v in document.items() if k in wanted}
        return document

    def _list(self, query: dict[str, str]) -> Answer:
        filters = [e for e in query.get("property", "").split(",") if e]
        if query.get("name"):
            filters.append(f"name=={query['name']}")
        found = [d for d in self.datasets.values() if matches(d.document, filters)]
        found.sort(key=lambda d: d.document["created"])
        start = int(query.get("start", 0))
        limit = min(int(query.get("limit", 50)), MAX_LIMIT)
        return Answer(
            200, {d.dataset_id: self._view(d, query) for d in found[start : start + limit]}
        )

    def _check(self, document: dict) -> None:
        reference = document.get("schemaRef") or {}
        schema_id = reference.get("id")
        if not isinstance(schema_id, str) or not self.registry.exists(schema_id):
            raise RefusalError(
                problem(400, "schemaRef.id names no schema of this sandbox", str(schema_id))
            )
        if str(reference.get("contentType", "")).replace(" ", "") != XED_FULL_V1:
            raise RefusalError(problem(400, "schemaRef.contentType must be " + XED_FULL_V1))
        tags = document.get("tags") or {}
        if not isinstance(tags, dict) or any(not isinstance(v, list) for v in tags.values()):
            raise RefusalError(problem(400, "tags is an object of string arrays"))
        wants_profile = any(ENABLED in tags.get(tag, []) for tag in PROFILE_TAGS)
        if wants_profile and not self.registry.is_union(schema_id):
            raise RefusalError(
                problem(
                    400,
                    "A dataset is enabled for Profile only on a schema enabled for Profile",
                    f"schema {schema_id} has no meta:immutableTags union",
                )
            )

    def _create(self, request: Any) -> Answer:
        if not isinstance(request, dict) or not request.get("name"):
            return problem(400, "A dataset needs a name")
        self._check(request)
        dataset_id = uuid.uuid4().hex[:24]
        document = self._document(str(request["name"]), request["schemaRef"]["id"], request)
        with self._lock:
            self.datasets[dataset_id] = Dataset(dataset_id, request["schemaRef"]["id"], document)
            self.registry.revision += 1  # its schema is now in use
        return Answer(201, [f"@/dataSets/{dataset_id}"], {"Location": f"{PREFIX}/{dataset_id}"})

    def _patch(self, dataset: Dataset, headers: dict[str, str], request: Any) -> Answer:
        content_type = headers.get("content-type", "").split(";")[0]
        if content_type == "application/json-patch+json":
            try:
                patched = apply_patch(dataset.document, request)
            except PatchError as error:
                return problem(400, "Invalid JSON Patch", str(error))
        elif isinstance(request, dict):
            patched = {**copy.deepcopy(dataset.document), **request}
        else:
            return problem(400, "PATCH takes a JSON Patch array or a partial dataset object")
        if patched.get("schemaRef", {}).get("id") != dataset.schema_id:
            return problem(400, "A dataset's schema cannot change")
        self._check(patched)
        patched["updated"] = int(time.time() * 1000)
        dataset.document = patched
        return Answer(200, [f"@/dataSets/{dataset.dataset_id}"])
