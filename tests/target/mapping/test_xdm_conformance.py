"""Mapped examples conform to Adobe's own XDM schemas (../shared/xdm), converted to Platform form.

The schemas are Adobe's source files, resolved and converted by tests/doubles/xdm_library.py
(xdm: stripped, @id -> _id, objects closed), independent of the target's built-in copies.
"""

from __future__ import annotations

import jsonschema
import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions

from tests.doubles.xdm_library import (
    BEHAVIOUR_RECORD,
    CLASS_EXPERIENCE_EVENT,
    CLASS_PROFILE,
    FG_COMMERCE,
    FG_IDENTITY_MAP,
    FG_PERSON,
    FG_PERSONAL_CONTACT,
    PlatformFormConverter,
    allow_tenant,
    load_documents,
)
from tests.shared_paths import XDM_DIR, require
from tests.target.examples import example

TENANT = "acme"
OPTIONS = MappingOptions(tenant_id=TENANT)


@pytest.fixture(scope="module")
def adobe() -> PlatformFormConverter:
    return PlatformFormConverter(load_documents(require(XDM_DIR)))


def adobe_schema(adobe: PlatformFormConverter, stream: str) -> dict:
    """The dataset schema a user would build in AEP for `stream`, from Adobe's definitions."""
    if stream == "customers":
        schema = adobe.composite(CLASS_PROFILE, FG_PERSON, FG_PERSONAL_CONTACT, FG_IDENTITY_MAP)
        # External Source System Audit Details is not in the shared subset: allow its root only.
        schema["properties"]["extSourceSystemAudit"] = {"type": "object"}
    elif stream == "prices":
        # The Product class is not in the shared subset: the record behaviour is checked and the
        # class's documented root fields are allowed (their content is checked by test_validation).
        schema = adobe.composite(BEHAVIOUR_RECORD)
        for name in ("productID", "productName", "productListPrice", "productLastModifiedDate"):
            schema["properties"][name] = {}
    else:
        schema = adobe.composite(CLASS_EXPERIENCE_EVENT, FG_COMMERCE)
    return allow_tenant(schema, TENANT)


def errors_of(schema: dict, record: dict) -> list[str]:
    validator = jsonschema.Draft6Validator(
        schema, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]


@pytest.mark.parametrize(
    "stream",
    ["charges", "refunds", "subscriptions", "balance_transactions", "customers", "prices"],
)
def test_mapped_example_validates_against_adobe_xdm(adobe, stream):
    mapped = mapper_for(stream, OPTIONS).map(example(stream))
    assert errors_of(adobe_schema(adobe, stream), mapped) == []


def test_only_the_tenant_root_may_hold_custom_fields(adobe):
    mapped = mapper_for("charges", OPTIONS).map(example("charges"))
    mapped["_other"] = {"x": 1}
    assert any("_other" in error for error in errors_of(adobe_schema(adobe, "charges"), mapped))


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda r: r["commerce"]["order"].__setitem__("currencyCode", "usd"), "does not match"),
        (lambda r: r["commerce"]["order"].__setitem__("note", "x"), "Additional properties"),
        (lambda r: r.__setitem__("timestamp", 1679090539), "is not of type 'string'"),
        (lambda r: r.pop("timestamp"), "'timestamp' is a required property"),
        (
            lambda r: r["commerce"]["order"]["payments"][0].__setitem__("paymentAmount", "10.99"),
            "is not of type 'number'",
        ),
    ],
)
def test_a_broken_charge_is_caught_by_adobe_xdm(adobe, breakage, expected):
    mapped = mapper_for("charges", OPTIONS).map(example("charges"))
    breakage(mapped)
    errors = errors_of(adobe_schema(adobe, "charges"), mapped)
    assert any(expected in error for error in errors), errors
