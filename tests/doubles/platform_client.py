"""A minimal Platform API client for the AEP double's own tests (token, headers, JSON)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from tests.doubles.aep_api import AepDouble

XED_ID = "application/vnd.adobe.xed-id+json"
XED_LIST = "application/vnd.adobe.xed+json"
XED_V1 = "application/vnd.adobe.xed+json;version=1"
XED_FULL_V1 = "application/vnd.adobe.xed-full+json;version=1"
REGISTRY = "/data/foundation/schemaregistry"


class Platform:
    """Calls the double the way Adobe's guides show (all the required headers, JSON bodies)."""

    def __init__(self, aep: AepDouble) -> None:
        self.aep = aep
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
        answer.raise_for_status()
        self.headers = {
            "Authorization": f"Bearer {answer.json()['access_token']}",
            "x-api-key": aep.client_id,
            "x-gw-ims-org-id": aep.ims_org_id,
            "x-sandbox-name": aep.sandbox_name,
        }

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        accept: str | None = None,
        content_type: str = "application/json",
        params: dict | None = None,
    ) -> requests.Response:
        headers = dict(self.headers)
        if accept:
            headers["Accept"] = accept
        if body is not None:
            headers["Content-Type"] = content_type
        return requests.request(
            method,
            self.aep.url + path,
            json=body,
            headers=headers,
            params=params,
            timeout=10,
        )


def encoded(resource_id: str) -> str:
    return quote(resource_id, safe="")


def tenant_field_group(tenant: str, fields: dict, *, title: str = "Stripe charge fields") -> dict:
    """A custom field group for ExperienceEvent with `fields` under `_<tenant>`."""
    return {
        "title": title,
        "description": "Fields under the tenant namespace.",
        "type": "object",
        "meta:intendedToExtend": ["https://ns.adobe.com/xdm/context/experienceevent"],
        "definitions": {
            "stripe": {"properties": {f"_{tenant}": {"type": "object", "properties": fields}}}
        },
        "allOf": [{"$ref": "#/definitions/stripe"}],
    }
