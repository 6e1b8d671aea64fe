"""record_path.py: the lean record step keeps the SDK's behaviour (selection, stream maps)."""

from __future__ import annotations

from tap_stripe_xdm.tap import TapStripeXdm

from tests.tap.conftest import SEED_COUNTS
from tests.tap.tap_run import base_config, run_tap


def test_a_deselected_property_is_left_out_of_records(seeded_double) -> None:
    catalog = TapStripeXdm(config=base_config(seeded_double.url), parse_env_config=False)
    catalog_dict = catalog.catalog_dict
    for entry in catalog_dict["streams"]:
        for metadata in entry["metadata"]:
            breadcrumb = metadata["breadcrumb"]
            if breadcrumb == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "customers"
            elif breadcrumb == ["properties", "email"]:
                metadata["metadata"]["selected"] = False
    run = run_tap(base_config(seeded_double.url), catalog=catalog_dict)
    assert len(run.records("customers")) == SEED_COUNTS["customers"]
    assert all("email" not in r and "name" in r for r in run.records("customers"))


def test_stream_maps_apply_to_records(seeded_double) -> None:
    config = base_config(
        seeded_double.url,
        stream_maps={"prices": {"nickname": "__NULL__", "amount_x2": "unit_amount * 2"}},
    )
    run = run_tap(config, streams={"prices"})
    for record in run.records("prices"):
        assert "nickname" not in record
        if record["unit_amount"] is not None:
            assert record["amount_x2"] == 2 * record["unit_amount"]
