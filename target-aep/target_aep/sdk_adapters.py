"""Where this target meets singer-sdk's internals.

The record metadata fields the SDK's sinks write (https://sdk.meltano.com/en/latest/implementation/record_metadata.html):
`_sdc_deleted_at` marks a delete and is part of an object's state; the others are bookkeeping
of the load (when, in which batch, in which order) that says nothing about the object.
"""

from __future__ import annotations

SDC_PREFIX = "_sdc_"
SDC_DELETED_AT = "_sdc_deleted_at"
SDC_BOOKKEEPING = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)
