"""The Schema Registry of the AEP double: tenant field groups, schemas and descriptors.

Follows Adobe's Schema Registry API (../shared/aep-openapi/schema-registry.yaml and
https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/overview):

- `global` holds the standard classes and field groups (`StandardLibrary`, read-only); `tenant`
  holds what the org creates: field groups (`/tenant/fieldgroups`, also under the older name
  `/tenant/mixins`), schemas and descriptors, with `$id`s
  `https://ns.adobe.com/{tenant}/{mixins|schemas}/{hash}` and `meta:altId`
  `_{tenant}.{kind}.{hash}`; a resource is addressed by its URL-encoded `$id` or its `meta:altId`.
- Listing needs `Accept: application/vnd.adobe.xed-id+json` (summaries) or `xed+json` (full),
  and takes `property=` filters, `orderby`, `start` and `limit` (appendix#query); a lookup needs a
  versioned Accept (`xed`, `xed-full`, `xed-notext`, ... `;version=1`; otherwise 400, "The
  `Accept` header is invalid or missing" in the spec).
- A custom field group holds its fields under `definitions.<name>.properties._{tenant}`, with the
  constraints of custom fields (field-constraints, tutorials/custom-fields-api): one JSON type per
  field, no `anyOf`/`oneOf`, objects with declared sub-fields, maps of strings or integers
  (`meta:xdmType: map`), names of letters, digits, `-` and `_` not starting with `_`, unique at
  their level regardless of case. A violation is a 400 naming the field's path.
- A tenant class (`/tenant/classes`) names one behaviour (`https://ns.adobe.com/xdm/data/record`
  or `.../time-series`) in its `allOf`, and may add custom fields as a field group does
  (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/classes#create); only
  field groups intended for it extend it.
- A schema is one class plus field groups (`allOf` of `$ref`s); the registry composes them
  (`composed`) and refuses fields that collide. `meta:immutableTags: ["union"]` enables it for
  Profile and can never be removed.
- Once a dataset refers to a schema, or the schema is enabled for Profile, its fields (and those
  of its field groups) only grow: a PATCH or PUT that removes or retypes a field is a 400 naming
  the field (schema/composition#evolution).
- JSON Patch (RFC 6902) on PATCH, applied to the stored resource; read-only attributes stay.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import jsonschema

from tests.doubles.aep_http import Answer, RefusalError, json_body, matches, problem
from tests.doubles.json_patch import PatchError, apply_patch
from tests.doubles.xdm_library import BEHAVIOURS, StandardLibrary

PREFIX = "/data/foundation/schemaregistry"
LIST_ACCEPTS = ("application/vnd.adobe.xed-id+json", "application/vnd.adobe.xed+json")
LOOKUP_KINDS = ("xed", "xed-full", "xed-notext", "xed-full-notext", "xed-full-desc")
LOOKUP_EXAMPLE = "application/vnd.adobe.xed-full+json;version=1"
DESCRIPTOR_LIST_ACCEPTS = {
    "application/vnd.adobe.xdm-id+json": "id",
    "application/vnd.adobe.xdm-link+json": "link",
    "application/vnd.adobe.xdm+json": "full",
}
LIST_LIMIT = 300  # "the Schema Registry limits result sets to 300 items" (schemas endpoint guide)
FIELD_TYPES = ("string", "number", "integer", "boolean", "object", "array")
MAP_VALUE_TYPES = ("string", "integer")
FIELD_NAME = re.compile(r"^[A-Za-z0-9-][A-Za-z0-9_-]*$")
UNION_TAG = "union"
READ_ONLY = (
    "$id",
    "meta:altId",
    "meta:resourceType",
    "meta:containerId",
    "meta:tenantNamespace",
    "meta:registryMetadata",
    "imsOrg",
    "version",
    "meta:class",
    "meta:extends",
)
FORBIDDEN_KEYWORDS = ("anyOf", "oneOf", "allOf", "not", "$ref")


@dataclass
class Descriptor:
    document: dict


@dataclass
class TenantResource:
    kind: str  # "mixins", "schemas" or "classes"
    document: dict
    minor: int = 0


@dataclass
class Composition:
    """A schema's class and field groups merged into one Platform-form object."""

    schema: dict  # {"type": "object", "properties": ..., "required": [...]}
    class_id: str
    behaviour: str | None
    parts: list[str] = field(default_factory=list)


class SchemaRegistry:
    """State and request handling of the registry; `in_use(schema_id)` comes from Catalog."""

    def __init__(
        self,
        *,
        tenant_id: str,
        ims_org_id: str,
        library: StandardLibrary | None,
        in_use: Callable[[str], bool] = lambda schema_id: False,
    ) -> None:
        self.tenant_id = tenant_id
        self.ims_org_id = ims_org_id
        self.library = library
        self.in_use = in_use
        self.tenant: dict[str, TenantResource] = {}
        self.registered: dict[str, dict] = {}  # pre-composed schemas (AepDouble.register_dataset)
        self.descriptors: dict[str, Descriptor] = {}
        self.revision = 0  # bumped on every change, so cached validators are rebuilt
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._validators: dict[str, tuple[int, Any]] = {}

    # -- what other parts of the double ask --------------------------------------------------
    def exists(self, schema_id: str) -> bool:
        return schema_id in self.registered or self._tenant("schemas", schema_id) is not None

    def is_union(self, schema_id: str) -> bool:
        resource = self._tenant("schemas", schema_id)
        return resource is not None and UNION_TAG in resource.document.get("meta:immutableTags", [])

    def primary_identity_paths(self, schema_id: str) -> list[str]:
        """`xdm:sourceProperty` of the schema's primary identity descriptors."""
        return [
            d.document["xdm:sourceProperty"]
            for d in self.descriptors.values()
            if d.document.get("@type") == "xdm:descriptorIdentity"
            and d.document.get("xdm:sourceSchema") == schema_id
            and d.document.get("xdm:isPrimary")
        ]

    def register(self, schema_id: str, schema: dict) -> None:
        """A schema given whole, in Platform form (for tests that do not provision)."""
        with self._lock:
            self.registered[schema_id] = {"$id": schema_id, **copy.deepcopy(schema)}
            self.revision += 1

    def platform_schema(self, schema_id: str) -> dict | None:
        """The schema as ingestion sees it: resolved, Platform form, objects not yet closed."""
        if schema_id in self.registered:
            document = copy.deepcopy(self.registered[schema_id])
            document.pop("$id", None)
            return document
        resource = self._tenant("schemas", schema_id)
        if resource is None:
            return None
        return self._compose(resource.document).schema

    def validator(self, schema_id: str) -> Any:
        """A validator for entities of datasets on `schema_id`, objects closed as on Platform."""
        with self._lock:
            cached = self._validators.get(schema_id)
            if cached is not None and cached[0] == self.revision:
                return cached[1]
            schema = self.platform_schema(schema_id)
            if schema is None:
                raise KeyError(schema_id)
            closed = close_objects(schema)
            validator_class = jsonschema.validators.validator_for(
                closed, jsonschema.Draft7Validator
            )
            validator = validator_class(closed)
            self._validators[schema_id] = (self.revision, validator)
            return validator

    def counts(self) -> dict[str, int]:
        kinds = [r.kind for r in self.tenant.values()]
        return {
            "schemas": kinds.count("schemas") + len(self.registered),
            "mixins": kinds.count("mixins"),
        }

    # -- requests ------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        parts = [unquote(p) for p in path[len(PREFIX) :].strip("/").split("/")]
        try:
            with self._lock:
                return self._route(method, parts, query, headers, body)
        except RefusalError as refusal:
            return refusal.answer

    def _route(self, method, parts, query, headers, body) -> Answer:
        if parts == ["stats"] and method == "GET":
            return Answer(
                200,
                {"imsOrg": self.ims_org_id, "tenantId": self.tenant_id, "counts": self.counts()},
            )
        if len(parts) < 2 or parts[0] not in ("global", "tenant"):
            return Answer(404)
        container, kind, rest = parts[0], parts[1], parts[2:]
        if kind == "descriptors":
            return self._descriptors(method, container, rest, query, headers, body)
        if kind == "fieldgroups":
            kind = "mixins"
        if kind not in ("mixins", "schemas", "classes"):
            return Answer(404)
        if method == "GET" and not rest:
            return self._list(container, kind, query, headers)
        if method == "GET" and len(rest) == 1:
            return self._lookup(container, kind, rest[0], headers)
        if container != "tenant":
            return problem(405, "Only tenant resources can be written")
        if method == "POST" and not rest:
            return self._create(kind, json_body(body))
        if method in ("PATCH", "PUT") and len(rest) == 1:
            return self._update(kind, rest[0], method, json_body(body))
        return Answer(404)

    # -- listing and lookup --------------------------------------------------------------------
    def _list(self, container, kind, query, headers) -> Answer:
        accept = headers.get("accept", "").replace(" ", "")
        if accept not in LIST_ACCEPTS:
            return problem(
                400,
                "Accept header invalid",
                f"The supplied Accept header is not valid for a listing: {accept!r}",
                "XDM-1006",
            )
        documents = list(self._documents(container, kind))
        filters = [e for e in query.get("property", "").split(",") if e]
        documents = [d for d in documents if matches(d, filters)]
        orderby = query.get("orderby")
        if ("start" in query or "limit" in query) and not orderby:
            return problem(400, "start and limit need an orderby parameter")
        if orderby:
            key = orderby.split(",")[0]
            descending = key.startswith("-")
            key = key.lstrip("-+")
            documents.sort(key=lambda d: str(d.get(key, "")), reverse=descending)
            if "start" in query:
                start = query["start"]
                documents = [
                    d
                    for d in documents
                    if (str(d.get(key, "")) < start if descending else str(d.get(key, "")) > start)
                ]
        limit = min(int(float(query.get("limit", LIST_LIMIT))), LIST_LIMIT)
        page, more = documents[:limit], len(documents) > limit
        if accept == LIST_ACCEPTS[0]:
            results = [
                {k: d[k] for k in ("$id", "meta:altId", "version", "title") if k in d} for d in page
            ]
        else:
            results = page
        body: dict[str, Any] = {"results": results, "_page": {"count": len(results)}, "_links": {}}
        if orderby:
            body["_page"]["orderby"] = orderby
        if more and orderby:
            body["_page"]["next"] = str(page[-1].get(orderby.split(",")[0].lstrip("-+"), ""))
        return Answer(200, body)

    def _documents(self, container: str, kind: str) -> Iterator[dict]:
        if container == "global":
            if self.library is None or kind == "schemas":
                return
            for resource in self.library.of_kind(kind):
                yield self._standard_document(resource.id)
            return
        for resource in self.tenant.values():
            if resource.kind == kind:
                yield copy.deepcopy(resource.document)
        if kind == "schemas":
            for schema_id in self.registered:
                yield self._registered_document(schema_id)

    def _lookup(self, container, kind, identifier, headers) -> Answer:
        accept = headers.get("accept", "").replace(" ", "")
        wanted = re.fullmatch(r"application/vnd\.adobe\.([a-z-]+)\+json;version=1(\.\d+)?", accept)
        if wanted is None or wanted.group(1) not in LOOKUP_KINDS:
            return problem(
                400,
                "Accept header invalid",
                "A lookup needs a versioned Accept such as " + LOOKUP_EXAMPLE,
                "XDM-1006",
            )
        form = wanted.group(1)
        if container == "global":
            resource = self.library.get(identifier) if self.library else None
            if resource is None and self.library is not None:
                resource = next(
                    (r for r in self.library.resources.values() if r.alt_id() == identifier), None
                )
            if resource is None or resource.kind != kind:
                return Answer(404)
            document = self._standard_document(resource.id, full=True)
        elif kind == "schemas" and self._registered_id(identifier) is not None:
            document = self._registered_document(self._registered_id(identifier))
        else:
            tenant = self._tenant(kind, identifier)
            if tenant is None:
                return Answer(404)
            document = copy.deepcopy(tenant.document)
            if "full" in form:
                document = self._resolved(tenant)
        if "notext" in form:
            document = _without_text(document)
        return Answer(200, document)

    def _standard_document(self, resource_id: str, *, full: bool = False) -> dict:
        resource = self.library.get(resource_id)  # type: ignore[union-attr]
        document: dict[str, Any] = {
            "$id": resource.id,
            "meta:altId": resource.alt_id(),
            "meta:resourceType": resource.kind,
            "title": resource.title,
            "type": "object",
            "version": "1.0",
        }
        if resource.kind == "mixins":
            document["meta:intendedToExtend"] = list(resource.intended_to_extend)
        if full:
            document.update(copy.deepcopy(resource.schema))
        return document

    def _registered_id(self, identifier: str) -> str | None:
        for schema_id in self.registered:
            if identifier in (schema_id, _alt_id(schema_id)):
                return schema_id
        return None

    def _registered_document(self, schema_id: str) -> dict:
        return {
            "meta:altId": _alt_id(schema_id),
            "title": schema_id.rsplit("/", 1)[-1],
            "version": "1.0",
            **copy.deepcopy(self.registered[schema_id]),
        }

    def _resolved(self, resource: TenantResource) -> dict:
        document = {
            k: v
            for k, v in resource.document.items()
            if k not in ("allOf", "definitions", "properties", "required")
        }
        if resource.kind == "schemas":
            composition = self._compose(resource.document)
            document.update(composition.schema)
        else:
            document["properties"] = self._field_group_properties(resource.document)
        return document

    # -- creation and updates --------------------------------------------------------------------
    def _create(self, kind: str, request: Any) -> Answer:
        if not isinstance(request, dict):
            return problem(400, "The request body must be a JSON object")
        missing = [k for k in ("title", "type") if not request.get(k)]
        if kind == "mixins" and not isinstance(request.get("meta:intendedToExtend"), list):
            missing.append("meta:intendedToExtend")
        if kind in ("schemas", "classes") and not request.get("allOf"):
            missing.append("allOf")
        if missing:
            return problem(400, "Required attributes missing", ", ".join(missing), "XDM-1002")
        if request["type"] != "object":
            return problem(400, "type must be object", "", "XDM-1003")
        digest = hashlib.sha256(f"{kind}{next(self._ids)}{time.time()}".encode()).hexdigest()
        resource_id = f"https://ns.adobe.com/{self.tenant_id}/{kind}/{digest[:48]}"
        document = {
            k: copy.deepcopy(v) for k, v in request.items() if k not in READ_ONLY
        } | self._system_attributes(kind, resource_id, request, minor=0)
        resource = TenantResource(kind, document)
        self._check(resource, previous=None)
        self.tenant[resource_id] = resource
        self.revision += 1
        return Answer(201, copy.deepcopy(document))

    def _update(self, kind: str, identifier: str, method: str, request: Any) -> Answer:
        resource = self._tenant(kind, identifier)
        if resource is None:
            return problem(404, "Resource not found", identifier, "XDM-1010")
        if method == "PATCH":
            try:
                patched = apply_patch(resource.document, request)
            except PatchError as error:
                return problem(400, "Invalid JSON Patch", str(error), "XDM-1001")
        else:
            if not isinstance(request, dict):
                return problem(400, "The request body must be a JSON object")
            patched = copy.deepcopy(request)
        resource_id = resource.document["$id"]
        document = {k: v for k, v in patched.items() if k not in READ_ONLY}
        document |= self._system_attributes(kind, resource_id, document, minor=resource.minor + 1)
        candidate = TenantResource(kind, document, resource.minor + 1)
        self._check(candidate, previous=resource)
        self.tenant[resource_id] = candidate
        self.revision += 1
        return Answer(200, copy.deepcopy(document))

    def _system_attributes(self, kind: str, resource_id: str, request: dict, minor: int) -> dict:
        now = int(time.time() * 1000)
        attributes: dict[str, Any] = {
            "$id": resource_id,
            "meta:altId": _alt_id(resource_id),
            "meta:resourceType": kind,
            "meta:containerId": "tenant",
            "meta:tenantNamespace": f"_{self.tenant_id}",
            "imsOrg": self.ims_org_id,
            "version": f"1.{minor}",
            "meta:registryMetadata": {"repo:createdDate": now, "repo:lastModifiedDate": now},
        }
        if kind == "schemas":
            class_id = self._class_of(request)
            attributes["meta:class"] = class_id
            attributes["meta:extends"] = self._extends(request)
        if kind == "classes":
            attributes["meta:extends"] = [self._behaviour_of(request)]
        return attributes

    def _behaviour_of(self, document: dict) -> str:
        behaviours = [r for r in _refs(document) if r in BEHAVIOURS]
        if len(behaviours) != 1:
            raise RefusalError(
                problem(400, "A class needs exactly one behaviour in allOf", str(BEHAVIOURS))
            )
        return behaviours[0]

    def _class_resource(self, class_id: str) -> tuple[dict, str | None]:
        """(Platform-form schema, behaviour) of a standard or tenant class."""
        tenant = self._tenant("classes", class_id)
        if tenant is not None:
            behaviour = self._behaviour_of(tenant.document)
            base = copy.deepcopy(self.library.get(behaviour).schema)  # type: ignore[union-attr]
            merge_properties(base["properties"], self._field_group_properties(tenant.document), "")
            return base, behaviour
        resource = self.library.get(class_id)  # type: ignore[union-attr]
        return copy.deepcopy(resource.schema), resource.behaviour

    def _class_of(self, document: dict) -> str:
        refs = _refs(document)
        classes = [r for r in refs if self._standard(r, "classes") or self._tenant("classes", r)]
        if len(classes) != 1:
            unknown = [r for r in refs if self._tenant("mixins", r) is None and r not in classes]
            detail = f"allOf must reference exactly one class; found {classes or 'none'}"
            if self.library is None:
                detail += " (the double holds no standard classes: ../shared/xdm is absent)"
            if unknown:
                detail += f"; unknown references: {unknown}"
            raise RefusalError(problem(400, "Invalid schema composition", detail, "XDM-1521"))
        return classes[0]

    def _extends(self, document: dict) -> list[str]:
        class_id = self._class_of(document)
        behaviour = self._class_resource(class_id)[1]
        extends = [class_id] + ([behaviour] if behaviour else [])
        return extends + [r for r in _refs(document) if r != class_id]

    def _standard(self, resource_id: str, kind: str) -> bool:
        resource = self.library.get(resource_id) if self.library else None
        return resource is not None and resource.kind == kind

    def _tenant(self, kind: str, identifier: str) -> TenantResource | None:
        resource = self.tenant.get(identifier)
        if resource is None:
            resource = next(
                (r for r in self.tenant.values() if r.document["meta:altId"] == identifier), None
            )
        return resource if resource is not None and resource.kind == kind else None

    # -- validation ----------------------------------------------------------------------------
    def _check(self, candidate: TenantResource, previous: TenantResource | None) -> None:
        if candidate.kind in ("mixins", "classes"):
            self._check_field_group(candidate.document)
        else:
            tags = candidate.document.get("meta:immutableTags", [])
            if previous is not None:
                before = previous.document.get("meta:immutableTags", [])
                removed = [t for t in before if t not in tags]
                if removed:
                    raise RefusalError(
                        problem(400, "Immutable tags cannot be removed", str(removed), "XDM-1524")
                    )
            self._compose(candidate.document)  # refuses collisions and unknown parts
        if previous is None:
            return
        locked = [
            s
            for s in self._schemas_using(previous.document["$id"])
            if self.in_use(s) or self.is_union(s)
        ]
        if not locked:
            return
        if candidate.kind == "schemas":
            old = self._compose(previous.document).schema
            new = self._compose(candidate.document).schema
            if self._class_of(previous.document) != self._class_of(candidate.document):
                raise RefusalError(breaking("the schema's class cannot change once it is in use"))
        else:
            old = {"properties": self._field_group_properties(previous.document)}
            new = {"properties": self._field_group_properties(candidate.document)}
        difference = first_breaking_difference(old, new)
        if difference is not None:
            raise RefusalError(breaking(f"{difference} (schema {locked[0]} is in use)"))

    def _schemas_using(self, resource_id: str) -> list[str]:
        if self._tenant("schemas", resource_id) is not None:
            return [resource_id]
        return [
            schema_id
            for schema_id, r in self.tenant.items()
            if r.kind == "schemas" and resource_id in _refs(r.document)
        ]

    def _check_field_group(self, document: dict) -> None:
        tenant_root = f"_{self.tenant_id}"
        definitions = document.get("definitions", {})
        if not isinstance(definitions, dict):
            raise RefusalError(problem(400, "definitions must be an object", "", "XDM-1003"))
        for ref in _refs(document):
            if document.get("meta:resourceType") == "classes" and ref in BEHAVIOURS:
                continue
            if not ref.startswith("#/definitions/") or ref.split("/")[-1] not in definitions:
                raise RefusalError(
                    problem(400, "Invalid field group", f"unresolved allOf reference {ref}")
                )
        for name, definition in definitions.items():
            for root, sub in definition.get("properties", {}).items():
                if root != tenant_root:
                    raise RefusalError(
                        problem(
                            400,
                            "Custom fields must be nested under the tenant namespace",
                            f"/definitions/{name}/properties/{root}: use {tenant_root}",
                            "XDM-1101",
                        )
                    )
                for issue in field_problems(sub, f"/{tenant_root}", root=True):
                    raise RefusalError(problem(400, "Invalid custom field", issue, "XDM-1102"))
        for class_id in document.get("meta:intendedToExtend", []):
            if not self._standard(class_id, "classes") and not self._tenant("classes", class_id):
                raise RefusalError(
                    problem(400, "Unknown class in meta:intendedToExtend", class_id, "XDM-1103")
                )

    # -- composition -----------------------------------------------------------------------------
    def _field_group_properties(self, document: dict) -> dict:
        merged: dict = {}
        for ref in _refs(document):
            if not ref.startswith("#/definitions/"):
                continue
            definition = document.get("definitions", {}).get(ref.split("/")[-1], {})
            merge_properties(merged, copy.deepcopy(definition.get("properties", {})), "")
        return merged

    def _compose(self, document: dict) -> Composition:
        class_id = self._class_of(document)
        schema, behaviour = self._class_resource(class_id)
        schema.pop("additionalProperties", None)
        composition = Composition(schema, class_id, behaviour, [class_id])
        for ref in _refs(document):
            if ref == class_id:
                continue
            standard = self.library.get(ref) if self.library else None
            if standard is not None and standard.kind == "mixins":
                if not standard.fits(class_id):
                    raise RefusalError(
                        problem(400, "Field group not compatible with the class", ref, "XDM-1522")
                    )
                properties = copy.deepcopy(standard.schema["properties"])
            else:
                tenant = self._tenant("mixins", ref)
                if tenant is None:
                    raise RefusalError(problem(400, "Unknown allOf reference", ref, "XDM-1521"))
                extends = tenant.document.get("meta:intendedToExtend", [])
                if extends and class_id not in extends:
                    raise RefusalError(
                        problem(400, "Field group not compatible with the class", ref, "XDM-1522")
                    )
                properties = self._field_group_properties(tenant.document)
            try:
                merge_properties(schema["properties"], properties, "")
            except ValueError as collision:
                raise RefusalError(
                    problem(400, "Field collision", str(collision), "XDM-1523")
                ) from None
            composition.parts.append(ref)
        return composition

    # -- descriptors -----------------------------------------------------------------------------
    def _descriptors(self, method, container, rest, query, headers, body) -> Answer:
        if method == "GET" and not rest:
            accept = headers.get("accept", "").replace(" ", "")
            shape = DESCRIPTOR_LIST_ACCEPTS.get(accept)
            if shape is None:
                return problem(400, "Accept header invalid", accept, "XDM-1006")
            filters = [e for e in query.get("property", "").split(",") if e]
            grouped: dict[str, list] = {}
            source = self.descriptors.values() if container == "tenant" else []
            for descriptor in source:
                if not matches(descriptor.document, filters):
                    continue
                item: Any = copy.deepcopy(descriptor.document)
                if shape == "id":
                    item = item["@id"]
                elif shape == "link":
                    item = f"{PREFIX}/tenant/descriptors/{item['@id']}"
                grouped.setdefault(descriptor.document["@type"], []).append(item)
            return Answer(200, grouped)
        if method == "GET" and len(rest) == 1:
            descriptor = self.descriptors.get(rest[0])
            if descriptor is None or container != "tenant":
                return Answer(404)
            return Answer(200, copy.deepcopy(descriptor.document))
        if method == "POST" and not rest and container == "tenant":
            return self._create_descriptor(json_body(body))
        return Answer(404)

    def _create_descriptor(self, request: Any) -> Answer:
        if not isinstance(request, dict) or request.get("@type") != "xdm:descriptorIdentity":
            return problem(400, "This double only creates xdm:descriptorIdentity descriptors")
        missing = [
            k
            for k in (
                "xdm:sourceSchema",
                "xdm:sourceVersion",
                "xdm:sourceProperty",
                "xdm:namespace",
                "xdm:property",
            )
            if k not in request
        ]
        if missing:
            return problem(400, "Required descriptor attributes missing", ", ".join(missing))
        schema_id = request["xdm:sourceSchema"]
        schema = self.platform_schema(schema_id)
        if schema is None:
            return problem(400, "Unknown xdm:sourceSchema", schema_id, "XDM-1010")
        if request["xdm:property"] not in ("xdm:code", "xdm:id"):
            return problem(400, "xdm:property must be xdm:code or xdm:id")
        target = schema_at(schema, request["xdm:sourceProperty"])
        if target is None or target.get("type") != "string":
            return problem(
                400,
                "xdm:sourceProperty must name a string field of the schema",
                request["xdm:sourceProperty"],
            )
        if request.get("xdm:isPrimary") and self.primary_identity_paths(schema_id):
            return problem(400, "The schema already has a primary identity", schema_id)
        descriptor_id = hashlib.sha1(f"d{next(self._ids)}{time.time()}".encode()).hexdigest()
        document = {
            **copy.deepcopy(request),
            "@id": descriptor_id,
            "imsOrg": self.ims_org_id,
            "version": "1",
            "meta:containerId": "tenant",
        }
        self.descriptors[descriptor_id] = Descriptor(document)
        self.revision += 1
        return Answer(201, copy.deepcopy(document))


def breaking(detail: str) -> Answer:
    return problem(
        400,
        "Breaking change: only additive changes are allowed on a schema in use",
        detail,
        "XDM-1525",
    )


def _alt_id(resource_id: str) -> str:
    return "_" + resource_id.split("://", 1)[-1].split("/", 1)[-1].replace("/", ".")


def _refs(document: dict) -> list[str]:
    refs = []
    for part in document.get("allOf", []) or []:
        if isinstance(part, dict):
            ref = part.get("$ref") or part.get("$ref ")  # the spec's examples spell "$ref "
            if ref:
                refs.append(ref)
    return refs


def field_problems(definition: Any, path: str, *, root: bool = False) -> Iterator[str]:
    """What Platform refuses in one custom field definition (and below), each with its path."""
    if not isinstance(definition, dict):
        yield f"{path}: a field is an object"
        return
    for keyword in FORBIDDEN_KEYWORDS:
        if keyword in definition:
            yield f"{path}: {keyword} is not allowed in a custom field (one type per field)"
            return
    kind = definition.get("type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        yield f"{path}: type must be one of {', '.join(FIELD_TYPES)}, got {kind!r}"
        return
    if kind == "array":
        items = definition.get("items")
        if items is None:
            yield f"{path}: an array needs items"
        else:
            yield from field_problems(items, f"{path}/items")
        return
    if kind != "object":
        return
    properties = definition.get("properties")
    extra = definition.get("additionalProperties")
    if properties:
        seen: dict[str, str] = {}
        for name, sub in properties.items():
            if not FIELD_NAME.match(name):
                yield f"{path}/{name}: a field name has letters, digits, - and _, and no leading _"
                continue
            if name.lower() in seen:
                yield f"{path}/{name}: clashes with {seen[name.lower()]} (names ignore case)"
                continue
            seen[name.lower()] = name
            yield from field_problems(sub, f"{path}/{name}")
        return
    if root:
        yield f"{path}: the tenant object needs sub-fields"
    elif definition.get("meta:xdmType") == "map" and isinstance(extra, dict):
        if extra.get("type") not in MAP_VALUE_TYPES:
            yield f"{path}: a map holds only strings or integers, got {extra.get('type')!r}"
    else:
        yield f"{path}: an object needs declared sub-fields (or meta:xdmType map)"


def merge_properties(target: dict, source: dict, path: str) -> None:
    """Merge `source` fields into `target`; a field defined twice differently is a ValueError."""
    lowered = {name.lower(): name for name in target}
    for name, sub in source.items():
        existing_name = lowered.get(name.lower())
        if existing_name is None:
            target[name] = sub
            lowered[name.lower()] = name
            continue
        if existing_name != name:
            raise ValueError(f"{path}/{name} clashes with {path}/{existing_name}")
        existing = target[name]
        if "properties" in existing and "properties" in sub:
            merge_properties(existing["properties"], sub["properties"], f"{path}/{name}")
        elif shape(existing) != shape(sub):
            raise ValueError(f"{path}/{name} is defined twice with different types")


def shape(definition: Any) -> Any:
    """What may never change about a field once data exists: its type, format and structure."""
    if not isinstance(definition, dict):
        return definition
    result: dict[str, Any] = {
        "type": definition.get("type"),
        "format": definition.get("format"),
    }
    if "items" in definition:
        result["items"] = shape(definition["items"])
    extra = definition.get("additionalProperties")
    if isinstance(extra, dict):
        result["map"] = shape(extra)
    return result


def first_breaking_difference(old: dict, new: dict, path: str = "") -> str | None:
    """The first field of `old` that `new` removes or redefines, as a sentence with its path."""
    new_properties = new.get("properties", {})
    for name, before in old.get("properties", {}).items():
        here = f"{path}/{name}"
        after = new_properties.get(name)
        if after is None:
            return f"field {here} would be removed"
        while True:
            if _own_shape(before) != _own_shape(after):
                return f"field {here} would change from {_type(before)} to {_type(after)}"
            if "items" not in before:
                break
            before, after, here = before["items"], after["items"], here + "/items"
        difference = first_breaking_difference(before, after, here)
        if difference is not None:
            return difference
    return None


def _own_shape(definition: dict) -> Any:
    return {**shape(definition), "items": "items" in definition}


def _type(definition: dict) -> str:
    kind = definition.get("type")
    return f"{kind} ({definition['format']})" if definition.get("format") else str(kind)


def schema_at(schema: dict, pointer: str) -> dict | None:
    """The field definition at a descriptor's `xdm:sourceProperty` (`/a/b`), if any."""
    node: Any = schema
    for part in [p for p in pointer.split("/") if p]:
        node = (node.get("properties") or {}).get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def close_objects(schema: Any) -> Any:
    """Platform treats objects as closed: add `additionalProperties: false` where not set."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            close_objects(value)
    elif isinstance(schema, list):
        for value in schema:
            close_objects(value)
    return schema


def _without_text(document: Any, *, field_names: bool = False) -> Any:
    """The `-notext` forms: no `title`/`description` annotations (field names stay)."""
    if isinstance(document, dict):
        return {
            k: _without_text(v, field_names=k == "properties" and not field_names)
            for k, v in document.items()
            if field_names or k not in ("title", "description")
        }
    if isinstance(document, list):
        return [_without_text(v) for v in document]
    return document
