"""Valid by construction (mapping/tenant.py): a tenant area written without a doubt fits the
schema `tenant_schema` states for the layout it was written by, whatever the record held."""

from __future__ import annotations

import math

import fastjsonschema
import pytest
from target_aep.json_encoding import non_finite_in
from target_aep.mapping import tenant
from target_aep.mapping.tenant import tenant_layout, tenant_object, tenant_schema

from tests.target.examples import STREAMS, example, singer_schema
from tests.target.mutations import mutations


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    """This module's layouts only: no test depends on what others generated before it."""
    monkeypatch.setattr(tenant, "_SHAPES", {})


def _check(singer: dict, camel: bool):
    schema = tenant_schema({"type": "object", **singer}, camel=camel)
    return fastjsonschema.compile(schema, use_default=False)


def _written(record: dict, layout: dict, camel: bool) -> tuple[dict | None, list]:
    doubts: list = []
    try:
        written = tenant_object(record, camel=camel, layout=layout, doubts=doubts)
    except (ValueError, TypeError, OverflowError):  # the mapping dead-letters such a record
        return None, doubts
    return written, doubts


@pytest.mark.parametrize("camel", [True, False])
@pytest.mark.parametrize("stream", STREAMS)
def test_each_example_is_written_without_a_doubt_and_fits(stream, camel):
    singer = singer_schema(stream)
    written, doubts = _written(example(stream), tenant_layout(singer, camel=camel), camel)
    assert doubts == []
    _check(singer, camel)(written)


@pytest.mark.parametrize("camel", [True, False])
@pytest.mark.parametrize("stream", ["charges", "subscriptions", "customers"])
def test_whatever_a_record_holds_what_is_written_without_a_doubt_fits(stream, camel, monkeypatch):
    monkeypatch.setattr(tenant, "_SHAPES_PER_LAYOUT", 10_000)  # every sequence generated
    singer = singer_schema(stream)
    layout, check = tenant_layout(singer, camel=camel), _check(singer, camel)
    certified = doubted = 0
    for change, record in mutations(example(stream)):
        written, doubts = _written(record, layout, camel)
        if written is None:
            continue
        if doubts:
            doubted += 1
            continue
        certified += 1
        try:
            check(written)
        except fastjsonschema.JsonSchemaValueException as exc:
            pytest.fail(f"{change}: written without a doubt, refused: {exc.message}")
        # fastjsonschema takes NaN for a number; validation.py does not
        assert non_finite_in(written) is None, change
    # both kinds are met: most changes of a type are doubted, same-type ones are not
    assert certified > 100, (certified, doubted)
    assert doubted > 100, (certified, doubted)


def test_a_doubt_names_the_field_and_the_generic_loop_vouches_for_nothing(monkeypatch):
    singer = {"type": "object", "properties": {"amount": {"type": "integer"}}}
    layout = tenant_layout(singer)
    assert _written({"amount": "12"}, layout, True)[1] == ["amount"]
    assert _written({"amount": 12, "extra": 1}, layout, True)[1] == ["extra"]
    assert _written({"amount": 12}, layout, True)[1] == []
    monkeypatch.setattr(tenant, "_SHAPES_PER_LAYOUT", 0)  # past the cap: the loop writes
    monkeypatch.setattr(tenant, "_SHAPES", {})
    assert _written({"amount": 12}, layout, True)[1] == [None]


def test_unix_seconds_outside_four_digit_years_are_doubted():
    layout = tenant_layout({"type": "object", "properties": {"created": {"type": "integer"}}})
    assert _written({"created": 253_402_300_799}, layout, True)[1] == []  # 9999-12-31
    assert _written({"created": 253_402_300_800}, layout, True)[1] == ["created"]
    assert _written({"created": -1}, layout, True)[1] == ["created"]


def test_a_nan_or_infinite_float_is_doubted_where_a_number_is_declared():
    layout = tenant_layout({"type": "object", "properties": {"rate": {"type": "number"}}})
    assert _written({"rate": 1.5}, layout, True)[1] == []
    for value in (math.nan, math.inf, -math.inf):
        assert _written({"rate": value}, layout, True)[1] == ["rate"], value


def test_two_keys_written_under_one_name_are_doubted():
    singer = {
        "type": "object",
        "properties": {"fee_amount": {"type": "integer"}, "feeAmount": {"type": "string"}},
    }
    written, doubts = _written({"fee_amount": 1, "feeAmount": "x"}, tenant_layout(singer), True)
    assert written == {"feeAmount": "x"}
    assert doubts


def test_a_map_where_another_type_is_declared_is_doubted():
    """`metadata` is written as a map of strings whatever its declared type (another tap's
    schema may say string): only a layout's map fits."""
    singer = {"type": "object", "properties": {"metadata": {"type": "string"}}}
    written, doubts = _written({"metadata": {"order": "7"}}, tenant_layout(singer), True)
    assert written == {"metadata": {"order": "7"}}
    assert doubts == ["metadata"]
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        _check(singer, True)(written)
