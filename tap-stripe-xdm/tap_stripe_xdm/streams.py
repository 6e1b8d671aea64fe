"""The Singer side of the six Stripe resources: one SDK stream per row of resources.py.

A stream is SDK glue only: its schema file, one partition per Connect account, and a
`get_records` that hands its partition to `PartitionRead` and yields what it reads, writing
STATE where the reader moved a bookmark. Records are Stripe's objects unchanged, plus
`account_id` (and `_sdc_deleted_at` on deletes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import closing
from typing import TYPE_CHECKING, Any

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_stripe_xdm import bookmarks, schemas
from tap_stripe_xdm.partition_read import CHECKPOINT, PartitionRead
from tap_stripe_xdm.record_fields import ACCOUNT_FIELD
from tap_stripe_xdm.resources import RESOURCES, Resource
from tap_stripe_xdm.sdk_adapters import AdaptedStream

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_stripe_xdm.runtime import TapRuntime


class StripeStream(AdaptedStream):
    """One Stripe list endpoint, read incrementally on `created`, plus its changes."""

    schema = StreamSchema(SchemaDirectory(schemas))  # schemas/<stream name>.json
    primary_keys = ("id",)
    replication_key = bookmarks.REPLICATION_KEY
    # Records arrive newest first within concurrent windows: not sorted. The bookmark moves
    # with the windows' watermark instead (partition_read.py), never from single records.
    is_sorted = False
    # The schema files describe Stripe's objects as they are; records need no coercion.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, resource: Resource) -> None:
        super().__init__(tap, name=resource.name)
        self.resource = resource
        self._stripe_tap = tap

    @property
    def runtime(self) -> TapRuntime:
        """What the run shares (settings, API client, the run's end): TapStripeXdm.runtime."""
        return self._stripe_tap.runtime  # type: ignore[attr-defined]

    @property
    def partitions(self) -> list[dict] | None:
        """One partition per Connect account, each with its own bookmark."""
        accounts = self.runtime.settings.account_ids
        return [{ACCOUNT_FIELD: account} for account in accounts] or None

    def compare_start_date(self, value: str, start_date_value: str) -> Any:  # type: ignore[override]
        """Bookmarks are Unix seconds, start_date is ISO: compare them as instants."""
        return bookmarks.later_bookmark(value, start_date_value)

    def get_records(self, context: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        partition = PartitionRead(
            self.runtime,
            self.resource,
            account=context.get(ACCOUNT_FIELD) if context else None,
            state=self.get_context_state(context),
            logger=self.logger,
        )
        with closing(partition.read()) as pages:
            for page in pages:
                if page is CHECKPOINT:  # after the records it covers were written
                    self._stripe_tap.state_writer.write_state(self.tap_state)
                else:
                    yield from page


def discover(tap: Tap) -> list[StripeStream]:
    """The tap's streams, in the order of resources.py."""
    return [StripeStream(tap, resource) for resource in RESOURCES]
