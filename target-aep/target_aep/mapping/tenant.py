"""The tenant area: every Stripe field kept under `_<tenant>.stripe.<object>`, camelCase.

Two halves of one rule live here so they cannot drift apart: `tenant_value` turns a Stripe value
into its tenant form, and `tenant_schema` turns the stream's Singer schema into the Platform-form
(closed) schema of that same tenant form. Together they keep "nothing lost" checkable: whatever
the tap declares is carried, and validated, without a hand-written list of Stripe fields.

XDM fields cannot say everything JSON Schema can: one type per field, no `anyOf`/`oneOf`, every
object with declared sub-fields, maps of strings or integers only
(https://experienceleague.adobe.com/en/docs/experience-platform/xdm/schema/field-constraints).
So `tenant_layout` reads the Singer schema once per stream, and every field follows one of these
rules, in the values (`tenant_object(..., layout=...)`) and in the schema alike (`RULES`):

- an object with declared properties -> a closed object of those fields, by these rules;
- `metadata` (or any object of string values) -> a map of strings (keys as is);
- an expandable field (a string or an object: Stripe's id or expanded object) -> a string, the
  id (the string itself, or the expanded object's `id`);
- an object without declared properties, any other union of types, an untyped field -> a
  string holding the Stripe value as compact JSON text, keys sorted (a string stays as is);
- an array -> an array whose items follow these rules;
- anything else (string, number, integer, boolean, date-time) -> that type; Unix-second
  fields become RFC 3339 date-times (camelCase layout).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from target_aep.mapping.names import camel_case
from target_aep.mapping.timestamps import END_OF_9999, to_rfc3339, to_unix
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
# (name to write, or None for Singer metadata; the field is a timestamp; a map of user keys).
_KEY_PLANS: tuple[dict[str, tuple[str | None, bool, bool]], ...] = ({}, {})


def _plan(key: str, camel: bool) -> tuple[str | None, bool, bool]:
    if key.startswith(SDC_PREFIX):
        plan: tuple[str | None, bool, bool] = (None, False, False)
    else:
        name = camel_case(key) if camel else key
        plan = (name, is_timestamp_field(key), key in MAP_FIELDS)
    plans = _KEY_PLANS[camel]
    if len(plans) < 10_000:
        plans[key] = plan
    return plan


# Rule kinds of a layout: (kind, child), child the layout of an object's fields or the rule of an
# array's items; a VALUE rule also names its declared type, (VALUE, None, declared), one of
# "string", "date-time", "integer", "number", "boolean". VALUE, OBJECT and MAP convert as the
# generic rules do; ID and TEXT reshape.
VALUE, OBJECT, MAP, ARRAY, ID, TEXT = range(6)
Layout = dict  # field name -> (kind, child)
RULES = {
    VALUE: "as its type",
    OBJECT: "object of declared fields",
    MAP: "map of strings",
    ARRAY: "array",
    ID: "string: the id of an expandable object",
    TEXT: "string: JSON text of a value XDM cannot type",
}


# msgspec writes what json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
# default=str) writes for decoded JSON (strings escaped alike, Decimals as strings), ~5x faster.
# It differs for values no Singer line decodes to: a float written with an exponent (1e16, not
# 1e+16) and a datetime (RFC 3339, not str()); both only from a stream map's expression.
_ENCODE_TEXT = msgspec.json.Encoder(order="sorted", enc_hook=str).encode


def json_text(value: Any) -> str | None:
    """A value XDM cannot type, as compact JSON text with sorted keys (None when empty)."""
    if value is None or value == "" or value == {} or value == []:
        return None
    if type(value) is str:
        return value
    return _ENCODE_TEXT(value).decode()


def _reshaped(item: Any, rule_kind: int) -> str | None:
    """An ID or TEXT field's value."""
    if rule_kind == ID:
        if type(item) is str:
            return item or None
        if isinstance(item, dict) and item.get("id"):
            return str(item["id"])
    return json_text(item)


_NO_SKIP: frozenset[str] = frozenset()

# Valid by construction. Every function writing tenant fields by a layout also says, by
# appending to `doubts`, where what it wrote may not fit the layout's schema (`tenant_schema`):
# a field the layout does not know, a value of another type than the declared one, anything the
# generic rules convert. A record with no doubt fits that schema, so validation need not read
# its fields again (`RecordValidator.accepting_with_known`); one with a doubt is validated whole.
# Unix seconds from 0 to END_OF_9999 are RFC 3339 with a four-digit year (fastjsonschema's
# date-time pattern needs four). A NaN or infinite float fits no number (validation.py).


def _fitting(rule: tuple | None, is_timestamp: bool, is_map: bool, camel: bool) -> dict[str, str]:
    """Per branch of a generated shape (the value's type), the line recording a doubt, or ""
    where what that branch writes fits the field's declared schema."""
    doubt = "doubts.append({k})"
    kind = rule[0] if rule is not None else None
    declared = rule[2] if rule is not None and kind == VALUE else None
    stamps = is_timestamp and camel  # Unix seconds are written as RFC 3339
    if stamps:
        fits_stamp = declared in ("date-time", "string")
        in_range = f"0 <= item < {END_OF_9999}"  # literals: no name lookups
        int_line = f"if not {in_range}: {doubt}" if fits_stamp else doubt
    else:
        int_line = "" if declared in ("integer", "number") else doubt
    if declared == "boolean":
        bool_float = "if kind is float: " + doubt
    elif declared == "number" and not stamps:  # a float fits when finite (x - x is 0.0)
        bool_float = "if kind is bool or item - item != 0.0: " + doubt
    else:
        bool_float = doubt
    # a map of strings fits only a map; anything else is written as an object of fields
    fits_dict = kind == MAP if is_map or kind == MAP else kind == OBJECT
    return {
        "str": "" if declared == "string" and not is_timestamp else doubt,
        "int": int_line,
        "bool_float": bool_float,
        "dict": "" if fits_dict else doubt,
        "list": "" if kind == ARRAY else doubt,
    }


# Per (layout, layout's camelCase, skipped fields): the layout itself (kept alive, so its id
# stays its own) and, per key sequence seen (a record's keys in their order), the function
# generated for exactly that sequence. Records of one stream nearly always share their keys
# and order (Stripe sends every field, null or not), so one tuple of keys and one dict lookup
# replace a plan and a rule lookup per key. Bounded: past _SHAPES_PER_LAYOUT key sequences a
# layout's other records take the loop.
_SHAPES: dict[tuple[int, bool, frozenset[str]], tuple[Layout | None, dict[tuple, Any]]] = {}
_SHAPES_PER_LAYOUT = 64
_LAYOUTS_KEPT = 1_000


_ORDERS = {  # the declared type's branch first: a Stripe value nearly always has that type
    "string": ("str", "int", "bool_float", "dict", "list"),
    "number": ("int", "bool_float", "str", "dict", "list"),
    "boolean": ("bool_float", "str", "int", "dict", "list"),
    OBJECT: ("dict", "str", "int", "bool_float", "list"),
    ARRAY: ("list", "str", "int", "bool_float", "dict"),
}
_ORDERS["integer"] = _ORDERS["date-time"] = ("int", "str", "bool_float", "dict", "list")
_ORDERS[MAP] = _ORDERS[OBJECT]


def _branch_order(rule: tuple | None) -> tuple[str, ...]:
    """The order of a generated field's type tests (the string's first for a field the
    layout does not know)."""
    if rule is None:
        return _ORDERS["string"]
    return _ORDERS.get(rule[2] if rule[0] == VALUE else rule[0], _ORDERS["string"])


def _shapes_for(layout: Layout | None, camel: bool, skip: frozenset[str]) -> dict:
    """The generated functions of one (layout, camelCase, skipped fields). Emptied when full
    (a run that sends SCHEMA again and again makes new layouts), so memory stays flat: the
    functions in use keep what they reach, the rest are generated again when next needed."""
    key = (id(layout), camel, skip)
    entry = _SHAPES.get(key)
    if entry is not None and entry[0] is layout:
        return entry[1]
    if len(_SHAPES) >= _LAYOUTS_KEPT:
        _SHAPES.clear()
    _SHAPES[key] = entry = (layout, {})
    return entry[1]


def _tenant_dict(
    value: Mapping[str, Any],
    camel: bool,
    skip: frozenset[str] = _NO_SKIP,
    layout: Layout | None = None,
    doubts: list | None = None,
) -> dict | None:
    """A Stripe object's fields in tenant form, by the function generated for its key sequence
    (the loop's result, byte for byte, key order included); doubts as the module says."""
    if doubts is None:
        doubts = []
    shapes = _shapes_for(layout, camel, skip)
    if type(value) is not dict:
        return _tenant_dict_loop(value, camel, skip, layout, doubts)
    keys = tuple(value)
    compiled = shapes.get(keys)
    if compiled is None:
        if len(shapes) >= _SHAPES_PER_LAYOUT:
            return _tenant_dict_loop(value, camel, skip, layout, doubts)
        compiled = shapes[keys] = _compile_shape(keys, camel, skip, layout)
    result: dict | None = compiled(value, doubts)
    return result


def _compile_shape(keys: tuple, camel: bool, skip: frozenset[str], layout: Layout | None) -> Any:
    """Straight-line code doing `_tenant_dict_loop`'s steps for one key sequence: each key's
    name, timestamp/map flags and layout rule are decided here, once, not per record."""
    namespace: dict[str, Any] = {
        "_reshaped": _reshaped,
        "_timestamp_text": _timestamp_text,
        "_tenant_dict": _tenant_dict,
        "_tenant_list": _tenant_list,
        "tenant_value": tenant_value,
        "to_rfc3339": to_rfc3339,
        "camel": camel,
        "NO_SKIP": _NO_SKIP,
    }
    lines = ["def shape(value, doubts):", "    kept = {}"]
    names_written: set[str] = set()
    for index, key in enumerate(keys):
        if type(key) is not str or key in skip:
            if type(key) is not str:
                # a key the loop would have to look up (not a JSON object's): leave it the loop
                return lambda value, doubts: _tenant_dict_loop(value, camel, skip, layout, doubts)
            continue
        name, is_timestamp, is_map = _KEY_PLANS[camel].get(key) or _plan(key, camel)
        if name is None:
            continue
        rule = layout.get(key) if layout is not None else None
        if name in names_written:  # two Stripe keys, one name: the schema has only one of them
            lines.append(f"    doubts.append({key!r})")
        names_written.add(name)
        kind = rule[0] if rule is not None else None
        # an object's layout, a list's item rule: where the layout has no object (no array)
        # for the value met, it takes the generic rules
        child = rule[1] if rule is not None and kind == OBJECT else None
        namespace[f"C{index}"] = child
        namespace[f"L{index}"] = rule[1] if rule is not None and kind == ARRAY else None
        # a sub-object's function found here, without _tenant_dict's call: the child's own
        # registry, filled as its key sequences are met
        namespace[f"S{index}"] = _shapes_for(child, camel, _NO_SKIP)
        k, n = repr(key), repr(name)
        lines.append(f"    item = value[{k}]")
        lines.append("    if item is not None:")
        if rule is None:  # a field the layout does not know: not in the schema (one doubt)
            lines.append(f"        doubts.append({k})")
        if rule is not None and rule[0] >= ID:  # always a string: fits
            lines.append(f"        text = _reshaped(item, {rule[0]})")
            lines.append(f"        if text: kept[{n}] = text")
            continue
        text_value = "_timestamp_text(item, camel)" if is_timestamp else "item"
        int_value = "to_rfc3339(item)" if is_timestamp and camel else "item"
        fitting = {
            branch: ("            " + line.format(k=k) if line and rule is not None else "")
            for branch, line in _fitting(rule, is_timestamp, is_map, camel).items()
        }
        if is_map or (rule is not None and rule[0] == MAP):
            convert_dict = [
                "            converted = {str(a): str(b) for a, b in item.items()"
                " if b is not None and b != ''}"
            ]
        else:
            convert_dict = [
                f"            shape = S{index}.get(tuple(item))",
                "            converted = shape(item, doubts) if shape is not None"
                f" else _tenant_dict(item, camel, NO_SKIP, C{index}, doubts)",
            ]
        body = " " * 12  # the lines of a branch
        str_doubt = fitting["str"].replace(body, body + "    ", 1)
        branches = {  # by the value's exact type: one applies, whatever their order
            "str": ["kind is str", body + "if item:", f"{body}    kept[{n}] = {text_value}",
                    str_doubt],
            "int": ["kind is int", f"{body}kept[{n}] = {int_value}", fitting["int"]],
            "bool_float": ["kind is bool or kind is float", f"{body}kept[{n}] = item",
                           fitting["bool_float"]],
            "dict": ["kind is dict", *convert_dict, f"{body}if converted: kept[{n}] = converted",
                     fitting["dict"]],
            "list": ["kind is list",
                     f"{body}converted = _tenant_list(item, {k}, camel, L{index}, doubts)",
                     f"{body}if converted: kept[{n}] = converted", fitting["list"]],
        }  # fmt: skip
        lines.append("        kind = type(item)")
        for number, branch in enumerate(_branch_order(rule)):
            condition, *branch_lines = branches[branch]
            lines += [f"        {'elif' if number else 'if'} {condition}:", *branch_lines]
        lines += [
            "        else:",
            f"            converted = tenant_value(item, {k}, camel)",
            f"            if converted is not None and converted != {{}}: kept[{n}] = converted",
            f"            doubts.append({k})",
        ]
    lines = [line for line in lines if line]
    lines.append("    return kept or None")
    exec(compile("\n".join(lines), "<tenant shape>", "exec"), namespace)
    return namespace["shape"]


def _tenant_dict_loop(
    value: Mapping[str, Any],
    camel: bool,
    skip: frozenset[str] = _NO_SKIP,
    layout: Layout | None = None,
    doubts: list | None = None,
) -> dict | None:
    """The generic loop: one plan lookup per key, exact-type dispatch, only containers recurse.
    It vouches for nothing (one doubt): its records are validated whole."""
    if doubts is not None:
        doubts.append(None)
    kept: dict[str, Any] = {}
    plan_of = _KEY_PLANS[camel].get
    rule_of = layout.get if layout is not None else None
    for key, item in value.items():
        if item is None or key in skip:
            continue
        name, is_timestamp, is_map = plan_of(key) or _plan(key, camel)
        if name is None:
            continue
        rule = rule_of(key) if rule_of is not None else None
        if rule is not None and rule[0] >= ID:
            text = _reshaped(item, rule[0])
            if text:
                kept[name] = text
            continue
        kind = type(item)
        if kind is str:
            if item:
                kept[name] = _timestamp_text(item, camel) if is_timestamp else item
        elif kind is int:
            kept[name] = to_rfc3339(item) if is_timestamp and camel else item
        elif kind is bool or kind is float:
            kept[name] = item
        elif kind is dict:
            converted: dict | None
            if is_map or (rule is not None and rule[0] == MAP):
                converted = {str(k): str(v) for k, v in item.items() if v is not None and v != ""}
            else:
                layout_of = rule[1] if rule is not None and rule[0] == OBJECT else None
                converted = _tenant_dict(item, camel, layout=layout_of)
            if converted:
                kept[name] = converted
        elif kind is list:
            item_rule = rule[1] if rule is not None and rule[0] == ARRAY else None
            converted_items = _tenant_list(item, key, camel, item_rule)
            if converted_items:
                kept[name] = converted_items
        else:
            value_kept = tenant_value(item, key, camel)
            if value_kept is not None and value_kept != {}:
                kept[name] = value_kept
    return kept or None


def _timestamp_text(text: str, camel: bool) -> str | int:
    """Another tap's ISO string where Stripe sends Unix seconds: RFC 3339 in the camelCase
    layout, Unix seconds in the compat one (as Stripe's); left as it is when it is no time."""
    try:
        converted = to_rfc3339(text) if camel else to_unix(text)
    except ValueError:
        return text
    return text if converted is None else converted


def _tenant_list(
    value: list,
    name: str,
    camel: bool,
    item_rule: tuple | None = None,
    doubts: list | None = None,
) -> list | None:
    """A list's items in tenant form (the name is the list's: its items inherit its rules);
    doubts as the module says: only reshaped items, objects of declared fields and plain
    strings fit their schema here."""
    if doubts is None:
        doubts = []
    kept = []
    nested_objects = name not in MAP_FIELDS
    reshape = item_rule[0] if item_rule is not None and item_rule[0] >= ID else None
    child = item_rule[1] if item_rule is not None else None
    objects = item_rule is not None and item_rule[0] == OBJECT
    strings = item_rule is not None and item_rule[0] == VALUE and item_rule[2] == "string"
    for item in value:
        kind = type(item)
        converted: Any
        if reshape is not None:
            converted = _reshaped(item, reshape)
        elif kind is dict and nested_objects:
            converted = _tenant_dict(item, camel, layout=child, doubts=doubts)
            if not objects:
                doubts.append(name)
        elif kind is str:
            converted = item or None
            if not strings:
                doubts.append(name)
        else:
            converted = tenant_value(item, name, camel)
            doubts.append(name)
        if converted is not None:
            kept.append(converted)
    return kept or None


def tenant_object(
    record: Mapping[str, Any],
    skip: frozenset[str] = frozenset(),
    camel: bool = True,
    layout: Layout | None = None,
    doubts: list | None = None,
) -> dict:
    """A whole Stripe object in tenant form, leaving out the `skip` fields (mapped elsewhere).

    With the stream's `layout` (`tenant_layout`), fields XDM cannot type are reshaped by its
    rules; fields the layout does not know (not in the stream's schema) keep the generic rules.
    `doubts`, when given, gains an entry wherever the result may not fit `tenant_schema`'s
    schema of that layout; left empty, the result fits it.
    """
    if layout is None and doubts is not None:
        doubts.append(None)  # no layout: nothing to fit
    return _tenant_dict(record, camel, skip, layout, doubts) or {}


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
        text = to_rfc3339(value)
        return (
            int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
            if text
            else None
        )
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


def _options(schema: dict) -> list[dict] | None:
    """The non-null alternatives of a field that may hold several types, else None."""
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return [o for o in schema[combinator] if _types_of(o) or "properties" in o]
    types = _types_of(schema)
    if len(types) > 1:
        return [{**schema, "type": kind} for kind in types]
    return None


_STRING = {"type": "string"}


def _rule(schema: dict, name: str, camel: bool) -> tuple[tuple, dict]:
    """One field's (layout rule, Platform-form schema): the table in the module docstring."""
    options = _options(schema)
    if options is not None:
        if len(options) == 1:
            return _rule({k: v for k, v in options[0].items() if k != "anyOf"}, name, camel)
        kinds = {t for option in options for t in (_types_of(option) or ["object"])}
        if kinds == {"string", "object"}:
            return (ID, None), dict(_STRING)
        return (TEXT, None), dict(_STRING)
    types = _types_of(schema)
    if "object" in types or "properties" in schema:
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if name in MAP_FIELDS or (
            not properties and isinstance(extra, dict) and _types_of(extra) == ["string"]
        ):
            return (MAP, None), {"type": "object", "additionalProperties": {"type": "string"}}
        if properties:
            layout: Layout = {}
            converted = {}
            for key, sub in properties.items():
                if _is_singer_metadata(key):
                    continue
                layout[key], converted[camel_case(key) if camel else key] = _rule(sub, key, camel)
            schema_out = {"type": "object", "properties": converted, "additionalProperties": False}
            return (OBJECT, layout), schema_out
        return (TEXT, None), dict(_STRING)
    if "array" in types:
        items = schema.get("items")
        if not items:
            return (ARRAY, (TEXT, None)), {"type": "array", "items": dict(_STRING)}
        item_rule, item_schema = _rule(items, name, camel)
        return (ARRAY, item_rule), {"type": "array", "items": item_schema}
    if not types:
        return (TEXT, None), dict(_STRING)
    fmt = schema.get("format")
    if fmt in ("date-time", "date"):
        if camel:
            return (VALUE, None, "date-time"), {"type": "string", "format": "date-time"}
        return (VALUE, None, "integer"), {"type": "integer"}
    if camel and is_timestamp_field(name) and set(types) & {"integer", "number"}:
        return (VALUE, None, "date-time"), {"type": "string", "format": "date-time"}
    # Stripe's enums grow over time; Platform's tenant strings would not enforce them either.
    return (VALUE, None, types[0]), {"type": types[0]}


def tenant_layout(schema: dict, camel: bool = True) -> Layout:
    """How each field of a stream's records is written (the first half of `_rule`)."""
    rule, _ = _rule({"type": "object", **schema}, "", camel)
    return rule[1] or {}


def tenant_schema(schema: dict, name: str = "", camel: bool = True) -> dict:
    """The Platform-form schema of `tenant_object(value, layout=tenant_layout(schema))`.

    Objects with properties are closed; every field has one type XDM can declare (see the
    module docstring); nullability disappears because nulls are never sent.
    """
    return _rule(schema, name, camel)[1]
