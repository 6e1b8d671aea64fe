"""Catalog batches: poll `GET {platform_url}/data/foundation/catalog/batches/{id}` until done,
and count a dataset's batches of today (`GET .../catalog/batches?dataSet=...&createdAfter=...`).

Catalog answers an object keyed by the batch id, with a lower-case `status`, `metrics`
(`failedRecordCount`, ...) and `errors[]`. The wait ends on a terminal status: success/active,
or failed/failure, aborted, abandoned (never completed), inactive (reverted), deleted
(https://experienceleague.adobe.com/docs/experience-platform/ingestion/batch/overview.html).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from target_aep.adobe.platform import PlatformClient, expect
from target_aep.adobe.responses import json_answer
from target_aep.errors import DeliveryError

LOGGER = logging.getLogger(__name__)

CATALOG_PATH = "/data/foundation/catalog"
SUCCEEDED = frozenset({"success", "active"})
FAILED = frozenset({"failed", "failure", "aborted", "abandoned", "inactive", "deleted"})


@dataclass(frozen=True)
class BatchResult:
    """A batch in a terminal state, with Adobe's counts and errors."""

    batch_id: str
    status: str
    record_count: int | None
    failed_record_count: int
    errors: tuple[dict, ...]

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCEEDED


class CatalogBatches:
    """Reads batch status from Catalog."""

    def __init__(
        self,
        client: PlatformClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._base = client.settings.platform_url + CATALOG_PATH
        self._sleep = sleep
        self._clock = clock

    def wait_until_done(self, batch_id: str) -> BatchResult:
        """Poll until the batch is terminal (interval and timeout are settings)."""
        settings = self._client.settings
        deadline = self._clock() + settings.batch_poll_timeout_seconds
        while True:
            result = self.read(batch_id)
            if result.status in SUCCEEDED or result.status in FAILED:
                return result
            if self._clock() >= deadline:
                raise DeliveryError(
                    f"batch {batch_id} is still '{result.status}' after "
                    f"{settings.batch_poll_timeout_seconds:.0f} s (batch_poll_timeout_seconds); "
                    "it may still finish: check it in Platform before re-running"
                )
            LOGGER.debug("batch %s is %s; polling again", batch_id, result.status)
            self._sleep(settings.batch_poll_interval_seconds)

    def count_created_since(self, dataset_id: str, since_ms: int) -> int:
        """How many batches Catalog lists for `dataset_id` created after `since_ms` (Unix ms),
        up to 100 (Catalog's list takes `dataSet`, `createdAfter` and at most `limit=100`)."""
        what = f"list the batches of dataset {dataset_id}"
        answer = json_answer(
            self._client.request(
                "GET",
                f"{self._base}/batches",
                what=what,
                headers={"Accept": "application/json"},
                params={"dataSet": dataset_id, "createdAfter": str(since_ms), "limit": "100"},
            ),
            "Catalog",
            what,
        )
        return len(answer) if isinstance(answer, dict) else 0

    def read(self, batch_id: str) -> BatchResult:
        """The batch's current status, counts and errors."""
        what = f"read the status of batch {batch_id}"
        response = expect(
            self._client.request(
                "GET",
                f"{self._base}/batches/{quote(batch_id, safe='')}",
                what=what,
                headers={"Accept": "application/json"},
            ),
            what,
            ok=(200,),
        )
        try:
            payload = response.json()
        except ValueError:
            raise DeliveryError(f"{what}: the answer is not JSON") from None
        batch = payload.get(batch_id) if isinstance(payload, dict) else None
        if not isinstance(batch, dict) and isinstance(payload, dict) and len(payload) == 1:
            batch = next(iter(payload.values()))
        if not isinstance(batch, dict):
            raise DeliveryError(f"{what}: the answer does not describe the batch")
        metrics = batch.get("metrics")
        metrics = metrics if isinstance(metrics, dict) else {}
        failed = metrics.get("failedRecordCount", batch.get("failedRecordCount", 0))
        records = metrics.get("inputRecordCount", batch.get("recordCount"))
        errors = batch.get("errors")
        errors = errors if isinstance(errors, list) else []
        return BatchResult(
            batch_id=batch_id,
            status=str(batch.get("status", "")).lower(),
            record_count=records if isinstance(records, int) else None,
            failed_record_count=failed if isinstance(failed, int) else 0,
            errors=tuple(error for error in errors if isinstance(error, dict)),
        )


def describe_errors(errors: tuple[dict, ...], limit: int = 5) -> str:
    """Adobe's batch errors as one short line: `code: description (n records)`."""
    parts = []
    for error in errors[:limit]:
        text = f"{error.get('code', '?')}: {error.get('description', '')}".strip()
        if error.get("recordCount"):
            text += f" ({error['recordCount']} records)"
        parts.append(text)
    if len(errors) > limit:
        parts.append(f"... {len(errors) - limit} more")
    return "; ".join(parts) or "no error details given"


DATASETS_PATH = "/data/foundation/catalog/dataSets"
CATALOG_API = "Catalog"


class CatalogDatasets:
    """Datasets: find one by name, create one on a schema, add tags (Profile enablement)."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client
        self._url = client.settings.platform_url + DATASETS_PATH

    def find(self, name: str) -> tuple[str, dict] | None:
        """(id, dataset) of the dataset named `name` (the oldest, when several are)."""
        what = f"find dataset {name!r}"
        answer = json_answer(
            self._client.request(
                "GET",
                self._url,
                what=what,
                params={"property": f"name=={name}", "properties": "name,schemaRef,tags"},
            ),
            CATALOG_API,
            what,
        )
        found = [(i, d) for i, d in (answer or {}).items() if d.get("name") == name]
        return found[0] if found else None

    def create(self, body: dict) -> str:
        what = f"create dataset {body.get('name')!r}"
        answer = json_answer(
            self._client.request("POST", self._url, what=what, json_body=body),
            CATALOG_API,
            what,
            ok=(201,),
        )
        return str(answer[0]).rsplit("/", 1)[-1]  # ["@/dataSets/<id>"]

    def add_tags(self, dataset_id: str, tags: dict[str, list[str]]) -> None:
        """Add tags with a JSON Patch, as Adobe's Profile guide enables a dataset."""
        what = f"update dataset {dataset_id}"
        operations = [{"op": "add", "path": f"/tags/{k}", "value": v} for k, v in tags.items()]
        json_answer(
            self._client.request(
                "PATCH",
                f"{self._url}/{dataset_id}",
                what=what,
                json_body=operations,
                headers={"Content-Type": "application/json-patch+json"},
            ),
            CATALOG_API,
            what,
        )
