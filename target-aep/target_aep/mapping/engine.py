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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from target_aep.mapping.changes import TAP_BOOKKEEPING_FIELDS, Change, change_of
from target_aep.mapping.converters import MappingOptions, converter_named
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


# Step kinds: read one key of the object, pass the whole object, fetch a sub-object once for
# several rows, or walk a path / alternatives with a compiled getter.
_KEY, _WHOLE, _GROUP, _GETTER = 0, 1, 2, 3


def _compile(rows: tuple[Row, ...]) -> list[tuple]:
    """Rows -> steps. Consecutive rows reading fields of one Stripe sub-object (e.g. the six
    `billing_details.address.*` rows) become one step that fetches the sub-object once and skips
    all of them when it is absent (a converter given None writes nothing anyway). A single key
    or the whole object is read inline, without a getter call."""
    steps: list[tuple] = []
    group_parent = None  # the Stripe sub-object the last step reads, when it is a group
    for target, source, converter_name in rows:
        convert, _schema = converter_named(converter_name)
        put = _setter(target)
        parent, _, leaf = source.rpartition(".")
        if parent and "|" not in source and parent == group_parent:
            steps[-1][3].append((leaf, convert, put, target, source))
            continue
        group_parent = None
        if source == "*":
            steps.append((_WHOLE, None, convert, put, target, source))
        elif "|" in source:
            steps.append((_GETTER, _getter(source), convert, put, target, source))
        elif not parent:
            steps.append((_KEY, source, convert, put, target, source))
        else:
            group = [(leaf, convert, put, target, source)]
            steps.append((_GROUP, _getter(parent), None, group, target, source))
            group_parent = parent
    return steps


def _apply(
    steps: list[tuple],
    obj: Mapping[str, Any],
    out: dict,
    options: Any,
    problems: list[FieldProblem],
    prefix: str = "",
) -> None:
    # `read`: the key (_KEY) or the getter (_GETTER, _GROUP); `write`: the setter, or for a
    # group the list of (leaf key, converter, setter, target, source) rows. A row whose value
    # cannot be converted is skipped and reported (a `try` costs nothing until it raises).
    for kind, read, convert, write, target, source in steps:
        raw: Any = None
        try:
            if kind == _KEY:
                raw = obj.get(read)
                value = convert(raw, obj, options)
            elif kind == _WHOLE:
                value = convert(obj, obj, options)
            elif kind == _GROUP:
                container = read(obj)
                if not isinstance(container, dict):
                    continue
                _apply_group(write, container, obj, out, options, problems, prefix)
                continue
            else:
                raw = read(obj)
                value = convert(raw, obj, options)
        except CONVERSION_FAILURES as exc:
            problems.append(_problem(prefix + target, source, raw, exc))
            continue
        if value is not None and value != "":
            write(out, value)  # converters return None, never an empty container


def _apply_group(
    rows: list[tuple],
    container: Mapping[str, Any],
    obj: Mapping[str, Any],
    out: dict,
    options: Any,
    problems: list[FieldProblem],
    prefix: str,
) -> None:
    for leaf, convert, put, target, source in rows:
        raw = container.get(leaf)
        try:
            value = convert(raw, obj, options)
        except CONVERSION_FAILURES as exc:
            problems.append(_problem(prefix + target, source, raw, exc))
            continue
        if value is not None and value != "":
            put(out, value)


def _problem(target: str, source: str, raw: Any, exc: Exception) -> FieldProblem:
    shown = "" if raw is None else f" {source}={repr(raw)[:80]}:"
    return FieldProblem(target, source, f"cannot map{shown} {type(exc).__name__}: {exc}")


def _one_primary(identity_map: dict) -> None:
    """Exactly one identity of a record is primary
    (https://experienceleague.adobe.com/en/docs/experience-platform/collection/identity/identity-map):
    promote the first when none is."""
    rows = [row for items in identity_map.values() for row in items]
    if rows and not any(row.get("primary") for row in rows):
        rows[0]["primary"] = True


class TableMapper:
    """Maps one stream's Stripe records to XDM with a compiled table."""

    def __init__(self, table: Table, options: MappingOptions, stream: str | None = None) -> None:
        self.table = table
        self.stream = stream or table.stream
        self.options = options
        self.is_profile = table.is_profile
        self.schema = table.schema
        self._rows = _compile(table.rows)
        # A record carrying the fact maps its rows in the same pass (one loop, not two).
        self._rows_with_fact = _compile(table.rows + table.fact_rows)
        self._is_fact = converter_named(table.fact_state)[0] if table.fact_state else None
        self._fact_changes = frozenset(table.fact_changes)
        # A change event keeps the identities only: the person it happened to.
        self._change_rows = _compile(tuple(r for r in table.rows if r[0] == "identityMap"))
        self._lists = [
            (_setter(target), _getter(source), _compile(rows), target)
            for target, source, rows in table.lists
        ]
        self._tenant_rows = _compile(table.tenant_rows)
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
        _apply(self._rows_with_fact if fact else self._rows, record, xdm, self.options, problems)
        for put, get, rows, target in self._lists:
            items = []
            elements = get(record)
            for index, element in enumerate(elements if isinstance(elements, list) else ()):
                if not isinstance(element, dict):
                    continue  # another tap's bare id: nothing to list (the tenant area has it)
                mapped: dict[str, Any] = {}
                _apply(rows, element, mapped, self.options, problems, f"{target}[{index}].")
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
        _apply(self._change_rows, record, xdm, self.options, problems)
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
        if full:
            detail = tenant_object(record, self._tenant_consumed, layout=self._layout)
            _apply(self._tenant_rows, record, detail, self.options, problems, "stripe.")
        else:
            detail = tenant_object(record, self._change_consumed, layout=self._layout)
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
