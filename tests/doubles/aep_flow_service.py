"""Flow Service of the AEP double: the HTTP API streaming source and Data Lake dataflows.

Follows ../shared/aep-openapi/flow-service.yaml and Adobe's tutorial
(https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/streaming/http):

- base connection `POST /connections` with the HTTP API connection spec
  `bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb`, `auth.specName: "Streaming Connection"`,
  `auth.params.dataType` `xdm` or `raw`, optional `authenticationRequired`; 201 `{id, etag}`;
  `GET /connections/{id}` answers `{"items": [...]}` whose `auth.params` carry the `inletId`
  and `inletUrl` (here on the double's own DCS);
- source connection `POST /sourceConnections` on that base connection, same connection spec;
- target connection `POST /targetConnections` with the Data Lake connection spec
  `c604ff05-7f1a-43c0-8e18-33bf874cb11c`, `data.schema.id` the dataset's schema and
  `params.dataSetId` an existing dataset on that schema;
- dataflow `POST /flows` with flow spec `d8a6f005-7eaf-4153-983e-e8574508b877` (XDM, no
  transformation) joining one source and one target connection; the DCS then accepts messages
  whose `flowId` is that flow, sent to that base connection's inlet for that dataset;
- lists take `property=` filters (`name==...`, `connectionSpec.id==...`) and `limit`.
Other connection or flow specs are not in the double: it answers 400 saying so.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.doubles.aep_catalog import Catalog
from tests.doubles.aep_http import Answer, RefusalError, json_body, matches, problem

PREFIX = "/data/foundation/flowservice"
HTTP_API_SPEC = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
XDM_FLOW_SPEC = "d8a6f005-7eaf-4153-983e-e8574508b877"
COLLECTIONS = {
    "connections": "base connection",
    "sourceConnections": "source connection",
    "targetConnections": "target connection",
    "flows": "dataflow",
}


@dataclass
class Route:
    """Where a dataflow takes messages: from this inlet into this dataset."""

    flow_id: str
    inlet_id: str
    dataset_id: str


class FlowService:
    def __init__(self, *, ims_org_id: str, sandbox_name: str, catalog: Catalog) -> None:
        self.ims_org_id = ims_org_id
        self.sandbox_name = sandbox_name
        self.catalog = catalog
        self.dcs_url = ""  # set by the double once it listens
        self.items: dict[str, dict[str, dict]] = {name: {} for name in COLLECTIONS}
        self._lock = threading.Lock()

    def inlet_ids(self) -> set[str]:
        return {c["auth"]["params"]["inletId"] for c in self.items["connections"].values()}

    def route(self, flow_id: str) -> Route | None:
        flow = self.items["flows"].get(flow_id)
        if flow is None:
            return None
        source = self.items["sourceConnections"][flow["sourceConnectionIds"][0]]
        target = self.items["targetConnections"][flow["targetConnectionIds"][0]]
        base = self.items["connections"][source["baseConnectionId"]]
        return Route(flow_id, base["auth"]["params"]["inletId"], target["params"]["dataSetId"])

    def handle(self, method, path, query, body) -> Answer:
        parts = path[len(PREFIX) :].strip("/").split("/")
        collection = parts[0]
        if collection not in COLLECTIONS:
            return Answer(404)
        try:
            if len(parts) == 1 and method == "GET":
                return self._list(collection, query)
            if len(parts) == 1 and method == "POST":
                return self._create(collection, json_body(body))
            if len(parts) == 2 and method == "GET":
                item = self.items[collection].get(parts[1])
                if item is None:
                    return Answer(404, {"title": f"{COLLECTIONS[collection]} {parts[1]} not found"})
                return Answer(200, {"items": [copy.deepcopy(item)]})
        except RefusalError as refusal:
            return refusal.answer
        return Answer(405)

    def _list(self, collection: str, query: dict[str, str]) -> Answer:
        filters = [e for e in query.get("property", "").split(",") if e]
        found = [copy.deepcopy(i) for i in self.items[collection].values() if matches(i, filters)]
        if "limit" in query:
            found = found[: int(query["limit"])]
        body: dict[str, Any] = {"items": found}
        if collection != "connections":
            body["count"] = len(found)
        return Answer(200, body)

    def _create(self, collection: str, request: Any) -> Answer:
        if not isinstance(request, dict):
            raise RefusalError(problem(400, "The request body must be a JSON object"))
        if not request.get("name"):
            raise RefusalError(problem(400, f"A {COLLECTIONS[collection]} needs a name"))
        item = copy.deepcopy(request)
        {
            "connections": self._base_connection,
            "sourceConnections": self._source_connection,
            "targetConnections": self._target_connection,
            "flows": self._flow,
        }[collection](item)
        item_id = str(uuid.uuid4())
        etag = f'"{uuid.uuid4()}"'
        now = int(time.time() * 1000)
        item.update(
            {
                "id": item_id,
                "etag": etag,
                "version": etag,
                "state": "enabled",
                "createdAt": now,
                "updatedAt": now,
                "imsOrgId": self.ims_org_id,
                "sandboxName": self.sandbox_name,
            }
        )
        with self._lock:
            self.items[collection][item_id] = item
        return Answer(
            201, {"id": item_id, "etag": etag}, {"Location": f"{PREFIX}/{collection}/{item_id}"}
        )

    def _spec(self, item: dict, wanted: str, what: str) -> None:
        spec = item.get("connectionSpec") or {}
        if spec.get("id") != wanted:
            raise RefusalError(
                problem(
                    400,
                    f"This double only knows the {what} connection spec {wanted}",
                    str(spec.get("id")),
                )
            )

    def _base_connection(self, item: dict) -> None:
        self._spec(item, HTTP_API_SPEC, "HTTP API")
        auth = item.get("auth") or {}
        params = auth.get("params") or {}
        if auth.get("specName") != "Streaming Connection":
            raise RefusalError(problem(400, 'auth.specName must be "Streaming Connection"'))
        if params.get("dataType", "xdm") not in ("xdm", "raw"):
            raise RefusalError(problem(400, "auth.params.dataType must be xdm or raw"))
        inlet_id = uuid.uuid4().hex + uuid.uuid4().hex
        params.update(
            {
                "inletId": inlet_id,
                "inletUrl": f"{self.dcs_url}/collection/{inlet_id}",
                "authenticationRequired": bool(params.get("authenticationRequired", False)),
                "sourceId": params.get("sourceId", item["name"]),
                "dataType": params.get("dataType", "xdm"),
            }
        )
        auth["params"] = params
        item["auth"] = auth

    def _source_connection(self, item: dict) -> None:
        self._spec(item, HTTP_API_SPEC, "HTTP API")
        base = self.items["connections"].get(item.get("baseConnectionId", ""))
        if base is None:
            raise RefusalError(
                problem(
                    400,
                    "baseConnectionId names no base connection",
                    str(item.get("baseConnectionId")),
                )
            )

    def _target_connection(self, item: dict) -> None:
        self._spec(item, DATA_LAKE_SPEC, "Data Lake")
        dataset_id = (item.get("params") or {}).get("dataSetId")
        dataset = self.catalog.datasets.get(dataset_id or "")
        if dataset is None:
            raise RefusalError(problem(400, "params.dataSetId names no dataset", str(dataset_id)))
        schema_id = ((item.get("data") or {}).get("schema") or {}).get("id")
        if schema_id != dataset.schema_id:
            raise RefusalError(
                problem(
                    400,
                    "data.schema.id must be the schema of the dataset",
                    f"dataset {dataset_id} is on {dataset.schema_id}, not {schema_id}",
                )
            )

    def _flow(self, item: dict) -> None:
        spec = (item.get("flowSpec") or {}).get("id")
        if spec != XDM_FLOW_SPEC:
            raise RefusalError(
                problem(400, f"This double only knows the XDM flow spec {XDM_FLOW_SPEC}", str(spec))
            )
        sources = item.get("sourceConnectionIds") or []
        targets = item.get("targetConnectionIds") or []
        if len(sources) != 1 or sources[0] not in self.items["sourceConnections"]:
            raise RefusalError(
                problem(400, "sourceConnectionIds must name one source connection", str(sources))
            )
        if len(targets) != 1 or targets[0] not in self.items["targetConnections"]:
            raise RefusalError(
                problem(400, "targetConnectionIds must name one target connection", str(targets))
            )
