"""The shared Stripe example objects (../shared/stripe-examples), one per stream, read in place,
and the tap's own Singer schema of each stream."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from tests.shared_paths import STRIPE_EXAMPLES, require

EXAMPLE_FILES = {
    "charges": "charge.json",
    "refunds": "refund.json",
    "subscriptions": "subscription.json",
    "balance_transactions": "balance_transaction.json",
    "customers": "customer.json",
    "prices": "price.json",
}
STREAMS = tuple(EXAMPLE_FILES)


def example(stream: str) -> dict:
    """The example object of `stream` (the test skips when ../shared is absent)."""
    path = require(STRIPE_EXAMPLES) / EXAMPLE_FILES[stream]
    return json.loads(path.read_text())


def tap_schema(stream: str) -> dict:
    """The tap's own Singer schema of `stream` (what the target receives in a real run)."""
    try:
        text = resources.files("tap_stripe_xdm.schemas").joinpath(f"{stream}.json").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("tap_stripe_xdm's schemas are not installed")
    schema: dict = json.loads(text)
    return schema


def singer_schema_of(value: Any) -> dict:
    """A Singer-style schema a tap could have sent for `value` (every field nullable)."""
    if isinstance(value, dict):
        return {
            "type": ["object", "null"],
            "properties": {key: singer_schema_of(item) for key, item in value.items()},
        }
    if isinstance(value, list):
        return {"type": ["array", "null"], "items": singer_schema_of(value[0]) if value else {}}
    if isinstance(value, bool):
        return {"type": ["boolean", "null"]}
    if isinstance(value, int):
        return {"type": ["integer", "null"]}
    if isinstance(value, float):
        return {"type": ["number", "null"]}
    return {"type": ["string", "null"]}


def singer_schema(stream: str) -> dict:
    """The example's schema, with `metadata` as the map of strings Stripe documents."""
    schema = singer_schema_of(example(stream))
    schema["properties"]["metadata"] = {
        "type": ["object", "null"],
        "additionalProperties": {"type": "string"},
    }
    return schema
