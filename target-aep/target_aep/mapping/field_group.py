"""A stream's tenant field group, derived from the schema its mapping writes, and its evolution.

The mapping states the Platform-form schema of the `_<tenant>` subtree it writes
(`Mapper.tenant_schema`, derived from the stream's Singer schema by the same rules that convert
the values). This module turns that schema into the XDM field-group document the Schema Registry
takes, and compares a wanted field group with an existing one:

- `field_group_document` builds the document of `POST /tenant/fieldgroups`: `title`,
  `meta:intendedToExtend` (the class), the fields under `definitions.<name>.properties._<tenant>`
  and `allOf` referring to that definition
  (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/field-groups#create).
  Fields are written the way custom fields are declared
  (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/tutorials/custom-fields-api):
  a JSON type per field, objects with `properties`, maps as `type: object` with
  `meta:xdmType: map` and `additionalProperties` of strings or integers; `additionalProperties:
  false` is left out (Platform closes every object itself).
- `field_group_changes` lists what an existing field group lacks as additive JSON Patch
  operations (`add`, one per missing field, deepest existing parent first) and every field whose
  type differs as a `TypeConflict` with its dotted path; a conflict is never patched (Platform
  refuses to retype a field once data exists:
  https://experienceleague.adobe.com/en/docs/experience-platform/xdm/schema/composition#evolution).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFINITION = "stripe"
MAP_VALUE_TYPES = ("string", "integer")
_KEPT = ("type", "format", "pattern", "minimum", "maximum", "enum", "title", "description")


class NotExpressibleError(ValueError):
    """The mapping's schema holds something an XDM field cannot say (names the field path)."""


@dataclass(frozen=True)
class TypeConflict:
    """A field the existing field group defines with another type: reported, never changed."""

    path: str  # dotted Platform path, e.g. `_acme.stripe.charge.amount`
    existing: str
    wanted: str

    def __str__(self) -> str:
        return f"{self.path}: the field group has {self.existing}, the mapping writes {self.wanted}"


@dataclass(frozen=True)
class FieldGroupChanges:
    """What provisioning would do to an existing field group."""

    additions: tuple[dict, ...]  # JSON Patch `add` operations
    conflicts: tuple[TypeConflict, ...]
    added_paths: tuple[str, ...]  # dotted paths of the added fields, for the report


def xdm_field(schema: Mapping[str, Any], path: str) -> dict:
    """One Platform-form (JSON Schema) field as an XDM custom field definition."""
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword in schema:
            raise NotExpressibleError(f"{path}: {keyword} (XDM fields have one type)")
    kind = schema.get("type")
    if not isinstance(kind, str):
        raise NotExpressibleError(f"{path}: type {kind!r} (XDM fields have one type)")
    field = {key: copy.deepcopy(schema[key]) for key in _KEPT if key in schema}
    if kind == "array":
        items = schema.get("items")
        if not items:
            raise NotExpressibleError(f"{path}: an array without items")
        field["items"] = xdm_field(items, f"{path}[]")
    elif kind == "object":
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties:
            field["properties"] = {
                name: xdm_field(sub, f"{path}.{name}") for name, sub in properties.items()
            }
        elif isinstance(extra, dict) and extra.get("type") in MAP_VALUE_TYPES:
            field["meta:xdmType"] = "map"
            field["additionalProperties"] = {"type": extra["type"]}
        else:
            raise NotExpressibleError(f"{path}: an object without declared fields")
    return field


def tenant_fields(tenant_schema: Mapping[str, Any], tenant_id: str) -> dict:
    """The `_<tenant>` object of a mapping's tenant schema as an XDM field."""
    return xdm_field(tenant_schema, f"_{tenant_id}")


def field_group_document(
    *,
    title: str,
    description: str,
    class_id: str,
    tenant_id: str,
    tenant_schema: Mapping[str, Any],
) -> dict:
    """The field group a Schema Registry `POST /tenant/fieldgroups` creates for one stream."""
    return {
        "title": title,
        "description": description,
        "type": "object",
        "meta:intendedToExtend": [class_id],
        "definitions": {
            DEFINITION: {"properties": {f"_{tenant_id}": tenant_fields(tenant_schema, tenant_id)}}
        },
        "allOf": [{"$ref": f"#/definitions/{DEFINITION}"}],
    }


def _tenant_root(document: Mapping[str, Any], tenant_id: str) -> tuple[str, dict] | None:
    """(definition name, `_<tenant>` field) of a field-group document, if it has one."""
    for name, definition in (document.get("definitions") or {}).items():
        root = (definition.get("properties") or {}).get(f"_{tenant_id}")
        if isinstance(root, dict):
            return name, root
    return None


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def describe(field: Mapping[str, Any]) -> str:
    """A field's type as a reader says it: `string`, `string (date-time)`, `map of string`..."""
    kind = field.get("type")
    if kind == "object" and field.get("meta:xdmType") == "map":
        return f"map of {(field.get('additionalProperties') or {}).get('type')}"
    if kind == "array":
        return f"array of {describe(field.get('items') or {})}"
    if field.get("format"):
        return f"{kind} ({field['format']})"
    return str(kind)


def _kind(field: Mapping[str, Any]) -> tuple:
    """What must match for an existing field to hold what the mapping writes."""
    kind = field.get("type")
    if kind == "object":
        is_map = field.get("meta:xdmType") == "map" or (
            "properties" not in field and isinstance(field.get("additionalProperties"), dict)
        )
        if is_map:
            return ("map", (field.get("additionalProperties") or {}).get("type"))
        return ("object",)
    if kind == "array":
        return ("array", _kind(field.get("items") or {}))
    return (kind, field.get("format"))


def _walk(
    existing: Mapping[str, Any], wanted: Mapping[str, Any], pointer: str, dotted: str
) -> Iterator[tuple[str, Any, str] | TypeConflict]:
    if _kind(existing) != _kind(wanted):
        yield TypeConflict(dotted, describe(existing), describe(wanted))
        return
    if wanted.get("type") == "array":
        yield from _walk(existing["items"], wanted["items"], pointer + "/items", dotted + "[]")
        return
    if _kind(wanted) != ("object",):
        return
    if "properties" not in existing:  # an object declared empty: add all its fields at once
        wanted_fields = wanted.get("properties") or {}
        if wanted_fields:
            yield (pointer + "/properties", wanted_fields, dotted)
        return
    present = existing["properties"]
    lowered = {name.lower(): name for name in present}
    for name, sub in (wanted.get("properties") or {}).items():
        here_pointer = f"{pointer}/properties/{_escape(name)}"
        here = f"{dotted}.{name}"
        if name in present:
            yield from _walk(present[name], sub, here_pointer, here)
        elif name.lower() in lowered:  # Platform compares field names regardless of case
            yield TypeConflict(here, f"a field named {lowered[name.lower()]}", describe(sub))
        else:
            yield (here_pointer, sub, here)


def field_group_changes(
    existing: Mapping[str, Any], wanted: Mapping[str, Any], tenant_id: str
) -> FieldGroupChanges:
    """Additive JSON Patch bringing `existing` up to `wanted`, and the conflicts left alone."""
    found = _tenant_root(existing, tenant_id)
    _, wanted_root = _tenant_root(wanted, tenant_id) or ("", {})
    if found is None:
        name = next(iter(existing.get("definitions") or {}), None)
        if name is None:
            raise NotExpressibleError("the existing field group has no definitions to extend")
        pointer = f"/definitions/{_escape(name)}/properties/_{tenant_id}"
        operation = {"op": "add", "path": pointer, "value": copy.deepcopy(wanted_root)}
        return FieldGroupChanges((operation,), (), (f"_{tenant_id}",))
    name, existing_root = found
    pointer = f"/definitions/{_escape(name)}/properties/_{tenant_id}"
    additions, conflicts, paths = [], [], []
    for item in _walk(existing_root, wanted_root, pointer, f"_{tenant_id}"):
        if isinstance(item, TypeConflict):
            conflicts.append(item)
        else:
            here_pointer, value, dotted = item
            additions.append({"op": "add", "path": here_pointer, "value": copy.deepcopy(value)})
            paths.append(dotted)
    return FieldGroupChanges(tuple(additions), tuple(conflicts), tuple(paths))
