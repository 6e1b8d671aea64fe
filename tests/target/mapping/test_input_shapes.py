"""The shapes popular Stripe taps emit map as well as this tap's own, field by field.

Other taps send ids where this tap expands objects, plain lists where Stripe sends list
objects, ISO strings (at any depth) where Stripe sends Unix seconds, and leave optional parts
out. A value one mapping step cannot use costs that field only, never the record.
"""

from __future__ import annotations

import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions

from tests.target.examples import example

OPTIONS = MappingOptions(tenant_id="acme")


def mapping(stream: str, name: str | None = None):
    return mapper_for(stream, OPTIONS, name)


def problems(stream: str, record: dict) -> list:
    return mapping(stream).map_reporting(record)[1]


def test_subscription_items_given_as_ids_stay_in_the_tenant_area():
    """An id says nothing of the product (XDM requires a SKU per listed item)."""
    sub = {**example("subscriptions"), "items": ["si_1", "si_2"]}
    xdm = mapping("subscriptions").map(sub)
    assert "productListItems" not in xdm
    assert xdm["_acme"]["stripe"]["subscription"]["items"] == ["si_1", "si_2"]
    assert problems("subscriptions", sub) == []


def test_a_plain_list_maps_like_a_list_object():
    sub = example("subscriptions")
    plain = {**sub, "items": sub["items"]["data"]}
    assert (
        mapping("subscriptions").map(plain)["productListItems"]
        == (mapping("subscriptions").map(sub)["productListItems"])
    )


def test_iso_strings_at_any_depth_are_timestamps_in_both_modes():
    charge = example("charges")
    refund = {**example("refunds"), "created": "2023-08-25T05:45:18.000000Z"}
    foreign = {**charge, "created": "2023-03-17T22:02:19Z", "refunds": [refund]}
    xdm = mapping("charges").map(foreign)
    assert xdm["timestamp"] == "2023-03-17T22:02:19Z"
    assert xdm["_acme"]["stripe"]["charge"]["refunds"][0]["created"] == "2023-08-25T05:45:18Z"
    compat = mapping("charges", "compat").map(foreign)
    data = compat["_acme"]["charges_data"]
    assert data["created"] == 1_679_090_539
    assert data["refunds"][0]["created"] == 1_692_942_318


def test_a_value_a_step_cannot_use_costs_that_field_only():
    charge = {**example("charges"), "amount": "ten dollars"}
    xdm, found = mapping("charges").map_reporting(charge)
    assert "priceTotal" not in xdm["commerce"]["order"]
    assert xdm["commerce"]["order"]["currencyCode"] == "USD"  # the rest is mapped
    assert xdm["timestamp"] == "2023-03-17T22:02:19Z"
    (problem,) = [p for p in found if p.path == "commerce.order.priceTotal"]
    assert problem.source == "amount"
    assert "ten dollars" in problem.message


@pytest.mark.parametrize("stream", ["charges", "refunds", "subscriptions", "customers", "prices"])
def test_missing_optional_parts_are_no_problem(stream):
    bare = {"id": example(stream)["id"], "object": example(stream)["object"], "created": 1}
    assert problems(stream, bare) == []
