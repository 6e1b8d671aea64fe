"""Records that differ from an example in one place: every field, at any depth, given each of a
set of values of every JSON type (and the Python objects the SDK makes), or an unknown field
beside it. What a check must get right whatever a tap sends."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

VALUES: tuple[Any, ...] = (
    None, "", "text", "2024-01-02T03:04:05Z", "1700000000", 0, -1, 1_700_000_000,
    253_402_300_800, 10**15, 1.5, 2.0, True, False, {}, {"id": "x_1"}, {"a": 1}, {"a": None},
    {"a": {"b": 2}}, [], ["s"], [1], [1.5], [True], [{"a": 1}], [{"id": "x_1"}], [[1]], [None],
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), Decimal("7"), Decimal("7.5"),
    math.nan, -math.inf, [math.inf], {"a": math.nan},
)  # fmt: skip


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key path in `value`, lists entered at their first item."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list) and value:
        yield from _paths(value[0], (*prefix, 0))


def _replaced(value: Any, path: tuple, new: Any) -> Any:
    head, *rest = path
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[head] = new if not rest else _replaced(value[head], tuple(rest), new)
    return copied


def mutations(record: dict) -> Iterator[tuple[str, dict]]:
    """(what changed, the record) for each one-place change of `record`."""
    for path in _paths(record):
        for new in VALUES:
            yield f"{path}={new!r}", _replaced(record, path, new)
        parent = path[:-1]
        if path[-1] != 0:  # an unknown field beside this one, in the same object
            where: Any = record
            for key in parent:
                where = where[key]
            if isinstance(where, dict):
                widened = {**where, "not_declared_field": 1}
                changed = _replaced(record, parent, widened) if parent else widened
                yield f"{parent}+not_declared_field", changed
