"""Mapped records as the route hands them to a destination: XDM encoded once, as bytes."""

from __future__ import annotations

from target_aep.delivery.base import MappedRecord
from target_aep.json_encoding import to_json


def mapped(stream: str, source_id: str, xdm: dict) -> MappedRecord:
    """`xdm` as a kept record of `stream` (the route encodes it so after validation)."""
    return MappedRecord(stream, source_id, to_json(xdm))
