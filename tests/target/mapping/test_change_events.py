"""A change is its own event: each business fact counted once, each record stamped with the
moment it describes.

A record re-emitted by change capture carries the Stripe event that caused it
(`updated_by_event_type`, `updated`: the field names singer-io's tap-stripe uses); a first read
carries neither. Records are shaped as the sink hands them to the mapping (the SDK has parsed
the declared top-level date-times into `datetime` objects).
"""

from __future__ import annotations

import datetime as dt

import pytest
from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.validation import RecordValidator, builtin_schema, with_tenant

from tests.target.examples import example, tap_schema

OPTIONS = MappingOptions(tenant_id="acme")
UTC = dt.timezone.utc
REFUNDED_AT = 1_679_200_000  # the example charge was created at 1_679_090_539
EDITED_AT = 1_679_300_000


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def iso(seconds: int) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def tap_record(stream: str, **changes: object) -> dict:
    return {**example(stream), "account_id": None, "_sdc_deleted_at": None, **changes}


def changed(record: dict, event_type: str, when: int) -> dict:
    """The record as change capture re-emits it after `event_type` at `when`."""
    return {**record, "updated_by_event_type": event_type, "updated": at(when)}


def mapped(stream: str, record: dict) -> dict:
    return mapper_for(stream, OPTIONS, singer_schema=tap_schema(stream)).map(record)


def assert_valid(stream: str, xdm: dict) -> None:
    mapper = mapper_for(stream, OPTIONS)
    tenant = mapper.tenant_schema(tap_schema(stream))
    validator = RecordValidator(with_tenant(builtin_schema(mapper.schema), "acme", tenant), stream)
    assert [e.as_dict() for e in validator.errors(xdm)] == []


def purchases(events: list[dict]) -> int:
    return sum(e.get("commerce", {}).get("purchases", {}).get("value", 0) for e in events)


def revenue(events: list[dict]) -> float:
    return sum(e.get("commerce", {}).get("order", {}).get("priceTotal", 0) for e in events)


def refunded(events: list[dict]) -> float:
    return sum(e.get("commerce", {}).get("order", {}).get("refundTotal", 0) for e in events)


def charge_refunded_then_edited() -> tuple[list[dict], list[dict]]:
    """A charge read, refunded in part, then its metadata edited; and the refund itself."""
    charge = tap_record("charges")
    refund = tap_record(
        "refunds",
        charge=charge["id"],
        payment_intent=None,
        amount=400,
        currency="usd",
        created=REFUNDED_AT,
    )
    after_refund = {**charge, "amount_refunded": 400, "refunds": None}
    after_edit = {**after_refund, "metadata": {"gift": "yes"}}
    charges = [
        mapped("charges", charge),
        mapped("charges", changed(after_refund, "charge.refunded", REFUNDED_AT)),
        mapped("charges", changed(after_edit, "charge.updated", EDITED_AT)),
    ]
    return charges, [mapped("refunds", refund)]


def test_a_charge_read_refunded_then_edited_is_three_events_one_purchase():
    charges, refunds = charge_refunded_then_edited()
    assert len({event["_id"] for event in charges}) == 3
    assert [event["eventType"] for event in charges] == [
        "commerce.purchases",
        "stripe.charge.refunded",
        "stripe.charge.updated",
    ]
    assert [event["timestamp"] for event in charges] == [
        "2023-03-17T22:02:19Z",
        iso(REFUNDED_AT),
        iso(EDITED_AT),
    ]
    assert purchases(charges + refunds) == 1
    assert revenue(charges + refunds) == 10.99  # the charge's amount, once
    assert refunded(charges + refunds) == 4.0  # on the refund's own event only
    assert refunded(refunds) == 4.0
    for event in charges:
        assert_valid("charges", event)


def kept_by_profile(events: list[dict]) -> list[dict]:
    """What Real-Time Customer Profile keeps: an event whose `_id` it already holds is dropped
    (https://experienceleague.adobe.com/en/docs/experience-platform/collection/event-duplication)."""
    seen: dict[str, dict] = {}
    for event in events:
        seen.setdefault(event["_id"], event)
    return list(seen.values())


def purchase_of(events: list[dict]) -> dict:
    """The one event of `events` that carries the purchase (and its metrics)."""
    (purchase,) = [e for e in events if e.get("commerce", {}).get("purchases")]
    assert purchase["eventType"] == "commerce.purchases"
    order = purchase["commerce"]["order"]
    assert (order["priceTotal"], order["payments"][0]["paymentAmount"]) == (10.99, 10.99)
    return purchase


def assert_no_metrics(event: dict) -> None:
    order = event.get("commerce", {}).get("order", {})
    assert "purchases" not in event.get("commerce", {})
    assert "priceTotal" not in order
    assert all("paymentAmount" not in payment for payment in order.get("payments", []))


SUCCEEDED_AT = 1_679_400_000  # days after the example charge's creation: a bank debit


def pending(charge: dict) -> dict:
    """The charge as a bank debit is for days after its creation
    (https://docs.stripe.com/payments/ach-direct-debit/accept-a-payment)."""
    return {**charge, "status": "pending", "paid": False, "balance_transaction": None}


def authorised(charge: dict) -> dict:
    """The charge created with `capture: false`: succeeded, not captured yet
    (https://docs.stripe.com/api/charges/object#charge_object-captured)."""
    return {**charge, "captured": False, "amount_captured": 0}


def test_a_charge_read_pending_counts_one_purchase_when_it_succeeds():
    charge = tap_record("charges")
    first = mapped("charges", pending(charge))  # read while pending
    succeeded = mapped("charges", changed(charge, "charge.succeeded", SUCCEEDED_AT))  # next run
    assert first["eventType"] == "stripe.charge.pending"
    assert first["timestamp"] == iso(charge["created"])
    assert_no_metrics(first)
    assert purchase_of([first, succeeded]) is succeeded
    assert succeeded["timestamp"] == iso(SUCCEEDED_AT)  # when it became a purchase
    assert succeeded["commerce"]["order"]["createdDate"] == iso(charge["created"])
    assert succeeded["_id"] == f"stripe:charges:{charge['id']}"  # the purchase: one per charge
    assert first["_id"] == f"stripe:charges:{charge['id']}:created"
    assert purchase_of(kept_by_profile([first, succeeded])) is succeeded
    assert revenue([first, succeeded]) == 10.99
    for event in (first, succeeded):
        assert_valid("charges", event)


def test_pending_succeeded_then_refunded_in_one_window_is_one_purchase_then_a_change():
    """The tap emits a window's charge.succeeded as its own record before the newest state."""
    charge = tap_record("charges")
    refunded_state = {**charge, "amount_refunded": 400, "refunded": False}
    events = [
        mapped("charges", pending(charge)),
        mapped("charges", changed(charge, "charge.succeeded", SUCCEEDED_AT)),
        mapped("charges", changed(refunded_state, "charge.refunded", SUCCEEDED_AT + 60)),
    ]
    assert [e["eventType"] for e in events] == [
        "stripe.charge.pending",
        "commerce.purchases",
        "stripe.charge.refunded",
    ]
    assert purchase_of(events) is events[1]
    assert_no_metrics(events[2])
    assert events[2]["_acme"]["stripe"]["charge"]["amountRefunded"] == 400
    assert len({e["_id"] for e in events}) == 3
    assert [e["timestamp"] for e in events[1:]] == [iso(SUCCEEDED_AT), iso(SUCCEEDED_AT + 60)]


def test_an_authorised_charge_counts_one_purchase_when_it_is_captured():
    charge = tap_record("charges")
    captured_at = charge["created"] + 86_400
    events = [
        mapped("charges", authorised(charge)),  # read authorised only
        # its charge.succeeded (the authorisation) re-sent later is no purchase either
        mapped("charges", changed(authorised(charge), "charge.succeeded", charge["created"] + 5)),
        mapped("charges", changed(charge, "charge.captured", captured_at)),
    ]
    assert [e["eventType"] for e in events] == [
        "stripe.charge.succeeded",
        "stripe.charge.succeeded",
        "commerce.purchases",
    ]
    assert_no_metrics(events[0])
    assert_no_metrics(events[1])
    assert purchase_of(events) is events[2]
    assert events[2]["timestamp"] == iso(captured_at)
    assert events[2]["_id"] == f"stripe:charges:{charge['id']}"
    assert purchase_of(kept_by_profile(events)) is events[2]


def test_a_charge_read_succeeded_then_refunded_and_edited_keeps_its_one_purchase():
    """Guard: a change of a charge that is a purchase already never carries the metrics again,
    whatever its state (succeeded and captured, as on every change after the purchase)."""
    charges, refunds = charge_refunded_then_edited()
    assert purchase_of(charges) is charges[0]
    for change in charges[1:]:
        assert_no_metrics(change)
    assert purchases(kept_by_profile(charges + refunds)) == 1


def test_a_purchase_seen_twice_is_the_same_event():
    """A purchase read from a re-read (a full refresh) or stamped at a later second (a change
    that a run's read had already seen, singer-io's charge.succeeded) has the purchase's `_id`:
    Profile keeps it once, and Query Service counts it once by `_id`."""
    charge = tap_record("charges")
    became = mapped("charges", changed(charge, "charge.succeeded", SUCCEEDED_AT))
    reread = mapped("charges", {**charge, "amount_refunded": 400})  # a full refresh, later
    late_stamp = mapped("charges", changed(charge, "charge.succeeded", charge["created"] + 1))
    assert became["_id"] == reread["_id"] == late_stamp["_id"] == f"stripe:charges:{charge['id']}"
    events = [mapped("charges", pending(charge)), became, reread, late_stamp]
    assert len({e["_id"] for e in events if e.get("commerce", {}).get("purchases")}) == 1
    assert purchases(kept_by_profile(events)) == 1


def test_a_first_state_that_is_no_purchase_carries_no_metrics():
    for state in ("pending", "failed"):
        charge = tap_record("charges", status=state, captured=state == "pending", paid=False)
        xdm = mapped("charges", charge)
        assert xdm["eventType"] == f"stripe.charge.{state}"
        assert_no_metrics(xdm)
        assert xdm["commerce"]["order"]["payments"][0]["transactionID"] == charge["id"]
        assert xdm["_acme"]["stripe"]["charge"]["amount"] == 1099  # kept, in minor units
        assert_valid("charges", xdm)


def test_a_change_event_carries_the_current_state_and_the_identities_but_no_metrics():
    charge = tap_record("charges", customer="cus_NffrFeUfNV2Hib")
    after = {**charge, "amount_refunded": 400}
    change = mapped("charges", changed(after, "charge.refunded", REFUNDED_AT))
    assert "commerce" not in change
    assert "productListItems" not in change
    assert change["identityMap"] == mapped("charges", charge)["identityMap"]
    stripe = change["_acme"]["stripe"]
    assert stripe["charge"]["amountRefunded"] == 400
    assert "updatedByEventType" not in stripe["charge"]  # it is the eventType


def test_a_change_is_identified_by_the_stripe_event_that_made_it():
    charge = tap_record("charges")
    change = changed({**charge, "amount_refunded": 400}, "charge.refunded", REFUNDED_AT)
    assert mapped("charges", change)["_id"] == (
        f"stripe:charges:{charge['id']}:charge.refunded:{REFUNDED_AT}"
    )


def test_the_same_change_sent_again_keeps_its_id_and_a_first_read_keeps_one_id():
    charge = tap_record("charges")
    change = changed({**charge, "amount_refunded": 400}, "charge.refunded", REFUNDED_AT)
    assert mapped("charges", dict(change)) == mapped("charges", change)
    # The purchase is one fact: a later read of the same charge (a full refresh, a re-read
    # after a gap in the events) is the same event, whatever the charge's state by then.
    reread = {**charge, "amount_refunded": 400, "metadata": {"gift": "yes"}}
    assert mapped("charges", reread)["_id"] == mapped("charges", charge)["_id"]
    assert mapped("charges", charge)["_id"] == f"stripe:charges:{charge['id']}"


def test_a_creation_event_is_the_first_state_not_a_change():
    """singer-io re-sends every object from its creation event (stamped, otherwise equal)."""
    charge = tap_record("charges")
    from_event = changed(charge, "charge.succeeded", charge["created"])
    assert mapped("charges", from_event) == mapped("charges", charge)
    first_read = {**charge, "updated": at(charge["created"])}  # singer-io's first read
    assert mapped("charges", first_read) == mapped("charges", charge)


# (Stripe event type, stream) -> eventType of the change event.
CHANGE_TYPES = [
    ("charge.refunded", "charges", "stripe.charge.refunded"),
    ("charge.expired", "charges", "stripe.charge.expired"),
    ("charge.updated", "charges", "stripe.charge.updated"),
    ("refund.updated", "refunds", "stripe.refund.updated"),
    ("charge.refund.updated", "refunds", "stripe.refund.updated"),
    ("refund.failed", "refunds", "stripe.refund.failed"),
    ("customer.subscription.updated", "subscriptions", "stripe.subscription.updated"),
    ("customer.subscription.paused", "subscriptions", "stripe.subscription.paused"),
    ("customer.subscription.deleted", "subscriptions", "stripe.subscription.deleted"),
    (
        "balance_transaction.available",
        "balance_transactions",
        "stripe.balance_transaction.available",
    ),
]


@pytest.mark.parametrize(("stripe_type", "stream", "event_type"), CHANGE_TYPES)
def test_the_event_type_names_the_change(stripe_type, stream, event_type):
    record = tap_record(stream)
    xdm = mapped(stream, changed(record, stripe_type, record["created"] + 3600))
    assert xdm["eventType"] == event_type
    assert xdm["timestamp"] == iso(record["created"] + 3600)
    assert_valid(stream, xdm)


def test_a_subscription_change_is_stamped_with_its_time_and_lists_no_items_again():
    sub = tap_record("subscriptions")
    first = mapped("subscriptions", sub)
    assert first["timestamp"] == iso(sub["created"])
    assert first["productListItems"]
    renewed = mapped(
        "subscriptions", changed(sub, "customer.subscription.updated", sub["created"] + 86_400)
    )
    assert renewed["timestamp"] == iso(sub["created"] + 86_400)
    assert "productListItems" not in renewed
    assert renewed["_acme"]["stripe"]["subscription"]["items"]


def test_a_balance_transaction_counts_its_amounts_on_its_first_record_only():
    pending = tap_record("balance_transactions", status="pending")
    first = mapped("balance_transactions", pending)
    assert first["_acme"]["stripe"]["balanceTransaction"]["amount"] == -4.0
    available = changed(
        {**pending, "status": "available"}, "balance_transaction.available", REFUNDED_AT
    )
    change = mapped("balance_transactions", available)
    detail = change["_acme"]["stripe"]["balanceTransaction"]
    assert detail["status"] == "available"
    for field in ("amount", "amountMinor", "fee", "feeMinor", "net", "netMinor"):
        assert field not in detail, field
    assert change["eventType"] == "stripe.balance_transaction.available"
    assert_valid("balance_transactions", change)


def test_a_price_keeps_one_row_per_state_stamped_with_the_change_time():
    price = tap_record("prices")
    first = mapped("prices", price)
    assert first["productLastModifiedDate"] == iso(price["created"])
    renamed = mapped("prices", changed({**price, "nickname": "Gold"}, "price.updated", REFUNDED_AT))
    assert renamed["productLastModifiedDate"] == iso(REFUNDED_AT)
    assert renamed["productName"] == "Gold"
    assert renamed["_id"] != first["_id"]
    assert_valid("prices", renamed)


def test_a_customer_change_upserts_the_same_profile():
    customer = tap_record("customers")
    renamed = changed({**customer, "name": "Jenny Renamed"}, "customer.updated", REFUNDED_AT)
    new, old = mapped("customers", renamed), mapped("customers", customer)
    assert new["identityMap"] == old["identityMap"]
    assert new["person"]["name"]["fullName"] == "Jenny Renamed"
    assert_valid("customers", new)


def singer_io_shaped(record: dict) -> dict:
    """singer-io's shapes: date-times as ISO strings at every depth, `updated` on every record."""

    def convert(value, name=""):
        if isinstance(value, dict):
            return {key: convert(item, key) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item, name) for item in value]
        if name in {"created", "available_on"} and isinstance(value, int):
            return at(value).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        return value

    out = convert({k: v for k, v in record.items() if k != "_sdc_deleted_at"})
    updated = record.get("updated")
    out["updated"] = updated.strftime("%Y-%m-%dT%H:%M:%S.000000Z") if updated else out["created"]
    return out


def test_singer_io_shaped_changes_count_each_purchase_once():
    """singer-io sends every charge's first read (`updated` = `created`) and, from its events,
    each charge.succeeded: a card charge's at its creation second, a bank debit's days later."""
    card = tap_record("charges")
    bank = tap_record("charges", id="ch_bank_debit")
    records = [
        singer_io_shaped(card),
        singer_io_shaped(changed(card, "charge.succeeded", card["created"])),
        singer_io_shaped(pending(bank)),
        singer_io_shaped(changed(bank, "charge.succeeded", SUCCEEDED_AT)),
    ]
    events = [mapped("charges", record) for record in records]
    assert events[0] == events[1], "a card charge's charge.succeeded is its first state"
    assert purchase_of(kept_by_profile(events[:2])) is events[0]
    assert events[0]["timestamp"] == iso(card["created"])
    assert purchase_of(events[2:]) is events[3]
    assert events[3]["timestamp"] == iso(SUCCEEDED_AT)
    assert purchases(kept_by_profile(events)) == 2  # one per charge
    assert revenue(kept_by_profile(events)) == 2 * 10.99


def test_singer_io_shaped_input_gives_the_same_events():
    charge = tap_record("charges")
    ours = [charge, changed({**charge, "amount_refunded": 400}, "charge.refunded", REFUNDED_AT)]
    theirs = [singer_io_shaped(record) for record in ours]
    for own, foreign in zip(ours, theirs, strict=True):
        a, b = mapped("charges", own), mapped("charges", foreign)
        for key in ("_id", "eventType", "timestamp", "commerce", "identityMap"):
            assert a.get(key) == b.get(key), key


def test_singer_ios_delete_marker_is_a_delete():
    customer = tap_record("customers")
    singer_io_delete = changed(customer, "customer.deleted", REFUNDED_AT)
    xdm = mapped("customers", singer_io_delete)
    assert xdm["_acme"]["stripe"]["deleted"] is True
    assert xdm["_acme"]["stripe"]["deletedAt"] == iso(REFUNDED_AT)
    assert xdm["_acme"]["stripe"]["deletionEvent"] == "stripe.customer.deleted"
    assert xdm["identityMap"] == mapped("customers", customer)["identityMap"]
    ended = mapped(
        "subscriptions",
        changed(tap_record("subscriptions"), "customer.subscription.deleted", REFUNDED_AT),
    )
    assert ended["_acme"]["stripe"]["deleted"] is True
    assert ended["eventType"] == "stripe.subscription.deleted"


def test_bookkeeping_fields_never_count_in_an_id_and_the_list_is_a_setting():
    customer = tap_record("customers")
    stamped = {**customer, "updated": at(REFUNDED_AT), "fetched_at": "2026-01-01"}
    default = mapper_for("customers", OPTIONS)
    assert default.map({**customer, "updated": at(1)})["_id"] == default.map(customer)["_id"]
    assert default.map(stamped)["_id"] != default.map(customer)["_id"]  # fetched_at counts
    own_fields = frozenset({"updated", "fetched_at"})
    own = mapper_for("customers", MappingOptions(tenant_id="acme", id_ignore_fields=own_fields))
    assert own.map(stamped)["_id"] == own.map(customer)["_id"]


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_refund_first_read_failed_or_canceled_counts_no_refunded_amount(status: str):
    refund = tap_record("refunds", amount=400, currency="usd", status=status)
    xdm = mapped("refunds", refund)
    assert refunded([xdm]) == 0
    assert all("refundAmount" not in r for r in xdm["commerce"]["order"]["refunds"])
    assert xdm["eventType"] == f"stripe.refund.{status}"
    # Not the refund's fact: its creation, so a fact of the same refund never shares its _id.
    assert xdm["_id"] == f"stripe:refunds:{refund['id']}:created"
    assert_valid("refunds", xdm)


def test_a_pending_refund_that_succeeds_later_counts_its_amount_once():
    refund = tap_record("refunds", amount=400, currency="usd", status="pending")
    succeeded_at = refund["created"] + 3 * 86_400
    first = mapped("refunds", refund)
    succeeded = mapped(
        "refunds", changed({**refund, "status": "succeeded"}, "refund.updated", succeeded_at)
    )
    assert first["_id"] == f"stripe:refunds:{refund['id']}"
    assert first["commerce"]["order"]["refunds"][0]["refundAmount"] == 4.0
    assert refunded([first, succeeded]) == 4.0
    assert succeeded["eventType"] == "stripe.refund.updated"
    assert succeeded["timestamp"] == iso(succeeded_at)
    for xdm in (first, succeeded):
        assert_valid("refunds", xdm)
