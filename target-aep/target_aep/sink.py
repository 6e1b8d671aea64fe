"""The SDK glue of a stream: the SDK's `BatchSink` hooks handed to the stream's route.

The SDK calls `process_record` per record and `process_batch` per drain; the route (route.py)
maps and validates each record as it arrives and delivers a drain's kept records. The sink tells
its target when it starts holding records and when a drain placed them, and the target prints
a STATE only once every sink holding records before it has placed them (sdk_adapters.TimelyState),
so a STATE line means every earlier record is placed or in the dead-letter file.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from singer_sdk import Target
from singer_sdk.sinks import BatchSink

from target_aep.route import Route, Routes, UnmappedRoute
from target_aep.sdk_adapters import LeanRecordSteps
from target_aep.settings import TargetSettings


class RoutedTarget(Protocol):
    """What a sink uses of its target, TargetAep (not imported here: dependencies run target ->
    sink -> route)."""

    routes: Routes

    def records_waiting(self, sink: object) -> None:
        """`sink` took the first record of its next drain."""

    def records_placed(self, sink: object) -> None:
        """`sink`'s drain placed every record it held."""


class AepSink(LeanRecordSteps, BatchSink):
    """One Singer stream -> one AEP dataset, through its route."""

    MAX_SIZE_DEFAULT = TargetSettings.batch_size_rows  # the setting's default (not `max_size`)

    def __init__(self, target: Target, stream_name: str, schema: dict, key_properties: Any) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.routed_target = cast(RoutedTarget, target)
        routes = self.routed_target.routes
        # The SDK reads batch_size_rows from the raw config, where an environment variable
        # leaves it as text ("500"): the drain size is the checked setting instead.
        self._batch_size_rows = routes.settings.batch_size_rows
        self.route: Route | UnmappedRoute = routes.route_for(stream_name, self.schema)

    def get_validator(self) -> None:
        """No SDK validation of the Stripe-shaped input: the mapped XDM is what gets validated."""
        return

    def start_batch(self, context: dict) -> None:
        """Called by the SDK with a batch's first record."""
        self.route.batch_started()
        self.routed_target.records_waiting(self)

    def process_record(self, record: dict, context: dict) -> None:
        """Map and validate one record; keep it for the drain (or it was dead-lettered)."""
        kept = self.route.take(record)
        if kept is not None:
            context.setdefault("records", []).append(kept)

    def process_batch(self, context: dict) -> None:
        """Deliver this drain's kept records; returns only when they are placed or rejected."""
        self.route.deliver(context.get("records") or ())
        context["records"] = []
        self.routed_target.records_placed(self)
