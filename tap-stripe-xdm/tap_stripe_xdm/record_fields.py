"""What the tap adds to Stripe's objects: each record is the object unchanged plus these."""

from __future__ import annotations

ACCOUNT_FIELD = "account_id"
"""The Connect account the object was read from (acct_...), None for the key's own account."""
DELETED_FIELD = "_sdc_deleted_at"
"""On deletes: when Stripe's delete event happened (ISO 8601). The Singer name for a delete,
which SDK targets act on: https://sdk.meltano.com/en/latest/implementation/record_metadata.html"""
TOMBSTONE_FIELDS = ("id", "object", "created", "livemode")
"""What a deleted object that can no longer be fetched keeps: fields every API version has."""
