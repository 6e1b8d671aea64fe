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
        """Page the rest of `items` when Stripe embedded only the first 10."""
        for subscription in objects:
            items = subscription.get("items")
            if not isinstance(items, dict) or not items.get("has_more"):
                continue
            data = items.setdefault("data", [])
            has_more = True
            while has_more:
                params: dict[str, str | int] = {
                    "subscription": subscription["id"],
                    "limit": PAGE_LIMIT,
                }
                if data:
                    params["starting_after"] = data[-1]["id"]
                page = self.runtime.api.list_page("/v1/subscription_items", params, account=account)
                data.extend(page.data)
                has_more = page.has_more and bool(page.data)
            items["has_more"] = False


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
