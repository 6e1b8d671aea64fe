"""The Singer side of the six Stripe resources: one SDK stream per row of resources.py.

A stream is SDK glue only: its schema file, one partition per Connect account, and a
`get_records` that hands its partition to `PartitionRead` and yields what it reads, writing
STATE where the reader moved a bookmark. Partitions of all streams are read at the same time
(`sdk_adapters.sync_partitions_concurrently`): a partition holds the run's `Baton` while it
writes and changes the state, and lets go of it only while it waits for its next page.
Records are Stripe's objects unchanged, plus
`account_id` (and `_sdc_deleted_at` on deletes), made to match the stream's SCHEMA where Stripe
sent fields it lacks (`schema_drift`).
With the SDK's `batch_config` the records go to batch files instead of RECORD messages, and the
SDK prints a BATCH message, then a STATE, per file (`Stream._sync_batches`): a bookmark the
reader moved is held until the BATCH holding its records is out (`get_batches`), as a RECORD
run writes STATE only after its records.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping
from contextlib import closing
from typing import TYPE_CHECKING, Any

from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_stripe_xdm import bookmarks, schemas
from tap_stripe_xdm.accounts import RunAccounts, is_unreachable
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.partition_read import Checkpoint, PartitionRead
from tap_stripe_xdm.record_fields import ACCOUNT_FIELD
from tap_stripe_xdm.resources import RESOURCES, Resource
from tap_stripe_xdm.schema_drift import SchemaDrift
from tap_stripe_xdm.sdk_adapters import AdaptedStream, Baton, readable_bookmark_line

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

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
        self._schema_drift: SchemaDrift | None = None
        readable_bookmark_line(self.logger, bookmarks.readable)  # ISO, as the tap's own lines
        # per partition thread: whether its records go to batch files, and the newest state
        # its reader reached that no BATCH message covers yet
        self._batching = threading.local()

    @property
    def runtime(self) -> TapRuntime:
        """What the run shares (settings, API client, the run's end): TapStripeXdm.runtime."""
        return self._stripe_tap.runtime  # type: ignore[attr-defined]

    @property
    def run_accounts(self) -> RunAccounts:
        """The accounts this run reads (accounts.py), resolved once per run: TapStripeXdm."""
        return self._stripe_tap.run_accounts  # type: ignore[attr-defined]

    @property
    def partitions(self) -> list[dict] | None:
        """One partition per Connect account of this run, each with its own bookmark."""
        return self.run_accounts.partitions(ACCOUNT_FIELD)

    def compare_start_date(self, value: str, start_date_value: str) -> Any:
        """Bookmarks are Unix seconds, start_date is ISO: compare them as instants."""
        return bookmarks.later_bookmark(value, start_date_value)

    @property
    def baton(self) -> Baton:
        """The run's right to write (TapStripeXdm.baton)."""
        return self._stripe_tap.baton  # type: ignore[attr-defined]

    def get_records(self, context: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        account = context.get(ACCOUNT_FIELD) if context else None
        accounts = self.run_accounts
        # The SDK reads a stream without partitions (or with none in this shard) once,
        # without context: that is the platform's own account only where it is in the run.
        if not accounts.reads(account):
            return
        try:
            yield from self._read_partition(context, account)
        except StripeRequestError as error:
            if not (accounts.skip_unreachable and is_unreachable(error, account)):
                raise
            assert account is not None  # is_unreachable says so
            self.logger.error("connected account %s skipped: %s", account, error)
            accounts.report_unreachable(account, error)

    def _read_partition(
        self, context: Mapping[str, Any] | None, account: str | None
    ) -> Iterator[dict[str, Any]]:
        """The partition's records; STATE written where its bookmarks moved.

        The reader moves its own copy of the partition's state, while this thread may not
        hold the baton; the copy replaces the SDK's partition state only here, holding it, so a
        STATE any partition writes never catches another's state half-changed.
        """
        sdk_state = self.get_context_state(context)
        partition = PartitionRead(
            self.runtime,
            self.resource,
            account=account,
            state=copy.deepcopy(sdk_state),
            logger=self.logger,
        )
        drift = self.schema_drift
        baton = self.baton
        limiter, path = self.runtime.limiter, self.resource.path

        def urgent() -> bool:  # on the run's critical path: it writes first (Baton)
            return limiter.critical_endpoint() == path

        with closing(partition.read()) as pages:
            while True:
                with baton.released(urgent):  # others write while this partition waits for a page
                    page = next(pages, None)
                if page is None:
                    break
                if isinstance(page, Checkpoint):  # after the records it covers were written
                    if self._moved(sdk_state, partition.state):
                        self._stripe_tap.state_writer.write_state(self.tap_state)
                else:
                    drift.check(page)  # an updated SCHEMA goes out first where one is needed
                    yield from page
        self._moved(sdk_state, partition.state)

    def _moved(self, sdk_state: dict[str, Any], state: dict[str, Any]) -> bool:
        """Move the SDK's partition state to the reader's `state`, or, while its records go to
        a batch file not yet out, hold it for `get_batches`; whether it moved now."""
        if getattr(self._batching, "on", False):
            self._batching.held = (sdk_state, copy.deepcopy(state))
            return False
        _replace(sdk_state, state)
        return True

    def get_batches(
        self, batch_config: BatchConfig, context: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """The SDK's batch files, each with the state its records make true.

        The SDK fills a file with up to `batch_size` records, hands it here, then prints its
        BATCH message and a STATE. A file is handed over once its last record is read and
        before the reader goes on (`lazy_chunked_generator`), so the state held then covers
        records of this file or earlier ones only: it becomes the SDK's just before the
        SDK's STATE. What is held when the reader ends after the last file (or with no
        record at all) is printed here.
        """
        batching = self._batching
        batching.on, batching.held = True, None
        try:
            for encoding, manifest in super().get_batches(batch_config, context):
                self._release_held()
                yield encoding, manifest
        finally:
            batching.on = False
        if self._release_held():
            self._stripe_tap.state_writer.write_state(self.tap_state)

    def _release_held(self) -> bool:
        held, self._batching.held = getattr(self._batching, "held", None), None
        if held is None:
            return False
        _replace(*held)
        return True

    @property
    def schema_drift(self) -> SchemaDrift:
        """This stream's check of fields its schema lacks (`schema_drift`, schema_drift.py),
        made when the stream first reads (the catalog is applied by then)."""
        if self._schema_drift is None:
            self._schema_drift = SchemaDrift(
                self.name,
                copy.deepcopy(self.effective_schema),  # what the stream's SCHEMA declares
                self.runtime.settings.schema_drift,
                announce=self.announce_schema,
                logger=self.logger,
            )
        return self._schema_drift

    def drift_summary(self) -> str | None:
        """What `schema_drift: drop` removed in this run, per field (None: nothing)."""
        return self._schema_drift.summary() if self._schema_drift is not None else None


def _replace(target: dict[str, Any], source: dict[str, Any]) -> None:
    target.clear()
    target.update(copy.deepcopy(source))


def discover(tap: Tap) -> list[StripeStream]:
    """The tap's streams, in the order of resources.py."""
    return [StripeStream(tap, resource) for resource in RESOURCES]
