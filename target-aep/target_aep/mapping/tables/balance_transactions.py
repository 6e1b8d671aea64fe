"""balance_transactions -> XDM ExperienceEvent, no person.

Stripe's Balance Transaction (https://docs.stripe.com/api/balance_transactions/object) as an
event (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/classes/experienceevent).

Nothing in XDM models fees/net, so the money lives in the tenant area: major units under
Stripe's names, the raw integers as `*Minor`. The dataset is not meant for Profile.
"""

from target_aep.mapping.engine import Table

# fmt: off
TABLE = Table(
    stream="balance_transactions",
    object_key="balanceTransaction",
    schema="experience_event_commerce.json",
    is_profile=False,
    change_events=True,
    # Stripe sends no events for balance transactions: the tap names a status change it
    # finds on a re-read `balance_transaction.available`.
    event_types=(("balance_transaction.", "stripe.balance_transaction."),),
    metric_fields=("amount", "fee", "net", "fee_details"),
    rows=(
        # XDM path     Stripe path   converter
        ("timestamp",  "created",    "timestamp"),
        ("eventType",  "type",       "event_type(stripe.balance_transaction.)"),
    ),
    tenant_rows=(
        # path under _<tenant>.stripe.balanceTransaction   Stripe path   converter
        ("amount",                                         "amount",     "money"),
        ("amountMinor",                                    "amount",     "integer"),
        ("fee",                                            "fee",        "money"),
        ("feeMinor",                                       "fee",        "integer"),
        ("net",                                            "net",        "money"),
        ("netMinor",                                       "net",        "integer"),
        ("currency",                                       "currency",   "currency"),
    ),
)
# fmt: on
