"""The SDK's per-record step, made lean for deeply nested Stripe objects.

Measured on charges: the SDK's default record step checked the selection of every nested
property of every record (walking the catalog for each), which cost more than decoding,
encoding and writing together. This keeps the SDK's behaviour and drops the needless work.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from singer_sdk import Stream
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL, Breadcrumb, SelectionMask
from singer_sdk.singerlib.encoding.simple import RecordMessage


class _MemoizedSelectionMask(SelectionMask):
    """A selection mask that remembers what it resolved for nested properties.

    The SDK checks the selection of every property of every record, nested ones included;
    nested breadcrumbs are not in the catalog, so each check walks up to the parent. Stripe
    objects nest deeply, which made this walk the costliest step per record.
    """

    def __missing__(self, breadcrumb: Breadcrumb) -> bool:
        selected = super().__missing__(breadcrumb)
        self[breadcrumb] = selected
        return selected


class LeanRecordMessages(Stream):
    """Mixin for streams whose records already match their schema (conformance NONE)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._mask_source: SelectionMask | None = None  # set first: the SDK reads the mask
        self._memoized_mask = _MemoizedSelectionMask()  # while it initialises
        self._checked_mask: SelectionMask | None = None
        self._all_selected = False
        super().__init__(*args, **kwargs)

    @property
    def mask(self) -> SelectionMask:
        """The SDK's selection mask, memoized (rebuilt whenever the selection changes)."""
        resolved = super().mask
        if resolved is not self._mask_source:
            self._mask_source = resolved
            self._memoized_mask = _MemoizedSelectionMask(resolved)
        return self._memoized_mask

    def _every_property_selected(self) -> bool:
        mask = self.mask
        if mask is not self._checked_mask:
            self._checked_mask = mask
            self._all_selected = all(mask.values())
        return self._all_selected

    def _generate_record_messages(self, record: dict[str, Any]) -> Iterator[RecordMessage]:
        """The SDK's record step, minus its per-record walk when nothing is deselected.

        With every property selected and TYPE_CONFORMANCE_LEVEL NONE, the SDK's step walks
        every nested property of every record only to change nothing; at Stripe's nesting
        that walk cost more than everything else per record. Stream maps still apply, and
        any deselected property (or another replication method) takes the SDK's own path.
        """
        if not (
            self._every_property_selected() and self.replication_method == REPLICATION_INCREMENTAL
        ):
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    time_extracted=datetime.datetime.now(datetime.timezone.utc),
                )
