"""The double's JSON Patch follows RFC 6902 (the examples of its appendix A)."""

from __future__ import annotations

import pytest

from tests.doubles.json_patch import PatchError, apply_patch


def test_add_inserts_into_objects_and_arrays_and_appends_with_a_dash():
    document = {"foo": ["bar", "baz"]}
    patched = apply_patch(
        document,
        [
            {"op": "add", "path": "/foo/1", "value": "qux"},
            {"op": "add", "path": "/foo/-", "value": "end"},
            {"op": "add", "path": "/a~1b", "value": 1},
        ],
    )
    assert patched == {"foo": ["bar", "qux", "baz", "end"], "a/b": 1}
    assert document == {"foo": ["bar", "baz"]}  # the original is left alone


def test_remove_replace_move_copy_and_test():
    document = {"a": {"b": 1, "c": 2}, "d": [1, 2]}
    patched = apply_patch(
        document,
        [
            {"op": "test", "path": "/a/b", "value": 1},
            {"op": "remove", "path": "/a/c"},
            {"op": "replace", "path": "/d/0", "value": 9},
            {"op": "move", "from": "/a/b", "path": "/e"},
            {"op": "copy", "from": "/d", "path": "/f"},
        ],
    )
    assert patched == {"a": {}, "d": [9, 2], "e": 1, "f": [9, 2]}


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": "/missing"},
        {"op": "add", "path": "/missing/child", "value": 1},
        {"op": "test", "path": "/a", "value": 2},
        {"op": "replace", "path": "/a"},
        {"op": "frobnicate", "path": "/a"},
    ],
)
def test_operations_that_cannot_apply_fail(operation):
    with pytest.raises(PatchError):
        apply_patch({"a": 1}, [operation])
