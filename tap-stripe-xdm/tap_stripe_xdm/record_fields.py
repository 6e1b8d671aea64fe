"""What the tap adds to Stripe's objects: each record is the object unchanged plus these."""

from __future__ import annotations

ACCOUNT_FIELD = "account_id"
"""The Connect account the object was read from (acct_...), None for the key's own account."""
DELETED_FIELD = "_sdc_deleted_at"
"""On deletes: when Stripe's delete event happened (ISO 8601). The Singer name for a delete,
which SDK targets act on: https://sdk.meltano.com/en/latest/implementation/record_metadata.html"""
CHANGE_TYPE_FIELD = "updated_by_event_type"
CHANGE_TIME_FIELD = "updated"
"""On records of change capture: the Stripe event after which the object is re-emitted, its
type and its time (ISO 8601); absent on a first read. singer-io's tap-stripe uses these names for
the same purpose (https://github.com/singer-io/tap-stripe/blob/master/tap_stripe/__init__.py),
so a target reads both taps alike."""
TOMBSTONE_FIELDS = ("id", "object", "created", "livemode")
"""What a deleted object keeps when neither Stripe nor its delete event has more of it: the
fields every API version has."""
