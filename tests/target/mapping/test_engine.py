"""The engine's generated code: inspectable, one block per row, each row's failure its own."""

from __future__ import annotations

import copy
import traceback

import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import NOTHING_FOR_NULL, MappingOptions, converter_named
from target_aep.mapping.engine import (
    CONVERSION_FAILURES,
    Table,
    TableMapper,
    _compile,
    _getter,
    _problem,
    _setter,
    rows_source,
)

from tests.target.examples import STREAMS, example
from tests.target.mutations import mutations

OPTIONS = MappingOptions(tenant_id="acme")


def test_every_mode_of_every_table_has_readable_source_naming_its_rows():
    mapper = mapper_for("charges", OPTIONS)
    sources = mapper.generated_sources()
    assert {"rows", "rows_with_fact", "change_rows", "tenant_rows"} <= set(sources)
    for target, source, converter in mapper.table.rows + mapper.table.fact_rows:
        assert f"# {target} <- {source} ({converter})" in sources["rows_with_fact"]
    print(sources["rows_with_fact"])  # pytest -s shows what runs for a charge


def test_rows_of_one_stripe_sub_object_read_it_once_and_are_skipped_without_it():
    rows = (
        ("homeAddress.city", "address.city", "text"),
        ("homeAddress.postalCode", "address.postal_code", "text"),
    )
    source, _names = rows_source(rows)
    assert source.count("container = ") == 1
    table = Table("t", "thing", "record.json", False, rows)
    mapper = TableMapper(table, OPTIONS)
    out: dict = {}
    mapper._rows({"address": {"city": "Paris", "postal_code": "75001"}}, out, OPTIONS, [])
    assert out == {"homeAddress": {"city": "Paris", "postalCode": "75001"}}
    out = {}
    mapper._rows({"address": None}, out, OPTIONS, [])
    assert out == {}


def test_a_row_that_cannot_convert_is_reported_with_its_path_and_the_rest_is_mapped():
    record = {**example("charges"), "amount": "oops"}
    xdm, problems = mapper_for("charges", OPTIONS).map_reporting(record)
    assert [problem.path for problem in problems] == ["commerce.order.priceTotal"]
    assert problems[0].source == "amount"
    assert "amount='oops'" in problems[0].message
    assert xdm["commerce"]["order"]["currencyCode"] == "USD"  # the rows after it still ran


def test_a_traceback_through_generated_code_shows_its_lines():
    def broken(value, obj, options):
        raise RuntimeError("not a conversion failure")  # escapes the row's `try`

    table = Table("t", "thing", "record.json", False, (("name", "name", "text"),))
    mapper = TableMapper(table, OPTIONS)
    names = mapper._rows.__globals__
    names["convert_0"] = broken
    try:
        mapper._rows({"name": "x"}, {}, OPTIONS, [])
    except RuntimeError as exc:
        shown = "".join(traceback.format_exception(exc))
    assert "value = convert_0(raw, obj, options)" in shown
    assert "<target_aep mapping t rows #" in shown


def _reference_rows(rows, obj, out, options, problems, prefix=""):
    """What a table's rows mean, one row at a time, by the engine's plain getter and setter:
    what the generated function must do, however it is optimised."""
    for target, source, converter_name in rows:
        convert, _produced = converter_named(converter_name)
        parent, _, _leaf = source.rpartition(".")
        if parent and "|" not in source and not isinstance(_getter(parent)(obj), dict):
            continue  # rows of an absent Stripe sub-object are skipped
        raw = None if source == "*" else _getter(source)(obj)
        try:
            value = convert(obj if source == "*" else raw, obj, options)
        except CONVERSION_FAILURES as exc:
            problems.append(_problem(prefix + target, source, raw, exc))
            continue
        if value is not None and value != "":
            _setter(target)(out, value)


def _objects(stream: str):
    yield example(stream)
    for _change, record in mutations(example(stream)):
        yield record


@pytest.mark.parametrize("stream", STREAMS)
def test_each_generated_mode_writes_what_its_rows_mean(stream):
    mapper = mapper_for(stream, OPTIONS)
    lists = {f"list {target}": source for target, source, _rows in mapper.table.lists}
    for mode, rows in mapper._modes.items():
        generated = _compile(rows, f"test {mode}")
        for obj in _objects(stream):
            elements = [obj]
            if mode in lists:
                found = _getter(lists[mode])(obj)
                found = found if isinstance(found, list) else []
                elements = [element for element in found if isinstance(element, dict)]
            for element in elements:
                # the tenant rows write into an object the tenant area filled first
                start = {"amount": 1, "outcome": {"type": "x"}} if mode == "tenant_rows" else {}
                ours, theirs = copy.deepcopy(start), copy.deepcopy(start)
                our_problems: list = []
                their_problems: list = []
                try:
                    generated(element, ours, OPTIONS, our_problems, "p.")
                except Exception as exc:
                    with pytest.raises(type(exc)):
                        _reference_rows(rows, element, theirs, OPTIONS, their_problems, "p.")
                    continue
                _reference_rows(rows, element, theirs, OPTIONS, their_problems, "p.")
                assert ours == theirs, mode
                assert our_problems == their_problems, mode


def test_a_table_writing_a_whole_object_where_another_row_writes_into_it_keeps_no_locals():
    """A row writing `a` itself, beside rows writing into `a`, may replace that object: such a
    table finds each parent again per row, as the rows mean."""
    rows = (("a.b", "x", "text"), ("a", "y", "raw"), ("a.c", "z", "text"))
    assert "parent_" not in rows_source(rows)[0]
    assert "parent_" in rows_source((rows[0], rows[2]))[0]
    record = {"x": "1", "y": {"k": ["v"]}, "z": "3"}
    out: dict = {}
    _compile(rows, "test written over")(record, out, OPTIONS, [])
    expected: dict = {}
    _reference_rows(rows, record, expected, OPTIONS, [])
    assert out == expected == {"a": {"b": "1", "k": ["v"], "c": "3"}}


def test_parents_of_one_name_under_different_objects_are_kept_apart():
    rows = (
        ("billing.address.city", "a", "text"),
        ("shipping.address.city", "b", "text"),
        ("billing.address.zip", "d", "text"),
    )
    record = {"a": "Paris", "b": "Lyon", "d": "75001"}
    out: dict = {}
    _compile(rows, "test same names")(record, out, OPTIONS, [])
    expected: dict = {}
    _reference_rows(rows, record, expected, OPTIONS, [])
    assert (
        out
        == expected
        == {
            "billing": {"address": {"city": "Paris", "zip": "75001"}},
            "shipping": {"address": {"city": "Lyon"}},
        }
    )


def test_the_converters_not_called_for_a_null_write_nothing_for_one():
    """The generated rows skip a `NOTHING_FOR_NULL` converter for a null: fine only while each
    of them, given None, writes nothing."""
    for name in NOTHING_FOR_NULL:
        convert, _produced = converter_named(name)
        for stream in STREAMS:
            assert convert(None, example(stream), OPTIONS) in (None, ""), name
