"""Find or create, then evolve, every AEP object the target needs, from an empty sandbox on.

`Provisioner.run` walks the objects in dependency order and records one `Outcome` per object:
`created`, `already there`, `updated` (additive changes only), or with `dry_run` `would be
created` / `would be updated` (nothing is written). Objects are found by their title, name or
code (`provision/names.py`), so a rerun finds what an earlier run made and continues where it
stopped; nothing is created twice. An existing object whose definition differs in a way
provisioning may not change (another class, another schema under a dataset, a retyped field) is
reported with what differs and left alone. What the target then needs is `settings_file()`.

Objects, in order:
1. the identity namespace `identity_namespace` (Cross-device), Identity Service;
2. for streams whose mapping has no class of its own (compat, generic): one tenant record class;
3. per stream: the tenant field group, generated from the mapping's own tenant schema
   (`mapping/field_group.py`); the schema: its class + the standard field groups the mapping
   writes + the tenant field group, with `meta:immutableTags: ["union"]` when the stream is
   Profile-enabled (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/schemas#union);
   the dataset on it, with `unifiedProfile`/`unifiedIdentity` tags likewise
   (https://experienceleague.adobe.com/en/docs/experience-platform/catalog/api/create-dataset);
4. `destination: streaming`: one authenticated HTTP API base connection, then per dataset a
   source connection, a Data Lake target connection and a dataflow; the inlet id comes from
   the base connection.

The primary identity Profile needs is the record's `identityMap` entry marked `primary: true`
(the mappings put the Stripe customer id there, in `identity_namespace`), one of the two ways
Adobe documents (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/schema/composition#identity);
so no identity descriptor is created.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from target_aep.adobe.catalog import CatalogDatasets
from target_aep.adobe.flow_service import (
    FlowService,
    base_connection,
    dataflow,
    source_connection,
    target_connection,
)
from target_aep.adobe.identity_service import IdentityService
from target_aep.adobe.schema_registry import SchemaRegistry
from target_aep.errors import DeliveryError, PlatformApiError, ProvisioningError
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.mapping.field_group import field_group_changes, field_group_document
from target_aep.provision.names import (
    BASE_CONNECTION_NAME,
    NAMESPACE_DESCRIPTION,
    NAMESPACE_NAME,
    RECORD_CLASS_DESCRIPTION,
    RECORD_CLASS_TITLE,
    StreamNames,
    stream_names,
)
from target_aep.settings import TargetSettings
from target_aep.validation import builtin_schema

LOGGER = logging.getLogger(__name__)
RECORD_BEHAVIOUR = "https://ns.adobe.com/xdm/data/record"
XDM_FULL = "application/vnd.adobe.xed-full+json;version=1"
PROFILE_TAGS = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}
# The permission each API needs for what provisioning does, as Adobe's access control names it
# (https://experienceleague.adobe.com/en/docs/experience-platform/access-control/abac/permissions-ui/permissions).
PERMISSIONS = {
    "Schema Registry": "Manage Schemas",
    "Catalog": "Manage Datasets",
    "Identity Service": "Manage Identity Namespaces",
    "Flow Service": "Manage Sources",
}

CREATED, THERE, UPDATED = "created", "already there", "updated"
WOULD_CREATE, WOULD_UPDATE = "would be created", "would be updated"
DIFFERS, CONFLICT, FAILED = "differs (left alone)", "type conflict (left alone)", "failed"


@dataclass(frozen=True)
class Outcome:
    """One row of the report."""

    kind: str
    name: str
    status: str
    id: str = ""
    detail: str = ""


@dataclass
class Apis:
    """The four Platform APIs provisioning talks to."""

    registry: SchemaRegistry
    identity: IdentityService
    datasets: CatalogDatasets
    flows: FlowService


@dataclass
class StreamIds:
    schema_id: str = ""
    dataset_id: str = ""
    flow_id: str = ""


@dataclass
class ProvisionResult:
    outcomes: list[Outcome] = field(default_factory=list)
    tenant_id: str = ""
    inlet_id: str = ""
    streams: dict[str, StreamIds] = field(default_factory=dict)
    failure: str = ""
    blocked: list[str] = field(default_factory=list)  # streams held up by a differing object

    def settings_file(self) -> dict:
        """The target settings that, merged over the config, are all it needs to deliver."""
        settings: dict[str, Any] = {"tenant_id": self.tenant_id}
        if self.inlet_id:
            settings["inlet_id"] = self.inlet_id
        streams = {}
        for name, ids in self.streams.items():
            entry = {"dataset_id": ids.dataset_id, "schema_id": ids.schema_id}
            if ids.flow_id:
                entry["flow_id"] = ids.flow_id
            streams[name] = {key: value for key, value in entry.items() if value}
        settings["streams"] = streams
        return settings


class _StreamBlockedError(Exception):
    """An object of one stream differs from what provisioning needs: skip the rest of it."""


class Provisioner:
    def __init__(
        self,
        settings: TargetSettings,
        apis: Apis,
        catalog: Mapping[str, Mapping[str, Any]],
        *,
        dry_run: bool = False,
        report: Callable[[Outcome], None] = lambda outcome: None,
    ) -> None:
        """`catalog`: Singer schema per stream to provision (the tap's discovered streams)."""
        self.settings = settings
        self.apis = apis
        self.catalog = catalog
        self.dry_run = dry_run
        self.report = report
        self.result = ProvisionResult()
        self._record_class_id: str | None = None

    def run(self) -> ProvisionResult:
        try:
            self.result.tenant_id = self.apis.registry.tenant_id()
            configured = self.settings.tenant_id
            if configured and configured != self.result.tenant_id:
                raise ProvisioningError(
                    f"setting 'tenant_id' is {configured!r}, but sandbox "
                    f"'{self.settings.sandbox_name}' belongs to tenant "
                    f"{self.result.tenant_id!r}: custom fields must go under "
                    f"_{self.result.tenant_id}; fix TARGET_AEP_TENANT_ID or leave it unset"
                )
            self._namespace()
            base_id = None
            if self.settings.destination == "streaming":
                base_id = self._base_connection()
            for stream, singer_schema in self.catalog.items():
                try:
                    self._stream(stream, singer_schema, base_id)
                except _StreamBlockedError:
                    self.result.blocked.append(stream)
                    self.result.streams.pop(stream, None)
        except PlatformApiError as error:
            self._fail(self._explain(error))
        except (ProvisioningError, DeliveryError) as error:
            self._fail(str(error))
        return self.result

    # -- reporting ---------------------------------------------------------------------------
    def _note(
        self, kind: str, name: str, status: str, object_id: str = "", detail: str = ""
    ) -> Outcome:
        outcome = Outcome(kind, name, status, object_id, detail)
        self.result.outcomes.append(outcome)
        self.report(outcome)
        return outcome

    def _fail(self, message: str) -> None:
        self.result.failure = message
        self._note("(stopped)", "", FAILED, detail=message)

    def _explain(self, error: PlatformApiError) -> str:
        text = f"{error.api} could not {error.what}: HTTP {error.status}{error.detail}"
        if error.status == 403:
            permission = PERMISSIONS.get(error.api, "the matching")
            text += (
                f". Give the credential's product profile the '{permission}' permission in "
                f"sandbox '{self.settings.sandbox_name}' (Adobe Admin Console), then run again"
            )
        return text + ". Objects listed above as created are kept; a rerun continues from there."

    def _differs(self, kind: str, name: str, object_id: str, what: str) -> None:
        self._note(kind, name, DIFFERS, object_id, what)
        raise _StreamBlockedError(what)

    # -- shared objects ----------------------------------------------------------------------
    def _namespace(self) -> None:
        code = self.settings.identity_namespace
        existing = self.apis.identity.namespace(code)
        if existing is not None:
            self._note("identity namespace", code, THERE, str(existing.get("id", "")))
        elif self.dry_run:
            self._note("identity namespace", code, WOULD_CREATE)
        else:
            created = self.apis.identity.create_namespace(
                code, NAMESPACE_NAME, NAMESPACE_DESCRIPTION
            )
            self._note("identity namespace", code, CREATED, str(created.get("id", "")))

    def _record_class(self) -> str | None:
        """The tenant record class of mappings without a standard class (found or created)."""
        if self._record_class_id is not None:
            return self._record_class_id
        existing = self.apis.registry.find("classes", RECORD_CLASS_TITLE)
        if existing is not None:
            self._record_class_id = existing["$id"]
            self._note("class", RECORD_CLASS_TITLE, THERE, existing["$id"])
        elif self.dry_run:
            self._note("class", RECORD_CLASS_TITLE, WOULD_CREATE)
            return None
        else:
            created = self.apis.registry.create(
                "classes",
                {
                    "title": RECORD_CLASS_TITLE,
                    "description": RECORD_CLASS_DESCRIPTION,
                    "type": "object",
                    "allOf": [{"$ref": RECORD_BEHAVIOUR}],
                },
            )
            self._record_class_id = created["$id"]
            self._note("class", RECORD_CLASS_TITLE, CREATED, created["$id"])
        return self._record_class_id

    def _base_connection(self) -> str | None:
        kind = "streaming connection"
        existing = self.apis.flows.find("connections", BASE_CONNECTION_NAME)
        if existing is None and self.dry_run:
            self._note(kind, BASE_CONNECTION_NAME, WOULD_CREATE)
            return None
        if existing is None:
            base_id = self.apis.flows.create("connections", base_connection(BASE_CONNECTION_NAME))
            status = CREATED
        else:
            base_id, status = existing["id"], THERE
        params = self.apis.flows.get("connections", base_id).get("auth", {}).get("params", {})
        if params.get("dataType", "xdm") != "xdm":
            raise ProvisioningError(
                f"the streaming connection {BASE_CONNECTION_NAME!r} ({base_id}) takes "
                f"{params.get('dataType')!r} data, not XDM; rename or delete it and run again"
            )
        self.result.inlet_id = str(params.get("inletId", ""))
        self._note(kind, BASE_CONNECTION_NAME, status, base_id, f"inlet {self.result.inlet_id}")
        return base_id

    # -- per stream --------------------------------------------------------------------------
    def _profile(self, stream: str) -> bool:
        return self.settings.profile_enabled(stream)

    def _stream(self, stream: str, singer_schema: Mapping[str, Any], base_id: str | None) -> None:
        mapping = self.settings.mapping_for(stream)
        options = MappingOptions(
            tenant_id=self.result.tenant_id, identity_namespace=self.settings.identity_namespace
        )
        mapper = mapper_for(stream, options, mapping)
        tenant = mapper.tenant_schema(singer_schema)
        builtin = builtin_schema(mapper.schema)
        class_id = builtin["meta:class"]
        standard_groups = list(builtin.get("meta:fieldGroups", []))
        if class_id == RECORD_BEHAVIOUR:
            class_id = self._record_class()
        names = stream_names(stream, compat=mapping == "compat")
        ids = self.result.streams.setdefault(stream, StreamIds())
        profile = self._profile(stream)
        group_id = self._field_group(names.field_group, stream, class_id, tenant)
        ids.schema_id = self._schema(names.schema, class_id, standard_groups, group_id, profile)
        ids.dataset_id = self._dataset(names.dataset, ids.schema_id, profile)
        if base_id is not None or (self.dry_run and self.settings.destination == "streaming"):
            ids.flow_id = self._dataflow(names, base_id, ids.dataset_id, ids.schema_id)

    def _field_group(
        self, title: str, stream: str, class_id: str | None, tenant: Mapping[str, Any]
    ) -> str | None:
        kind = "field group"
        wanted = field_group_document(
            title=title,
            description=f"Every field target-aep writes for Stripe {stream}",
            class_id=class_id or "",
            tenant_id=self.result.tenant_id,
            tenant_schema=tenant,
        )
        existing = self.apis.registry.find("fieldgroups", title)
        if existing is None:
            if self.dry_run or class_id is None:
                self._note(kind, title, WOULD_CREATE)
                return None
            created = self.apis.registry.create("fieldgroups", wanted)
            self._note(kind, title, CREATED, created["$id"])
            return created["$id"]
        group_id = existing["$id"]
        if class_id and class_id not in existing.get("meta:intendedToExtend", []):
            self._differs(
                kind,
                title,
                group_id,
                f"it extends {existing.get('meta:intendedToExtend')}, the mapping needs {class_id}",
            )
        changes = field_group_changes(existing, wanted, self.result.tenant_id)
        for conflict in changes.conflicts:
            self._note(kind, title, CONFLICT, group_id, str(conflict))
        if not changes.additions:
            self._note(kind, title, THERE, group_id)
        elif self.dry_run:
            self._note(kind, title, WOULD_UPDATE, group_id, _added(changes.added_paths))
        else:
            self.apis.registry.patch("fieldgroups", group_id, list(changes.additions))
            self._note(kind, title, UPDATED, group_id, _added(changes.added_paths))
        return group_id

    def _schema(
        self,
        title: str,
        class_id: str | None,
        standard_groups: list[str],
        group_id: str | None,
        profile: bool,
    ) -> str:
        kind = "schema"
        existing = self.apis.registry.find("schemas", title)
        parts = [p for p in (class_id, *standard_groups, group_id) if p]
        if existing is None:
            if self.dry_run or class_id is None or group_id is None:
                self._note(kind, title, WOULD_CREATE, detail="Profile" if profile else "")
                return ""
            document: dict[str, Any] = {
                "title": title,
                "description": "Stripe objects delivered by target-aep",
                "type": "object",
                "allOf": [{"$ref": ref} for ref in parts],
            }
            if profile:
                document["meta:immutableTags"] = ["union"]
            created = self.apis.registry.create("schemas", document)
            self._note(kind, title, CREATED, created["$id"], "Profile" if profile else "")
            return created["$id"]
        schema_id = existing["$id"]
        if class_id and existing.get("meta:class") != class_id:
            self._differs(
                kind, title, schema_id, f"its class is {existing.get('meta:class')}, not {class_id}"
            )
        present = {part.get("$ref") for part in existing.get("allOf", [])}
        operations: list[dict] = []
        for ref in parts:
            if ref not in present:
                operations += [
                    {"op": "add", "path": "/meta:extends/-", "value": ref},
                    {"op": "add", "path": "/allOf/-", "value": {"$ref": ref}},
                ]
        tags = existing.get("meta:immutableTags") or []
        detail = []
        if operations:
            detail.append(f"adds {len(operations) // 2} field group(s)")
        if profile and "union" not in tags:
            path = "/meta:immutableTags/-" if tags else "/meta:immutableTags"
            operations.append({"op": "add", "path": path, "value": "union" if tags else ["union"]})
            detail.append("enables Profile")
        elif not profile and "union" in tags:
            detail.append("enabled for Profile already (Platform never undoes that)")
        self._apply_schema(title, schema_id, operations, "; ".join(detail))
        return schema_id

    def _apply_schema(
        self, title: str, schema_id: str, operations: list[dict], detail: str
    ) -> None:
        if not operations:
            self._note("schema", title, THERE, schema_id, detail)
        elif self.dry_run:
            self._note("schema", title, WOULD_UPDATE, schema_id, detail)
        else:
            self.apis.registry.patch("schemas", schema_id, operations)
            self._note("schema", title, UPDATED, schema_id, detail)

    def _dataset(self, name: str, schema_id: str, profile: bool) -> str:
        kind = "dataset"
        existing = self.apis.datasets.find(name)
        if existing is None:
            if self.dry_run or not schema_id:
                self._note(kind, name, WOULD_CREATE, detail="Profile" if profile else "")
                return ""
            body: dict[str, Any] = {
                "name": name,
                "description": "Stripe objects delivered by target-aep",
                "schemaRef": {"id": schema_id, "contentType": XDM_FULL},
            }
            if profile:
                body["tags"] = PROFILE_TAGS
            dataset_id = self.apis.datasets.create(body)
            self._note(kind, name, CREATED, dataset_id, "Profile" if profile else "")
            return dataset_id
        dataset_id, document = existing
        existing_schema = (document.get("schemaRef") or {}).get("id")
        if schema_id and existing_schema != schema_id:
            self._differs(
                kind, name, dataset_id, f"it is on schema {existing_schema}, not {schema_id}"
            )
        tags = document.get("tags") or {}
        missing = {k: v for k, v in PROFILE_TAGS.items() if profile and v[0] not in tags.get(k, [])}
        if not missing:
            self._note(kind, name, THERE, dataset_id)
        elif self.dry_run:
            self._note(kind, name, WOULD_UPDATE, dataset_id, "enables Profile")
        else:
            self.apis.datasets.add_tags(dataset_id, missing)
            self._note(kind, name, UPDATED, dataset_id, "enables Profile")
        return dataset_id

    def _dataflow(
        self, names: StreamNames, base_id: str | None, dataset_id: str, schema_id: str
    ) -> str:
        ready = bool(base_id and dataset_id and schema_id)
        source_id = self._flow_object(
            "source connection",
            "sourceConnections",
            names.source_connection,
            lambda: source_connection(names.source_connection, base_id or ""),
            lambda item: item.get("baseConnectionId") == base_id,
            f"it reads from base connection other than {base_id}",
            ready,
        )
        target_id = self._flow_object(
            "target connection",
            "targetConnections",
            names.target_connection,
            lambda: target_connection(names.target_connection, dataset_id, schema_id),
            lambda item: (
                (item.get("params") or {}).get("dataSetId") == dataset_id
                and ((item.get("data") or {}).get("schema") or {}).get("id") == schema_id
            ),
            f"it writes to another dataset or schema than {dataset_id} / {schema_id}",
            ready,
        )
        return self._flow_object(
            "dataflow",
            "flows",
            names.dataflow,
            lambda: dataflow(names.dataflow, source_id, target_id),
            lambda item: (
                item.get("sourceConnectionIds") == [source_id]
                and item.get("targetConnectionIds") == [target_id]
            ),
            "it joins other source and target connections",
            ready and bool(source_id and target_id),
        )

    def _flow_object(
        self,
        kind: str,
        collection: str,
        name: str,
        body: Callable[[], dict],
        fits: Callable[[dict], bool],
        differs: str,
        ready: bool,
    ) -> str:
        existing = self.apis.flows.find(collection, name) if ready or not self.dry_run else None
        if existing is None:
            if self.dry_run or not ready:
                self._note(kind, name, WOULD_CREATE)
                return ""
            created = self.apis.flows.create(collection, body())
            self._note(kind, name, CREATED, created)
            return created
        if not fits(existing):
            self._differs(kind, name, existing["id"], differs)
        self._note(kind, name, THERE, existing["id"])
        return existing["id"]


def _added(paths: tuple[str, ...]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return f"adds {len(paths)} field(s): {shown}"
