"""Batch ingestion: one Platform batch per dataset per `send()`, for backfills.

Records are written as JSON Lines to temporary files of at most `batch_max_file_bytes` (under
the 256 MB small-file limit); each file is uploaded as soon as it is full and then deleted, so
memory and disk stay bounded. After COMPLETE, Catalog is polled until the batch is terminal:
`success` returns; `failed` raises `DeliveryError` with Adobe's errors and the batch id, so state
does not move.

A batch that succeeds with `failedRecordCount > 0` (only possible when
`batch_partial_ingestion_percent` allows it) is logged as a warning with its counts. Those records
cannot be named per record from the batch answer: Adobe reports counts and error codes (row
ranges at best, per file), and the rows themselves are only downloadable later from
`/data/foundation/export/batches/{id}/failed`. So they are not returned as rejections.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from target_aep.adobe.batch_ingestion import BatchIngestion
from target_aep.adobe.catalog import CatalogBatches, describe_errors
from target_aep.adobe.platform import PlatformClient
from target_aep.delivery.base import Dataset, Delivery, MappedRecord, Rejection, rejection
from target_aep.errors import DeliveryError

LOGGER = logging.getLogger(__name__)


class BatchDelivery(Delivery):
    """Delivers mapped records through the batch ingestion API."""

    def __init__(self, client: PlatformClient, *, catalog: CatalogBatches | None = None) -> None:
        self._client = client
        self._ingestion = BatchIngestion(client)
        self._catalog = catalog or CatalogBatches(client)
        self._max_file_bytes = client.settings.batch_max_file_bytes

    def describe(self, dataset: Dataset) -> str:
        """The dataset the batches load."""
        return f"dataset {dataset.dataset_id} (batch ingestion)"

    def close(self) -> None:
        self._client.close()

    def send(self, dataset: Dataset, records: Sequence[MappedRecord]) -> list[Rejection]:
        """Ingest `records` as one batch; return once Platform has finished processing it."""
        if not records:
            return []
        dataset_id = dataset.dataset_id or ""  # required for batch by the settings check
        batch_id = self._ingestion.create(
            dataset_id,
            partial_ingestion_percent=self._client.settings.batch_partial_ingestion_percent,
        )
        LOGGER.info(
            "Opened batch %s for %d records of stream '%s'", batch_id, len(records), dataset.stream
        )
        try:
            rejections, files = self._upload_files(batch_id, dataset_id, records)
            if files:
                self._ingestion.signal(batch_id, "COMPLETE")
        except BaseException:
            self._abort(batch_id)
            raise
        if not files:  # every record was refused before upload: nothing to ingest
            self._abort(batch_id)
            return rejections
        result = self._catalog.wait_until_done(batch_id)
        if not result.succeeded:
            raise DeliveryError(
                f"batch {batch_id} for dataset {dataset_id} ended '{result.status}': "
                f"{describe_errors(result.errors)}"
            )
        if result.failed_record_count:
            LOGGER.warning(
                "batch %s for dataset %s succeeded but Platform dropped %d of %s records (%s); "
                "they cannot be identified per record here: download them from "
                "/data/foundation/export/batches/%s/failed",
                batch_id,
                dataset_id,
                result.failed_record_count,
                result.record_count if result.record_count is not None else len(records),
                describe_errors(result.errors),
                batch_id,
            )
        LOGGER.info(
            "Batch %s succeeded: %d records in %d files",
            batch_id,
            len(records) - len(rejections),
            files,
        )
        return rejections

    def _upload_files(
        self, batch_id: str, dataset_id: str, records: Sequence[MappedRecord]
    ) -> tuple[list[Rejection], int]:
        """Write JSON Lines files of bounded size and upload each as soon as it is full."""
        rejections: list[Rejection] = []
        files = 0
        with tempfile.TemporaryDirectory(prefix="target-aep-batch-") as folder:
            path = Path(folder) / "part.json"
            out = path.open("wb")
            size = 0
            try:
                for record in records:
                    try:
                        line = record.json_line()
                    except (TypeError, ValueError) as error:
                        rejections.append(rejection(record, f"record is not valid JSON: {error}"))
                        continue
                    if len(line) > self._max_file_bytes:
                        rejections.append(
                            rejection(
                                record, f"record is {len(line)} bytes, over batch_max_file_bytes"
                            )
                        )
                        continue
                    if size and size + len(line) > self._max_file_bytes:
                        out.close()
                        files += 1
                        self._ingestion.upload(batch_id, dataset_id, _file_name(files), path)
                        out = path.open("wb")
                        size = 0
                    out.write(line)
                    size += len(line)
            finally:
                out.close()
            if size:
                files += 1
                self._ingestion.upload(batch_id, dataset_id, _file_name(files), path)
        return rejections, files

    def _abort(self, batch_id: str) -> None:
        """Best effort: tell Platform to drop a batch we could not finish."""
        try:
            self._ingestion.signal(batch_id, "ABORT")
        except DeliveryError as error:
            LOGGER.warning("could not abort batch %s: %s", batch_id, error)


def _file_name(index: int) -> str:
    return f"part-{index:05d}.json"
