"""Streaming ingestion: records to `POST {dcs_url}/collection/batch/{inlet_id}`, message by message.

Records are packed into requests up to `streaming_max_request_bytes` (safely under DCS's 1 MB);
a 413 is split in halves and resent (a single message DCS still finds too large is rejected).
A request-level 400 means the request itself is wrong (per-message problems come back inside
the 207), so it stops the run rather than dead-lettering records that may be fine.
The 207 answer is read per message: accepted ones are done, 429/5xx
ones are resent with backoff (bounded, then dead-lettered with Adobe's reason, as Adobe advises
for persistent per-message 5xx), the rest come back as rejections. Request-level transient
failures are retried by the Platform client and end the run (`DeliveryError`) when exhausted.
Up to `streaming_concurrency` requests are in flight at once.

Delivery is at-least-once: a request retried after a lost answer may be ingested twice, which is
harmless for ExperienceEvents because the mapping derives `_id` from the object's state
(mapping/ids.py): the same state always gets the same `_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from target_aep.adobe.dcs import (
    BATCH_OVERHEAD,
    Envelope,
    MessageOutcome,
    batch_body,
    read_multi_status,
)
from target_aep.adobe.platform import PlatformClient, describe_error
from target_aep.delivery.base import Dataset, Delivery, MappedRecord, Rejection, rejection
from target_aep.errors import DeliveryError
from target_aep.settings import DCS_REQUEST_LIMIT_BYTES

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pending:
    record: MappedRecord
    message: bytes


class StreamingDelivery(Delivery):
    """Delivers mapped records through an HTTP API streaming inlet (DCS)."""

    def __init__(self, client: PlatformClient) -> None:
        """The inlet, DCS URL and packing come from the client's settings."""
        settings = client.settings
        self._client = client
        self.inlet_id = settings.inlet_id
        self._url = f"{settings.dcs_url}/collection/batch/{settings.inlet_id}"
        self._max_bytes = settings.streaming_max_request_bytes
        self._concurrency = settings.streaming_concurrency

    def describe(self, dataset: Dataset) -> str:
        """The dataset and the streaming inlet carrying its records."""
        return f"dataset {dataset.dataset_id} via inlet {self.inlet_id}"

    def close(self) -> None:
        self._client.close()

    def send(self, dataset: Dataset, records: Sequence[MappedRecord]) -> list[Rejection]:
        """Stream `records`; return once each is accepted or rejected for good."""
        if not records:
            return []
        envelope = self._envelope(dataset)
        rejections: list[Rejection] = []
        chunks = self._pack(envelope, records, rejections)
        if self._concurrency == 1:
            for chunk in chunks:
                rejections.extend(self._deliver(chunk))
        else:
            self._deliver_concurrently(chunks, rejections)
        LOGGER.info(
            "Streamed %d records of stream '%s' to dataset %s: %d rejected",
            len(records),
            dataset.stream,
            dataset.dataset_id,
            len(rejections),
        )
        return rejections

    def _envelope(self, dataset: Dataset) -> Envelope:
        return Envelope(
            ims_org_id=self._client.settings.ims_org_id,
            dataset_id=dataset.dataset_id,
            schema_id=dataset.schema_id,
            flow_id=dataset.flow_id,
        )

    def _pack(
        self, envelope: Envelope, records: Sequence[MappedRecord], rejections: list[Rejection]
    ) -> Iterator[list[_Pending]]:
        """Wrap each record and group into requests of at most `streaming_max_request_bytes`."""
        chunk: list[_Pending] = []
        size = BATCH_OVERHEAD
        for record in records:
            message = envelope.message(record.encoded)
            if len(message) + BATCH_OVERHEAD > DCS_REQUEST_LIMIT_BYTES:
                rejections.append(
                    rejection(
                        record,
                        f"message is {len(message)} bytes; DCS accepts at most 1 MB",
                        status=413,
                    )
                )
                continue
            if chunk and size + len(message) + 1 > self._max_bytes:
                yield chunk
                chunk, size = [], BATCH_OVERHEAD
            chunk.append(_Pending(record, message))
            size += len(message) + 1
        if chunk:
            yield chunk

    def _deliver_concurrently(
        self, chunks: Iterator[list[_Pending]], rejections: list[Rejection]
    ) -> None:
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="dcs") as pool:
            in_flight: set[Future[list[Rejection]]] = set()
            try:
                for chunk in chunks:
                    if len(in_flight) >= self._concurrency:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        for future in done:
                            rejections.extend(future.result())
                    in_flight.add(pool.submit(self._deliver, chunk))
                for future in in_flight:
                    rejections.extend(future.result())
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise

    def _deliver(self, chunk: list[_Pending]) -> list[Rejection]:
        """One packed request to completion: post, resend retryable messages, collect rejections."""
        backoff = self._client.backoff
        rejections: list[Rejection] = []
        pending = chunk
        for attempt in range(backoff.max_retries + 1):
            retry: list[_Pending] = []
            for item, outcome in self._post(pending):
                if outcome.accepted:
                    continue
                if outcome.retryable and attempt < backoff.max_retries:
                    retry.append(item)
                else:
                    reasons = outcome.reasons
                    if outcome.retryable:
                        reasons = tuple(
                            {
                                **reason,
                                "message": f"{reason.get('message', '')} "
                                f"(still failing after {attempt} retries)",
                            }
                            for reason in reasons
                        )
                    rejections.append(Rejection(item.record, reasons))
            if not retry:
                break
            LOGGER.warning(
                "DCS asked to retry %d of %d messages; retry %d of %d",
                len(retry),
                len(pending),
                attempt + 1,
                backoff.max_retries,
            )
            backoff.wait(attempt)
            pending = retry
        return rejections

    def _post(self, pending: list[_Pending]) -> list[tuple[_Pending, MessageOutcome]]:
        """Post `pending` once (transient errors retried by the client); split on 413."""
        response = self._client.request(
            "POST",
            self._url,
            body=batch_body([item.message for item in pending]),
            headers={"Content-Type": "application/json"},
            what=f"stream {len(pending)} messages to DCS",
            renew_on=(401, 403),  # DCS answers 403 for an expired token on authenticated inlets
        )
        status = response.status_code
        if status in (200, 207):
            try:
                outcomes = read_multi_status(response.json(), len(pending))
            except ValueError:
                outcomes = None
            if outcomes is None:
                raise DeliveryError(
                    f"DCS answered HTTP {status} without one response per message "
                    f"({len(pending)} sent); nothing can be marked as delivered"
                )
            return list(zip(pending, outcomes, strict=True))
        if status == 413 and len(pending) > 1:
            middle = len(pending) // 2
            LOGGER.info("DCS answered 413 to %d messages; splitting and resending", len(pending))
            return self._post(pending[:middle]) + self._post(pending[middle:])
        if status == 413:
            reason = {
                "path": "",
                "message": "DCS refused the message as too large (413)",
                "status": 413,
                "code": "",
            }
            return [(pending[0], MessageOutcome(False, False, (reason,)))]
        raise DeliveryError(
            f"stream to DCS inlet failed: HTTP {status}{describe_error(response)}"
            + ("; check inlet_id and dcs_url" if status == 404 else "")
            + ("; check the credential's permissions and sandbox" if status == 403 else "")
        )
