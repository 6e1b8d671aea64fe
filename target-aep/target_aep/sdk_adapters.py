"""Where this target meets singer-sdk's internals: every private SDK member it relies on.

The SDK's target calls, per record and per sink: add the `_sdc_*` record metadata
(https://sdk.meltano.com/en/latest/implementation/record_metadata.html), then validate the
record against its SCHEMA and parse its date-like fields (`Sink._validate_and_parse`). This
target validates the mapped XDM instead (validation.py) and needs of the metadata only
`_sdc_deleted_at`, so `LeanRecordSteps` replaces both steps with what the mapping depends on.
`HeldState` holds back a STATE the SDK would print while records before it are not final yet
(an open batch).
Both are private `Sink` methods of singer-sdk 0.54 (pinned `~=0.54.9` in target-aep's
pyproject); `RELIES_ON` lists every private member the overrides use, and
tests/target/test_sdk_adapters.py fails naming the override when an installed SDK lacks one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._typing import get_datelike_property_type

if TYPE_CHECKING:  # the mixin's methods use the Sink it is mixed into
    from singer_sdk.sinks import Sink as _MixedInto
else:
    _MixedInto = object

SDC_PREFIX = "_sdc_"
# `_sdc_deleted_at` marks a delete and is part of an object's state (hence of its `_id`); the
# other metadata fields are bookkeeping of the load (when, in which batch, in which order).
SDC_DELETED_AT = "_sdc_deleted_at"
SDC_BOOKKEEPING = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)

# Override -> the SDK's private members it relies on: (module, attribute path, parameter names;
# None where the member is not called with parameters), and the SDK function that must still
# call the override.
RELIES_ON: dict[str, dict[str, Any]] = {
    "_write_state_message": {
        "members": [("singer_sdk.target_base", "Target._write_state_message", ("state",))],
        "called_by": ("singer_sdk.target_base", "Target.drain_all"),
    },
    "_add_sdc_metadata_to_record": {
        "members": [
            (
                "singer_sdk.sinks.core",
                "Sink._add_sdc_metadata_to_record",
                ("record", "message", "context"),
            ),
        ],
        "called_by": ("singer_sdk.target_base", "Target._process_record_message"),
    },
    "_validate_and_parse": {
        "members": [
            ("singer_sdk.sinks.core", "Sink._validate_and_parse", ("record",)),
            (
                "singer_sdk.sinks.core",
                "Sink._parse_timestamps_in_record",
                ("record", "schema", "treatment"),
            ),
            ("singer_sdk.sinks.core", "Sink.datetime_error_treatment", None),
            ("singer_sdk.helpers._typing", "get_datelike_property_type", ("property_schema",)),
        ],
        "instance_attributes": ("_validator", "_warned_missing_fields"),
        "called_by": ("singer_sdk.target_base", "Target._process_record_message"),
    },
}


class HeldState:
    """Mixin for a `Target`: a STATE the destination cannot make true yet is held, not printed.

    The SDK prints STATE after every full drain (`drain_all`: when records are 5 minutes old
    and at the end of input). A destination whose records become final later, such as a batch
    completed at the end of the run (delivery/batch.py), says so through `state_may_follow()`;
    the held STATE (the latest) is printed by `write_held_state()` once it is true.
    """

    _held_state: dict | None = None

    def state_may_follow(self) -> bool:
        """Whether every record before the STATE is final (the target asks its destination)."""
        return True

    def _write_state_message(self, state: dict) -> None:
        if self.state_may_follow():
            self._held_state = None
            super()._write_state_message(state)  # type: ignore[misc]
        else:
            self._held_state = state

    def write_held_state(self) -> None:
        """Print the held STATE (call once every record before it is final)."""
        state, self._held_state = self._held_state, None
        if state is not None:
            super()._write_state_message(state)  # type: ignore[misc]


class LeanRecordSteps(_MixedInto):
    """Mixin for a `Sink`: the SDK's two per-record steps, cut to what this target reads.

    Gains measured with benchmarks/target_sdk_adapters_benchmark.py (CPU µs per charge record,
    singer-sdk 0.54.9, best of 15 passes on a shared 2-core machine): see each override. Both
    together save ~13 CPU µs per charge record; the whole target process spends ~75-85.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema: dict = self.schema
        properties = schema.get("properties") or {}
        # Which top-level fields are date-like (what the SDK would parse), and which are
        # declared (what it warns about when not).
        self._datelike_schema: dict[str, Any] = {
            "properties": {
                key: sub
                for key, sub in properties.items()
                if key not in SDC_BOOKKEEPING and get_datelike_property_type(sub)
            },
            "additionalProperties": True,  # the warning about undeclared fields is done apart
        }
        self._datelike_fields = tuple(self._datelike_schema["properties"])
        self._declared_fields = frozenset(properties)
        self._open_schema = bool(schema.get("additionalProperties", False))

    @property
    def include_sdc_metadata_properties(self) -> bool:
        """True: the SDK then keeps `_sdc_deleted_at` (False would strip it, losing deletes)
        and calls `_add_sdc_metadata_to_record` below."""
        return True

    def _add_sdc_metadata_to_record(self, record: dict, message: dict, context: dict) -> None:
        """Only `_sdc_deleted_at`, always present (None when live) as the SDK writes it: it is
        part of the object's state, hence of `_id`.

        Why: the SDK's step writes seven fields per record with two clock reads and ISO
        formatting; this target drops all but this one (and `_id` then needs no copy of the
        record without them). Gain: ~3.1 -> ~0.5 CPU µs per record.
        """
        record[SDC_DELETED_AT] = record.get(SDC_DELETED_AT)

    def _validate_and_parse(self, record: dict) -> dict:
        """The SDK's parse of date-like fields, paid only by records that carry one (e.g. a
        delete's `_sdc_deleted_at`, or another tap's ISO strings); the same warning once per
        undeclared field.

        Why: the SDK checks every field of every record against the schema to find date-like
        ones; Stripe's timestamps are Unix seconds the mapping converts itself. Gain: ~10 ->
        ~0.4 CPU µs per record.
        """
        if self._validator is not None:  # never set by this target
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
        warned: set[str] = self._warned_missing_fields
        for key, value in record.items():
            if key not in self._declared_fields and value is not None and key not in warned:
                self.logger.warning("No schema for record field '%s'", key)
                warned.add(key)
