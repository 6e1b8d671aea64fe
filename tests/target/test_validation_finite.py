"""A NaN or an infinity is no JSON number: validation refuses it with its path whatever the
schema says, so that a validated record is written without a second look (json_encoding)."""

from __future__ import annotations

import copy
import math
from decimal import Decimal

import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.validation import RecordValidator, builtin_schema, with_tenant

from tests.target.examples import example, tap_schema

NUMBERS = {
    "type": "object",
    "properties": {
        "price": {"type": "number"},
        "count": {"type": "integer"},
        "positive": {"type": "number", "minimum": 0},  # checked by fastjsonschema
        "either": {"type": ["number", "null"]},  # likewise
        "rates": {"type": "array", "items": {"type": "number"}},
        "map": {"type": "object", "additionalProperties": {"type": "number"}},
    },
}
VALID = {"price": 1.5, "count": 2, "positive": 0.5, "either": 2.5, "rates": [1, 2.5],
         "map": {"a": 3.5}}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"price": math.nan}, "/price"),
        ({"price": -math.inf}, "/price"),
        ({"positive": math.inf}, "/positive"),
        ({"either": math.nan}, "/either"),
        ({"rates": [1, math.nan]}, "/rates/1"),
        ({"map": {"a": 1.5, "b": math.inf}}, "/map/b"),
    ],
)
def test_a_nan_or_infinity_is_invalid_with_its_path(change, path):
    validator = RecordValidator(NUMBERS, "test schema")
    assert validator.finite_proof  # every number here is checked by the generated code
    assert validator.is_valid(VALID)
    record = {**VALID, **change}
    assert not validator.is_valid(record)
    errors = validator.errors(record)
    assert [error.path for error in errors] == [path]
    assert errors[0].message == f"{path} is NaN or infinite; JSON has no such number"


@pytest.mark.parametrize(
    ("open_part", "good", "bad"),
    [
        ({"type": "object"}, {"a": 1.5}, {"a": math.nan}),  # an object of any fields
        ({"type": "array"}, [1.5], [math.inf]),  # items of any type
        ({}, 1.5, Decimal("NaN")),  # anything
        ({"type": "object", "properties": {"a": {"type": "number"}},
          "additionalProperties": True}, {"a": 1.5, "b": 2}, {"a": 1.5, "b": math.nan}),
        ({"anyOf": [{"type": "number"}, {"type": "object"}]}, 1.5, {"a": -math.inf}),
    ],
    ids=["object", "array", "untyped", "open-object", "any-of"],
)  # fmt: skip
def test_where_values_go_unchecked_an_accepted_record_is_looked_at_again(open_part, good, bad):
    known = {"type": "object", "properties": {"a": {"type": "number"}}}  # vouched for, say
    schema = {"type": "object", "properties": {"open": open_part, "known": known}}
    validator = RecordValidator(schema, "test schema")
    assert not validator.finite_proof
    certified = validator.accepting_with_known(("known",), {"a": {"type": "number"}})
    assert certified is not None
    for check in (validator.is_valid, certified):
        assert check({"open": good, "known": {"a": 1.5}})
        assert not check({"open": bad, "known": {"a": 1.5}})
    (error,) = validator.errors({"open": bad, "known": {"a": 1.5}})
    assert error.path.startswith("/open")


def test_a_charge_whose_measure_is_nan_is_refused_at_its_field():
    mapper = mapper_for("charges", MappingOptions(tenant_id="acme"))
    tenant = mapper.tenant_schema(tap_schema("charges"))
    validator = RecordValidator(with_tenant(builtin_schema(mapper.schema), "acme", tenant), "b")
    assert validator.finite_proof
    xdm = mapper.map(example("charges"))
    assert validator.is_valid(xdm)
    certified = validator.accepting_with_known(*mapper.tenant_detail)
    assert certified is not None
    assert certified(xdm)
    for value in (math.nan, math.inf):
        broken = copy.deepcopy(xdm)
        broken["commerce"]["order"]["priceTotal"] = value
        assert not validator.is_valid(broken)
        assert not certified(broken)  # the standard fields are still read
        (error,) = validator.errors(broken)
        assert error.path == "/commerce/order/priceTotal"
