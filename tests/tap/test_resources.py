"""resources.py: the table of resources is complete and consistent with what Stripe accepts."""

from __future__ import annotations

from importlib import resources as package_files

import pytest
from tap_stripe_xdm.event_windows import MAX_TYPES_PER_REQUEST
from tap_stripe_xdm.resources import RESOURCES, Resource
from tap_stripe_xdm.tap import TapStripeXdm

from tests.tap.tap_run import base_config

ROWS = {row.name: row for row in RESOURCES}


def test_every_row_is_a_stream_and_every_stream_a_row() -> None:
    tap = TapStripeXdm(config=base_config("http://127.0.0.1:9"), parse_env_config=False)
    assert {name: stream.resource for name, stream in tap.streams.items()} == ROWS


@pytest.mark.parametrize("row", RESOURCES, ids=lambda row: row.name)
def test_a_row_is_consistent(row: Resource) -> None:
    assert package_files.files("tap_stripe_xdm.schemas").joinpath(f"{row.name}.json").is_file()
    assert row.path == f"/v1/{row.name}"
    assert len(row.event_types) <= MAX_TYPES_PER_REQUEST
    assert len(set(row.event_types)) == len(row.event_types)
    assert row.delete_event_types <= set(row.event_types)
    assert row.fact_event_types <= set(row.event_types) - row.delete_event_types
    assert bool(row.event_types) != row.lookback, "changes come from events or a lookback"
    assert "_read)" in row.read_permission
