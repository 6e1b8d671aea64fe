"""The six Stripe streams: only what differs between the list endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

from tap_stripe_xdm.client import PAGE_LIMIT, StripeStream


class ChargesStream(StripeStream):
    name = "charges"
    path = "/v1/charges"


class SubscriptionsStream(StripeStream):
    """Subscriptions of every status, each with its complete `items` list."""

    name = "subscriptions"
    path = "/v1/subscriptions"
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


class BalanceTransactionsStream(StripeStream):
    name = "balance_transactions"
    path = "/v1/balance_transactions"


class CustomersStream(StripeStream):
    name = "customers"
    path = "/v1/customers"


class PricesStream(StripeStream):
    """Active and archived prices: the list returns both when `active` is not sent."""

    name = "prices"
    path = "/v1/prices"


STREAM_TYPES: tuple[type[StripeStream], ...] = (
    ChargesStream,
    SubscriptionsStream,
    RefundsStream,
    BalanceTransactionsStream,
    CustomersStream,
    PricesStream,
)
