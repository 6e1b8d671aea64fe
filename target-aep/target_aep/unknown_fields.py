"""Fields under the tenant area that the dataset's schema lacks: dropped, never a dead letter.

Stripe adds fields without a new API version
(https://docs.stripe.com/upgrades#what-changes-does-stripe-consider-to-be-backward-compatible),
and the tenant copy keeps every field a record carries, so a record can hold tenant fields the
dataset's schema does not define. Platform refuses a record with a key its schema lacks
("extraneous key [x] is not permitted",
https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/quality/streaming-validation),
which would dead-letter every later record of the stream. `UnknownTenantFields.drop` removes
such keys from `_<tenant>`, at any depth, and says which (dotted paths, list items as `[]`).
Nothing outside `_<tenant>` is touched: standard XDM fields stay validated strictly.

The walk runs only for a record the closed schema refuses (the route checks first), so a
valid record pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class _Closed:
    """An object the schema declares with properties: what it may hold, where to look deeper."""

    declared: frozenset[str]
    objects: tuple[tuple[str, _Closed], ...]
    lists: tuple[tuple[str, _Closed], ...]


def _closed(schema: Any) -> _Closed | None:
    """The compiled object `schema` declares, if it declares one with properties (a map, an
    object without properties or one allowing other keys is not closed)."""
    if not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping):
        return None
    if schema.get("additionalProperties", False) is not False:
        return None
    objects, lists = [], []
    for name, sub in schema["properties"].items():
        child = _closed(sub)
        if child is not None:
            objects.append((name, child))
        items = _closed(sub.get("items")) if isinstance(sub, Mapping) else None
        if items is not None:
            lists.append((name, items))
    return _Closed(frozenset(schema["properties"]), tuple(objects), tuple(lists))


class UnknownTenantFields:
    """The tenant subtree of one dataset schema, compiled to drop what it does not define."""

    def __init__(self, schema: Mapping[str, Any], tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.root = f"_{tenant_id}"
        tenant = (schema.get("properties") or {}).get(self.root)
        self._tenant = _closed(tenant)

    def drop(self, xdm: dict[str, Any]) -> list[str]:
        """Remove, in place, every `_<tenant>` field the schema lacks; their dotted paths (a
        path once per place it was dropped from: list items repeat it)."""
        return self._walk(xdm, remove=True)

    def find(self, xdm: dict[str, Any]) -> list[str]:
        """The paths `drop` would remove, leaving `xdm` as it is."""
        return self._walk(xdm, remove=False)

    def _walk(self, xdm: dict[str, Any], *, remove: bool) -> list[str]:
        tenant = xdm.get(self.root)
        if self._tenant is None or type(tenant) is not dict:
            return []
        found: list[str] = []
        _walk(tenant, self._tenant, self.root, found, remove)
        return found


def _walk(value: dict[str, Any], node: _Closed, path: str, found: list[str], remove: bool) -> None:
    """What `node` does not declare in `value` (dropped with `remove`), then deeper; an object
    or list left empty goes too (nothing empty is sent)."""
    for key in [key for key in value if key not in node.declared]:
        found.append(f"{path}.{key}")
        if remove:
            del value[key]
    for key, child in node.objects:
        sub = value.get(key)
        if type(sub) is dict:
            _walk(sub, child, f"{path}.{key}", found, remove)
            if remove and not sub:
                del value[key]
    for key, child in node.lists:
        items = value.get(key)
        if type(items) is list:
            for item in items:
                if type(item) is dict:
                    _walk(item, child, f"{path}.{key}[]", found, remove)
            if remove and {} in items:
                kept = [item for item in items if item != {}]
                if kept:
                    value[key] = kept
                else:
                    del value[key]
