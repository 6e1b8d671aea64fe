"""subscriptions -> XDM ExperienceEvent snapshot + productListItems.

Stripe's Subscription (https://docs.stripe.com/api/subscriptions/object), its items as
`productListItems[]` (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/data-types/product-list-item).

Each state of a subscription (status, period) is its own event: the `_id` digests the state.
The event type is `stripe.subscription.<status>`, or `stripe.subscription.deleted` for the
subscription's end as change capture reports it (`_sdc_deleted_at`).
"""

from target_aep.mapping.engine import Table

# fmt: off
TABLE = Table(
    stream="subscriptions",
    object_key="subscription",
    schema="experience_event_commerce.json",
    is_profile=False,
    rows=(
        # XDM path (Platform form)   Stripe path   converter
        ("timestamp",                "*",          "subscription_timestamp"),
        ("eventType",                "*",          "status_event_type(stripe.subscription.)"),
        ("identityMap",              "customer",   "customer_identity"),
    ),
    lists=(
        # XDM array            Stripe list (list object or plain array)
        ("productListItems",   "items.data|items", (
            # XDM path (per item)   Stripe path (per item)                      converter
            ("_id",                 "id",                                       "text"),
            ("SKU",                 "price.id|plan.id",                         "text"),
            ("name",                "price.nickname|plan.nickname|price.product", "text"),
            ("quantity",            "quantity",                                 "integer"),
            ("priceTotal",          "*",                                        "item_price_total"),
            ("currencyCode",        "*",                                        "item_currency"),
        )),
    ),
)
# fmt: on
