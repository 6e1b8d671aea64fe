"""The compiled fast check says only pass/fail; an error jsonschema does not see is still
reported with its path and rule (from the detailed variant, compiled on demand)."""

from __future__ import annotations

from target_aep.validation import RecordValidator

SCHEMA = {
    "type": "object",
    "properties": {
        "_id": {"type": "string", "format": "uri-reference"},
        "eventType": {"type": "string"},
    },
    "required": ["_id"],
}


def test_a_valid_record_never_compiles_the_detailed_check():
    validator = RecordValidator(SCHEMA, "test schema")
    assert validator.errors({"_id": "stripe:charges:ch_1", "eventType": "x"}) == []
    assert validator._detailed_check is None


def test_an_error_only_fastjsonschema_sees_keeps_its_path_and_rule():
    validator = RecordValidator(SCHEMA, "test schema")
    # fastjsonschema's uri-reference pattern rejects a space; jsonschema does not check it here.
    assert list(validator._explain.iter_errors({"_id": "a b"})) == []
    (error,) = validator.errors({"_id": "a b"})
    assert (error.path, error.keyword) == ("/_id", "format")
    assert error.message == "data._id must be uri-reference"


def test_errors_jsonschema_sees_are_all_listed_with_their_paths():
    validator = RecordValidator(SCHEMA, "test schema")
    errors = validator.errors({"eventType": 5, "extra": True})
    assert {(error.path, error.keyword) for error in errors} == {
        ("/", "required"),
        ("/eventType", "type"),
        ("/", "additionalProperties"),
    }
