"""Identity Service namespaces: list them, create a custom one.

`GET /data/core/idnamespace/identities` lists the org's namespaces; `POST` creates one with
`name`, `code` (letters and digits, unique), `idType` and `description`, answered 200
(https://experienceleague.adobe.com/en/docs/experience-platform/identity/api/create-custom-namespace).
Namespaces cannot be deleted.
"""

from __future__ import annotations

from target_aep.adobe.platform import PlatformClient
from target_aep.adobe.responses import json_answer

API = "Identity Service"
NAMESPACES_PATH = "/data/core/idnamespace/identities"
CROSS_DEVICE = "Cross_device"  # the spelling of Adobe's create example and the API's schema


class IdentityService:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client
        self._url = client.settings.platform_url + NAMESPACES_PATH

    def namespace(self, code: str) -> dict | None:
        """The namespace whose code is `code` (codes are unique regardless of case), if any."""
        what = "list identity namespaces"
        listed = json_answer(self._client.request("GET", self._url, what=what), API, what)
        for namespace in listed if isinstance(listed, list) else []:
            if str(namespace.get("code", "")).lower() == code.lower():
                return namespace
        return None

    def create_namespace(self, code: str, name: str, description: str) -> dict:
        what = f"create identity namespace {code}"
        body = {"name": name, "code": code, "idType": CROSS_DEVICE, "description": description}
        response = self._client.request("POST", self._url, what=what, json_body=body)
        return json_answer(response, API, what, ok=(200, 201))
