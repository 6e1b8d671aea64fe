"""subscriptions -> XDM ExperienceEvent snapshot + productListItems.

Stripe's Subscription (https://docs.stripe.com/api/subscriptions/object), its items as
`productListItems[]` (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/data-types/product-list-item).

The first record of a subscription is `stripe.subscription.<status>` at its creation, with its
items; each change (a renewal, a cancellation, its end: `stripe.subscription.deleted`) is its
own event at the change's time, without the items again.
"""

from target_aep.mapping.engine import Table

# fmt: off
TABLE = Table(
    stream="subscriptions",
    object_key="subscription",
    schema="experience_event_commerce.json",
    is_profile=False,
    change_events=True,
    event_types=(("customer.subscription.", "stripe.subscription."),),
    delete_event="customer.subscription.deleted",
    rows=(
        # XDM path (Platform form)   Stripe path   converter
        ("timestamp",                "created",    "timestamp"),
        ("eventType",                "status",     "event_type(stripe.subscription.)"),
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
