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

from target_aep.mapping.names import camel_case
from target_aep.mapping.timestamps import to_rfc3339
from target_aep.sdk_adapters import SDC_PREFIX

# Stripe fields holding Unix seconds whose names do not end in `_at` (e.g. a balance transaction's
# `available_on`: https://docs.stripe.com/api/balance_transactions/object).
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

# Maps of user keys: keys kept verbatim, values as strings. Stripe's `metadata` is such a map
# (https://docs.stripe.com/metadata); XDM has maps of strings (an object with
# `additionalProperties`: https://experienceleague.adobe.com/en/docs/experience-platform/xdm/schema/field-constraints).
MAP_FIELDS = frozenset({"metadata"})


def is_timestamp_field(name: str) -> bool:
    """True for Stripe fields carrying Unix seconds (converted to RFC 3339 in the tenant area)."""
    return name in TIMESTAMP_FIELDS or name.endswith("_at")


def _is_singer_metadata(name: str) -> bool:
    return name.startswith(SDC_PREFIX)


# Per layout (index 0: Stripe names, 1: camelCase) and field name, computed once:
# (name to write, or None for Singer metadata; an int there is a timestamp; a map of user keys).
_KEY_PLANS: tuple[dict[str, tuple[str | None, bool, bool]], ...] = ({}, {})


def _plan(key: str, camel: bool) -> tuple[str | None, bool, bool]:
    if key.startswith(SDC_PREFIX):
        plan: tuple[str | None, bool, bool] = (None, False, False)
    else:
        name = camel_case(key) if camel else key
        plan = (name, camel and is_timestamp_field(key), key in MAP_FIELDS)
    plans = _KEY_PLANS[camel]
    if len(plans) < 10_000:
        plans[key] = plan
    return plan


def _tenant_dict(value: dict, camel: bool, skip: frozenset[str] = frozenset()) -> dict | None:
    """The hot loop: one plan lookup per key, exact-type dispatch, only containers recurse."""
    kept = {}
    plan_of = _KEY_PLANS[camel].get
    for key, item in value.items():
        if item is None or key in skip:
            continue
        name, is_timestamp, is_map = plan_of(key) or _plan(key, camel)
        if name is None:
            continue
        kind = type(item)
        if kind is str:
            if item:
                kept[name] = item
        elif kind is int:
            kept[name] = to_rfc3339(item) if is_timestamp else item
        elif kind is bool or kind is float:
            kept[name] = item
        elif kind is dict:
            if is_map:
                converted = {str(k): str(v) for k, v in item.items() if v is not None and v != ""}
            else:
                converted = _tenant_dict(item, camel)
            if converted:
                kept[name] = converted
        elif kind is list:
            converted_items = _tenant_list(item, key, camel)
            if converted_items:
                kept[name] = converted_items
        else:
            converted = tenant_value(item, key, camel)
            if converted is not None and converted != {}:
                kept[name] = converted
    return kept or None


def _tenant_list(value: list, name: str, camel: bool) -> list | None:
    """A list's items in tenant form (the name is the list's: its items inherit its rules)."""
    kept = []
    nested_objects = name not in MAP_FIELDS
    for item in value:
        kind = type(item)
        if kind is dict and nested_objects:
            converted = _tenant_dict(item, camel)
        elif kind is str:
            converted = item or None
        else:
            converted = tenant_value(item, name, camel)
        if converted is not None:
            kept.append(converted)
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
        return _tenant_list(value, name, camel)
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
