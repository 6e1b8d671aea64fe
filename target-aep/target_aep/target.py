"""target-aep: Stripe records (from tap-stripe-xdm or any Stripe tap) -> XDM -> AEP.

The target owns what every stream shares: the settings, the destination, the dead-letter file,
the tenant id and the dataset schemas (Schema Registry, file or built-in). Sinks (`sink.py`) do
the per-record work.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Mapping
from functools import cached_property
from typing import IO, Any, ClassVar

from singer_sdk import Target
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.helpers.capabilities import CapabilitiesEnum, TargetCapabilities

from target_aep.deadletter import DeadLetterWriter
from target_aep.delivery import build_delivery
from target_aep.delivery.base import Delivery
from target_aep.mapping import MAPPING_NAMES, Mapper
from target_aep.mapping.converters import MappingOptions
from target_aep.run_summary import StreamTally, Timing, render_table, write_summary
from target_aep.settings import StreamSettings, TargetSettings, config_schema
from target_aep.sink import AepSink
from target_aep.validation import (
    RecordValidator,
    builtin_schema,
    schema_from_file,
    with_tenant,
)


class TargetAep(Target):
    """Singer target mapping Stripe objects to XDM and delivering them to Experience Platform."""

    name = "target-aep"
    config_jsonschema = config_schema(MAPPING_NAMES)
    default_sink_class = AepSink
    # msgspec parses Singer input several times faster than the default json reader (singer.md
    # 1.16); it comes with singer-sdk[msgspec], already a dependency.
    message_reader_class = MsgSpecReader
    # No `validate-records`: the Stripe-shaped input is not what must be valid, the mapped XDM
    # is, and that is always validated (validation.py); the SDK setting would do nothing here.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        capability
        for capability in Target.capabilities
        if capability != TargetCapabilities.VALIDATE_RECORDS
    ]

    # Python's cyclic GC collects the young generation every 700 net allocations; while sinks
    # hold their batches (up to 10,000 mapped records each), each collection and the full ones
    # walk ever more live objects, and every full one also walks everything imported at
    # start-up: ~10 of ~75 CPU µs per record, measured. Records and their XDM hold no
    # reference cycles (freed by reference counting), so collecting less often costs no
    # memory, and start-up objects live for the whole run anyway (frozen: never walked). Set
    # for the input loop only, restored after.
    GC_THRESHOLDS = (100_000, 10, 10)

    def __init__(
        self,
        *,
        config: dict | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        **kwargs: Any,
    ) -> None:
        """Read the settings once; every problem of them at once (`validate_config` is kept for
        the SDK's signature: settings are always checked, the target cannot run without)."""
        # The SDK's own schema check would stop at its first failing kind of problem; the
        # settings check below lists them all (the SDK's built-in settings included).
        super().__init__(
            config=config, parse_env_config=parse_env_config, validate_config=False, **kwargs
        )
        self.settings = TargetSettings.from_config(
            self.config, mapping_names=MAPPING_NAMES, sdk_schema=self.config_jsonschema
        )
        self.logger.info("%s", self.settings.log_line())
        self._lock = threading.Lock()
        self.dead_letters = DeadLetterWriter(self.settings.dead_letter_file)
        self.tallies: dict[str, StreamTally] = {}
        self.first_record_at: float | None = None  # wall clock, set by the first batch's start
        self.delivery: Delivery = build_delivery(self.settings)

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
        settings = self.settings.streams.get(stream) or StreamSettings()
        schema_id = settings.schema_id
        with self._lock:
            if schema_id and self.schema_registry is not None:
                schema = self.schema_registry.resolved_schema(schema_id)
                return RecordValidator(schema, f"Schema Registry schema {schema_id}")
            if settings.schema_path:
                setting = f"streams.{stream}.schema_path"
                schema = schema_from_file(settings.schema_path, setting)
                return RecordValidator(schema, f"{setting} ({settings.schema_path})")
            schema = with_tenant(
                builtin_schema(mapper.schema), self.tenant_id, mapper.tenant_schema(singer_schema)
            )
            return RecordValidator(schema, f"built-in schema {mapper.schema}")

    def listen(self, file_input: IO[str] | None = None) -> None:
        """Read and process all input, with the cyclic GC tuned for holding batches."""
        previous = gc.get_threshold()
        gc.set_threshold(*self.GC_THRESHOLDS)
        gc.freeze()
        try:
            super().listen(file_input)
        finally:
            gc.unfreeze()
            gc.set_threshold(*previous)

    def tally_for(self, stream: str) -> StreamTally:
        """The run's counters for `stream` (kept across sink replacements on schema changes)."""
        return self.tallies.setdefault(stream, StreamTally())

    def note_batch_started(self) -> None:
        """A sink started a batch (with its first record): the run's first one starts the clock."""
        if self.first_record_at is None:
            self.first_record_at = time.time()

    def process_endofpipe(self) -> None:
        """Drain everything (STATE follows), release the destination, then report the run."""
        try:
            super().process_endofpipe()
        finally:
            self.delivery.close()
            self.dead_letters.close()
        self.report()

    def report(self) -> None:
        """Log the per-stream summary and write it to `<output_dir>/run_summary.json`."""
        letters = self.settings.dead_letter_file
        timing = None
        if self.first_record_at is not None:
            timing = Timing(self.first_record_at, time.time())
        self.logger.info("Run summary:")
        for line in render_table(self.tallies, letters, timing.seconds if timing else None):
            self.logger.info("  %s", line)
        summary = self.settings.run_summary_file
        try:
            write_summary(summary, self.tallies, letters, timing)
        except OSError as exc:  # the data is delivered; a missing report must not fail the run
            self.logger.warning("Could not write the run summary to %s: %s", summary, exc)


if __name__ == "__main__":
    TargetAep.cli()
