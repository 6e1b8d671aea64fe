"""Batch ingestion: few, large batches, each made final before the STATE that covers it.

Adobe recommends batches of 256 MB to 100 GB and at most 90 Profile and ExperienceEvent batches
per sandbox per day (https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/guardrails),
so a batch is not one drain: it stays open across the drains of a run. The policy:

- by default one batch per dataset per run: every drain's records go into the dataset's open
  batch, and the batch is completed at the end of input (`settle`);
- with `batch_max_records` / `batch_max_bytes`, a batch is completed as soon as it holds that
  many records or bytes (the next record opens another), and also whenever the target prints
  STATE (`state_may_follow`), so that STATE follows the batches it covers.

Records are written as JSON Lines to a temporary file per open batch, at most
`batch_max_file_bytes` (under the 256 MB of a single upload); a full file is uploaded and
deleted, so memory and disk stay bounded: a batch has as many files as it needs. Completing a
batch sends COMPLETE, then polls Catalog until the batch is terminal: `success` returns;
`failed` raises `DeliveryError` with Adobe's errors and the batch id, so state does not move.
While a batch is open, the target holds STATE back (`state_may_follow` is False).

A batch that succeeds with `failedRecordCount > 0` (only possible when
`batch_partial_ingestion_percent` allows it) is logged as a warning with its counts. Those records
cannot be named per record from the batch answer: Adobe reports counts and error codes (row
ranges at best, per file), and the rows themselves are only downloadable later from
`/data/foundation/export/batches/{id}/failed`. So they are not returned as rejections.

Before opening a batch for a Profile-enabled dataset, `batch_daily_limit` is checked
(`delivery/batch_budget.py`).
"""

from __future__ import annotations

import builtins
import logging
import tempfile
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from target_aep.adobe.batch_ingestion import BatchIngestion
from target_aep.adobe.catalog import CatalogBatches, describe_errors
from target_aep.adobe.platform import PlatformClient
from target_aep.delivery.base import Dataset, Delivery, MappedRecord, Rejection, rejection
from target_aep.delivery.batch_budget import DailyBatchBudget
from target_aep.errors import DeliveryError

LOGGER = logging.getLogger(__name__)


@dataclass(eq=False)
class OpenBatch:
    """One dataset's batch while records still go into it."""

    batch_id: str
    dataset: Dataset
    folder: tempfile.TemporaryDirectory
    records: int = 0
    bytes: int = 0
    files: int = 0  # uploaded so far
    part: IO[builtins.bytes] | None = None  # the file being filled (`bytes` is a field here)
    part_bytes: int = 0

    @property
    def part_path(self) -> Path:
        return Path(self.folder.name) / "part.json"


class BatchDelivery(Delivery):
    """Delivers mapped records through the batch ingestion API."""

    # Records become final when their batch succeeds, per the batch policy (one batch per
    # dataset per run, or per batch_max_records / batch_max_bytes), not at each drain: drains
    # by age would complete a by-size batch every few seconds, and Adobe's guardrail is 90
    # Profile batches per sandbox per day. So STATE keeps the SDK's schedule here.
    state_follows_drains = False

    def __init__(
        self,
        client: PlatformClient,
        *,
        catalog: CatalogBatches | None = None,
        budget: DailyBatchBudget | None = None,
    ) -> None:
        settings = client.settings
        self._client = client
        self._ingestion = BatchIngestion(client)
        self._catalog = catalog or CatalogBatches(client)
        self._budget = budget or DailyBatchBudget(self._catalog, settings)
        self._max_file_bytes = settings.batch_max_file_bytes
        self._max_records = settings.batch_max_records
        self._max_bytes = settings.batch_max_bytes
        self._open: dict[str, OpenBatch] = {}  # dataset id -> its open batch
        self._lock = threading.Lock()  # guards `_open`
        # One sender per dataset at a time (drains run in parallel; two streams may share one).
        self._dataset_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    @property
    def completes_by_size(self) -> bool:
        """Whether batches close on `batch_max_records` / `batch_max_bytes` (else per run)."""
        return self._max_records is not None or self._max_bytes is not None

    def describe(self, dataset: Dataset) -> str:
        """The dataset the batches load."""
        return f"dataset {dataset.dataset_id} (batch ingestion)"

    def send(self, dataset: Dataset, records: Sequence[MappedRecord]) -> list[Rejection]:
        """Put `records` into the dataset's open batch (opened when needed); a batch that
        reaches `batch_max_records` / `batch_max_bytes` is completed here, and waited for."""
        rejections: list[Rejection] = []
        with self._dataset_lock(dataset):
            batch: OpenBatch | None = None
            try:
                for record in records:
                    line = record.json_line()
                    if len(line) > self._max_file_bytes:
                        message = f"record is {len(line)} bytes, over batch_max_file_bytes"
                        rejections.append(rejection(record, message))
                        continue
                    batch = batch or self._open_batch(dataset)
                    self._write(batch, line)
                    if self._is_full(batch):
                        full, batch = batch, None
                        self._complete(full)
            except BaseException:
                if batch is not None:
                    self._abandon(batch)
                raise
        return rejections

    def _dataset_lock(self, dataset: Dataset) -> threading.Lock:
        with self._lock:
            return self._dataset_locks[dataset.dataset_id or ""]

    def state_may_follow(self) -> bool:
        """Per run: not while a batch is open. By size: complete the open batches first."""
        if self.completes_by_size:
            self.settle()
        with self._lock:
            return not self._open

    def settle(self) -> None:
        """Complete every open batch and wait until Platform has processed each."""
        with self._lock:
            batches = list(self._open.values())
        for batch in batches:
            with self._dataset_lock(batch.dataset):
                if self._open.get(batch.dataset.dataset_id or "") is batch:
                    self._complete(batch)

    def close(self) -> None:
        """Give up batches never completed (the run stopped), then release the client."""
        with self._lock:
            batches = list(self._open.values())
        for batch in batches:
            self._abandon(batch)
        self._client.close()

    # -- one batch ---------------------------------------------------------------------------

    def _open_batch(self, dataset: Dataset) -> OpenBatch:
        """The dataset's open batch, or a new one (called holding the dataset's lock)."""
        dataset_id = dataset.dataset_id or ""  # required for batch by the settings check
        with self._lock:
            found = self._open.get(dataset_id)
        if found is not None:
            return found
        if dataset.profile_enabled:
            self._budget.before_new_batch(dataset_id)
        batch_id = self._ingestion.create(
            dataset_id,
            partial_ingestion_percent=self._client.settings.batch_partial_ingestion_percent,
        )
        folder = tempfile.TemporaryDirectory(prefix="target-aep-batch-")
        batch = OpenBatch(batch_id, dataset, folder)
        with self._lock:
            self._open[dataset_id] = batch
        LOGGER.info("Opened batch %s for stream '%s'", batch_id, dataset.stream)
        return batch

    def _is_full(self, batch: OpenBatch) -> bool:
        return (self._max_records is not None and batch.records >= self._max_records) or (
            self._max_bytes is not None and batch.bytes >= self._max_bytes
        )

    def _write(self, batch: OpenBatch, line: bytes) -> None:
        """Append one line to the batch's current file; upload the file first when full."""
        if batch.part is not None and batch.part_bytes + len(line) > self._max_file_bytes:
            self._upload_part(batch)
        if batch.part is None:
            batch.part = batch.part_path.open("wb")
            batch.part_bytes = 0
        batch.part.write(line)
        batch.part_bytes += len(line)
        batch.records += 1
        batch.bytes += len(line)

    def _upload_part(self, batch: OpenBatch) -> None:
        assert batch.part is not None
        batch.part.close()
        batch.part = None
        batch.files += 1
        name = f"part-{batch.files:05d}.json"
        self._ingestion.upload(
            batch.batch_id, batch.dataset.dataset_id or "", name, batch.part_path
        )
        batch.part_path.unlink()

    def _complete(self, batch: OpenBatch) -> None:
        """Upload the last file, COMPLETE, wait for Catalog's verdict (raise when failed)."""
        dataset_id = batch.dataset.dataset_id or ""
        with self._lock:
            self._open.pop(dataset_id, None)
        try:
            if batch.part is not None:
                self._upload_part(batch)
            self._ingestion.signal(batch.batch_id, "COMPLETE")
        except BaseException:
            self._abort(batch)
            raise
        finally:
            batch.folder.cleanup()
        result = self._catalog.wait_until_done(batch.batch_id)
        if not result.succeeded:
            raise DeliveryError(
                f"batch {batch.batch_id} for dataset {dataset_id} ended '{result.status}': "
                f"{describe_errors(result.errors)}"
            )
        if result.failed_record_count:
            LOGGER.warning(
                "batch %s for dataset %s succeeded but Platform dropped %d of %s records (%s); "
                "they cannot be identified per record here: download them from "
                "/data/foundation/export/batches/%s/failed",
                batch.batch_id,
                dataset_id,
                result.failed_record_count,
                result.record_count if result.record_count is not None else batch.records,
                describe_errors(result.errors),
                batch.batch_id,
            )
        LOGGER.info(
            "Batch %s succeeded: %d records in %d files (%d bytes)",
            batch.batch_id,
            batch.records,
            batch.files,
            batch.bytes,
        )

    def _abandon(self, batch: OpenBatch) -> None:
        """A batch that will not be completed: forget it, abort it, delete its files."""
        with self._lock:
            self._open.pop(batch.dataset.dataset_id or "", None)
        if batch.part is not None:
            batch.part.close()
            batch.part = None
        self._abort(batch)
        batch.folder.cleanup()

    def _abort(self, batch: OpenBatch) -> None:
        """Best effort: tell Platform to drop a batch we could not finish."""
        try:
            self._ingestion.signal(batch.batch_id, "ABORT")
        except DeliveryError as error:
            LOGGER.warning("could not abort batch %s: %s", batch.batch_id, error)
