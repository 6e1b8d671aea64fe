"""The six Stripe resources the tap reads, as data: what differs between their list endpoints.

Adding a resource is a row here, a schema file (`schemas/<name>.json`) and, in target-aep, a
mapping table. The Read permission a restricted key needs is Stripe's name for it, as the
Dashboard's key form shows it (https://docs.stripe.com/keys/permissions-reference). Every list
endpoint takes `limit` (at most 100), `starting_after` and `created` filters
(https://docs.stripe.com/api/pagination); those are the same for all rows.

Event types come from https://docs.stripe.com/api/events/types; the events list takes at most
20 names in `types[]` per request (https://docs.stripe.com/api/events/list), and every row stays
within that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class EmbeddedList:
    """A list Stripe embeds in the object truncated (first 10 entries and `has_more`), and the
    endpoint that lists it whole, filtered by the parent's id."""

    field: str
    """The object's field holding the list, e.g. items."""
    path: str
    """The list endpoint of its entries, e.g. /v1/subscription_items."""
    parent_param: str
    """The filter naming the parent object, e.g. subscription."""
    read_permission: str


@dataclass(frozen=True)
class StatusChange:
    """A change a re-read can see without an event: the object reached `status` at the time
    in its `at_field`; its record is stamped as re-emitted after `event_type` then."""

    status: str
    at_field: str
    event_type: str


@dataclass(frozen=True)
class Resource:
    """One Stripe resource read as one stream."""

    name: str
    """Stream name, also the schema file's name."""
    path: str
    """List endpoint; `<path>/<id>` retrieves one object."""
    object_type: str
    """Stripe's `object` value for this resource."""
    read_permission: str
    """What a restricted key needs to list it."""
    list_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Filters the list always needs."""
    event_types: tuple[str, ...] = ()
    """Events whose `data.object` is this resource (change capture)."""
    delete_event_types: frozenset[str] = frozenset()
    """Events meaning the object was deleted: its record carries `_sdc_deleted_at`."""
    fact_event_types: frozenset[str] = frozenset()
    """Events after which the object's state is a fact of its own (a charge becoming a
    purchase): each is emitted as its own change even when newer events of the object follow
    in the same events window, where only the newest counts otherwise."""
    lookback: bool = False
    """No events exist: each run re-reads `balance_transactions_lookback_days` before the
    bookmark, so late changes of recent objects arrive."""
    embedded_lists: tuple[EmbeddedList, ...] = ()
    """Lists Stripe truncates in the object, completed from their own endpoint."""
    reread_change: StatusChange | None = None
    """What a lookback re-read of an earlier run's object reports as its change."""


RESOURCES: tuple[Resource, ...] = (
    Resource(  # https://docs.stripe.com/api/charges/list
        name="charges",
        path="/v1/charges",
        object_type="charge",
        read_permission="Charges (charge_read)",
        # charge.refund.updated carries a refund and charge.dispute.* a dispute: not charges.
        event_types=(
            "charge.captured",
            "charge.expired",
            "charge.failed",
            "charge.pending",
            "charge.refunded",
            "charge.succeeded",
            "charge.updated",
        ),
        # A charge becomes a purchase after one of these (a bank debit is pending for days, an
        # authorisation is captured later); Stripe sends each at most once per charge.
        fact_event_types=frozenset({"charge.succeeded", "charge.captured"}),
    ),
    Resource(  # https://docs.stripe.com/api/subscriptions/list
        name="subscriptions",
        path="/v1/subscriptions",
        object_type="subscription",
        read_permission="Subscriptions (subscription_read)",
        # Without `status`, the list leaves out canceled subscriptions.
        list_params=MappingProxyType({"status": "all"}),
        event_types=(
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.deleted",
            "customer.subscription.paused",
            "customer.subscription.resumed",
            "customer.subscription.pending_update_applied",
            "customer.subscription.pending_update_expired",
            "customer.subscription.trial_will_end",
        ),
        # The subscription stays (status canceled); its record is marked deleted all the same.
        delete_event_types=frozenset({"customer.subscription.deleted"}),
        # https://docs.stripe.com/api/subscriptions/object#subscription_object-items
        # https://docs.stripe.com/api/subscription_items/list
        embedded_lists=(
            EmbeddedList(
                "items",
                "/v1/subscription_items",
                "subscription",
                read_permission="Subscriptions (subscription_read)",
            ),
        ),
    ),
    Resource(  # https://docs.stripe.com/api/refunds/list
        name="refunds",
        path="/v1/refunds",
        object_type="refund",
        read_permission="Charges and Refunds (charge_read)",
        # refund.* for every refund since 2024-10-28.acacia, charge.refund.updated before:
        # https://docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update
        event_types=("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"),
    ),
    Resource(  # https://docs.stripe.com/api/balance_transactions/list
        name="balance_transactions",
        path="/v1/balance_transactions",
        object_type="balance_transaction",
        read_permission="Balance (balance_read)",
        # No events: `status` moves pending -> available later without one, at `available_on`
        # (https://docs.stripe.com/api/balance_transactions/object#balance_transaction_object-available_on).
        # Stripe has no event type for it; the tap names the change after the object.
        lookback=True,
        reread_change=StatusChange("available", "available_on", "balance_transaction.available"),
    ),
    Resource(  # https://docs.stripe.com/api/customers/list
        name="customers",
        path="/v1/customers",
        object_type="customer",
        read_permission="Customers (customer_read)",
        event_types=("customer.created", "customer.updated", "customer.deleted"),
        delete_event_types=frozenset({"customer.deleted"}),
    ),
    Resource(  # https://docs.stripe.com/api/prices/list (active and archived without `active`)
        name="prices",
        path="/v1/prices",
        object_type="price",
        read_permission="Prices (plan_read)",
        event_types=("price.created", "price.updated", "price.deleted"),
        delete_event_types=frozenset({"price.deleted"}),
    ),
)
