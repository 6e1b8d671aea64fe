"""The mapping engine: compiles a declarative table once, then maps records with no lookups.

A table (see `mapping/tables/`) lists `(XDM path, Stripe path, converter)` rows. XDM paths are
Platform-form dotted paths; `name[0]` addresses the first element of an array of objects.
Stripe paths are dotted too; `a|b` takes the first non-empty alternative; `*` passes the whole
object to the converter. Nothing null or empty is ever written (Platform rejects it).

Each row is mapped on its own: a value its converter cannot use costs that field only (the
mapper reports it as a `FieldProblem`), never the rest of the record.

A table of an event stream (`change_events`) maps an object's first state as its business event
(the creation's metrics); a record re-emitted after a Stripe event is a separate change event
(`mapping/changes.py`): stamped with the change's time, typed after it, carrying the identities
and the current state in the tenant area, but no metric again.

Some objects become their business fact only after their creation: a charge is a purchase once
it has succeeded and been captured, days later for a bank debit. Such a table names the state
that is the fact (`fact_state`), the rows only that fact carries (`fact_rows`) and the Stripe
events after which a change can be it (`fact_changes`). The fact is carried by the one record
where the object becomes it (its first state if it is the fact already, else the change after
one of those events) and always has the `_id` of the object itself, so the same fact seen twice
(a re-read, another tap's stamps) is the same event.
"""

from __future__ import annotations

import copy
import linecache
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from target_aep.mapping.changes import TAP_BOOKKEEPING_FIELDS, Change, change_of
from target_aep.mapping.converters import NOTHING_FOR_NULL, MappingOptions, converter_named
from target_aep.mapping.ids import change_id, creation_id, object_id, record_id
from target_aep.mapping.tenant import Layout, tenant_layout, tenant_object, tenant_schema
from target_aep.sdk_adapters import SDC_BOOKKEEPING

Row = tuple[str, str, str]
# What a converter raises for a value it cannot convert.
CONVERSION_FAILURES = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)


@dataclass(frozen=True)
class FieldProblem:
    """One XDM field a mapping row could not produce from the record's value."""

    path: str  # XDM path (Platform form), e.g. commerce.order.priceTotal
    source: str  # the Stripe path it reads
    message: str


@dataclass(frozen=True)
class Table:
    """One stream's mapping, as data a reader can check against the XDM documentation."""

    stream: str  # the Singer stream it maps by default
    object_key: str  # tenant key: `_<tenant>.stripe.<object_key>`
    schema: str  # built-in Platform-form schema file in target_aep/schemas/
    is_profile: bool  # record data for Profile (customers) vs everything else
    rows: tuple[Row, ...]  # standard XDM fields
    lists: tuple[tuple[str, str, tuple[Row, ...]], ...] = ()  # (XDM array, Stripe list, rows)
    tenant_rows: tuple[Row, ...] = ()  # fields a table adds (or reshapes) in the tenant object
    # Event streams: a change is its own event (see the module docstring).
    change_events: bool = False
    # (Stripe event type prefix, XDM eventType prefix): how a change event's type is named.
    event_types: tuple[tuple[str, str], ...] = ()
    delete_event: str = ""  # the Stripe event of a delete (a record with only `_sdc_deleted_at`)
    metric_fields: tuple[str, ...] = ()  # Stripe fields a change event leaves out (the measures)
    # Objects that become their fact after their creation (see the module docstring):
    fact_state: str = ""  # converter: truthy when the object's state is the fact ("": always)
    fact_rows: tuple[Row, ...] = ()  # the fact's metrics, only on the record carrying the fact
    fact_changes: tuple[str, ...] = ()  # Stripe event types after which a change can be the fact


Getter = Callable[[Mapping[str, Any]], Any]
Setter = Callable[[dict, Any], None]


def _getter(source: str) -> Getter:
    if source == "*":
        return lambda obj: obj
    alternatives = [tuple(option.split(".")) for option in source.split("|")]

    def walk(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
        value: Any = obj
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    if len(alternatives) == 1:
        (path,) = alternatives
        if len(path) == 1:
            (key,) = path
            return lambda obj: obj.get(key)
        return lambda obj: walk(obj, path)

    def first(obj: Mapping[str, Any]) -> Any:
        for path in alternatives:
            value = walk(obj, path)
            if value is not None and value != "":
                return value
        return None

    return first


def _segments(target: str) -> list[str | tuple[str, int]]:
    segments: list[str | tuple[str, int]] = []
    for part in target.split("."):
        if part.endswith("]"):
            name, _, index = part[:-1].partition("[")
            segments.append((name, int(index)))
        else:
            segments.append(part)
    return segments


def _setter(target: str) -> Setter:
    *parents, leaf = _segments(target)
    if isinstance(leaf, tuple):
        raise ValueError(f"an XDM path must end in a field name: {target!r}")
    path = tuple(parents)

    def put(root: dict, value: Any) -> None:
        node = root
        for segment in path:
            if segment.__class__ is tuple:
                name, index = segment
                items = node.get(name)
                if items is None:
                    items = node[name] = []
                while len(items) <= index:
                    items.append({})
                node = items[index]
            else:  # get first: setdefault would build a throwaway {} on every call
                child = node.get(segment)
                if child is None:
                    child = node[segment] = {}
                node = child
        if isinstance(value, dict):
            existing = node.get(leaf)
            if isinstance(existing, dict):
                for key, extra in value.items():  # identityMap rows merge namespace by namespace
                    existing[key] = existing.get(key, []) + extra
                return
        node[leaf] = value

    return put


RowsFunction = Callable[..., None]  # (obj, out, options, problems, prefix="") -> None


def _put_lines(
    target: str,
    out: str,
    value: str,
    indent: str,
    merges: bool,
    parents_met: dict[tuple, str] | None = None,
) -> list[str]:
    """Source lines writing `value` at the XDM path `target` in `out`: get each parent first
    (setdefault would build a throwaway {} on every call); a dict value (identityMap rows;
    `merges`: the converter produces objects) merges namespace by namespace into one there.

    With `parents_met` (parent path -> local variable, filled here) each parent is found once
    per call of the generated function and kept in its local (None until then): the rows of
    a table write into a few objects (`commerce.order`, `payments[0]`) many times."""
    *parents, leaf = _segments(target)
    if isinstance(leaf, tuple):
        raise ValueError(f"an XDM path must end in a field name: {target!r}")
    lines: list[str] = []
    node = out
    for depth, segment in enumerate(parents):
        if parents_met is not None:
            prefix = tuple(parents[: depth + 1])
            child = parents_met.get(prefix) or parents_met.setdefault(
                prefix, f"parent_{len(parents_met)}"
            )
        else:
            child = f"node_{depth}"
        if isinstance(segment, tuple):
            name, index = segment
            found = [
                f"items = {node}.get({name!r})",
                "if items is None:",
                f"    items = {node}[{name!r}] = []",
                f"while len(items) <= {index}:",
                "    items.append({})",
                f"{child} = items[{index}]",
            ]
        else:
            found = [
                f"{child} = {node}.get({segment!r})",
                f"if {child} is None:",
                f"    {child} = {node}[{segment!r}] = {{}}",
            ]
        if parents_met is not None:  # a known parent's own parents are known too: one test
            found = [f"if {child} is None:", *("    " + line for line in lines + found)]
            lines = found
        else:
            lines += found
        node = child
    if merges:
        lines += [
            f"if isinstance({value}, dict):",
            f"    merge({node}, {leaf!r}, {value})",
            "else:",
            f"    {node}[{leaf!r}] = {value}",
        ]
    else:
        lines.append(f"{node}[{leaf!r}] = {value}")
    return [indent + line for line in lines]


def _merge(node: dict, leaf: str, value: dict) -> None:
    existing = node.get(leaf)
    if isinstance(existing, dict):
        for key, extra in value.items():  # identityMap rows merge namespace by namespace
            existing[key] = existing.get(key, []) + extra
    else:
        node[leaf] = value


def rows_source(rows: tuple[Row, ...], name: str = "rows") -> tuple[str, dict[str, Any]]:
    """The Python source of one function mapping `rows`, and the names it uses.

    Straight-line code, one block per row: read the Stripe value (a key, the whole object, or a
    compiled getter for alternatives), convert it inside its own `try` (a value the converter
    cannot use costs that field only and is reported with the row's XDM path), write it unless
    empty. Consecutive rows reading fields of one Stripe sub-object (e.g. the six
    `billing_details.address.*` rows) fetch it once and are skipped when it is absent, and a
    converter that writes nothing for a null (`NOTHING_FOR_NULL`) is not called for one."""
    names: dict[str, Any] = {"FAILURES": CONVERSION_FAILURES, "problem": _problem, "merge": _merge}
    lines = [f"def {name}(obj, out, options, problems, prefix=''):"]
    group_parent = None  # the Stripe sub-object the current group of rows reads
    # Parents are kept in locals unless a row writes a whole value where another row's parent
    # is (it would replace an object a local still holds).
    paths = [tuple(_segments(target)) for target, _source, _converter in rows]
    written_over = set(paths) & {path[:depth] for path in paths for depth in range(1, len(path))}
    parents_met: dict[tuple, str] | None = None if written_over else {}
    for number, (target, source, converter_name) in enumerate(rows):
        convert, produced = converter_named(converter_name)
        names[f"convert_{number}"] = convert
        merges = produced.get("type", "object") == "object"
        _setter(target)  # checks the path
        parent, _, leaf = source.rpartition(".")
        grouped = bool(parent) and "|" not in source
        lines.append(f"    # {target} <- {source} ({converter_name})")
        if grouped and parent != group_parent:  # `_getter(parent)`, inline
            first, *deeper = parent.split(".")
            lines.append(f"    container = obj.get({first!r})")
            lines += [
                f"    container = container.get({key!r}) if isinstance(container, dict) else None"
                for key in deeper
            ]
            lines.append("    grouped = isinstance(container, dict)")
        group_parent = parent if grouped else None
        indent = "    "
        if grouped:
            lines.append("    if grouped:")
            indent = "        "
            lines.append(f"{indent}raw = container.get({leaf!r})")
            argument = "raw"
        elif source == "*":
            lines.append(f"{indent}raw = None")
            argument = "obj"
        elif "|" in source:
            names[f"read_{number}"] = _getter(source)
            lines.append(f"{indent}raw = read_{number}(obj)")
            argument = "raw"
        else:
            lines.append(f"{indent}raw = obj.get({source!r})")
            argument = "raw"
        if argument == "raw" and converter_name in NOTHING_FOR_NULL:
            lines.append(f"{indent}if raw is not None:")
            indent += "    "
        lines += [
            f"{indent}try:",
            f"{indent}    value = convert_{number}({argument}, obj, options)",
            f"{indent}except FAILURES as exc:",
            f"{indent}    problems.append(problem(prefix + {target!r}, {source!r}, raw, exc))",
            f"{indent}else:",
            f"{indent}    if value is not None and value != '':",  # never an empty container
            *_put_lines(target, "out", "value", indent + "        ", merges, parents_met),
        ]
    if parents_met:
        lines.insert(1, "    " + " = ".join([*parents_met.values(), "None"]))
    if len(lines) == 1:
        lines.append("    pass")
    return "\n".join(lines) + "\n", names


_GENERATED = 0  # numbers each generated function's pseudo-file (tracebacks show its lines)


def _compile(rows: tuple[Row, ...], label: str) -> RowsFunction:
    """`rows_source` compiled: once per table and mode, when the mapper is built."""
    global _GENERATED
    _GENERATED += 1
    source, names = rows_source(rows)
    filename = f"<target_aep mapping {label} #{_GENERATED}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), names)  # the source is ours: rows_source
    function: RowsFunction = names["rows"]
    return function


def _problem(target: str, source: str, raw: Any, exc: Exception) -> FieldProblem:
    shown = "" if raw is None else f" {source}={repr(raw)[:80]}:"
    return FieldProblem(target, source, f"cannot map{shown} {type(exc).__name__}: {exc}")


def _one_primary(identity_map: dict) -> None:
    """Exactly one identity of a record is primary
    (https://experienceleague.adobe.com/en/docs/experience-platform/collection/identity/identity-map):
    promote the first when none is. Stops at the first primary one (a charge's customer, the
    first identity written): no list of every identity built per record."""
    first = None
    for items in identity_map.values():
        for row in items:
            if row.get("primary"):
                return
            if first is None:
                first = row
    if first is not None:
        first["primary"] = True


class TableMapper:
    """Maps one stream's Stripe records to XDM with a compiled table."""

    def __init__(self, table: Table, options: MappingOptions, stream: str | None = None) -> None:
        self.table = table
        self.stream = stream or table.stream
        self.options = options
        self.is_profile = table.is_profile
        self.schema = table.schema
        # One generated function per mode (see `generated_sources`).
        self._modes: dict[str, tuple[Row, ...]] = {
            "rows": table.rows,
            # A record carrying the fact maps its rows in the same pass (one function, not two).
            "rows_with_fact": table.rows + table.fact_rows,
            # A change event keeps the identities only: the person it happened to.
            "change_rows": tuple(r for r in table.rows if r[0] == "identityMap"),
            "tenant_rows": table.tenant_rows,
            **{f"list {target}": rows for target, _source, rows in table.lists},
        }
        label = f"{self.stream} {{}}".format
        self._rows = _compile(table.rows, label("rows"))
        self._rows_with_fact = _compile(self._modes["rows_with_fact"], label("rows_with_fact"))
        self._is_fact = converter_named(table.fact_state)[0] if table.fact_state else None
        self._fact_changes = frozenset(table.fact_changes)
        self._change_rows = _compile(self._modes["change_rows"], label("change_rows"))
        self._lists = [
            (_setter(target), _getter(source), _compile(rows, label(f"list {target}")), target)
            for target, source, rows in table.lists
        ]
        self._tenant_rows = _compile(table.tenant_rows, label("tenant_rows"))
        # Not copied to the tenant area: what `_<tenant>.stripe` has one level up, what the
        # tenant rows reshape, and the change stamps (they are `timestamp` and `eventType`).
        kept_apart = {"id", "object", "livemode", *TAP_BOOKKEEPING_FIELDS}
        consumed = {source.split(".")[0] for _, source, _ in table.tenant_rows}
        self._tenant_consumed = frozenset(consumed | kept_apart)
        self._change_consumed = frozenset(kept_apart | set(table.metric_fields))
        self._tenant_root = f"_{options.tenant_id}"
        self._deletion_event = f"stripe.{table.object_key}.deleted"
        self._layout: Layout | None = None
        self._id_ignore = SDC_BOOKKEEPING | options.id_ignore_fields
        # Valid by construction (mapping/tenant.py): the tenant detail's path, and per field the
        # layout writes there its schema; whether the last record mapped fits them.
        self.tenant_detail: tuple[tuple[str, ...], dict[str, Any]] | None = None
        self.tenant_certified = False

    def generated_sources(self) -> dict[str, str]:
        """The Python source generated for each mode of this table (to read or debug it)."""
        return {mode: rows_source(rows)[0] for mode, rows in self._modes.items()}

    def map(self, record: Mapping[str, Any]) -> dict:
        """One Stripe object (as the tap emitted it) -> one XDM record in Platform form."""
        return self.map_reporting(record)[0]

    def map_reporting(self, record: Mapping[str, Any]) -> tuple[dict, list[FieldProblem]]:
        """`map`, plus the fields that could not be produced from the record's values."""
        problems: list[FieldProblem] = []
        change = change_of(record, self.table.delete_event)
        if change is not None and self.table.change_events:
            if change.stripe_type in self._fact_changes and self._fact(record):
                return self._business_event(record, change, True, problems), problems
            return self._change_event(record, change, problems), problems
        return self._business_event(record, change, self._fact(record), problems), problems

    def _fact(self, record: Mapping[str, Any]) -> bool:
        """The object's state is the fact its table counts (always, without a `fact_state`)."""
        is_fact = self._is_fact
        return is_fact is None or bool(is_fact(record, record, self.options))

    def _business_event(
        self,
        record: Mapping[str, Any],
        change: Change | None,
        fact: bool,
        problems: list[FieldProblem],
    ) -> dict:
        """The object's first state, or the change where it becomes its fact (`change`);
        only a record carrying the fact has the fact's rows. Records of record streams
        (profiles, products) are one per state."""
        xdm: dict[str, Any] = {}
        (self._rows_with_fact if fact else self._rows)(record, xdm, self.options, problems)
        for put, get, rows, target in self._lists:
            items = []
            elements = get(record)
            for index, element in enumerate(elements if isinstance(elements, list) else ()):
                if not isinstance(element, dict):
                    continue  # another tap's bare id: nothing to list (the tenant area has it)
                mapped: dict[str, Any] = {}
                rows(element, mapped, self.options, problems, f"{target}[{index}].")
                if mapped:
                    items.append(mapped)
            if items:
                put(xdm, items)
        identity_map = xdm.get("identityMap")
        if identity_map:
            _one_primary(identity_map)
        if not self.table.change_events:  # records: one per state
            xdm["_id"] = record_id(self.stream, record.get("id"), record, self._id_ignore)
        elif fact:  # the business fact: one per object, whichever record carries it
            xdm["_id"] = object_id(self.stream, record.get("id"), record, self._id_ignore)
            if change is not None:  # it became the fact then
                xdm["timestamp"] = change.stamp
        else:  # a first state that is not the fact (yet): the object's creation
            xdm["_id"] = creation_id(self.stream, record.get("id"), record, self._id_ignore)
        xdm[self._tenant_root] = {"stripe": self._tenant(record, change, problems, full=True)}
        return xdm

    def _change_event(
        self, record: Mapping[str, Any], change: Change, problems: list[FieldProblem]
    ) -> dict:
        xdm: dict[str, Any] = {
            "_id": change_id(self.stream, record.get("id"), change.stripe_type, change.at),
            "timestamp": change.stamp,
            "eventType": self._change_event_type(change.stripe_type),
        }
        self._change_rows(record, xdm, self.options, problems)
        identity_map = xdm.get("identityMap")
        if identity_map:
            _one_primary(identity_map)
        xdm[self._tenant_root] = {"stripe": self._tenant(record, change, problems, full=False)}
        return xdm

    def _change_event_type(self, stripe_type: str) -> str:
        """`stripe.<object>.<what happened>` after the table's `event_types`."""
        for stripe_prefix, xdm_prefix in self.table.event_types:
            if stripe_type.startswith(stripe_prefix):
                return xdm_prefix + stripe_type[len(stripe_prefix) :]
        xdm_prefix = self.table.event_types[0][1]
        return xdm_prefix + (stripe_type.rpartition(".")[2] or "updated")

    def _tenant(
        self,
        record: Mapping[str, Any],
        change: Change | None,
        problems: list[FieldProblem],
        *,
        full: bool,
    ) -> dict:
        """`_<tenant>.stripe`: with the measures (`full`) or, on a change event, without them
        (no measure counted again)."""
        doubts: list = []
        skip = self._tenant_consumed if full else self._change_consumed
        detail = tenant_object(record, skip, layout=self._layout, doubts=doubts)
        if full:
            self._tenant_rows(record, detail, self.options, problems, "stripe.")
        self.tenant_certified = not doubts
        stripe: dict[str, Any] = {"objectType": record.get("object") or self.table.object_key}
        if record.get("id"):
            stripe["id"] = str(record["id"])
        if isinstance(record.get("livemode"), bool):
            stripe["livemode"] = record["livemode"]
        if change is not None and change.deleted:  # the object's last state, marked
            stripe["deleted"] = True
            stripe["deletedAt"] = change.stamp
            stripe["deletionEvent"] = self._deletion_event
        if detail:
            stripe[self.table.object_key] = detail
        return stripe

    def tenant_schema(self, singer_schema: Mapping[str, Any]) -> dict:
        """Schema of `_<tenant>` for this mapping, derived from the stream's Singer schema.

        From then on, records are written by the layout of that same schema (`tenant_layout`).
        """
        self._layout = tenant_layout(dict(singer_schema))
        properties = {
            key: sub
            for key, sub in singer_schema.get("properties", {}).items()
            if key not in self._tenant_consumed
        }
        detail = tenant_schema({"type": "object", "properties": properties})
        detail.setdefault("properties", {})
        detail["additionalProperties"] = False
        by_layout = dict(detail["properties"])  # what the tenant rows do not write
        for target, _source, _converter in self.table.tenant_rows:
            by_layout.pop(target.split(".")[0], None)
        root = self._tenant_root
        self.tenant_detail = ((root, "stripe", self.table.object_key), copy.deepcopy(by_layout))
        for target, _source, converter_name in self.table.tenant_rows:
            _convert, produced = converter_named(converter_name)
            node = detail
            *parents, leaf = target.split(".")
            for name in parents:
                node = node["properties"].setdefault(
                    name, {"type": "object", "properties": {}, "additionalProperties": False}
                )
            node["properties"][leaf] = produced
        stripe = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "objectType": {"type": "string"},
                "id": {"type": "string"},
                "livemode": {"type": "boolean"},
                "deleted": {"type": "boolean"},
                "deletedAt": {"type": "string", "format": "date-time"},
                "deletionEvent": {"type": "string"},
                self.table.object_key: detail,
            },
        }
        return {"type": "object", "additionalProperties": False, "properties": {"stripe": stripe}}
