"""target-aep: Stripe records (from tap-stripe-xdm or any Stripe tap) -> XDM -> AEP.

The SDK glue of the run: the settings read once, the run's routes (route.py: destination,
dead-letter file, dataset schemas), the input loop, and the run summary at the end. Sinks
(`sink.py`) hand each stream's records to its route.
"""

from __future__ import annotations

import gc
import logging
from typing import IO, Any, ClassVar

from singer_sdk import Target
from singer_sdk.helpers.capabilities import CapabilitiesEnum, TargetCapabilities
from singer_sdk.metrics import METRICS_LOGGER_NAME

from target_aep.mapping import MAPPING_NAMES
from target_aep.route import Routes
from target_aep.run_summary import render_table, write_summary
from target_aep.sdk_adapters import (
    BatchFileRecords,
    IdleAwareReader,
    Interruptible,
    LeanRecordPath,
    TimelyState,
    drop_env_notice,
)
from target_aep.settings import TargetSettings, config_schema
from target_aep.sink import AepSink


# Interruptible overrides the SDK drains marked @final (sdk_adapters.py says why).
class TargetAep(Interruptible, BatchFileRecords, LeanRecordPath, TimelyState, Target):  # type: ignore[misc]
    """Singer target mapping Stripe objects to XDM and delivering them to Experience Platform."""

    name = "target-aep"
    config_jsonschema = config_schema(MAPPING_NAMES)
    default_sink_class = AepSink
    # msgspec parses Singer input several times faster than the SDK's default json reader
    # (https://sdk.meltano.com/en/latest/guides/performance.html); it comes with
    # singer-sdk[msgspec], already a dependency. The reader also drains records due by age
    # while no input arrives (sdk_adapters.IdleAwareReader).
    message_reader_class = IdleAwareReader
    # No `validate-records`: the Stripe-shaped input is not what must be valid, the mapped XDM
    # is, and that is always validated (validation.py); the SDK setting would do nothing here.
    # BATCH messages are read without the `batch` capability, whose only effect on a target
    # is a `batch_config` setting for writing batch files: the files a BATCH message names are
    # read where its manifest says (sdk_adapters.BatchFileRecords).
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        capability
        for capability in Target.capabilities
        if capability != TargetCapabilities.VALIDATE_RECORDS
    ]

    # Python's cyclic GC walks every live young object on each automatic collection: while
    # sinks hold their batches (up to batch_size_rows mapped records each), every held record
    # is walked in the young generation and again in the middle one, and each full collection
    # walks all of them and everything imported at start-up. Records and their XDM hold no
    # reference cycles (freed by reference counting), so for the input loop automatic
    # collection is off, start-up objects are frozen (never walked), and a collection of the
    # young and middle generations runs after each drain (`records_placed`), when the drained
    # records are already freed and few objects are alive to walk: any cycle made meanwhile
    # lives at most one drain. Measured with benchmarks/target_mapping_benchmark.py (process
    # mode): ~7 CPU µs per charge record less than collecting every 100,000 allocations.
    # Restored after the loop.

    def __init__(
        self,
        *,
        config: dict | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        **kwargs: Any,
    ) -> None:
        """Read the settings once, reporting every problem of them at once (settings are always
        checked: `validate_config` is kept for the SDK's signature)."""
        # The SDK's own schema check would stop the run before the settings check could add
        # its findings; the settings check covers the SDK's built-in settings too.
        drop_env_notice(self.logger)  # before the SDK's constructor logs it
        super().__init__(
            config=config, parse_env_config=parse_env_config, validate_config=False, **kwargs
        )
        self.settings = TargetSettings.from_config(
            self.config, mapping_names=MAPPING_NAMES, sdk_schema=self.config_jsonschema
        )
        self.logger.info("%s", self.settings.log_line())
        # The SDK logs its metrics at INFO on this logger (singer_sdk/metrics.py); its
        # constructor has just set the level, so this one stands.
        logging.getLogger(METRICS_LOGGER_NAME).setLevel(
            logging.INFO if self.settings.log_metrics else logging.WARNING
        )
        self.routes = Routes(self.settings)
        if self.routes.delivery.state_follows_drains:
            # STATE as soon as it is true: drains by size and by age, each followed by the
            # STATE it made true (sdk_adapters.TimelyState); batch keeps the SDK's schedule.
            self.print_state_when_true(
                self.settings.drain_max_age_seconds, self.settings.state_min_interval_seconds
            )
            if isinstance(self.message_reader, IdleAwareReader):
                self.message_reader.clock = self

    # singer-sdk marks listen @final; the target tunes the cyclic GC around its input loop.
    def listen(self, file_input: IO[str] | None = None) -> None:  # type: ignore[misc]
        """Read and process all input, the cyclic GC collecting after drains only."""
        was_enabled = gc.isenabled()
        gc.disable()
        gc.freeze()
        try:
            super().listen(file_input)
        except BaseException:
            self.routes.close()  # a run that stops gives up its open batches (no STATE moved)
            raise
        finally:
            gc.unfreeze()
            if was_enabled:
                gc.enable()

    def records_placed(self, sink: object) -> None:
        """After a sink's drain: the STATE it made true, then the cycles made meanwhile
        collected (young and middle generations; automatic collection is off in `listen`)."""
        super().records_placed(sink)
        gc.collect(1)

    def state_may_follow(self) -> bool:
        """STATE only once every record before it is final (batch: its batch succeeded)."""
        return self.routes.state_may_follow()

    def process_endofpipe(self) -> None:
        """Drain everything, make it final (open batches completed), print the STATE held
        until then, release the destination, then report the run (an interruption once
        the input has ended waits until the STATE is printed)."""
        with self.uninterrupted():
            try:
                super().process_endofpipe()
                self.routes.settle()
                self.write_held_state()
            finally:
                self.routes.close()
        self.report()

    def report(self) -> None:
        """Log the per-stream summary and write it to `<output_dir>/run_summary.json`."""
        summary = self.routes.summary
        letters = self.settings.dead_letter_file
        timing = summary.timing()
        self.logger.info("Run summary:")
        for line in render_table(summary.tallies, letters, timing.seconds if timing else None):
            self.logger.info("  %s", line)
        path = self.settings.run_summary_file
        try:
            write_summary(path, summary.tallies, letters, timing)
        except OSError as exc:  # the data is delivered; a missing report must not fail the run
            self.logger.warning("Could not write the run summary to %s: %s", path, exc)


if __name__ == "__main__":
    TargetAep.cli()
