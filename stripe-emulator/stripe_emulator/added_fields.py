"""Fields Stripe adds to its answers without a new API version.

Adding a response field is a backward-compatible change for Stripe, made without a new API
version (https://docs.stripe.com/upgrades#what-changes-does-stripe-consider-to-be-backward-compatible),
so clients see fields their own description of the object does not declare. The emulator can
serve such fields: each is a dotted path into the object (`risk_score`, `outcome.advice_detail`,
`items.data.price.tier_hint`) and a JSON value. A path through a list sets the field on each of
the list's objects; a path whose parent is absent, null or not an object is left alone (Stripe
adds fields to the objects that exist).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

AddedFields = dict[tuple[str, ...], Any]
"""Path segments -> the value every object gets there."""


def parse_paths(fields: Mapping[str, Any]) -> AddedFields:
    """`{"outcome.advice_detail": "x"}` -> `{("outcome", "advice_detail"): "x"}`."""
    parsed: AddedFields = {}
    for path, value in fields.items():
        segments = tuple(path.split("."))
        if not path or not all(segments):
            raise ValueError(f"added field {path!r}: not a dotted path such as outcome.detail")
        parsed[segments] = value
    return parsed


def parse_flag(text: str, resources: Mapping[str, str]) -> tuple[str, str, Any]:
    """`charges.outcome.advice_detail="x"` -> ("charges", "outcome.advice_detail", "x").

    The value is JSON (`42`, `true`, `null`, `"01"`, `{"a": 1}`); anything that is not JSON is
    taken as a string. `resources` are the known resource names.
    """
    target, separator, raw = text.partition("=")
    resource, _, path = target.partition(".")
    if not separator or resource not in resources or not path:
        raise ValueError(
            f"bad added field {text!r}: use RESOURCE.PATH=JSON with resource in "
            f"{sorted(resources)}, e.g. charges.outcome.advice_detail='\"x\"'"
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    parse_paths({path: value})  # checks the path
    return resource, path, value


def apply(obj: dict[str, Any], fields: AddedFields) -> None:
    """Set every added field on `obj` (in place)."""
    for segments, value in fields.items():
        _set(obj, segments, value)


def _set(node: Any, segments: tuple[str, ...], value: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _set(item, segments, value)
        return
    if not isinstance(node, dict):
        return
    head, rest = segments[0], segments[1:]
    if not rest:
        node[head] = copy.deepcopy(value)
    elif node.get(head) is not None:
        _set(node[head], rest, value)
