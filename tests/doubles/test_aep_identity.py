"""The double's Identity Service namespaces behave as Adobe documents them."""

from __future__ import annotations

import pytest

from tests.doubles.platform_client import Platform
from tests.shared_paths import AEP_OPENAPI, require

NAMESPACES = "/data/core/idnamespace/identities"
STRIPE = {
    "name": "Stripe Customer ID",
    "code": "StripeCustomerID",
    "idType": "Cross_device",
    "description": "Stripe customer ids (cus_...)",
}


@pytest.fixture
def platform(aep):
    return Platform(aep)


def test_standard_namespaces_are_listed_from_the_start(platform):
    listed = platform.call("GET", NAMESPACES).json()
    assert {
        k: next(n for n in listed if n["code"] == "Email")[k] for k in ("code", "id", "custom")
    } == {"code": "Email", "id": 6, "custom": False}


def test_a_custom_namespace_is_created_once_and_then_listed(platform):
    created = platform.call("POST", NAMESPACES, STRIPE)
    assert created.status_code == 200
    assert created.json()["custom"] is True
    assert created.json()["status"] == "ACTIVE"
    assert created.json()["idType"] == "Cross_device"
    listed = {n["code"]: n for n in platform.call("GET", NAMESPACES).json()}
    assert listed["StripeCustomerID"]["idType"] == "CROSS_DEVICE"
    again = platform.call("POST", NAMESPACES, {**STRIPE, "code": "stripecustomerid"})
    assert again.status_code == 409
    assert again.json()["report"]["code"] == "INTEGRATION_CODE_EXISTS"
    one = platform.call("GET", f"{NAMESPACES}/{created.json()['id']}")
    assert one.json()["code"] == "StripeCustomerID"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [({"code": "Stripe-Customer"}, "letters and numbers"), ({"idType": "Account"}, "idType")],
)
def test_invalid_codes_and_id_types_are_refused(aep, platform, change, complaint):
    answer = platform.call("POST", NAMESPACES, {**STRIPE, **change})
    assert answer.status_code == 400
    assert complaint in answer.json()["description"]
    aep.contract_violations.clear()  # an idType outside the spec's enum is one (next test)


def test_an_id_type_outside_the_spec_is_a_contract_violation(aep, platform):
    require(AEP_OPENAPI)  # the contract check reads Adobe's OpenAPI specs
    platform.call("POST", NAMESPACES, {**STRIPE, "idType": "Account"})
    assert any("'Account' is not one of" in v for v in aep.contract_violations)
    aep.contract_violations.clear()
