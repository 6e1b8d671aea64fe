"""The generated accepting check: it accepts only what fastjsonschema accepts (its speed never
changes a verdict), and the built-in schemas' valid records take it without fastjsonschema."""

from __future__ import annotations

import fastjsonschema
import pytest
from target_aep.mapping import mapper_for
from target_aep.validation import RecordValidator, accepting_source, close_objects

from tests.target.examples import STREAMS, example, singer_schema
from tests.target.test_validation import OPTIONS, builtin_validator

SCHEMA = close_objects(
    {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "price": {"type": "number"},
            "flag": {"type": "boolean"},
            "at": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object", "properties": {"n": {}}}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "nested": {"type": "object", "properties": {"x": {"type": "string"}}},
            "short": {"type": "string", "minLength": 2, "maxLength": 3},
            "price_tag": {"type": "string", "pattern": "\\$[0-9]+$"},  # an escaped $, then the end
            "stamp": {"type": "string", "format": "date-time", "maxLength": 20},
            "level": {"type": "string", "enum": ["low", "high"], "pattern": "^l"},
            "numbered": {"type": "string", "enum": ["a", 1]},
        },
        "required": ["count"],
    }
)

CASES = [
    {"count": 1},
    {"count": True},  # a bool is no integer
    {"count": 1.0},  # an integer to JSON Schema, not accepted by the generated check
    {"count": 1.5},
    {"count": 1, "price": 2},
    {"count": 1, "price": False},
    {"count": 1, "at": "2024-01-01T00:00:00Z"},
    {"count": 1, "at": "2024-01-01 00:00"},
    {"count": 1, "at": 5},
    {"count": 1, "code": "USD"},
    {"count": 1, "code": "usd"},
    {"count": 1, "kind": "a"},
    {"count": 1, "kind": "c"},
    {"count": 1, "tags": ["x", "y"]},
    {"count": 1, "tags": ["x", 2]},
    {"count": 1, "tags": "x"},
    {"count": 1, "rows": [{"n": 1}, {"n": None}]},
    {"count": 1, "rows": [{"n": 1, "m": 2}]},
    {"count": 1, "map": {"a": "b"}},
    {"count": 1, "map": {"a": 1}},
    {"count": 1, "nested": {"x": "y"}},
    {"count": 1, "nested": {"x": "y", "z": 1}},
    {"count": 1, "nested": {"x": None}},
    {"count": 1, "other": 1},
    {"count": 1, "short": "ab"},
    {"count": 1, "short": "a"},
    {"count": 1, "short": "abcd"},
    {"count": 1, "short": "äöü"},  # lengths in characters, not bytes
    {"count": 1, "short": 12},
    {"count": 1, "price_tag": "$12"},
    {"count": 1, "price_tag": "costs $12"},  # pattern searches, anchored only by the $
    {"count": 1, "price_tag": "$12\n"},  # $ is the very end (\Z), not before a newline
    {"count": 1, "price_tag": "$12 or so"},
    {"count": 1, "price_tag": "12"},
    {"count": 1, "stamp": "2024-01-01T00:00:00Z"},
    {"count": 1, "stamp": "2024-01-01T00:00:00.123456Z"},
    {"count": 1, "stamp": "yesterday"},
    {"count": 1, "level": "low"},
    {"count": 1, "level": "high"},
    {"count": 1, "level": "lower"},
    {"count": 1, "numbered": "a"},
    {"count": 1, "numbered": 1},
    {"count": 1, "numbered": "b"},
    {},
    [],
    {"count": None},
]


@pytest.mark.parametrize("record", CASES)
def test_its_verdict_is_fastjsonschemas(record):
    validator = RecordValidator(SCHEMA, "test schema")
    check = fastjsonschema.compile(validator.schema, use_default=False)
    try:
        check(record)
        expected = True
    except fastjsonschema.JsonSchemaValueException:
        expected = False
    assert validator.is_valid(record) is expected
    assert (validator.errors(record) == []) is expected
    if validator._accepts(record):
        assert expected  # the generated check never accepts what fastjsonschema refuses


def test_plain_types_and_formats_are_decided_by_the_generated_check_alone():
    validator = RecordValidator(SCHEMA, "test schema")
    assert validator._accepts({"count": 1, "at": "2024-01-01T00:00:00Z", "tags": ["x"]})
    assert not validator._accepts({"count": 1.0})  # left to fastjsonschema, which accepts it
    assert validator.is_valid({"count": 1.0})
    accepted = {"count": 1, "code": "USD", "kind": "a", "short": "abc", "price_tag": "x $1",
                "stamp": "2024-01-01T00:00:00Z", "level": "low"}  # fmt: skip
    assert validator._accepts(accepted)  # string keywords too, without fastjsonschema
    source, _names = accepting_source(validator.schema)
    assert source.count("FASTJSONSCHEMA_") == 1  # only `numbered` (an enum with a number) left
    assert validator.is_valid({"count": 1.0})


def test_its_source_is_readable_and_a_schema_with_ref_keeps_fastjsonschema_alone():
    source, _names = accepting_source(RecordValidator(SCHEMA, "test schema").schema)
    assert "if not KEYS_" in source
    assert ".issuperset(value): return False" in source
    print(source)  # pytest -s shows the check
    referring = {"type": "object", "properties": {"a": {"$ref": "#/definitions/a"}},
                 "definitions": {"a": {"type": "string"}}}  # fmt: skip
    assert accepting_source(referring) is None
    validator = RecordValidator(referring, "test schema")
    assert validator.is_valid({"a": "x"})
    assert not validator.is_valid({"a": 1})


@pytest.mark.parametrize("stream", STREAMS)
def test_the_builtin_schemas_mapped_examples_take_the_generated_check(stream):
    validator = builtin_validator(stream, singer_schema(stream))
    assert validator._accepts(mapper_for(stream, OPTIONS).map(example(stream)))


def _fastjsonschema_verdict(validator: RecordValidator, record: object) -> bool:
    check = fastjsonschema.compile(validator.schema, use_default=False)
    try:
        check(record)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def test_one_validator_keeps_fastjsonschemas_verdicts_across_key_sequences():
    """Closed objects are checked by a function per key sequence, generated on first sight:
    each case seen twice (generated, then reused) in one validator, in both key orders."""
    validator = RecordValidator(SCHEMA, "test schema")
    dicts = [case for case in CASES if isinstance(case, dict)]
    for record in dicts + [dict(reversed(list(case.items()))) for case in dicts]:
        for _ in range(2):
            assert validator.is_valid(record) is _fastjsonschema_verdict(validator, record)
    sequences = validator._accepts.__globals__
    known = [name for name in sequences if name.startswith("SEQ_") and sequences[name]]
    assert len(known) >= 3  # the record, `rows` items and `nested` took functions of their own


def test_past_the_cap_an_object_takes_the_generic_function(monkeypatch):
    from target_aep import validation

    monkeypatch.setattr(validation, "_SEQUENCES_PER_OBJECT", 2)
    validator = RecordValidator(SCHEMA, "test schema")
    records = [{"count": 1}, {"count": 1, "flag": True}, {"count": 1, "price": 2.5},
               {"count": 1, "price": "x"}, {"flag": True}, {"count": 1, "at": "nope"}]  # fmt: skip
    for record in records:
        assert validator.is_valid(record) is _fastjsonschema_verdict(validator, record)
    root = [v for k, v in validator._accepts.__globals__.items() if k.startswith("SEQ_")][-1]
    assert len(root) == 2  # the first two sequences; the rest were checked field by field


def test_a_key_sequences_function_reads_only_the_fields_present():
    validator = RecordValidator(SCHEMA, "test schema")
    assert validator._accepts({"count": 1, "flag": True})
    (by_keys,) = [f for k, v in validator._accepts.__globals__.items() if k.startswith("SEQ_")
                  for f in v.values()]  # fmt: skip
    names = by_keys.__code__.co_names + by_keys.__code__.co_consts
    assert {"flag", "count"} <= set(names)
    assert not {"price", "get"} & set(names)  # no lookup of absent declared fields


# A dataset schema whose tenant object `detail` the mapping vouches for, field by field.
DETAIL_KNOWN = {
    "count": {"type": "integer"},
    "note": {"type": "string"},
    "limit": {"type": "integer"},
    "inner": {"type": "object", "properties": {"x": {"type": "string"}}},
}
DETAIL_DATASET = {
    "type": "object",
    "properties": {
        "_acme": {
            "type": "object",
            "properties": {
                "detail": {
                    "type": "object",
                    "properties": {
                        # as the mapping states it, but with the Registry's annotations
                        "count": {"type": "integer", "title": "Count", "meta:xdmType": "int"},
                        "note": {"type": "string", "description": "a note"},
                        # declared otherwise: the dataset's own rule still applies
                        "limit": {"type": "integer", "maximum": 10},
                        "inner": {"type": "object", "properties": {"x": {"type": "string"}}},
                        "other": {"type": "string"},  # not vouched for
                    },
                }
            },
        }
    },
}
DETAIL_PATH = ("_acme", "detail")


def _detail(**fields) -> dict:
    return {"_acme": {"detail": fields}}


def test_fields_vouched_for_and_declared_alike_are_not_read_again():
    validator = RecordValidator(DETAIL_DATASET, "test")
    accepts = validator.accepting_with_known(DETAIL_PATH, DETAIL_KNOWN)
    assert accepts is not None
    # a wrong value where the mapping vouched: only a record it certified reaches this check,
    # so the field is not read (is_valid, for everything else, reads it)
    assert accepts(_detail(count="not read", note=5, inner={"x": 1}))
    assert not validator.is_valid(_detail(count="not read"))


@pytest.mark.parametrize(
    "record",
    [
        _detail(limit=11),  # the dataset's maximum, which the mapping does not know
        _detail(other=1),  # a field not vouched for
        _detail(count=1, undeclared=1),  # the object stays closed
        {"_acme": {"detail": "not an object"}},
        {"_acme": {"detail": {}, "extra": 1}},
    ],
)
def test_the_rest_of_the_schema_is_still_checked(record):
    accepts = RecordValidator(DETAIL_DATASET, "test").accepting_with_known(
        DETAIL_PATH, DETAIL_KNOWN
    )
    assert accepts is not None
    assert not accepts(record)
    assert accepts(_detail(limit=10, other="y"))


def test_no_check_without_a_closed_object_at_the_path_or_a_field_alike():
    validator = RecordValidator(DETAIL_DATASET, "test")
    assert validator.accepting_with_known(("_acme", "missing"), DETAIL_KNOWN) is None
    assert validator.accepting_with_known(DETAIL_PATH, {"limit": {"type": "integer"}}) is None
    open_detail = RecordValidator(
        {"type": "object", "properties": {"d": {"type": "object", "additionalProperties": True,
                                               "properties": {"n": {"type": "string"}}}}},
        "test",
    )  # fmt: skip
    assert open_detail.accepting_with_known(("d",), {"n": {"type": "string"}}) is None
