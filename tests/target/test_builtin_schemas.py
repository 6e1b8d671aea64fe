"""The built-in schemas (target_aep/schemas/) say what Adobe's XDM definitions say.

They were converted from ../shared/xdm; this test converts again and compares, so a hand edit
that drifts from Adobe's definitions (or a converter change) is caught.
"""

from __future__ import annotations

import pytest
from target_aep.validation import builtin_schema

from tests.doubles.xdm_library import (
    BEHAVIOUR_RECORD,
    CLASS_EXPERIENCE_EVENT,
    CLASS_PROFILE,
    FG_COMMERCE,
    FG_IDENTITY_MAP,
    FG_PERSON,
    FG_PERSONAL_CONTACT,
    PlatformFormConverter,
    load_documents,
)
from tests.shared_paths import XDM_DIR, require

ANNOTATIONS = ("title", "description", "meta:class", "meta:fieldGroups")


def without_annotations(schema: dict) -> dict:
    return {key: value for key, value in schema.items() if key not in ANNOTATIONS}


@pytest.fixture(scope="module")
def adobe() -> PlatformFormConverter:
    return PlatformFormConverter(load_documents(require(XDM_DIR)))


def test_experience_event_schema_is_adobes_class_plus_commerce_details(adobe):
    expected = adobe.composite(CLASS_EXPERIENCE_EVENT, FG_COMMERCE)
    assert without_annotations(builtin_schema("experience_event_commerce.json")) == expected


def test_profile_schema_is_adobes_class_and_field_groups_plus_source_audit(adobe):
    expected = adobe.composite(CLASS_PROFILE, FG_PERSON, FG_PERSONAL_CONTACT, FG_IDENTITY_MAP)
    shipped = without_annotations(builtin_schema("profile.json"))
    audit = shipped["properties"].pop("extSourceSystemAudit")  # not in the shared subset
    assert shipped == expected
    assert {"externalID", "createdDate", "lastUpdatedDate"} <= set(audit["properties"])


def test_record_and_product_schemas_carry_the_record_behaviour(adobe):
    behaviour = adobe.composite(BEHAVIOUR_RECORD)
    assert without_annotations(builtin_schema("record.json")) == behaviour
    product = builtin_schema("product.json")
    assert product["properties"]["_id"] == behaviour["properties"]["_id"]
    assert product["properties"]["productListPrice"]["properties"]["currencyCode"]["pattern"] == (
        "^[A-Z]{3}$"
    )
