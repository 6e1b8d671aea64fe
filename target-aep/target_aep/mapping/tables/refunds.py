# ruff: noqa: E501  (aligned columns make the table checkable field by field)
"""refunds -> XDM ExperienceEvent + Commerce Details.

Stripe's Refund (https://docs.stripe.com/api/refunds/object) in `commerce.order.refunds[]`
(https://experienceleague.adobe.com/en/docs/experience-platform/xdm/field-groups/event/commerce-details).

Stripe's `reason` (duplicate, fraudulent, ...) does not fit XDM's strict `refundReason` enum
(return | price_adjustment), so it stays in the tenant area with everything else.

A refund's amount is counted on its first record unless that record is `failed` or `canceled`:
Stripe counts a `pending` refund in its charge's `amount_refunded` already
(https://docs.stripe.com/api/refunds/object#refund_object-status,
https://docs.stripe.com/api/charges/object#charge_object-amount_refunded), and a refund that
never took effect returned no money. Its later changes carry no amount again.
"""

from target_aep.mapping.engine import Table

# fmt: off
TABLE = Table(
    stream="refunds",
    object_key="refund",
    schema="experience_event_commerce.json",
    is_profile=False,
    change_events=True,
    # Refunds of card charges were `charge.refund.updated` before 2024-10-28.acacia
    # (https://docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update).
    event_types=(("charge.refund.", "stripe.refund."), ("refund.", "stripe.refund.")),
    fact_state="refund_in_effect",
    rows=(
        # XDM path (Platform form)                      Stripe path              converter
        ("timestamp",                                   "created",               "timestamp"),
        ("eventType",                                   "status",                "event_type(stripe.refund.)"),
        ("commerce.order.purchaseID",                   "payment_intent|charge", "text"),
        ("commerce.order.currencyCode",                 "currency",              "currency"),
        ("commerce.order.refunds[0].transactionID",     "id",                    "text"),
        ("commerce.order.refunds[0].refundPaymentType", "*",                     "refund_payment_type"),
        ("commerce.order.refunds[0].currencyCode",      "currency",              "currency"),
        ("identityMap",                                 "charge",                "charge_customer_identity"),
    ),
    fact_rows=(  # the refunded amount: only on a first record that took effect
        ("commerce.order.refundTotal",                  "amount",                "money"),
        ("commerce.order.refunds[0].refundAmount",      "amount",                "money"),
    ),
)
# fmt: on
