"""Fields XDM cannot type follow one rule in the values and in the schema (mapping/tenant.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
import pytest
from target_aep.mapping.tenant import json_text, tenant_layout, tenant_object, tenant_schema

SINGER = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "created": {"type": "integer"},
        "customer": {
            "anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}],
            "description": "Expandable",
        },
        "payment_method_details": {"type": ["object", "null"]},
        "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "outcome": {
            "type": ["object", "null"],
            "properties": {"risk_score": {"type": ["integer", "null"]}, "source": {}},
        },
        "refunds": {
            "type": "object",
            "properties": {"data": {"type": "array", "items": {"type": "object"}}},
        },
        "amount_or_text": {"type": ["integer", "string"]},
    },
}


def converted(record: dict, camel: bool = True) -> dict:
    return tenant_object(record, camel=camel, layout=tenant_layout(SINGER, camel=camel))


def test_an_expandable_field_is_its_id_whether_or_not_it_was_expanded():
    assert converted({"customer": "cus_1"}) == {"customer": "cus_1"}
    assert converted({"customer": {"id": "cus_1", "email": "a@b.c"}}) == {"customer": "cus_1"}


def test_objects_without_declared_fields_and_other_unions_are_json_text():
    record = {
        "payment_method_details": {"type": "card", "card": {"last4": "4242", "brand": "visa"}},
        "outcome": {"risk_score": 32, "source": {"b": 1, "a": None}},
        "refunds": {"data": [{"id": "re_1", "amount": 5}]},
        "amount_or_text": 5,
    }
    assert converted(record) == {
        "paymentMethodDetails": '{"card":{"brand":"visa","last4":"4242"},"type":"card"}',
        "outcome": {"riskScore": 32, "source": '{"a":null,"b":1}'},
        "refunds": {"data": ['{"amount":5,"id":"re_1"}']},
        "amountOrText": "5",
    }


def test_declared_fields_keep_their_rules():
    record = {"id": "ch_1", "created": 1679090539, "metadata": {"order": 7}}
    assert converted(record) == {
        "id": "ch_1",
        "created": "2023-03-17T22:02:19Z",
        "metadata": {"order": "7"},
    }
    assert converted(record, camel=False)["created"] == 1679090539


@pytest.mark.parametrize("camel", [True, False])
def test_every_converted_record_validates_against_the_derived_schema(camel):
    schema = tenant_schema(SINGER, camel=camel)
    record = {
        "id": "ch_1",
        "created": 1679090539,
        "customer": {"id": "cus_1"},
        "payment_method_details": {"card": {}},
        "metadata": {"a": "b"},
        "outcome": {"risk_score": 1, "source": ["x"]},
        "refunds": {"data": [{"id": "re_1"}, "re_2"]},
        "amount_or_text": "x",
    }
    jsonschema.Draft7Validator(schema).validate(converted(record, camel=camel))


def test_the_derived_schema_has_one_type_per_field_and_declared_objects_only():
    def walk(node, path):
        assert isinstance(node.get("type"), str), path
        assert not {"anyOf", "oneOf"} & set(node), path
        if node["type"] == "object":
            assert node.get("properties") or node.get("additionalProperties") == {
                "type": "string"
            }, path
            for name, sub in (node.get("properties") or {}).items():
                walk(sub, f"{path}.{name}")
        if node["type"] == "array":
            walk(node["items"], path + "[]")

    walk(tenant_schema(SINGER), "")


# What Singer lines decode to (the SDK decodes non-integer numbers to Decimal): every escape
# JSON has, text beyond the BMP, keys needing sorting, integers beyond 64 bits, empties inside.
JSON_TEXT_CASES = [
    {"z": 1, "a": {"y": [3, {"c": None, "b": True}], "x": False}},
    {'quote"back\\slash/': "tab\t nl\n cr\r bs\b ff\f nul\x00 us\x1f del\x7f"},
    {"é": "中文 😀 \u2028\u2029", "A": "ascii", "_": "under", "10": 1, "2": 2},
    {"amount": Decimal("12.50"), "rate": Decimal("1E+2"), "big": 2**70, "neg": -(2**63)},
    {"empty": {}, "none": [], "blank": ""},
    [1, "two", {"3": Decimal("-0.0")}],
]


@pytest.mark.parametrize("value", JSON_TEXT_CASES)
def test_json_text_is_compact_sorted_json_as_json_dumps_writes_it(value):
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    assert json_text(value) == expected
