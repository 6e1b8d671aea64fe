"""Destinations for mapped records, behind one interface (`base.Delivery`).

`build_delivery` is the one place that picks the destination from the `destination` setting.
The streaming and batch destinations are imported lazily, so `destination: files` works (and
its tests run) without anything Adobe-specific being importable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_aep.delivery.base import Dataset, Delivery, DeliveryError, MappedRecord, Rejection

DESTINATIONS = ("files", "streaming", "batch")

__all__ = [
    "DESTINATIONS",
    "Dataset",
    "Delivery",
    "DeliveryError",
    "MappedRecord",
    "Rejection",
    "build_delivery",
]


def build_delivery(config: Mapping[str, Any]) -> Delivery:
    """The destination named by `destination` (files | streaming | batch), built from config."""
    destination = config.get("destination") or "files"
    if destination == "files":
        from target_aep.delivery.files import FilesDelivery

        return FilesDelivery.from_config(config)
    if destination == "streaming":
        from target_aep.delivery.streaming import StreamingDelivery

        return StreamingDelivery.from_config(config)
    if destination == "batch":
        from target_aep.delivery.batch import BatchDelivery

        return BatchDelivery.from_config(config)
    raise ValueError(f"destination: {destination!r} is not one of {', '.join(DESTINATIONS)}")
