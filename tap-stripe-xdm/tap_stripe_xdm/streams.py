"""The six Stripe streams: only what differs between the list endpoints.

Event types per resource are those of reference section 6 (Stripe's event types page):
`types[]` takes at most 20 names per request, and each stream's list stays within that.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tap_stripe_xdm.client import PAGE_LIMIT, StripeStream


class ChargesStream(StripeStream):
    name = "charges"
    path = "/v1/charges"
    object_type = "charge"
    # charge.refund.updated carries a refund, charge.dispute.* a dispute: not charges.
    event_types = (
        "charge.captured",
        "charge.expired",
        "charge.failed",
        "charge.pending",
        "charge.refunded",
        "charge.succeeded",
        "charge.updated",
    )


class SubscriptionsStream(StripeStream):
    """Subscriptions of every status, each with its complete `items` list."""

    name = "subscriptions"
    path = "/v1/subscriptions"
    object_type = "subscription"
    event_types = (
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        "customer.subscription.trial_will_end",
    )
    # The subscription stays (status canceled); the record is marked deleted all the same.
    delete_event_types = frozenset({"customer.subscription.deleted"})
    # Without `status`, Stripe leaves out canceled subscriptions.
    list_params: ClassVar[dict[str, str]] = {"status": "all"}

    def complete(self, objects: list[dict[str, Any]], account: str | None) -> None:
        """Replace a truncated `items` list (Stripe embeds 10) with the complete one.

        The list is read from its start rather than continued after the last embedded item:
        up to 100 items it is the same single request, and it does not depend on the embedded
        order matching the endpoint's order.
        """
        for subscription in objects:
            items = subscription.get("items")
            if isinstance(items, dict) and items.get("has_more"):
                embedded = items.get("data") or []
                complete = self._all_items(subscription["id"], account)
                listed = {item["id"] for item in complete}
                items["data"] = complete + [i for i in embedded if i["id"] not in listed]
                items["has_more"] = False

    def _all_items(self, subscription_id: str, account: str | None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"subscription": subscription_id, "limit": PAGE_LIMIT}
        while True:
            page = self.runtime.api.list_page("/v1/subscription_items", params, account=account)
            found.extend(page.data)
            if not (page.has_more and page.data):
                return found
            params["starting_after"] = page.data[-1]["id"]


class RefundsStream(StripeStream):
    name = "refunds"
    path = "/v1/refunds"
    object_type = "refund"
    # refund.* for every refund since 2024-10-28.acacia; charge.refund.updated before that.
    event_types = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")


class BalanceTransactionsStream(StripeStream):
    """No events exist for balance transactions: a lookback re-read brings status changes."""

    name = "balance_transactions"
    path = "/v1/balance_transactions"
    object_type = "balance_transaction"


class CustomersStream(StripeStream):
    name = "customers"
    path = "/v1/customers"
    object_type = "customer"
    event_types = ("customer.created", "customer.updated", "customer.deleted")
    delete_event_types = frozenset({"customer.deleted"})


class PricesStream(StripeStream):
    """Active and archived prices: the list returns both when `active` is not sent."""

    name = "prices"
    path = "/v1/prices"
    object_type = "price"
    event_types = ("price.created", "price.updated", "price.deleted")
    delete_event_types = frozenset({"price.deleted"})


STREAM_TYPES: tuple[type[StripeStream], ...] = (
    ChargesStream,
    SubscriptionsStream,
    RefundsStream,
    BalanceTransactionsStream,
    CustomersStream,
    PricesStream,
)
