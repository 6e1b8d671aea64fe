"""The tenant area's functions generated per key sequence write what the generic loop writes,
key order included (mapping/tenant.py)."""

from __future__ import annotations

import json

import pytest
from target_aep.mapping import tenant
from target_aep.mapping.tenant import tenant_layout, tenant_object

SINGER = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "created": {"type": "integer"},
        "customer": {"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}]},
        "payment_method_details": {"type": ["object", "null"]},
        "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "outcome": {
            "type": ["object", "null"],
            "properties": {"risk_score": {"type": ["integer", "null"]}, "paid_at": {}},
        },
        "lines": {"type": "array", "items": {"type": "object"}},
        "_sdc_extracted_at": {"type": "string"},
    },
}
RECORD = {
    "id": "ch_1",
    "created": 1700000000,
    "customer": {"id": "cus_1", "email": "a@example.com"},
    "payment_method_details": {"card": {"brand": "visa"}},
    "metadata": {"order": "7", "empty": "", "none": None},
    "outcome": {"risk_score": 12, "paid_at": "2024-01-02T03:04:05Z", "unknown_field": [1, ""]},
    "lines": [{"amount": 5, "period_end": 1700000001}, "li_2", ""],
    "description": None,
    "refunded": False,
    "fee": 1.5,
    "undeclared_at": 1700000002,
    "undeclared_text": "2024-01-02",
    "_sdc_extracted_at": "2024-01-01T00:00:00Z",
}


def _as_text(value: object) -> str:
    return json.dumps(value)  # key order counts: json.dumps keeps it


@pytest.mark.parametrize("camel", [True, False])
@pytest.mark.parametrize("skip", [frozenset(), frozenset({"id", "created"})])
def test_each_key_sequence_writes_what_the_loop_writes(camel, skip, monkeypatch):
    monkeypatch.setattr(tenant, "_SHAPES", {})  # room for this test's layouts
    layout = tenant_layout(SINGER, camel=camel)
    reordered = dict(reversed(list(RECORD.items())))
    nulls = dict.fromkeys(RECORD)
    for record in (RECORD, reordered, nulls, {**RECORD, "outcome": None, "customer": "cus_2"}):
        for _ in range(2):  # compiled on the first, reused on the second
            written = tenant_object(record, skip, camel=camel, layout=layout)
            expected = tenant._tenant_dict_loop(record, camel, skip, layout) or {}
            assert _as_text(written) == _as_text(expected)
    assert tenant._SHAPES  # the generated functions wrote them
    assert next(iter(tenant_object(reordered, skip, camel=camel, layout=layout))) == (
        "undeclaredText" if camel else "undeclared_text"
    )


def test_a_layout_with_too_many_key_sequences_takes_the_loop(monkeypatch):
    monkeypatch.setattr(tenant, "_SHAPES", {})
    monkeypatch.setattr(tenant, "_SHAPES_PER_LAYOUT", 1)
    layout = tenant_layout(SINGER)
    first = tenant_object({"id": "ch_1"}, layout=layout)
    other = tenant_object({"created": 1700000000, "id": "ch_2"}, layout=layout)
    assert first == {"id": "ch_1"}
    assert list(other) == ["created", "id"]
    assert len(tenant._shapes_for(layout, True, frozenset()) or {}) == 1


def test_sub_objects_are_written_by_their_own_function_without_the_dispatch(monkeypatch):
    """Once every key sequence is known, a record costs one dispatch (`_tenant_dict`) for the
    record itself; its sub-objects' functions are found inline. (An empty registry once was
    replaced by a new dict at compile time, so every sub-object went through the dispatch.)"""
    monkeypatch.setattr(tenant, "_SHAPES", {})
    calls = []
    dispatch = tenant._tenant_dict

    def counting(*args, **kwargs):
        calls.append(args[0])
        return dispatch(*args, **kwargs)

    monkeypatch.setattr(tenant, "_tenant_dict", counting)
    layout = tenant_layout(SINGER)
    record = {key: value for key, value in RECORD.items() if key != "lines"}
    for _ in range(3):  # the first call compiles the record's and its sub-objects' functions
        calls.clear()
        written = tenant_object(record, layout=layout)
    assert len(calls) == 1, [sorted(call) for call in calls]
    assert _as_text(written) == _as_text(tenant._tenant_dict_loop(record, True, layout=layout))


def test_past_the_layouts_kept_new_layouts_still_get_their_functions(monkeypatch):
    """A run sending SCHEMA again and again makes a layout each time: the registry is emptied
    when full (memory flat), and a new layout's records are still written by generated code,
    vouched for (mapping/tenant.py), not by the loop."""
    monkeypatch.setattr(tenant, "_SHAPES", {})
    monkeypatch.setattr(tenant, "_LAYOUTS_KEPT", 5)
    layouts = [tenant_layout(SINGER) for _ in range(12)]
    for layout in layouts:
        doubts: list = []
        written = tenant_object({"id": "ch_1", "created": 1700000000}, layout=layout, doubts=doubts)
        assert written == {"id": "ch_1", "created": "2023-11-14T22:13:20Z"}
        assert doubts == []  # the loop would say None
        assert len(tenant._SHAPES) <= 5
