"""JSON Patch (RFC 6902, https://datatracker.ietf.org/doc/html/rfc6902) for the AEP double.

The Schema Registry and Catalog accept JSON Patch arrays on PATCH; the double applies them with
this to a copy of the stored resource and answers 400 when an operation cannot apply.
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """An operation that RFC 6902 says must fail (bad pointer, missing target, failed test)."""


def apply_patch(document: Any, operations: Any) -> Any:
    """The result of applying `operations` to a deep copy of `document`."""
    if not isinstance(operations, list):
        raise PatchError("a JSON Patch document is an array of operations")
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"operation without op or path: {operation!r}")
        result = _apply(result, operation)
    return result


def pointer_parts(pointer: str) -> list[str]:
    """RFC 6901 reference tokens of `pointer` (`~1` is `/`, `~0` is `~`)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"a JSON Pointer starts with '/': {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _apply(document: Any, operation: dict) -> Any:
    op, path = operation["op"], operation["path"]
    if op == "add":
        return _add(document, pointer_parts(path), copy.deepcopy(_value(operation)))
    if op == "remove":
        return _remove(document, pointer_parts(path))[0]
    if op == "replace":
        document, _ = _remove(document, pointer_parts(path))
        return _add(document, pointer_parts(path), copy.deepcopy(_value(operation)))
    if op in ("move", "copy"):
        source = pointer_parts(operation.get("from", ""))
        value = copy.deepcopy(_get(document, source))
        if op == "move":
            if path.startswith(operation["from"] + "/"):
                raise PatchError("cannot move a value into one of its children")
            document, _ = _remove(document, source)
        return _add(document, pointer_parts(path), value)
    if op == "test":
        if _get(document, pointer_parts(path)) != _value(operation):
            raise PatchError(f"test failed at {path}")
        return document
    raise PatchError(f"unknown operation {op!r}")


def _value(operation: dict) -> Any:
    if "value" not in operation:
        raise PatchError(f"{operation['op']} at {operation['path']} has no value")
    return operation["value"]


def _get(document: Any, parts: list[str]) -> Any:
    node = document
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"no value at /{'/'.join(parts)}")
    return node


def _add(document: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _get(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"bad array index {last!r}")
    else:
        raise PatchError(f"cannot add below a scalar at /{'/'.join(parts[:-1])}")
    return document


def _remove(document: Any, parts: list[str]) -> tuple[Any, Any]:
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _get(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return document, parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return document, parent.pop(int(last))
    raise PatchError(f"no value to remove at /{'/'.join(parts)}")
