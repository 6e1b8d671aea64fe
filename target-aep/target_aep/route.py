"""The record path: one stream's route map -> validate -> keep or reject (dead letter) -> deliver.

Plain Python, no SDK in it: the sink (SDK glue) hands each record to `Route.take` as it arrives
and each drain's kept records to `Route.deliver`, which returns only when every one of them is
placed by the destination or in the dead-letter file (made durable), so STATE may follow.
`Routes` holds what a run's streams share (settings, destination, dead-letter file, summary,
Schema Registry, tenant id) and builds each stream's route: its mapping, its dataset ids and
its dataset schema.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from target_aep.deadletter import DeadLetterWriter
from target_aep.delivery import build_delivery
from target_aep.delivery.base import Dataset, Delivery, MappedRecord
from target_aep.errors import InvalidXdmRecordError
from target_aep.mapping import Mapper, mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.run_summary import RunSummary, StreamTally
from target_aep.settings import TargetSettings
from target_aep.validation import RecordValidator, builtin_schema, schema_from_file, with_tenant

# What a converter raises for a value it cannot convert (the record is dead-lettered with it).
MAPPING_FAILURES = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)


@dataclass(eq=False)
class Route:
    """One Singer stream -> one AEP dataset."""

    mapper: Mapper
    validator: RecordValidator
    dataset: Dataset
    delivery: Delivery
    dead_letters: DeadLetterWriter
    tally: StreamTally
    summary: RunSummary
    fail_on_invalid: bool
    stream: str = field(init=False)  # the dataset's stream, read per record

    def __post_init__(self) -> None:
        self.stream = self.dataset.stream

    def batch_started(self) -> None:
        """A batch got its first record: the run's first one starts the summary's clock."""
        self.summary.note_batch_started()

    def take(self, record: Mapping[str, Any]) -> MappedRecord | None:
        """Map and validate one record: the XDM to keep, or None when it was dead-lettered."""
        self.tally.received += 1
        source_id = record.get("id")
        source_id = None if source_id is None else str(source_id)
        try:
            xdm = self.mapper.map(record)
        except MAPPING_FAILURES as exc:
            self._reject(
                source_id,
                f"mapping failed: {type(exc).__name__}: {exc}",
                errors=[{"path": "", "message": str(exc), "keyword": "mapping"}],
                source=record,
            )
            return None
        errors = self.validator.errors(xdm)
        if errors:
            self._reject(
                source_id,
                f"invalid XDM for {self.validator.source}",
                errors=[error.as_dict() for error in errors],
                record=xdm,
            )
            return None
        return MappedRecord(self.stream, source_id, xdm)

    def deliver(self, records: Sequence[MappedRecord]) -> None:
        """Deliver a drain's kept records; returns only when they are placed or dead-lettered."""
        if records:
            rejections = self.delivery.send(self.dataset, records)
            self.tally.delivered += len(records) - len(rejections)
            self.tally.dead_lettered += len(rejections)
            for rejection in rejections:
                self.dead_letters.write(
                    stream=rejection.record.stream,
                    source_id=rejection.record.source_id,
                    reason="rejected by the destination",
                    errors=list(rejection.reasons),
                    record=rejection.record.xdm,
                )
        self.dead_letters.flush()

    def _reject(
        self,
        source_id: str | None,
        reason: str,
        *,
        errors: list[dict],
        record: dict | None = None,
        source: Mapping[str, Any] | None = None,
    ) -> None:
        if self.fail_on_invalid:
            first = errors[0] if errors else {}
            raise InvalidXdmRecordError(
                f"stream {self.stream!r} record {source_id!r}: {reason}; "
                f"{len(errors)} error(s), first at {first.get('path')!r}: {first.get('message')} "
                "(on_invalid_record is 'fail'; set it to 'dead_letter' to go on)"
            )
        self.tally.dead_lettered += 1
        self.dead_letters.write(
            stream=self.stream,
            source_id=source_id,
            reason=reason,
            errors=errors,
            record=record,
            source=source,
        )


class Routes:
    """A run's shared parts, and a route per stream built from them."""

    def __init__(self, settings: TargetSettings) -> None:
        self.settings = settings
        self.dead_letters = DeadLetterWriter(settings.dead_letter_file)
        self.summary = RunSummary()
        self.delivery = build_delivery(settings)
        self._lock = threading.Lock()

    def route_for(self, stream: str, singer_schema: Mapping[str, Any]) -> Route:
        """The route of `stream` (a new one per SCHEMA message; the tally is the stream's)."""
        ids = self.settings.stream(stream)  # a stream the config does not name is checked here
        mapper = mapper_for(
            stream,
            self.mapping_options,
            self.settings.mapping_for(stream),
            singer_schema=singer_schema,
        )
        dataset = Dataset(
            stream=stream,
            dataset_id=ids.dataset_id,
            schema_id=ids.schema_id,
            flow_id=ids.flow_id,
            is_profile=mapper.is_profile,
        )
        tally = self.summary.tally_for(stream)
        tally.destination = self.delivery.describe(dataset)
        return Route(
            mapper=mapper,
            validator=self.validator_for(stream, mapper, singer_schema),
            dataset=dataset,
            delivery=self.delivery,
            dead_letters=self.dead_letters,
            tally=tally,
            summary=self.summary,
            fail_on_invalid=self.settings.on_invalid_record == "fail",
        )

    @cached_property
    def schema_registry(self) -> Any:
        """The Schema Registry client, or None without Adobe credentials (imported lazily)."""
        if not self.settings.has_adobe_credentials:
            return None
        from target_aep.adobe.platform import PlatformClient
        from target_aep.adobe.schema_registry import SchemaRegistry

        return SchemaRegistry(PlatformClient(self.settings))

    @cached_property
    def tenant_id(self) -> str:
        """`tenant_id`, else the org's tenant id from the Schema Registry (`GET /stats`)."""
        if self.settings.tenant_id:
            return self.settings.tenant_id
        return self.schema_registry.tenant_id()  # the settings check guarantees credentials

    @cached_property
    def mapping_options(self) -> MappingOptions:
        """What the converters need from the settings."""
        return MappingOptions(self.tenant_id, self.settings.identity_namespace)

    def validator_for(
        self, stream: str, mapper: Mapper, singer_schema: Mapping[str, Any]
    ) -> RecordValidator:
        """The dataset schema of `stream`: registry, then file, then built-in (+ tenant area)."""
        ids = self.settings.stream(stream)
        with self._lock:
            if ids.schema_id and self.schema_registry is not None:
                schema = self.schema_registry.resolved_schema(ids.schema_id)
                return RecordValidator(schema, f"Schema Registry schema {ids.schema_id}")
            if ids.schema_path:
                setting = f"streams.{stream}.schema_path"
                schema = schema_from_file(ids.schema_path, setting)
                return RecordValidator(schema, f"{setting} ({ids.schema_path})")
            schema = with_tenant(
                builtin_schema(mapper.schema), self.tenant_id, mapper.tenant_schema(singer_schema)
            )
            return RecordValidator(schema, f"built-in schema {mapper.schema}")

    def close(self) -> None:
        """Release the destination and close the dead-letter file (end of the run)."""
        try:
            self.delivery.close()
        finally:
            self.dead_letters.close()
