"""prices -> a record shaped like the XDM Product class.

Stripe's Price (https://docs.stripe.com/api/prices/object) as a product record
(https://github.com/adobe/xdm/blob/master/docs/reference/classes/product.schema.md).
"""

from target_aep.mapping.engine import Table

# fmt: off
TABLE = Table(
    stream="prices",
    object_key="price",
    schema="product.json",
    is_profile=False,
    delete_event="price.deleted",
    rows=(
        # XDM path (Platform form)           Stripe path          converter
        ("productID",                        "id",                "text"),
        ("productName",                      "nickname|product",  "text"),
        ("productListPrice.amount",          "*",                 "unit_price"),
        ("productListPrice.currencyCode",    "currency",          "currency"),
        ("productLastModifiedDate",          "*",                 "modified_at"),
    ),
)
# fmt: on
