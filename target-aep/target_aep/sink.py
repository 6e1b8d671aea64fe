"""One record's way through the target: map -> validate -> (dead letter) -> deliver.

The SDK calls `process_record` per record and `process_batch` per drain. Records are mapped
and validated as they arrive (invalid ones go to the dead-letter file, or stop the run); a drain
hands the valid ones of this stream's dataset to the destination, dead-letters what it rejects,
makes the dead letters durable, and only then returns, after which the SDK may emit STATE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.sinks import BatchSink

from target_aep.delivery.base import Dataset, MappedRecord
from target_aep.errors import InvalidXdmRecordError
from target_aep.mapping import mapper_for
from target_aep.sdk_adapters import SDC_BOOKKEEPING
from target_aep.settings import TargetSettings

if TYPE_CHECKING:
    from target_aep.target import TargetAep


class AepSink(BatchSink):
    """One Singer stream -> one AEP dataset."""

    MAX_SIZE_DEFAULT = (
        TargetSettings.batch_size_rows
    )  # the setting's default (never shadow max_size)

    def __init__(
        self,
        target: TargetAep,
        stream_name: str,
        schema: dict,
        key_properties: Any,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        settings = target.settings.stream(stream_name)
        self.aep = target
        self.mapper = mapper_for(
            stream_name, target.mapping_options, target.settings.mapping_for(stream_name)
        )
        self.dataset = Dataset(
            stream=stream_name,
            dataset_id=settings.dataset_id,
            schema_id=settings.schema_id,
            flow_id=settings.flow_id,
            is_profile=self.mapper.is_profile,
        )
        self.validator = target.validator_for(stream_name, self.mapper, self.schema)
        self.tally = target.tally_for(stream_name)
        self.tally.destination = target.delivery.describe(self.dataset)
        self._fail_on_invalid = target.settings.on_invalid_record == "fail"
        # For the lean `_validate_and_parse` below: which top-level fields are date-like (what
        # the SDK would parse), and which are declared (what it warns about when not).
        properties = self.schema.get("properties") or {}
        self._datelike_schema = {
            "properties": {
                key: sub
                for key, sub in properties.items()
                if key not in SDC_BOOKKEEPING and get_datelike_property_type(sub)
            },
            "additionalProperties": True,  # the warning about undeclared fields is done apart
        }
        self._datelike_fields = tuple(self._datelike_schema["properties"])
        self._declared_fields = frozenset(properties)
        self._open_schema = bool(self.schema.get("additionalProperties", False))

    @property
    def include_sdc_metadata_properties(self) -> bool:
        """Keep `_sdc_deleted_at` (deletes from change capture); other `_sdc_*` are ignored."""
        return True

    def get_validator(self) -> None:
        """No SDK validation of the Stripe-shaped input: the mapped XDM is what gets validated."""
        return

    # The two overrides below replace SDK steps that run on every record (singer.md 2.2) and
    # cost more than mapping and validation together: seven `_sdc_*` fields with two clock
    # reads and ISO formatting, then a date-format check of every field against the schema.
    # The mapping reads none of that but `_sdc_deleted_at`; Stripe timestamps are Unix seconds
    # the converters take as they are. Both are private `Sink` methods of singer-sdk 0.54.9
    # (signatures as there, pinned in pyproject); tests/target/test_record_path.py checks that
    # the SDK still calls them and that the output is what the SDK's own steps gave.

    def _add_sdc_metadata_to_record(self, record: dict, message: dict, context: dict) -> None:
        """Only `_sdc_deleted_at`, always present (None when live) as the SDK writes it: it is
        part of the object's state, hence of `_id`; the rest is bookkeeping this target drops."""
        record["_sdc_deleted_at"] = record.get("_sdc_deleted_at")

    def _validate_and_parse(self, record: dict) -> dict:
        """The SDK's parse of date-like fields, paid only by records that carry one (e.g. a
        delete's `_sdc_deleted_at`, or another tap's ISO strings); the same warning once per
        undeclared field."""
        if self._validator is not None:  # never set by this sink; kept for subclasses
            return super()._validate_and_parse(record)
        for key in self._datelike_fields:
            if record.get(key) is not None:
                self._parse_timestamps_in_record(
                    record=record,
                    schema=self._datelike_schema,
                    treatment=self.datetime_error_treatment,
                )
                break
        if not self._open_schema and not self._declared_fields.issuperset(record):
            self._warn_undeclared_fields(record)
        return record

    def _warn_undeclared_fields(self, record: dict) -> None:
        for key, value in record.items():
            if (
                key not in self._declared_fields
                and value is not None
                and key not in self._warned_missing_fields
            ):
                self.logger.warning("No schema for record field '%s'", key)
                self._warned_missing_fields.add(key)

    def start_batch(self, context: dict) -> None:
        """Called by the SDK with a batch's first record; the run summary times from the first."""
        self.aep.note_batch_started()

    def process_record(self, record: dict, context: dict) -> None:
        """Map and validate one record; keep it for the drain or dead-letter it."""
        self.tally.received += 1
        source_id = record.get("id")
        source_id = None if source_id is None else str(source_id)
        try:
            xdm = self.mapper.map(record)
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            self._reject(
                source_id,
                f"mapping failed: {type(exc).__name__}: {exc}",
                errors=[{"path": "", "message": str(exc), "keyword": "mapping"}],
                source=record,
            )
            return
        errors = self.validator.errors(xdm)
        if errors:
            self._reject(
                source_id,
                f"invalid XDM for {self.validator.source}",
                errors=[error.as_dict() for error in errors],
                record=xdm,
            )
            return
        context.setdefault("records", []).append(MappedRecord(self.stream_name, source_id, xdm))

    def _reject(
        self,
        source_id: str | None,
        reason: str,
        *,
        errors: list[dict],
        record: dict | None = None,
        source: dict | None = None,
    ) -> None:
        if self._fail_on_invalid:
            first = errors[0] if errors else {}
            raise InvalidXdmRecordError(
                f"stream {self.stream_name!r} record {source_id!r}: {reason}; "
                f"{len(errors)} error(s), first at {first.get('path')!r}: {first.get('message')} "
                "(on_invalid_record is 'fail'; set it to 'dead_letter' to go on)"
            )
        self.tally.dead_lettered += 1
        self.aep.dead_letters.write(
            stream=self.stream_name,
            source_id=source_id,
            reason=reason,
            errors=errors,
            record=record,
            source=source,
        )

    def process_batch(self, context: dict) -> None:
        """Deliver this drain's valid records; returns only when they are placed or rejected."""
        records = context.get("records") or []
        if records:
            rejections = self.aep.delivery.send(self.dataset, records)
            self.tally.delivered += len(records) - len(rejections)
            self.tally.dead_lettered += len(rejections)
            for rejection in rejections:
                self.aep.dead_letters.write(
                    stream=rejection.record.stream,
                    source_id=rejection.record.source_id,
                    reason="rejected by the destination",
                    errors=list(rejection.reasons),
                    record=rejection.record.xdm,
                )
        self.aep.dead_letters.flush()
        context["records"] = []
