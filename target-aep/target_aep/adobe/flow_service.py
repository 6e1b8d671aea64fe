"""Flow Service: the HTTP API streaming connection and its Data Lake dataflows.

Adobe's steps (https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/streaming/http):
a base connection with the HTTP API connection spec (its `auth.params.inletId` is the streaming
inlet), per dataset a source connection on it, a Data Lake target connection naming the dataset
and its schema, and a dataflow joining the two (flow spec for XDM payloads without mapping).
Objects are listed by name with `property=name==<name>`.
"""

from __future__ import annotations

from urllib.parse import quote

from target_aep.adobe.platform import PlatformClient
from target_aep.adobe.responses import json_answer

API = "Flow Service"
FLOW_SERVICE_PATH = "/data/foundation/flowservice"
HTTP_API_SPEC = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
XDM_FLOW_SPEC = "d8a6f005-7eaf-4153-983e-e8574508b877"
XDM_FULL = "application/vnd.adobe.xed-full+json;version=1"
NAMES = {
    "connections": "base connection",
    "sourceConnections": "source connection",
    "targetConnections": "target connection",
    "flows": "dataflow",
}


class FlowService:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client
        self._base = client.settings.platform_url + FLOW_SERVICE_PATH

    def find(self, collection: str, name: str) -> dict | None:
        """The object of `collection` named `name` (the first, when several are)."""
        what = f"find {NAMES[collection]} {name!r}"
        answer = json_answer(
            self._client.request(
                "GET",
                f"{self._base}/{collection}",
                what=what,
                params={"property": f"name=={name}"},
            ),
            API,
            what,
        )
        items = [i for i in answer.get("items", []) if i.get("name") == name]
        return items[0] if items else None

    def get(self, collection: str, item_id: str) -> dict:
        what = f"read {NAMES[collection]} {item_id}"
        answer = json_answer(
            self._client.request(
                "GET", f"{self._base}/{collection}/{quote(item_id, safe='')}", what=what
            ),
            API,
            what,
        )
        return (answer.get("items") or [{}])[0]

    def create(self, collection: str, body: dict) -> str:
        what = f"create {NAMES[collection]} {body.get('name')!r}"
        answer = json_answer(
            self._client.request("POST", f"{self._base}/{collection}", what=what, json_body=body),
            API,
            what,
            ok=(201,),
        )
        return str(answer["id"])


def base_connection(name: str) -> dict:
    """An authenticated HTTP API connection for XDM payloads (Stripe data is personal data)."""
    return {
        "name": name,
        "description": "Stripe objects streamed by target-aep",
        "connectionSpec": {"id": HTTP_API_SPEC, "version": "1.0"},
        "auth": {
            "specName": "Streaming Connection",
            "params": {"dataType": "xdm", "name": name, "authenticationRequired": True},
        },
    }


def source_connection(name: str, base_connection_id: str) -> dict:
    return {
        "name": name,
        "baseConnectionId": base_connection_id,
        "connectionSpec": {"id": HTTP_API_SPEC, "version": "1.0"},
        "data": {"format": "json"},
    }


def target_connection(name: str, dataset_id: str, schema_id: str) -> dict:
    return {
        "name": name,
        "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"},
        "data": {"format": "parquet_xdm", "schema": {"id": schema_id, "version": XDM_FULL}},
        "params": {"dataSetId": dataset_id},
    }


def dataflow(name: str, source_id: str, target_id: str) -> dict:
    return {
        "name": name,
        "flowSpec": {"id": XDM_FLOW_SPEC, "version": "1.0"},
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": [target_id],
    }
