"""What every API of the AEP double shares: the answer type, request-body and filter reading.

The double is split one module per Adobe API (Schema Registry, Identity Service, Catalog, Flow
Service); each handles its own paths and returns an `Answer`, which the server encodes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list -> JSON; bytes as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str | None]:
        if self.body is None:
            return b"", None
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        return json.dumps(self.body).encode(), "application/json"


class RefusalError(Exception):
    """Raised inside an API module to answer with `answer` (keeps validation code flat)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def problem(status: int, title: str, detail: str = "", code: str = "") -> Answer:
    """Adobe's problem shape (`type`, `title`, `status`, `detail`), as the registry answers."""
    body: dict[str, Any] = {
        "type": f"http://ns.adobe.com/aep/errors/{code or 'XDM-0000'}-{status}",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    return Answer(status, body)


def json_body(body: bytes) -> Any:
    """The request's JSON, or a `RefusalError` with 400 when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        raise RefusalError(problem(400, "The request body is not JSON")) from None


# `property=` filters as the Schema Registry appendix documents them
# (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/appendix#filtering);
# Catalog and Flow Service list calls take the same `name==value` spelling.
_FILTER = re.compile(r"^(?P<name>[^=!<>~]+?)(?:(?P<op>==|!=|<=|>=|<|>|~)(?P<value>.*))?$")


def matches(item: dict, expressions: Iterable[str]) -> bool:
    """True when `item` satisfies every filter expression (dotted names reach nested values)."""
    for expression in expressions:
        found = _FILTER.match(expression.strip())
        if found is None:
            raise RefusalError(problem(400, f"Invalid property filter {expression!r}"))
        value = lookup(item, found["name"])
        op, wanted = found["op"], found["value"]
        values = value if isinstance(value, list) else [value]
        if op is None:
            if value is None:
                return False
        elif op == "==":
            if not any(str(v) == wanted for v in values if v is not None):
                return False
        elif op == "!=":
            if any(str(v) == wanted for v in values if v is not None):
                return False
        elif op == "~":
            if not any(re.search(wanted, str(v)) for v in values if v is not None):
                return False
        elif not _compare(value, op, wanted):
            return False
    return True


def lookup(item: Any, dotted: str) -> Any:
    """`item`'s value at a dotted name; a key that itself holds a dot or colon is tried whole."""
    if isinstance(item, dict) and dotted in item:
        return item[dotted]
    head, _, rest = dotted.partition(".")
    if not rest or not isinstance(item, dict) or head not in item:
        return None
    return lookup(item[head], rest)


def _compare(value: Any, op: str, wanted: str) -> bool:
    try:
        left, right = float(value), float(wanted)
    except (TypeError, ValueError):
        left, right = str(value), wanted  # type: ignore[assignment]
    return {
        "<": left < right,
        ">": left > right,
        "<=": left <= right,
        ">=": left >= right,
    }[op]
