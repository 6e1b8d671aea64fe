"""Batch ingestion API calls (`{platform_url}/data/foundation/import`): create, upload, complete.

Files go up with the small-file PUT (≤ 256 MB each, streamed from disk); the large-file API is
marked deprecated by Adobe's own client library, so the delivery keeps files under the limit.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from target_aep.adobe.platform import PlatformClient, expect
from target_aep.errors import DeliveryError

IMPORT_PATH = "/data/foundation/import"


class BatchIngestion:
    """One dataset batch's lifecycle on the import API."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client
        self._base = client.settings.platform_url + IMPORT_PATH

    def create(self, dataset_id: str, *, partial_ingestion_percent: float | None = None) -> str:
        """Open a JSON (one record per line) batch for `dataset_id`; return its id."""
        # lower-case as in Adobe's guides, Catalog and the import API's own Batch schema (the
        # import spec's request enum alone says "JSON"; the API treats the format by name)
        body: dict = {"datasetId": dataset_id, "inputFormat": {"format": "json"}}
        if partial_ingestion_percent is not None:
            body["enableErrorDiagnostics"] = True
            body["partialIngestionPercentage"] = partial_ingestion_percent
        what = f"create a batch for dataset {dataset_id}"
        response = expect(
            self._client.request("POST", self._base + "/batches", what=what, json_body=body),
            what,
            ok=(200, 201),
        )
        try:
            batch_id = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            raise DeliveryError(f"{what}: the answer has no batch id") from None
        if not isinstance(batch_id, str) or not batch_id:
            raise DeliveryError(f"{what}: the answer has no batch id")
        return batch_id

    def upload(self, batch_id: str, dataset_id: str, name: str, path: Path) -> None:
        """PUT one file's bytes (streamed from `path`) into the batch."""
        what = f"upload {name} to batch {batch_id}"
        url = (
            f"{self._base}/batches/{quote(batch_id, safe='')}/datasets/"
            f"{quote(dataset_id, safe='')}/files/{quote(name, safe='')}"
        )
        expect(
            self._client.request(
                "PUT",
                url,
                what=what,
                body_file=path,
                headers={"Content-Type": "application/octet-stream"},
            ),
            what,
            ok=(200, 201),
        )

    def signal(self, batch_id: str, action: str) -> None:
        """Send COMPLETE (all files are up) or ABORT (give the batch up) to the batch."""
        what = f"{action} batch {batch_id}"
        expect(
            self._client.request(
                "POST",
                f"{self._base}/batches/{quote(batch_id, safe='')}",
                what=what,
                params={"action": action},
            ),
            what,
            ok=(200, 201, 204),
        )
