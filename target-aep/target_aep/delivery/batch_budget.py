"""`batch_daily_limit`: warn before a batch would pass Profile's daily batch guardrail.

Adobe's guardrail allows at most 90 Profile and ExperienceEvent batches per sandbox per day
(https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/guardrails); beyond
it Profile ingestion may be throttled. With one batch per Profile-enabled dataset per run (the
default batch policy, delivery/batch.py), a day's batches are runs x Profile datasets with
data: hourly runs over four Profile datasets make 96.

How batches are counted across runs: from Catalog, which every run and every machine sees the
same. Before its first batch for a Profile-enabled dataset, a run asks Catalog how many batches
each Profile-enabled dataset of its configuration (`streams.<name>.dataset_id`) got since
midnight UTC (one list call per dataset, at most 100 each); every batch the run opens for such
a dataset adds one. Batches other writers load into other Profile datasets of the sandbox are
not seen: set `batch_daily_limit` lower to leave them room. A warning only: the batch is sent
(Profile data is never held back by the target). 0 turns the check off.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from target_aep.adobe.catalog import CatalogBatches
from target_aep.errors import DeliveryError, PlatformApiError
from target_aep.settings import TargetSettings

LOGGER = logging.getLogger(__name__)


def _utc_midnight_ms(now: float) -> int:
    moment = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


class DailyBatchBudget:
    """The sandbox's Profile batches of today (UTC), as far as this configuration sees them."""

    def __init__(
        self,
        catalog: CatalogBatches,
        settings: TargetSettings,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self._clock = clock or time.time
        self._limit = settings.batch_daily_limit
        self._today: int | None = None  # batches counted so far (None: not asked yet)
        self._warned = False
        self._lock = threading.Lock()

    def profile_dataset_ids(self) -> list[str]:
        """The Profile-enabled datasets of the configuration."""
        return sorted(
            {
                stream.dataset_id
                for name, stream in self._settings.streams.items()
                if stream.dataset_id and self._settings.profile_enabled(name)
            }
        )

    def before_new_batch(self, dataset_id: str) -> None:
        """Count a new batch for a Profile-enabled dataset; warn when it passes the limit."""
        if not self._limit:
            return
        with self._lock:
            if self._today is None:
                self._today = self._count_today(dataset_id)
            self._today += 1
            if self._today > self._limit and not self._warned:
                self._warned = True
                LOGGER.warning(
                    "batch_daily_limit: the batch about to open for dataset %s is Profile "
                    "batch %d of today (UTC) in sandbox '%s', over batch_daily_limit %d "
                    "(Adobe's guardrail: 90 Profile and ExperienceEvent batches per sandbox per "
                    "day; beyond it Profile ingestion may be throttled). It is sent. Run less "
                    "often (each run makes one batch per Profile dataset), use streaming for "
                    "frequent runs, or raise batch_max_records/batch_max_bytes",
                    dataset_id,
                    self._today,
                    self._settings.sandbox_name,
                    self._limit,
                )

    def _count_today(self, dataset_id: str) -> int:
        since = _utc_midnight_ms(self._clock())
        total = 0
        for known in {*self.profile_dataset_ids(), dataset_id}:
            try:
                total += self._catalog.count_created_since(known, since)
            except (PlatformApiError, DeliveryError) as error:  # a count is no reason to stop
                LOGGER.warning(
                    "batch_daily_limit: cannot count today's batches of dataset %s (%s); "
                    "counting this run's only",
                    known,
                    error,
                )
        return total
