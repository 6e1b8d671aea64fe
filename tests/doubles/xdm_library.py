"""Adobe's standard XDM resources in the Platform form payloads use, for the AEP double and tests.

The repository files (../shared/xdm) name fields `xdm:timestamp`, `@id`...; Platform's APIs and
ingestion use the converted ("XED") form: `timestamp`, `_id`, camelCase for hyphenated names, and
closed objects (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/appendix,
"Compatibility Mode"; ../shared/xdm/README.md). `PlatformFormConverter` resolves `$ref`/`allOf` by
`$id`, renames the keys and closes every object that has properties. `StandardLibrary` is what the
double's Schema Registry serves from its `global` container: the classes and field groups of the
shared subset, plus the two standard resources target-aep's mappings use that the subset lacks
(`DOCUMENTED_RESOURCES`, written from Adobe's field documentation, URLs there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLASS_EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
CLASS_PROFILE = "https://ns.adobe.com/xdm/context/profile"
FG_COMMERCE = "https://ns.adobe.com/xdm/context/experienceevent-commerce"
FG_PERSON = "https://ns.adobe.com/xdm/context/profile-person-details"
FG_PERSONAL_CONTACT = "https://ns.adobe.com/xdm/context/profile-personal-details"
FG_IDENTITY_MAP = "https://ns.adobe.com/xdm/context/identitymap"
BEHAVIOUR_RECORD = "https://ns.adobe.com/xdm/data/record"

_CONTEXT_RULE = "https://ns.adobe.com/xdm/common/extensible#/definitions/@context"
_KEPT_KEYWORDS = (
    "type",
    "enum",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "const",
)


def load_documents(xdm_dir: Path) -> dict[str, dict]:
    """Every schema file keyed by its `$id` (not its path: the two differ, see the README)."""
    documents = {}
    for path in sorted(xdm_dir.rglob("*.schema.json")):
        document = json.loads(path.read_text())
        documents[document["$id"]] = document
    return documents


def platform_name(name: str) -> str | None:
    """Source key -> Platform key; None for namespaces Platform puts elsewhere (not needed here)."""
    if name == "@id":
        return "_id"
    if name == "@type":
        return "_type"
    if name.startswith("xdm:"):
        name = name[4:]
    elif ":" in name:
        return None
    parts = name.split("-")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


class PlatformFormConverter:
    """Resolve and convert source-form XDM schemas (draft-06) into closed Platform-form schemas."""

    def __init__(self, documents: dict[str, dict]) -> None:
        self.documents = documents

    def composite(self, *ids: str) -> dict:
        """A dataset schema: the class plus field groups, flattened into one closed object."""
        return self._convert({"allOf": [{"$ref": i} for i in ids]}, base=None)

    def _lookup(self, ref: str, base: dict | None) -> tuple[dict, dict]:
        address, _, pointer = ref.partition("#")
        document = self.documents[address] if address else base
        if document is None:
            raise KeyError(ref)
        node: Any = document
        for part in [p for p in pointer.split("/") if p]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, document

    def _convert(self, schema: dict, base: dict | None) -> dict:
        parts = [schema]
        merged: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        while parts:
            part = parts.pop(0)
            ref = part.get("$ref")
            if ref:
                if ref == _CONTEXT_RULE:
                    continue
                target, document = self._lookup(ref, part.get("__base__", base))
                parts.insert(0, {**target, "__base__": document})
                continue
            part_base = part.get("__base__", base)
            for sub in part.get("allOf", []):
                parts.append({**sub, "__base__": part_base} if "$ref" in sub else sub)
            for key in _KEPT_KEYWORDS:
                if key in part and key not in merged:
                    merged[key] = part[key]
            for name, sub in part.get("properties", {}).items():
                converted_name = platform_name(name)
                if converted_name is not None:
                    properties[converted_name] = self._convert(sub, part_base)
            for name in part.get("required", []):
                converted_name = platform_name(name)
                if converted_name and converted_name not in required:
                    required.append(converted_name)
            if "items" in part and "items" not in merged:
                merged["items"] = self._convert(part["items"], part_base)
            extra = part.get("additionalProperties")
            if isinstance(extra, dict) and "additionalProperties" not in merged:
                merged["additionalProperties"] = self._convert(extra, part_base)
        if properties:
            merged["properties"] = properties
            merged.setdefault("additionalProperties", False)
            merged["type"] = "object"
        if required:
            merged["required"] = required
        return merged


def allow_tenant(schema: dict, tenant_id: str, tenant_schema: dict | None = None) -> dict:
    """Add the tenant root `_<tenant_id>` (any content unless a schema is given) to a composite."""
    result = dict(schema)
    result["properties"] = {
        **schema["properties"],
        f"_{tenant_id}": tenant_schema or {"type": "object"},
    }
    return result


# Standard resources target-aep's mappings use that the shared subset lacks, in Platform form
# (resolved, closed), written from Adobe's field documentation:
# - Product class: https://experienceleague.adobe.com/en/docs/experience-platform/xdm/classes/product
#   (`productListPrice` is the Currency data type:
#   https://experienceleague.adobe.com/en/docs/experience-platform/xdm/data-types/currency);
# - External Source System Audit Details field group and its data type:
#   https://experienceleague.adobe.com/en/docs/experience-platform/xdm/field-groups/profile/external-source-system-audit-details
#   https://experienceleague.adobe.com/en/docs/experience-platform/xdm/data-types/external-source-system-audit-attributes
CLASS_PRODUCT = "https://ns.adobe.com/xdm/classes/product"
FG_SOURCE_AUDIT = "https://ns.adobe.com/xdm/common/external-source-system-audit-details"
_TEXT = {"type": "string"}
_DATE_TIME = {"type": "string", "format": "date-time"}
DOCUMENTED_RESOURCES: dict[str, dict[str, Any]] = {
    CLASS_PRODUCT: {
        "title": "Product",
        "kind": "classes",
        "extends": [BEHAVIOUR_RECORD],
        "properties": {
            "productID": _TEXT,
            "productName": _TEXT,
            "productDescription": _TEXT,
            "productRating": _TEXT,
            "productListPrice": {
                "type": "object",
                "properties": {
                    "amount": {"type": "number"},
                    "currencyCode": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "conversionDate": _DATE_TIME,
                },
                "additionalProperties": False,
            },
            "productManufacturedDate": _DATE_TIME,
            "productLastModifiedDate": _DATE_TIME,
        },
    },
    FG_SOURCE_AUDIT: {
        "title": "External Source System Audit Details",
        "kind": "mixins",
        "extends": [],
        "properties": {
            "extSourceSystemAudit": {
                "type": "object",
                "properties": {
                    "externalID": _TEXT,
                    "externalKey": {
                        "type": "object",
                        "properties": {"sourceKey": _TEXT},
                        "additionalProperties": False,
                    },
                    "createdBy": _TEXT,
                    "createdDate": _DATE_TIME,
                    "lastUpdatedBy": _TEXT,
                    "lastUpdatedDate": _DATE_TIME,
                    "lastActivityDate": _DATE_TIME,
                    "lastReferencedDate": _DATE_TIME,
                    "lastViewedDate": _DATE_TIME,
                },
                "additionalProperties": False,
            }
        },
    },
}

BEHAVIOURS = (BEHAVIOUR_RECORD, "https://ns.adobe.com/xdm/data/time-series")


@dataclass(frozen=True)
class StandardResource:
    """One class or field group of the `global` container, already in Platform form."""

    id: str
    title: str
    kind: str  # "classes" or "mixins" (field groups keep their old resource name in $ids)
    behaviour: str | None  # a class's record or time-series behaviour
    intended_to_extend: tuple[str, ...]  # a field group's classes; empty: any class
    schema: dict  # {"type": "object", "properties": ..., "required": [...]} resolved and closed

    def alt_id(self) -> str:
        return "_" + self.id.split("://", 1)[-1].split("/", 1)[-1].replace("/", ".")

    def fits(self, class_id: str) -> bool:
        return not self.intended_to_extend or class_id in self.intended_to_extend


class StandardLibrary:
    """The standard classes and field groups the double's Schema Registry knows, by `$id`."""

    def __init__(self, documents: dict[str, dict]) -> None:
        converter = PlatformFormConverter(documents)
        self.resources: dict[str, StandardResource] = {}
        for resource_id, document in documents.items():
            kind = _kind_of(document)
            if kind is None:
                continue
            extends = document.get("meta:extends", [])
            self.resources[resource_id] = StandardResource(
                id=resource_id,
                title=document.get("title", resource_id),
                kind=kind,
                behaviour=next((b for b in BEHAVIOURS if b in extends), None),
                intended_to_extend=tuple(document.get("meta:intendedToExtend", [])),
                schema=converter.composite(resource_id),
            )
        for resource_id, documented in DOCUMENTED_RESOURCES.items():
            if resource_id in self.resources:
                continue
            base = {"type": "object", "properties": {}}
            for behaviour in documented["extends"]:
                base = converter.composite(behaviour)
            schema = {
                **base,
                "properties": {**base["properties"], **documented["properties"]},
                "additionalProperties": False,
            }
            is_class = documented["kind"] == "classes"
            self.resources[resource_id] = StandardResource(
                id=resource_id,
                title=documented["title"],
                kind=documented["kind"],
                behaviour=documented["extends"][0] if is_class else None,
                intended_to_extend=(),
                schema=schema,
            )

    @classmethod
    def load(cls, xdm_dir: Path) -> StandardLibrary:
        return cls(load_documents(xdm_dir))

    def get(self, resource_id: str) -> StandardResource | None:
        return self.resources.get(resource_id)

    def of_kind(self, kind: str) -> list[StandardResource]:
        return [r for r in self.resources.values() if r.kind == kind]


def _kind_of(document: dict) -> str | None:
    """Classes extend a behaviour; field groups declare the classes they are intended for."""
    if document.get("$id") in BEHAVIOURS:
        return "behaviors"
    if "meta:intendedToExtend" in document:
        return "mixins"
    if any(b in document.get("meta:extends", []) for b in BEHAVIOURS):
        return "classes"
    return None
