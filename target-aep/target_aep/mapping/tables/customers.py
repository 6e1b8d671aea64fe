"""customers -> XDM Individual Profile.

Stripe's Customer (https://docs.stripe.com/api/customers/object) as a profile record
(https://experienceleague.adobe.com/en/docs/experience-platform/xdm/classes/individual-profile).

Field groups: Demographic Details (person), Personal Contact Details (email, phones,
addresses), IdentityMap (Stripe customer id in the configured namespace, primary; Email),
External Source System Audit Details. A deleted customer keeps its profile record with the
tenant flag `_<tenant>.stripe.deleted` (set by the engine from `_sdc_deleted_at`).
"""

from target_aep.mapping.engine import Table

_HOME = "address."
_SHIP = "shipping.address."

# fmt: off
TABLE = Table(
    stream="customers",
    object_key="customer",
    schema="profile.json",
    is_profile=True,
    delete_event="customer.deleted",
    rows=(
        # XDM path (Platform form)             Stripe path              converter
        ("person.name.fullName",               "name",                  "text"),
        ("personalEmail.address",              "email",                 "email"),
        ("mobilePhone.number",                 "phone",                 "text"),
        ("homeAddress.street1",                _HOME + "line1",         "text"),
        ("homeAddress.street2",                _HOME + "line2",         "text"),
        ("homeAddress.city",                   _HOME + "city",          "text"),
        ("homeAddress.postalCode",             _HOME + "postal_code",   "text"),
        ("homeAddress.state",                  _HOME + "state",         "text"),
        ("homeAddress.stateProvince",          "address",               "state_province"),
        ("homeAddress.countryCode",            _HOME + "country",       "country"),
        ("shippingAddress.street1",            _SHIP + "line1",         "text"),
        ("shippingAddress.street2",            _SHIP + "line2",         "text"),
        ("shippingAddress.city",               _SHIP + "city",          "text"),
        ("shippingAddress.postalCode",         _SHIP + "postal_code",   "text"),
        ("shippingAddress.state",              _SHIP + "state",         "text"),
        ("shippingAddress.stateProvince",      "shipping.address",      "state_province"),
        ("shippingAddress.countryCode",        _SHIP + "country",       "country"),
        ("shippingAddressPhone.number",        "shipping.phone",        "text"),
        ("extSourceSystemAudit.externalID",    "id",                    "text"),
        ("extSourceSystemAudit.createdDate",   "created",               "timestamp"),
        ("identityMap",                        "id",                    "customer_identity"),
        ("identityMap",                        "email",                 "email_identity"),
    ),
)
# fmt: on
