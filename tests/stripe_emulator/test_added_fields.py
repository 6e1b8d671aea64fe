"""Fields Stripe adds without a new API version: served on stored and later objects, top level,
nested and through lists; set in-process or with the command's --added-field."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from stripe_emulator import added_fields

from tests.stripe_emulator.emulator_client import KEY, SEED_COUNTS, T0, add_charges, get


def test_stored_and_later_objects_carry_added_fields_top_level_and_nested(emulator):
    (before,) = add_charges(emulator, [T0])
    emulator.add_fields("charges", {"risk_score": 42, "outcome.advice_detail": "try_again"})
    (after,) = add_charges(emulator, [T0 + 1])
    listed = get(emulator, "/v1/charges").json()["data"]
    retrieved = get(emulator, f"/v1/charges/{before['id']}").json()
    for charge in [*listed, retrieved]:
        assert charge["risk_score"] == 42
        assert charge["outcome"]["advice_detail"] == "try_again"
        assert charge["outcome"]["type"]  # the declared fields beside it are kept
    assert {c["id"] for c in listed} == {before["id"], after["id"]}
    assert "risk_score" not in emulator.objects("customers")  # other resources unchanged


def test_a_path_through_a_list_sets_the_field_on_each_item(emulator):
    emulator.seed(SEED_COUNTS, start=T0, end=T0 + 86_400)
    emulator.add_fields("subscriptions", {"items.data.price.tier_hint": "low"})
    subscription = max(emulator.objects("subscriptions"), key=lambda s: len(s["items"]["data"]))
    assert len(subscription["items"]["data"]) > 10  # embedded page and the rest alike
    items = get(emulator, "/v1/subscription_items", subscription=subscription["id"], limit=100)
    embedded = get(emulator, f"/v1/subscriptions/{subscription['id']}").json()["items"]["data"]
    for item in [*items.json()["data"], *embedded]:
        assert item["price"]["tier_hint"] == "low"


def test_a_field_under_a_null_parent_is_not_invented(emulator):
    (charge,) = add_charges(emulator, [T0])
    emulator.update("charges", charge["id"], {"shipping": None})
    emulator.add_fields("charges", {"shipping.carrier_code": "ups"})
    assert get(emulator, f"/v1/charges/{charge['id']}").json()["shipping"] is None


def test_events_carry_the_added_fields_of_the_objects_they_show(emulator):
    emulator.add_fields("charges", {"risk_score": 7})
    (charge,) = add_charges(emulator, [T0])
    emulator.now = lambda: T0 + 10
    emulator.update("charges", charge["id"], {"description": "x"})
    (event,) = get(emulator, "/v1/events").json()["data"]
    assert event["data"]["object"]["risk_score"] == 7


@pytest.mark.parametrize(
    ("flag", "parsed"),
    [
        ("charges.risk_score=42", ("charges", "risk_score", 42)),
        ('charges.outcome.detail="01"', ("charges", "outcome.detail", "01")),
        ("charges.outcome.detail=plain text", ("charges", "outcome.detail", "plain text")),
        ("refunds.destination=null", ("refunds", "destination", None)),
    ],
)
def test_flag_values_are_json_else_text(flag, parsed):
    assert added_fields.parse_flag(flag, {"charges": "charge", "refunds": "refund"}) == parsed


@pytest.mark.parametrize("flag", ["invoices.x=1", "charges=1", "charges.x", "charges..x=1"])
def test_bad_flags_are_refused_with_the_expected_form(flag):
    with pytest.raises(ValueError, match="added field"):
        added_fields.parse_flag(flag, {"charges": "charge"})


def test_command_serves_added_fields_and_refuses_bad_ones():
    command = [sys.executable, "-m", "stripe_emulator", "--port", "0"]
    command += ["--seed-counts", "charges=3", "--start", str(T0), "--end", str(T0 + 60)]
    command += ["--added-field", "charges.risk_score=42", "--added-field", "charges.outcome.x=1"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        url = process.stdout.readline().strip()
        answer = requests.get(
            url + "/v1/charges", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        charges = answer.json()["data"]
        assert len(charges) == 3
        assert all(c["risk_score"] == 42 and c["outcome"]["x"] == 1 for c in charges)
    finally:
        process.terminate()
        process.wait(timeout=10)
    refused = subprocess.run(
        [sys.executable, "-m", "stripe_emulator", "--added-field", "charges"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2
    assert "RESOURCE.PATH=JSON" in refused.stderr
