"""The Stripe resources the emulator serves, as tables: names, permissions and event types.

Sources: https://docs.stripe.com/api (each object's list endpoint and `object` value),
https://docs.stripe.com/keys#limit-access (restricted-key permissions) and
https://docs.stripe.com/api/events/types (the events each object's changes emit).
"""

from __future__ import annotations

# Resource list name (URL path segment) -> object name (`object` field, example file name).
OBJECT_OF = {
    "charges": "charge",
    "subscriptions": "subscription",
    "refunds": "refund",
    "balance_transactions": "balance_transaction",
    "customers": "customer",
    "prices": "price",
}

# Every subscription status Stripe documents.
SUBSCRIPTION_STATUSES = (
    "active",
    "trialing",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "paused",
)

# Resource -> the restricted-key permission Stripe names in its 403 message.
PERMISSION_OF = {
    "charges": "charge_read",
    "refunds": "charge_read",
    "subscriptions": "subscription_read",
    "subscription_items": "subscription_read",
    "customers": "customer_read",
    "prices": "plan_read",
    "balance_transactions": "balance_read",
    "events": "event_read",
}

DEFAULT_UPDATE_EVENT = {
    "charges": "charge.updated",
    "subscriptions": "customer.subscription.updated",
    "refunds": "refund.updated",
    "customers": "customer.updated",
    "prices": "price.updated",
    # balance_transactions: Stripe emits no events for them.
}
CREATE_EVENT = {
    "customers": "customer.created",
    "prices": "price.created",
    "subscriptions": "customer.subscription.created",
    "refunds": "refund.created",
    # charges: charge.succeeded / charge.failed / charge.pending, by status.
}
DELETE_EVENT = {
    "customers": "customer.deleted",
    "prices": "price.deleted",
    "subscriptions": "customer.subscription.deleted",
}


def object_name(resource: str) -> str:
    """The `object` value of a resource's objects (`charges` -> `charge`)."""
    return (
        OBJECT_OF.get(resource)
        or {"events": "event", "subscription_items": "subscription_item"}[resource]
    )
