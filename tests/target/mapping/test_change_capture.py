"""Change capture through the mapping: updates and deletes as the tap emits them become XDM
an AEP user can act on, and re-sending a state changes nothing.

Records are shaped as the sink hands them to the mapping: the tap's record plus
`_sdc_deleted_at` (None when the object is live).
"""

from __future__ import annotations

import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.validation import RecordValidator, builtin_schema, with_tenant

from tests.target.examples import example, tap_schema

OPTIONS = MappingOptions(tenant_id="acme")
DELETED_AT = "2026-11-27T02:00:00+00:00"


def tap_record(stream: str, **changes: object) -> dict:
    """The shared example as the tap emits it (plus what the sink adds), with `changes`."""
    return {**example(stream), "account_id": None, "_sdc_deleted_at": None, **changes}


def mapped(stream: str, record: dict, mapping: str | None = None) -> dict:
    return mapper_for(stream, OPTIONS, mapping, singer_schema=tap_schema(stream)).map(record)


def assert_valid(stream: str, xdm: dict, mapping: str | None = None) -> None:
    """Valid against the dataset schema the target builds: XDM + the tap's tenant area."""
    mapper = mapper_for(stream, OPTIONS, mapping)
    tenant = mapper.tenant_schema(tap_schema(stream))
    validator = RecordValidator(with_tenant(builtin_schema(mapper.schema), "acme", tenant), stream)
    assert [e.as_dict() for e in validator.errors(xdm)] == []


@pytest.mark.parametrize("stream", ["charges", "refunds", "subscriptions", "prices"])
def test_an_update_is_a_new_record_and_a_resent_state_the_same_one(stream) -> None:
    before = tap_record(stream)
    after = tap_record(
        stream,
        metadata={"changed": "yes"},
        updated_by_event_type=f"{stream[:-1]}.updated",
        updated="2026-11-27T01:00:00+00:00",
    )
    assert mapped(stream, before) == mapped(stream, dict(before)), "same state, same XDM"
    assert mapped(stream, after) == mapped(stream, dict(after)), "same change, same XDM"
    assert mapped(stream, after)["_id"] != mapped(stream, before)["_id"], "a change, a new _id"
    assert mapped(stream, after)["_id"].startswith(f"stripe:{stream}:{before['id']}:")


def test_an_updated_customer_upserts_the_same_profile() -> None:
    before = tap_record("customers")
    after = tap_record("customers", name="Jenny Renamed", phone="+15550001111")
    old, new = mapped("customers", before), mapped("customers", after)
    assert mapper_for("customers", OPTIONS).is_profile
    # the profile is keyed by identity: the same primary identity, so the update merges into it
    assert new["identityMap"] == old["identityMap"]
    assert new["identityMap"]["StripeCustomerID"][0] == {
        "id": before["id"],
        "primary": True,
        "authenticatedState": "authenticated",
    }
    assert new["person"]["name"]["fullName"] == "Jenny Renamed"
    assert new["mobilePhone"]["number"] == "+15550001111"
    assert new["_id"] != old["_id"]
    assert mapped("customers", dict(after)) == new, "re-sending the state changes nothing"
    assert_valid("customers", new)


def test_a_deleted_customer_marks_its_profile_deleted_and_keeps_its_identities() -> None:
    deleted = tap_record("customers", _sdc_deleted_at=DELETED_AT)
    xdm = mapped("customers", deleted)
    live = mapped("customers", tap_record("customers"))
    assert xdm["identityMap"] == live["identityMap"], "the delete lands on the same profile"
    assert xdm["_acme"]["stripe"]["deleted"] is True
    assert xdm["_acme"]["stripe"]["deletedAt"] == "2026-11-27T02:00:00Z"
    assert xdm["_acme"]["stripe"]["deletionEvent"] == "stripe.customer.deleted"
    assert "deleted" not in live["_acme"]["stripe"]
    assert "deletionEvent" not in live["_acme"]["stripe"]
    assert xdm["_id"] != live["_id"], "a delete is a new state"
    assert mapped("customers", dict(deleted)) == xdm
    assert_valid("customers", xdm)


def test_a_tombstone_customer_still_reaches_its_profile() -> None:
    customer = example("customers")
    tombstone = {
        "id": customer["id"],
        "object": "customer",
        "created": customer["created"],
        "livemode": False,
        "account_id": None,
        "_sdc_deleted_at": DELETED_AT,
    }
    xdm = mapped("customers", tombstone)
    assert xdm["identityMap"] == {
        "StripeCustomerID": [
            {"id": customer["id"], "primary": True, "authenticatedState": "authenticated"}
        ]
    }
    assert xdm["_acme"]["stripe"]["deletionEvent"] == "stripe.customer.deleted"
    assert "person" not in xdm, "no attribute is overwritten with nothing"
    assert_valid("customers", xdm)


def test_a_deleted_price_is_a_product_record_marked_deleted() -> None:
    xdm = mapped("prices", tap_record("prices", _sdc_deleted_at=DELETED_AT))
    assert xdm["productID"] == example("prices")["id"]
    assert xdm["_acme"]["stripe"]["deleted"] is True
    assert xdm["_acme"]["stripe"]["deletionEvent"] == "stripe.price.deleted"
    assert_valid("prices", xdm)


def test_a_deleted_subscription_is_a_stripe_subscription_deleted_event() -> None:
    canceled = tap_record("subscriptions", status="canceled", canceled_at=1_764_208_800)
    ended = {**canceled, "_sdc_deleted_at": DELETED_AT}
    assert mapped("subscriptions", canceled)["eventType"] == "stripe.subscription.canceled"
    xdm = mapped("subscriptions", ended)
    assert xdm["eventType"] == "stripe.subscription.deleted"
    assert xdm["_acme"]["stripe"]["deletionEvent"] == "stripe.subscription.deleted"
    assert xdm["identityMap"]["StripeCustomerID"][0]["id"] == example("subscriptions")["customer"]
    assert xdm["_id"] != mapped("subscriptions", canceled)["_id"]
    assert_valid("subscriptions", xdm)


@pytest.mark.parametrize("mode", ["compat", "generic"])
def test_other_mappings_mark_a_delete_with_stripes_deleted_flag(mode) -> None:
    live = mapped("customers", tap_record("customers"), mode)
    deleted = mapped("customers", tap_record("customers", _sdc_deleted_at=DELETED_AT), mode)
    branch = "customers_data" if mode == "compat" else "customers"
    assert deleted["_acme"][branch]["deleted"] is True
    assert "deleted" not in live["_acme"][branch]
    assert deleted["_id"] != live["_id"]
    assert_valid("customers", deleted, mode)
