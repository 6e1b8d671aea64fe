# ruff: noqa: E501  (aligned columns make the table checkable field by field)
"""charges -> XDM ExperienceEvent + Commerce Details + IdentityMap.

Stripe's Charge (https://docs.stripe.com/api/charges/object) as a commerce event
(https://experienceleague.adobe.com/en/docs/experience-platform/xdm/field-groups/event/commerce-details).
The refunded amount is not a charge metric: each refund counts it on its own event (refunds
stream); `amount_refunded` stays in the tenant area.

A charge is a purchase once it has succeeded and been captured. The purchase's metrics are
carried by the one record where the charge becomes it: its first state when it is a purchase
already, else the change after `charge.succeeded` (a bank debit, pending for days first) or
`charge.captured` (an authorisation captured later); Stripe sends each of them at most once
per charge (https://docs.stripe.com/api/events/types#event_types-charge.succeeded,
https://docs.stripe.com/api/events/types#event_types-charge.captured).
"""

from target_aep.mapping.engine import Table

_BILLING = "billing_details.address."
_SHIPPING = "shipping.address."

# fmt: off
TABLE = Table(
    stream="charges",
    object_key="charge",
    schema="experience_event_commerce.json",
    is_profile=False,
    change_events=True,
    event_types=(("charge.", "stripe.charge."),),
    fact_state="is_purchase",
    fact_changes=("charge.succeeded", "charge.captured"),
    rows=(
        # XDM path (Platform form)                     Stripe path                     converter
        ("timestamp",                                  "created",                      "timestamp"),
        ("eventType",                                  "*",                            "charge_event_type"),
        ("commerce.order.purchaseID",                  "payment_intent|id",            "text"),
        ("commerce.order.currencyCode",                "currency",                     "currency"),
        ("commerce.order.createdDate",                 "created",                      "timestamp"),
        ("commerce.order.payments[0].transactionID",   "id",                           "text"),
        ("commerce.order.payments[0].paymentType",     "payment_method_details",       "payment_type"),
        ("commerce.order.payments[0].currencyCode",    "currency",                     "currency"),
        ("commerce.billing.address.street1",           _BILLING + "line1",             "text"),
        ("commerce.billing.address.street2",           _BILLING + "line2",             "text"),
        ("commerce.billing.address.city",              _BILLING + "city",              "text"),
        ("commerce.billing.address.postalCode",        _BILLING + "postal_code",       "text"),
        ("commerce.billing.address.state",             _BILLING + "state",             "text"),
        ("commerce.billing.address.countryCode",       _BILLING + "country",           "country"),
        ("commerce.shipping.address.street1",          _SHIPPING + "line1",            "text"),
        ("commerce.shipping.address.street2",          _SHIPPING + "line2",            "text"),
        ("commerce.shipping.address.city",             _SHIPPING + "city",             "text"),
        ("commerce.shipping.address.postalCode",       _SHIPPING + "postal_code",      "text"),
        ("commerce.shipping.address.state",            _SHIPPING + "state",            "text"),
        ("commerce.shipping.address.countryCode",      _SHIPPING + "country",          "country"),
        ("identityMap",                                "customer",                     "customer_identity"),
        ("identityMap",                     "billing_details.email|receipt_email",     "email_identity"),
    ),
    fact_rows=(  # the purchase: only on the record where the charge becomes one
        ("commerce.purchases.value",                   "*",                            "purchase_measure"),
        ("commerce.order.priceTotal",                  "amount",                       "money"),
        ("commerce.order.payments[0].paymentAmount",   "*",                            "captured_amount"),
    ),
)
# fmt: on
