"""Records that always match their SCHEMA, as Stripe adds fields (`schema_drift`).

Stripe adds response fields without a new API version
(https://docs.stripe.com/upgrades#what-changes-does-stripe-consider-to-be-backward-compatible),
and the tap passes Stripe's objects through uncoerced, so a record can carry fields its SCHEMA
message does not declare; a target that trusts the SCHEMA then fails (a CSV target's columns)
or drops them without a word. Every object the schema declares with `properties` (and no
`additionalProperties` rule) is closed: a key it does not list is drift. Objects declared
without properties (`metadata`, the polymorphic `payment_method_details`) hold any keys and are
not checked. What happens to drift:

- `evolve`: the field is added to the stream's schema, its type inferred from the value
  (nullable; an object with the properties it holds, an array with its items' types), and an
  updated SCHEMA goes out before the first record carrying it; logged once per field. A field
  whose value is null shows no type: it is left out of the record until a value shows one
  (logged once). A field added this way is type-checked from then on, and a value of another
  type widens its type (another SCHEMA), so every record matches the latest SCHEMA.
- `drop`: the field is removed from the record, with a warning once per field path and a
  count per path at the end of the run.
- `fail`: the run stops with an error naming the stream and the field.

Cost per record: one `frozenset.issuperset` per closed object the record holds (the set and
the objects to visit are compiled once per schema); type checks only for fields added by
`evolve`. Paths read like `outcome.advice_code`, list items as `[]`:
`items.data[].price.tier_hint`.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tap_stripe_xdm.errors import SchemaDriftError
from tap_stripe_xdm.settings import SCHEMA_DRIFT_MODES

ITEMS = "[]"
"""The path segment of a list's items."""

Path = tuple[str, ...]

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}
_JSON_TYPE = {str: "string", int: "integer", float: "number", bool: "boolean"}


def show(path: Path) -> str:
    """`("items", "data", "[]", "price")` -> `items.data[].price`."""
    return ".".join(path).replace(".[]", "[]")


# --- the compiled check -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Closed:
    """One object the schema declares with properties, compiled for the check."""

    path: Path
    declared: frozenset[str]
    children: tuple[tuple[str, _Closed, bool], ...]
    """Properties that are closed objects themselves (True: a list of them)."""
    typed: tuple[tuple[str, frozenset[type], frozenset[type] | None], ...]
    """Properties added by `evolve`: the Python types their values and list items may have."""


@dataclass(frozen=True, slots=True)
class Drift:
    """One field a record holds that its schema does not declare (or, for a field `evolve`
    added, declares with another type)."""

    path: Path
    holder: dict[str, Any]
    key: str
    retyped: bool = False

    @property
    def value(self) -> Any:
        return self.holder[self.key]


def _declares_properties(schema: Any) -> bool:
    """An object with properties and no rule for other keys (`additionalProperties`)."""
    return (
        isinstance(schema, dict)
        and "properties" in schema
        and schema.get("additionalProperties", False) is False
    )


def _closed_part(schema: Any) -> dict | None:
    """The part of a property's schema that declares a closed object, if any: the schema
    itself, or its one `anyOf`/`oneOf` alternative that does."""
    if not isinstance(schema, dict):
        return None
    if "properties" in schema:
        return schema if _declares_properties(schema) else None
    options = [
        option
        for combinator in ("anyOf", "oneOf")
        for option in schema.get(combinator) or ()
        if _declares_properties(option)
    ]
    return options[0] if len(options) == 1 else None


def _types(schema: dict) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _python_types(schema: Any) -> frozenset[type] | None:
    """What a value of `schema` may be in Python; None when the schema does not say."""
    if not isinstance(schema, dict) or not _types(schema):
        return None
    return frozenset(kind for name in _types(schema) for kind in _PYTHON_TYPES.get(name, ()))


def _compile(schema: dict, path: Path, added: frozenset[Path], inside_added: bool) -> _Closed:
    children = []
    typed = []
    for key, sub in schema["properties"].items():
        sub_path = (*path, key)
        is_added = inside_added or sub_path in added
        if is_added and isinstance(sub, dict):
            value_types = _python_types(sub)
            if value_types is not None:
                typed.append((key, value_types, _python_types(sub.get("items"))))
        closed = _closed_part(sub)
        if closed is not None:
            children.append((key, _compile(closed, sub_path, added, is_added), False))
        items = _closed_part(sub.get("items")) if isinstance(sub, dict) else None
        if items is not None:
            children.append((key, _compile(items, (*sub_path, ITEMS), added, is_added), True))
    return _Closed(path, frozenset(schema["properties"]), tuple(children), tuple(typed))


def _scan(obj: dict, node: _Closed, found: list[Drift]) -> None:
    """Append what `obj` holds that `node` does not declare (the hot path: keep it lean)."""
    declared = node.declared
    if not declared.issuperset(obj):
        found.extend(Drift((*node.path, key), obj, key) for key in obj if key not in declared)
    for key, child, is_list in node.children:
        value = obj.get(key)
        if is_list:
            if type(value) is list:
                for item in value:
                    if type(item) is dict:
                        _scan(item, child, found)
        elif type(value) is dict:
            _scan(value, child, found)
    for key, value_types, item_types in node.typed:
        value = obj.get(key)
        if type(value) not in value_types or (
            item_types is not None
            and type(value) is list
            and any(type(item) not in item_types for item in value)
        ):
            found.append(Drift((*node.path, key), obj, key, retyped=True))


# --- inferring and widening a field's schema -----------------------------------------------------


def infer(value: Any) -> dict:
    """A nullable schema for `value`: its JSON type; an object's non-null fields; list items."""
    kind = type(value)
    if kind is dict:
        properties = {key: infer(item) for key, item in value.items() if item is not None}
        if not properties:  # no value shows what the object holds: keep it open
            return {"type": ["object", "null"]}
        return {"type": ["object", "null"], "properties": properties}
    if kind is list:
        schema: dict = {"type": ["array", "null"]}
        item_schemas = [infer(item) for item in value if item is not None]
        if item_schemas:
            items = item_schemas[0]
            for other in item_schemas[1:]:
                items = widen(items, other)
            schema["items"] = items
        return schema
    return {"type": [_JSON_TYPE.get(kind, "string"), "null"]}


def widen(existing: dict, wanted: dict) -> dict:
    """A schema that accepts every value of both (types united, objects' fields merged)."""
    types = list(dict.fromkeys([*_types(existing), *_types(wanted)]))
    if "number" in types and "integer" in types:
        types[types.index("integer")] = "number"
        types = list(dict.fromkeys(types))
    if "null" in types:  # nullable last, as inferred
        types = [*(t for t in types if t != "null"), "null"]
    merged: dict = {**existing, "type": types}
    if "object" in types:
        mine, theirs = existing.get("properties"), wanted.get("properties")
        declares = ("object" not in _types(existing) or mine is not None) and (
            "object" not in _types(wanted) or theirs is not None
        )
        if declares:  # an open object on either side keeps the result open
            properties = dict(mine or {})
            for key, sub in (theirs or {}).items():
                properties[key] = widen(properties[key], sub) if key in properties else sub
            merged["properties"] = properties
        else:
            merged.pop("properties", None)
    if "array" in types:
        mine_items, their_items = existing.get("items"), wanted.get("items")
        if mine_items is not None and their_items is not None:
            merged["items"] = widen(mine_items, their_items)
        elif "array" in _types(existing) and "array" in _types(wanted):
            merged.pop("items", None)  # one side holds any items
        else:
            merged["items"] = mine_items or their_items
            if merged["items"] is None:
                merged.pop("items")
    return merged


def _holder_schema(schema: dict, path: Path) -> dict:
    """The object schema (with `properties`) that declares the field at `path` (the walk
    `_compile` made to find it)."""
    node: Any = schema
    for segment in path[:-1]:
        node = node["items"] if segment == ITEMS else _closed_part(node)["properties"][segment]  # type: ignore[index]
    holder = _closed_part(node)
    assert holder is not None, path
    return holder


# --- one stream's drift ---------------------------------------------------------------------------


class SchemaDrift:
    """Checks one stream's records against its schema and handles drift by `mode`.

    `announce(schema)` is called with the updated schema (evolve) before `check` returns the
    records that need it. Shared by the stream's partitions; the rare handling is locked.
    """

    def __init__(
        self,
        stream: str,
        schema: dict,
        mode: str,
        announce: Callable[[dict], None],
        logger: logging.Logger,
    ) -> None:
        if mode not in SCHEMA_DRIFT_MODES:
            raise ValueError(f"schema_drift must be one of {SCHEMA_DRIFT_MODES}, got {mode!r}")
        self.stream, self.mode = stream, mode
        self._schema = schema
        self._announce, self._logger = announce, logger
        self._added: set[Path] = set()
        self._root = self._compiled()
        self.dropped: Counter[str] = Counter()
        self._held_back: set[str] = set()
        self._lock = threading.Lock()

    @property
    def schema(self) -> dict:
        """The stream's schema as last announced (the original until a field is added)."""
        return self._schema

    def _compiled(self) -> _Closed | None:
        root = _closed_part(self._schema)
        return _compile(root, (), frozenset(self._added), False) if root else None

    def check(self, records: Iterable[dict[str, Any]]) -> None:
        """Make every record match the stream's schema (in place), announcing changes first."""
        root = self._root
        if root is None:
            return
        found: list[Drift] = []
        for record in records:
            _scan(record, root, found)
            if found:
                self._handle(record, found)
                root = self._root or root  # recompiled when a field was declared
                found = []

    def _handle(self, record: dict[str, Any], found: list[Drift]) -> None:
        with self._lock:
            if self.mode == "fail":
                first = found[0]
                raise SchemaDriftError(
                    f"stream {self.stream!r}: record {record.get('id')!r} has field "
                    f"{show(first.path)!r}, which the stream's schema does not declare "
                    f"(schema_drift is 'fail'; 'evolve' declares such fields, 'drop' removes them)"
                )
            if self.mode == "drop":
                for drift in found:
                    del drift.holder[drift.key]
                    self._note_dropped(show(drift.path))
                return
            for _ in range(16):  # each pass declares fields or holds nulls back: few passes
                if not found:
                    return
                if self._evolve(found):
                    self._root = self._compiled()
                    self._announce(self._schema)
                found = []
                if self._root is not None:
                    _scan(record, self._root, found)
            raise AssertionError(f"stream {self.stream!r}: schema evolution did not settle")

    def _evolve(self, found: list[Drift]) -> bool:
        """Declare (or widen) the drifted fields; hold nulls back. True if the schema changed."""
        schema = None
        changed: dict[Path, tuple[dict, bool]] = {}
        declared = {drift.path for drift in found if drift.value is not None or drift.retyped}
        for drift in found:
            value = drift.value
            if value is None and not drift.retyped:
                if drift.path not in declared:  # else declared (nullable) in this pass: kept
                    del drift.holder[drift.key]
                    self._note_held_back(show(drift.path))
                continue
            if schema is None:
                schema = copy.deepcopy(self._schema)
            holder = _holder_schema(schema, drift.path)["properties"]
            existing = holder.get(drift.key)
            wanted = infer(value)
            holder[drift.key] = widen(existing, wanted) if existing else wanted
            changed[drift.path] = (holder[drift.key], drift.retyped)
        if schema is None:
            return False
        for path, (field_schema, retyped) in changed.items():
            self._added.add(path)
            self._logger.info(
                "Stream %s: %s field %s (%s) in Stripe's answer; an updated SCHEMA follows "
                "(schema_drift: evolve)",
                self.stream,
                "widened" if retyped else "new",
                show(path),
                _describe(field_schema),
            )
        self._schema = schema
        return True

    def _note_dropped(self, path: str) -> None:
        if path not in self.dropped:
            self._logger.warning(
                "Stream %s: dropping field %s, which the stream's schema does not declare "
                "(schema_drift: drop; counted, the total follows at the end of the run)",
                self.stream,
                path,
            )
        self.dropped[path] += 1

    def _note_held_back(self, path: str) -> None:
        if path not in self._held_back:
            self._held_back.add(path)
            self._logger.info(
                "Stream %s: field %s, which the stream's schema does not declare, is null: "
                "left out of records until a value shows its type (schema_drift: evolve)",
                self.stream,
                path,
            )

    def summary(self) -> str | None:
        """What `drop` removed, per path (None when nothing was dropped)."""
        if not self.dropped:
            return None
        counts = ", ".join(f"{path} from {n:,} records" for path, n in sorted(self.dropped.items()))
        return f"Stream {self.stream}: dropped undeclared fields (schema_drift: drop): {counts}"


def _describe(schema: dict) -> str:
    types = [t for t in _types(schema) if t != "null"]
    text = " or ".join(types) or "any"
    if "properties" in schema:
        text += " of " + ", ".join(schema["properties"])
    return text
