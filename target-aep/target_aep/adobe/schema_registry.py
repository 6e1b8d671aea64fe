"""Schema Registry: a dataset's resolved XDM schema (for local validation), the tenant id, and
the tenant resources provisioning finds, creates and extends (classes, field groups, schemas).

The resolved form (`xed-full`) has every `$ref`/`allOf` expanded, in Platform field names, which
is what a local JSON Schema validator needs. Each schema is fetched once per run, and again only
after the target itself extended it (`forget`): the registry is a rate-limited management API.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import requests

from target_aep.adobe.platform import PlatformClient, expect
from target_aep.adobe.responses import json_answer
from target_aep.errors import DeliveryError

RESOLVED_SCHEMA_ACCEPT = "application/vnd.adobe.xed-full+json;version=1"
LIST_ACCEPT = "application/vnd.adobe.xed-id+json"
RAW_ACCEPT = "application/vnd.adobe.xed+json;version=1"
API = "Schema Registry"
REGISTRY_PATH = "/data/foundation/schemaregistry"


class SchemaRegistry:
    """Cached lookups in the tenant container of the Schema Registry."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client
        self._base = client.settings.platform_url + REGISTRY_PATH
        self._schemas: dict[str, dict] = {}
        self._tenant_id: str | None = None
        self._lock = threading.Lock()

    def resolved_schema(self, schema_id: str) -> dict:
        """The schema `$id` fully resolved (`xed-full`), fetched once per run."""
        with self._lock:
            if schema_id not in self._schemas:
                self._schemas[schema_id] = self._fetch_schema(schema_id)
            return self._schemas[schema_id]

    def forget(self, schema_id: str) -> None:
        """Drop the cached resolved schema `schema_id` (it changed: the next lookup fetches it)."""
        with self._lock:
            self._schemas.pop(schema_id, None)

    def tenant_id(self) -> str:
        """The org's tenant id (custom fields live under `_<tenant_id>`), fetched once per run."""
        with self._lock:
            if self._tenant_id is None:
                response = expect(
                    self._client.request(
                        "GET",
                        self._base + "/stats",
                        what="read the tenant id",
                        headers={"Accept": "application/json"},
                    ),
                    "read the tenant id",
                    ok=(200,),
                )
                tenant = _json_object(response, "Schema Registry /stats").get("tenantId")
                if not isinstance(tenant, str) or not tenant:
                    raise DeliveryError("Schema Registry /stats answered without a tenantId")
                self._tenant_id = tenant
            return self._tenant_id

    def _fetch_schema(self, schema_id: str) -> dict:
        what = f"read schema {schema_id}"
        url = f"{self._base}/tenant/schemas/{quote(schema_id, safe='')}"
        response = self._client.request(
            "GET", url, what=what, headers={"Accept": RESOLVED_SCHEMA_ACCEPT}
        )
        if response.status_code == 404:
            raise DeliveryError(
                f"schema {schema_id} was not found in sandbox "
                f"'{self._client.settings.sandbox_name}'; check streams.<name>.schema_id and "
                "sandbox_name"
            )
        return _json_object(expect(response, what, ok=(200,)), what)

    def find(self, kind: str, title: str) -> dict | None:
        """The tenant resource of `kind` (`fieldgroups`, `schemas`, `classes`) titled `title`."""
        what = f"find {kind} titled {title!r}"
        answer = json_answer(
            self._client.request(
                "GET",
                f"{self._base}/tenant/{kind}",
                what=what,
                headers={"Accept": LIST_ACCEPT},
                params={"property": f"title=={title}"},
            ),
            API,
            what,
        )
        found = [r for r in answer.get("results", []) if r.get("title") == title]
        return self.resource(kind, found[0]["$id"]) if found else None

    def resource(self, kind: str, resource_id: str) -> dict:
        """A tenant resource as stored (`$ref`/`allOf` not resolved)."""
        what = f"read {kind} {resource_id}"
        return json_answer(
            self._client.request(
                "GET",
                f"{self._base}/tenant/{kind}/{quote(resource_id, safe='')}",
                what=what,
                headers={"Accept": RAW_ACCEPT},
            ),
            API,
            what,
        )

    def create(self, kind: str, document: dict) -> dict:
        what = f"create {kind} {document.get('title')!r}"
        return json_answer(
            self._client.request(
                "POST", f"{self._base}/tenant/{kind}", what=what, json_body=document
            ),
            API,
            what,
            ok=(201,),
        )

    def patch(self, kind: str, resource_id: str, operations: list[dict]) -> dict:
        what = f"update {kind} {resource_id}"
        return json_answer(
            self._client.request(
                "PATCH",
                f"{self._base}/tenant/{kind}/{quote(resource_id, safe='')}",
                what=what,
                json_body=operations,
            ),
            API,
            what,
        )


def _json_object(response: requests.Response, what: str) -> dict:
    try:
        payload = response.json()
    except ValueError:
        raise DeliveryError(f"{what}: the answer is not JSON") from None
    if not isinstance(payload, dict):
        raise DeliveryError(f"{what}: the answer is not a JSON object")
    return payload
