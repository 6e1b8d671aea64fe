"""Objects start from Stripe's examples (every field kept), else from the built-in templates."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from stripe_emulator import object_factories, seed_data
from stripe_emulator.resources import OBJECT_OF

from tests.shared_paths import STRIPE_EXAMPLES, require
from tests.stripe_emulator.emulator_client import SEED_COUNTS, T0


def test_seeded_objects_keep_every_field_of_stripes_examples(emulator):
    require(STRIPE_EXAMPLES)
    emulator.seed(SEED_COUNTS, start=T0, end=T0 + 86_400)
    for resource, name in OBJECT_OF.items():
        example_fields = set(object_factories.example(name))
        for obj in emulator.objects(resource):
            assert example_fields <= set(obj), (resource, example_fields - set(obj))
            assert obj["object"] == name


def test_without_shared_examples_builtin_templates_are_used_and_said(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(object_factories, "EXAMPLES_DIR", tmp_path / "absent")
    object_factories._example_text.cache_clear()
    object_factories._item_template_text.cache_clear()
    try:
        charge = object_factories.example("charge")
        built = seed_data.seed_objects({"subscriptions": 2, "charges": 3}, start=T0, end=T0 + 9)
    finally:
        object_factories._example_text.cache_clear()
        object_factories._item_template_text.cache_clear()
    assert charge["object"] == "charge"
    assert "payment_method_details" not in charge  # the built-in template is the small one
    assert object_factories.BUILTIN_NOTE in caplog.text
    assert len(built["charges"]) == 3
    assert all(len(s["items"]["data"]) >= 1 for s in built["subscriptions"])


def test_example_returns_an_independent_copy():
    first = object_factories.example("charge")
    first["metadata"]["x"] = "changed"
    assert "x" not in object_factories.example("charge")["metadata"]
    with pytest.raises(KeyError):
        object_factories.example("invoice")


def _never_null(schema: dict) -> bool:
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else declared
    return bool(types) and "null" not in types


def test_builtin_templates_give_every_field_the_tap_promises_non_null_a_value(monkeypatch):
    """Without Stripe's examples the tap must still read objects valid for its own schemas
    (the SDK's standard tests check fields declared without null)."""
    monkeypatch.setattr(object_factories, "EXAMPLES_DIR", object_factories.SHARED / "absent")
    object_factories._example_text.cache_clear()
    object_factories._item_template_text.cache_clear()
    try:
        built = seed_data.seed_objects(
            dict.fromkeys(OBJECT_OF, 5), start=T0, end=T0 + 86_400, seed=3
        )
    finally:
        object_factories._example_text.cache_clear()
        object_factories._item_template_text.cache_clear()
    schemas = resources.files("tap_stripe_xdm.schemas")
    for resource, objects in built.items():
        properties = json.loads(schemas.joinpath(f"{resource}.json").read_text())["properties"]
        promised = [name for name, schema in properties.items() if _never_null(schema)]
        for obj in objects:
            missing = [name for name in promised if obj.get(name) is None]
            assert not missing, (resource, missing)
