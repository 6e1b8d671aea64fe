"""Find fields a stream schema does not declare (so a target building from it would drop them)."""

from __future__ import annotations

from typing import Any


def undeclared_fields(value: Any, schema: dict, path: str = "") -> list[str]:
    """Paths in `value` that `schema` does not describe.

    An object schema with `properties` must declare every key, unless it gives an
    `additionalProperties` schema (like `metadata`); an object schema without `properties`
    is free-form (polymorphic Stripe hashes such as `payment_method_details`).
    """
    found: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            where = f"{path}.{key}" if path else key
            if props is not None and key in props:
                found += undeclared_fields(sub, props[key], where)
            elif isinstance(extra, dict):
                found += undeclared_fields(sub, extra, where)
            elif props is not None:
                found.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += undeclared_fields(item, schema["items"], f"{path}[{index}]")
    return found
