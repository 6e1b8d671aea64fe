"""Adobe's source XDM schemas (../shared/xdm) turned into the Platform form payloads use.

The repository files name fields `xdm:timestamp`, `@id`...; Platform's APIs and ingestion use the
converted ("XED") form: `timestamp`, `_id`, camelCase for hyphenated names, and closed objects
(aep.md 6.6 and 9, ../shared/xdm/README.md). This helper resolves `$ref`/`allOf` by `$id`, renames
the keys and closes every object that has properties, so a test can validate our mapped records
against Adobe's own definitions rather than against our built-in copies.
"""

from __future__ import annotations

import json
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
