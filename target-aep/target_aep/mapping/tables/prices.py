"""prices -> a record shaped like the XDM Product class (aep.md 7.3, "Price", option A)."""

from target_aep.mapping.engine import Table

# fmt: off
TABLE = Table(
    stream="prices",
    object_key="price",
    schema="product.json",
    is_profile=False,
    rows=(
        # XDM path (Platform form)           Stripe path          converter
        ("productID",                        "id",                "text"),
        ("productName",                      "nickname|product",  "text"),
        ("productListPrice.amount",          "*",                 "unit_price"),
        ("productListPrice.currencyCode",    "currency",          "currency"),
        ("productLastModifiedDate",          "created",           "timestamp"),
    ),
)
# fmt: on
