"""The tenant area: every Stripe field kept under `_<tenant>.stripe.<object>`, camelCase.

Two halves of one rule live here so they cannot drift apart: `tenant_value` turns a Stripe value
into its tenant form, and `tenant_schema` turns the stream's Singer schema into the Platform-form
(closed) schema of that same tenant form. Together they keep "nothing lost" checkable: whatever
the tap declares is carried, and validated, without a hand-written list of Stripe fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from target_aep.conversions import camel_case, to_rfc3339

# Stripe fields holding Unix seconds whose names do not end in `_at` (aep.md 7.1).
TIMESTAMP_FIELDS = frozenset(
    {
        "created",
        "available_on",
        "billing_cycle_anchor",
        "current_period_start",
        "current_period_end",
        "start_date",
        "trial_start",
        "trial_end",
        "cancel_at",
        "canceled_at",
        "ended_at",
        "arrival_date",
        "date",
    }
)

# Maps of user keys: keys kept verbatim, values as strings (XDM map of strings, aep.md 7.2).
MAP_FIELDS = frozenset({"metadata"})


def is_timestamp_field(name: str) -> bool:
    """True for Stripe fields carrying Unix seconds (converted to RFC 3339 in the tenant area)."""
    return name in TIMESTAMP_FIELDS or name.endswith("_at")


def _is_singer_metadata(name: str) -> bool:
    return name.startswith("_sdc_")


# Per field name, computed once: (camelCase name, holds a timestamp, is a map, Singer metadata).
_KEY_FACTS: dict[str, tuple[str, bool, bool, bool]] = {}


def _facts(key: str) -> tuple[str, bool, bool, bool]:
    facts = _KEY_FACTS.get(key)
    if facts is None:
        facts = (camel_case(key), is_timestamp_field(key), key in MAP_FIELDS, key[:5] == "_sdc_")
        if len(_KEY_FACTS) < 10_000:
            _KEY_FACTS[key] = facts
    return facts


def _tenant_dict(value: dict, camel: bool, skip: frozenset[str] = frozenset()) -> dict | None:
    """The hot loop: scalars are handled inline, only containers recurse."""
    kept = {}
    facts_of = _KEY_FACTS.get
    for key, item in value.items():
        if item is None or key in skip:
            continue
        camel_name, is_timestamp, is_map, is_metadata = facts_of(key) or _facts(key)
        if is_metadata:
            continue
        kind = type(item)
        if kind is str:
            if item:
                kept[camel_name if camel else key] = item
            continue
        if kind is bool or kind is float or (kind is int and not (camel and is_timestamp)):
            kept[camel_name if camel else key] = item
            continue
        if is_map and kind is dict:
            converted = {str(k): str(v) for k, v in item.items() if v is not None and v != ""}
        else:
            converted = tenant_value(item, key, camel)
        if converted is not None and converted != {}:
            kept[camel_name if camel else key] = converted
    return kept or None


def tenant_object(record: dict, skip: frozenset[str] = frozenset(), camel: bool = True) -> dict:
    """A whole Stripe object in tenant form, leaving out the `skip` fields (mapped elsewhere)."""
    return _tenant_dict(record, camel, skip) or {}


def tenant_value(value: Any, name: str = "", camel: bool = True) -> Any:
    """A Stripe value in tenant form; None when nothing is left (nulls and empties dropped).

    `camel=False` keeps Stripe's snake_case names and raw values (the compat layout).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        if name in MAP_FIELDS:
            kept_map = {str(k): str(v) for k, v in value.items() if v is not None and v != ""}
            return kept_map or None
        return _tenant_dict(value, camel)
    if isinstance(value, list):
        items = [tenant_value(item, name, camel) for item in value]
        kept_items = [item for item in items if item is not None]
        return kept_items or None
    if isinstance(value, bool):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        if camel:
            return to_rfc3339(value)
        return int(dt.datetime.fromisoformat(to_rfc3339(value).replace("Z", "+00:00")).timestamp())
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if camel and isinstance(value, (int, float)) and is_timestamp_field(name):
        return to_rfc3339(value)
    return value


def _types_of(schema: dict) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    types = [declared] if isinstance(declared, str) else list(declared)
    return [t for t in types if t != "null"]


def _only(schema: dict, kind: str) -> dict:
    """`schema` restricted to one JSON type (its object/array keywords only where they apply)."""
    single = {**schema, "type": kind}
    if kind != "object":
        single.pop("properties", None)
        single.pop("additionalProperties", None)
    if kind != "array":
        single.pop("items", None)
    return single


def tenant_schema(schema: dict, name: str = "", camel: bool = True) -> dict:
    """The Platform-form schema of `tenant_value(value)` for values valid against `schema`.

    Objects with properties are closed; objects without are maps; `anyOf`/`oneOf` alternatives
    (Stripe's expandable fields: an id or the object) stay alternatives; nullability disappears
    because nulls are never sent.
    """
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            options = [tenant_schema(option, name, camel) for option in schema[combinator]]
            options = [option for option in options if option.get("type") != "null"]
            if len(options) == 1:
                return options[0]
            return {"anyOf": options} if options else {}
    types = _types_of(schema)
    if len(types) > 1:  # e.g. Stripe's expandable ["string", "object"]: one schema per type
        options = [tenant_schema(_only(schema, kind), name, camel) for kind in types]
        return {"anyOf": options}
    if "object" in types or "properties" in schema:
        if name in MAP_FIELDS:
            return {"type": "object", "additionalProperties": {"type": "string"}}
        properties = schema.get("properties")
        if properties:
            converted = {
                (camel_case(key) if camel else key): tenant_schema(sub, key, camel)
                for key, sub in properties.items()
                if not _is_singer_metadata(key)
            }
            return {"type": "object", "properties": converted, "additionalProperties": False}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return {"type": "object", "additionalProperties": tenant_schema(extra, "", camel)}
        return {"type": "object"}
    if "array" in types:
        items = schema.get("items")
        return {"type": "array", "items": tenant_schema(items, name, camel) if items else {}}
    fmt = schema.get("format")
    if fmt in ("date-time", "date"):
        if camel:
            return {"type": "string", "format": "date-time"}
        return {"type": "integer"}
    if camel and is_timestamp_field(name) and set(types) & {"integer", "number"}:
        return {"type": "string", "format": "date-time"}
    # Stripe's enums grow over time; Platform's tenant strings would not enforce them either.
    return {"type": types[0]} if types else {}
