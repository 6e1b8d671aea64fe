"""Destinations for mapped records, behind one interface (`base.Delivery`).

`build_delivery` is the one place that picks the destination from the `destination` setting.
The streaming and batch destinations are imported lazily, so `destination: files` works (and
its tests run) without anything Adobe-specific being importable.
"""

from __future__ import annotations

from target_aep.delivery.base import Delivery
from target_aep.settings import TargetSettings


def build_delivery(settings: TargetSettings) -> Delivery:
    """The destination named by `destination` (files | streaming | batch)."""
    if settings.destination == "files":
        from target_aep.delivery.files import FilesDelivery

        return FilesDelivery(
            settings.output_dir,
            max_records_per_file=settings.file_max_records,
            max_bytes_per_file=settings.file_max_bytes,
            tenant_id=settings.tenant_id,
        )
    from target_aep.adobe.platform import PlatformClient

    if settings.destination == "streaming":
        from target_aep.delivery.streaming import StreamingDelivery

        return StreamingDelivery(PlatformClient(settings))
    from target_aep.delivery.batch import BatchDelivery

    return BatchDelivery(PlatformClient(settings))
