"""The engine's generated code: inspectable, one block per row, each row's failure its own."""

from __future__ import annotations

import traceback

from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.mapping.engine import Table, TableMapper, rows_source

from tests.target.examples import example

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
