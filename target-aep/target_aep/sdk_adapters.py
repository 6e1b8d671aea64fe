"""Where this target meets singer-sdk's internals: every private SDK member it relies on.

The SDK's target calls, per record and per sink: add the `_sdc_*` record metadata
(https://sdk.meltano.com/en/latest/implementation/record_metadata.html), then validate the
record against its SCHEMA and parse its date-like fields (`Sink._validate_and_parse`). This
target validates the mapped XDM instead (validation.py) and needs of the metadata only
`_sdc_deleted_at`, so `LeanRecordSteps` replaces both steps with what the mapping depends on.
`BatchFileRecords` reads the records of a BATCH message's files through the same path as
RECORD messages (the SDK hands a sink the files' records unmapped, all at once).
`HeldState` holds back a STATE the SDK would print while records before it are not final yet
(an open batch). `TimelyState` prints each STATE as soon as every record before it is placed,
instead of on the SDK's schedule (every drain of all sinks: records 5 minutes old, or the end
of input): it drains by age (`drain_max_age_seconds`, also while no input arrives, through
`IdleAwareReader`) and prints after every drain the newest STATE that drain made true.
The overridden methods are private members of singer-sdk 0.54 (pinned `~=0.54.9` in
target-aep's pyproject); `RELIES_ON` lists every private member the overrides use, and
tests/target/test_sdk_adapters.py fails naming the override when an installed SDK lacks one.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import math
import os
import select
import signal
import stat
import sys
import threading
import time
from collections import Counter, defaultdict
from collections import Counter as TypingCounter
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, Protocol

import msgspec
from singer_sdk.contrib import msgspec as sdk_msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchFileFormat, StorageTarget
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import SingerMessageType
from singer_sdk.sinks import BatchSink, Sink

from target_aep.errors import BatchFileError, RunInterrupted

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

# What singer-sdk logs at INFO on the plugin's logger when the plugin is built without
# `parse_env_config` (singer_sdk/plugin_base.py, `PluginBase.__init__`): Meltano always builds it
# so, passing every setting in the config file; a line per run with nothing to act on.
SDK_ENV_NOTICE = "Skipping parse of env var settings..."


class _DropEnvNotice(logging.Filter):
    """Drops the SDK's `SDK_ENV_NOTICE` line, nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != SDK_ENV_NOTICE


def drop_env_notice(logger: logging.Logger) -> None:
    """Keep the SDK's `SDK_ENV_NOTICE` off `logger` (once per logger, however often called)."""
    if not any(isinstance(f, _DropEnvNotice) for f in logger.filters):
        logger.addFilter(_DropEnvNotice())


# Override -> the SDK's private members it relies on: (module, attribute path, parameter names;
# None where the member is not called with parameters), and the SDK function that must still
# call the override.
RELIES_ON: dict[str, dict[str, Any]] = {
    "_write_state_message": {
        "members": [("singer_sdk.target_base", "Target._write_state_message", ("state",))],
        "called_by": ("singer_sdk.target_base", "Target.drain_all"),
    },
    "_process_state_message": {
        "members": [
            ("singer_sdk.target_base", "Target._process_state_message", ("message_dict",)),
            ("singer_sdk.plugin_base", "BaseSingerReader._assert_line_requires", None),
        ],
        "instance_attributes": {"singer_sdk.target_base.Target.__init__": ("_latest_state",)},
        "called_by": ("singer_sdk.plugin_base", "BaseSingerReader.process_lines"),
    },
    "_process_record_message": {
        "members": [
            ("singer_sdk.target_base", "Target._process_record_message", ("message_dict",)),
            ("singer_sdk.sinks.core", "Sink._get_context", ("record",)),
            ("singer_sdk.sinks.core", "Sink._singer_validate_message", ("record",)),
            ("singer_sdk.sinks.core", "Sink.preprocess_record", ("record", "context")),
            ("singer_sdk.mapper", "SameRecordTransform.transform", ("record",)),
            ("singer_sdk.mapper", "StreamMap.flatten_record", ("record",)),
        ],
        "instance_attributes": {
            "singer_sdk.target_base.Target.__init__": ("_sinks_active",),
            "singer_sdk.mapper.StreamMap.__init__": ("stream_alias", "flattening_options"),
        },
        "called_by": ("singer_sdk.plugin_base", "BaseSingerReader.process_lines"),
    },
    "_process_schema_message": {
        "members": [
            ("singer_sdk.target_base", "Target._process_schema_message", ("message_dict",)),
        ],
        "called_by": ("singer_sdk.plugin_base", "BaseSingerReader.process_lines"),
    },
    # LeanRecordSteps.record_intake: the steps it fuses, as the SDK defines them
    "record_intake": {
        "members": [
            ("singer_sdk.sinks.batch", "BatchSink._get_context", ("record",)),
            ("singer_sdk.sinks.core", "Sink._singer_validate_message", ("record",)),
            ("singer_sdk.sinks.core", "Sink.tally_record_read", ("count",)),
            ("singer_sdk.sinks.core", "Sink.is_full", ()),
            ("singer_sdk.sinks.core", "Sink.current_size", ()),
            ("singer_sdk.sinks.core", "Sink.max_size", ()),
            ("singer_sdk.sinks.core", "Sink.key_properties", ()),
            ("singer_sdk.sinks.core", "Sink.record_counter_metric", ()),
            ("singer_sdk.metrics", "Counter.increment", ("value",)),
        ],
        "instance_attributes": (
            "_pending_batch",
            "_total_records_read",
            "_batch_records_read",
            "_validator",
        ),
        "called_by": ("target_aep.sdk_adapters", "LeanRecordPath._process_record_message"),
    },
    # IdleAwareReader.read_messages: the SDK's loop over the lines, with what it calls
    "process_lines": {
        "members": [
            (
                "singer_sdk.singerlib.encoding.base",
                "GenericSingerReader.process_lines",
                ("file_input", "callbacks"),
            ),
            (
                "singer_sdk.singerlib.encoding.base",
                "GenericSingerReader.assert_line_requires",
                ("line_dict", "requires"),
            ),
            (
                "singer_sdk.singerlib.encoding.base",
                "GenericSingerReader._process_unknown_message",
                ("message_dict",),
            ),
            ("singer_sdk.contrib.msgspec", "MsgSpecReader.deserialize_json", ("line",)),
            ("singer_sdk.contrib.msgspec", "decoder", None),
        ],
        "instance_attributes": {
            "singer_sdk.singerlib.encoding.base.GenericSingerReader.__init__": (
                "_current_message",
            ),
        },
        "called_by": ("singer_sdk.plugin_base", "BaseSingerReader.process_lines"),
    },
    "_handle_max_record_age": {
        "members": [("singer_sdk.target_base", "Target._handle_max_record_age", ())],
        "called_by": ("singer_sdk.target_base", "Target._process_record_message"),
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
    "_process_batch_message": {
        "members": [
            ("singer_sdk.target_base", "Target._process_batch_message", ("message_dict",)),
            ("singer_sdk.helpers._batch", "BaseBatchFileEncoding.from_dict", ("data",)),
            ("singer_sdk.helpers._batch", "StorageTarget.split_url", ("url",)),
            ("singer_sdk.helpers._batch", "StorageTarget.from_url", ("url",)),
            ("singer_sdk.helpers._batch", "StorageTarget.open", ("filename", "mode")),
        ],
        "called_by": ("singer_sdk.plugin_base", "BaseSingerReader.process_lines"),
    },
    # Interruptible: the SDK's signal handler replaced, its two drains made uninterruptible
    # (public, but marked @final).
    "_handle_termination": {
        "members": [("singer_sdk.target_base", "Target._handle_termination", ("signum", "frame"))],
        "called_by": ("singer_sdk.plugin_base", "PluginBase._setup_signal_handlers"),
    },
    "drain_one": {
        "members": [("singer_sdk.target_base", "Target.drain_one", ("sink",))],
        "called_by": ("singer_sdk.target_base", "Target._drain_all"),
    },
    "drain_all": {
        "members": [("singer_sdk.target_base", "Target.drain_all", ("is_endofpipe",))],
        "called_by": ("singer_sdk.target_base", "Target.process_endofpipe"),
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


class Interruptible:
    """Mixin for a `Target`: Ctrl-C (SIGINT) or SIGTERM stops the run at once, with one line and
    exit code 130, but never in the middle of a drain.

    Replaces the SDK's handler (`Target._handle_termination`, installed for both signals by
    `PluginBase.__init__`), which drained every sink and printed the latest STATE from inside
    the signal handler, wherever the main thread was (half-way through a drain, say), then
    exited 0. Here the signal stops reading input: records not placed yet are dropped, and no
    STATE is printed beyond the last one whose records are all placed, so the next run
    continues from there (those records are read again). A drain in progress (files
    published and listed, a STATE printed) ends first. A second Ctrl-C exits without waiting.
    """

    _interrupted = False
    _drains_in_progress = 0

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        if self._interrupted:
            if signum == signal.SIGINT:
                os._exit(130)
            return  # Meltano's SIGTERM after the terminal's SIGINT: the same request
        self._interrupted = True
        self.logger.warning(  # type: ignore[attr-defined]
            "interrupted (%s): stopping; records after the last STATE printed are sent again"
            " by the next run",
            signal.Signals(signum).name,
        )
        if not self._drains_in_progress:
            raise RunInterrupted()

    # singer-sdk marks drain_one and drain_all @final; they are overridden all the same, as
    # the only way to keep a signal from cutting a drain short (RELIES_ON checks them).
    def drain_one(self, sink: Sink) -> None:
        """The SDK's drain of one sink, not cut short by Ctrl-C."""
        with self.uninterrupted():
            super().drain_one(sink)  # type: ignore[misc]

    def drain_all(self, *, is_endofpipe: bool = False) -> None:
        """The SDK's drain of every sink, not cut short by Ctrl-C."""
        with self.uninterrupted():
            super().drain_all(is_endofpipe=is_endofpipe)  # type: ignore[misc]

    @contextlib.contextmanager
    def uninterrupted(self) -> Iterator[None]:
        """A drain: an interruption during it takes effect when it ends."""
        self._drains_in_progress += 1
        try:
            yield
        finally:
            self._drains_in_progress -= 1
        if self._interrupted and not self._drains_in_progress:
            raise RunInterrupted()


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
                    schema=self._datelike_schema_for(record),
                    treatment=self.datetime_error_treatment,
                )
                break
        if not self._open_schema and not self._declared_fields.issuperset(record):
            self._warn_undeclared_fields(record)
        return record

    def record_intake(self, target: Any) -> Callable[[dict], None] | None:
        """This sink's per-record steps as `LeanRecordPath` runs them, fused into one function
        for a sink whose steps are exactly the SDK's and this mixin's (else None: the steps
        one by one): what each record pays was one call and its attribute lookups per step.

        In the SDK's order: the batch context (`BatchSink._get_context`), `_sdc_deleted_at`,
        the date-like fields' parse and the undeclared-field warning (`_validate_and_parse`,
        called only for a record needing either), the key properties' check, the tallies,
        `process_record`, the record counter, the drain when full, the age check. The batch
        size is read once: `max_size` is constant for a sink (AepSink reads it from the
        checked settings). Gain: ~10,600 instructions per charge record (the target process
        on 2,000 charges, valgrind's cachegrind), ~3 % of the process.
        """
        cls = type(self)
        if (
            cls._get_context is not BatchSink._get_context
            or cls._add_sdc_metadata_to_record is not LeanRecordSteps._add_sdc_metadata_to_record
            or cls._validate_and_parse is not LeanRecordSteps._validate_and_parse
            or cls._singer_validate_message is not Sink._singer_validate_message
            or cls.tally_record_read is not Sink.tally_record_read
            or cls.is_full is not Sink.is_full
            or cls.current_size is not Sink.current_size
            or self._validator is not None
        ):
            return None
        sink = self
        get_context = self._get_context
        validate_and_parse = self._validate_and_parse
        key_properties = tuple(self.key_properties or ())
        missing_key = self._singer_validate_message  # raises, naming the key properties
        process_record = self.process_record
        counter = self.record_counter_metric
        max_size = self.max_size
        drain_one = target.drain_one
        handle_max_record_age = target._handle_max_record_age
        datelike_fields = self._datelike_fields
        declared = self._declared_fields
        open_schema = self._open_schema

        def intake(record: dict) -> None:
            context = sink._pending_batch
            if context is None:
                context = get_context(record)
            record[SDC_DELETED_AT] = record.get(SDC_DELETED_AT)
            for key in datelike_fields:
                if record.get(key) is not None:
                    validate_and_parse(record)
                    break
            else:
                if not open_schema and not declared.issuperset(record):
                    validate_and_parse(record)  # warns about the undeclared fields
            for key in key_properties:
                if key not in record:
                    missing_key(record)
            sink._total_records_read += 1
            sink._batch_records_read += 1
            process_record(record, context)
            counter.increment()
            if sink._batch_records_read >= max_size:
                drain_one(sink)
            handle_max_record_age()

        return intake

    def _datelike_schema_for(self, record: dict) -> dict[str, Any]:
        """The date-like fields to parse in `record`: those holding text. A declared
        date-time holding something else (another tap's Unix seconds, say) has no ISO 8601 to
        parse and made the SDK raise TypeError, stopping the run; it is left as it is, for the
        mapping to convert or dead-letter with its field path."""
        properties = self._datelike_schema["properties"]
        odd = [k for k in properties if not isinstance(record.get(k), (str, type(None)))]
        if not odd:
            return self._datelike_schema
        kept = {k: sub for k, sub in properties.items() if k not in odd}
        return {**self._datelike_schema, "properties": kept}

    def _warn_undeclared_fields(self, record: dict) -> None:
        warned: set[str] = self._warned_missing_fields
        for key, value in record.items():
            if key not in self._declared_fields and value is not None and key not in warned:
                self.logger.warning("No schema for record field '%s'", key)
                warned.add(key)


class PendingStates:
    """Which STATE is true: the bookkeeping of `TimelyState`, without the SDK.

    A STATE is true once every record that arrived before it is placed. Each STATE gets the
    next number of a counter; a sink that starts holding records notes the counter's value
    then (its oldest record arrived after that STATE and before the next), and forgets it when
    its records are placed. So the STATE numbered n is true when every sink still holding
    records started after it (noted value >= n). Of two STATEs with no sink starting between
    them, the older one can never be printed alone (both become true together), so it is
    dropped: at most one STATE per holding sink, plus the newest, is kept.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counter = 0
        self._states: list[tuple[int, dict]] = []  # not printed yet, oldest first
        self._holding: dict[object, tuple[int, float]] = {}  # sink -> (counter, since)
        self.oldest: float | None = None
        """When the oldest record not placed yet arrived (clock seconds), None when none."""

    def state_received(self, state: dict) -> None:
        """A STATE arrived after every record before it."""
        if self._states and all(n != self._counter for n, _ in self._holding.values()):
            self._states.pop()  # no sink started since it: the new one supersedes it
        self._counter += 1
        self._states.append((self._counter, state))

    def holding(self, sink: object) -> None:
        """`sink` took its first record since its last drain."""
        if sink not in self._holding:
            now = self._clock()
            self._holding[sink] = (self._counter, now)
            if self.oldest is None:
                self.oldest = now

    def placed(self, sink: object) -> None:
        """Every record `sink` held is placed (delivered or dead-lettered, durably)."""
        if self._holding.pop(sink, None) is not None:
            self.oldest = min((since for _, since in self._holding.values()), default=None)

    def take_true(self) -> dict | None:
        """The newest STATE that is true and not printed yet (forgotten with older ones)."""
        bound = min((n for n, _ in self._holding.values()), default=math.inf)
        true = [index for index, (n, _) in enumerate(self._states) if n <= bound]
        if not true:
            return None
        state = self._states[true[-1]][1]
        del self._states[: true[-1] + 1]
        return state


class TimelyState(HeldState):
    """Mixin for a `Target`: STATE as soon as every record before it is placed.

    Off (the SDK's schedule, `HeldState` alone) until `print_state_when_true` is called, which
    the target does for a destination whose drains place their records (files, streaming).
    Then: a STATE arriving while no records wait is printed at once; a sink's drain (full at
    `batch_size_rows`, or every sink's once the oldest waiting record is `max_age` seconds
    old) is followed by the newest STATE it made true. The age is checked after every record
    and, while no input arrives, by `IdleAwareReader`.
    At most one STATE is printed per `min_interval` seconds: Meltano saves each STATE line to
    its system database (a job update and a state row, about 12 ms each in a demo run here,
    https://github.com/meltano/meltano/blob/main/src/meltano/core/plugin/singer/target.py)
    before it reads on, and a tap printing a STATE per window gave dozens a second. A STATE
    made true within the interval waits (the newest true one is printed when the interval has
    passed: at the next STATE, drain or record, while no input arrives through
    `IdleAwareReader`, and at every drain of all sinks, the end of input included).
    """

    _timely = False
    _max_age = math.inf
    _min_interval = 0.0
    _last_printed = -math.inf
    _waiting_print = False  # a true STATE may wait for the interval to pass
    _pending: PendingStates
    _state_lock: threading.Lock

    def print_state_when_true(self, max_age_seconds: float, min_interval_seconds: float) -> None:
        """Turn timely STATE on: drain every sink once a record waited `max_age_seconds`,
        and print at most one STATE per `min_interval_seconds`."""
        self._timely = True
        self._max_age = max_age_seconds
        self._min_interval = min_interval_seconds
        self._pending = PendingStates()
        self._state_lock = threading.Lock()

    # -- the SDK's calls ------------------------------------------------------------------
    def _process_state_message(self, message_dict: dict) -> None:
        if not self._timely:
            super()._process_state_message(message_dict)  # type: ignore[misc]
            return
        self._assert_line_requires(message_dict, requires={"value"})  # type: ignore[attr-defined]
        state = message_dict["value"]
        if self._latest_state == state:  # type: ignore[has-type]
            return  # as the SDK: an unchanged STATE is no news
        self._latest_state = state
        with self._state_lock:
            self._pending.state_received(state)
        self._print_true_state()

    def _handle_max_record_age(self) -> None:
        if not self._timely:
            super()._handle_max_record_age()  # type: ignore[misc]
            return
        oldest = self._pending.oldest
        if oldest is None and not self._waiting_print:
            return  # no record and no STATE waiting: nothing is due
        now = time.monotonic()
        if oldest is not None and now - oldest >= self._max_age:
            self.drain_all()  # type: ignore[attr-defined]
        elif self._waiting_print and now - self._last_printed >= self._min_interval:
            self._print_true_state()

    def _write_state_message(self, state: dict) -> None:
        if not self._timely:
            super()._write_state_message(state)
            return
        # after a drain of every sink (by age, a new schema, the end of input): the newest
        # STATE, if not printed yet, whatever the interval
        self._print_true_state(paced=False)

    # -- the sinks' and the reader's calls ------------------------------------------------
    def records_waiting(self, sink: object) -> None:
        """A sink took the first record of its next drain."""
        if self._timely:
            self._pending.holding(sink)

    def records_placed(self, sink: object) -> None:
        """A sink's drain placed its records: print the STATE that made true, if any."""
        if self._timely:
            with self._state_lock:
                self._pending.placed(sink)
            self._print_true_state()

    def seconds_until_drain(self) -> float | None:
        """How long input may be waited for before records are due or a waiting STATE may be
        printed (None: neither)."""
        if not self._timely:
            return None
        due = [] if self._pending.oldest is None else [self._pending.oldest + self._max_age]
        if self._waiting_print:
            due.append(self._last_printed + self._min_interval)
        return max(0.0, min(due) - time.monotonic()) if due else None

    def drain_if_due(self) -> None:
        """No input came while records wait: drain every sink once they are due."""
        if self._timely:
            self._handle_max_record_age()

    def _print_true_state(self, *, paced: bool = True) -> None:
        with self._state_lock:
            now = time.monotonic()
            if paced and now - self._last_printed < self._min_interval:
                self._waiting_print = True  # printed once the interval has passed
                return
            self._waiting_print = False
            state = self._pending.take_true()
            if state is not None:
                self._last_printed = now
                super()._write_state_message(state)  # held instead when not final (HeldState)


class BatchFileRecords:
    """Mixin for a `Target`: a BATCH message's records take the RECORD messages' path.

    A BATCH message (https://sdk.meltano.com/en/latest/batch.html) names files of JSON lines,
    one record each, that a tap wrote instead of RECORD messages. The SDK's default reads every
    record of a file into one list and hands it to the sink's `process_batch` unmapped; here
    each record is read as a line at a time (memory stays flat whatever the file's size) and
    goes through `_process_record_message`, as if it had come as a RECORD message: mapped,
    validated, dead-lettered or kept, drained by size and age, and counted before the next
    STATE. Files are read where the manifest says, with the SDK's own storage helper (local
    paths and `file://` URLs; other fsspec URLs such as `s3://` with their fsspec package).
    """

    def _process_batch_message(self, message_dict: dict) -> None:
        stream = message_dict["stream"]
        encoding = BaseBatchFileEncoding.from_dict(message_dict["encoding"])
        if encoding.format != BatchFileFormat.JSONL:
            raise BatchFileError(
                f"stream {stream!r}: BATCH files in format {encoding.format!r} cannot be read; "
                "target-aep reads JSON lines (the tap's batch_config encoding.format: jsonl)"
            )
        for url in message_dict["manifest"]:
            for line in _batch_file_lines(url):
                record = self.message_reader.deserialize_json(line)  # type: ignore[attr-defined]
                self._process_record_message(  # type: ignore[attr-defined]
                    {"type": "RECORD", "stream": stream, "record": record}
                )


GZIP_MAGIC = b"\x1f\x8b"  # https://www.rfc-editor.org/rfc/rfc1952#section-2.3.1


def _batch_file_lines(url: str) -> Iterator[bytes]:
    """The non-empty lines of one batch file, read as they are needed.

    Gzipped or not by what the file holds: singer-sdk 0.54's JSONL batcher gzips every file,
    also when its `compression` says none (singer_sdk/contrib/batch_encoder_jsonl.py).
    """
    head, tail = StorageTarget.split_url(url)
    try:
        with contextlib.ExitStack() as files:
            handle: IO[bytes] = files.enter_context(
                StorageTarget.from_url(head).open(tail, mode="rb")
            )
            if handle.read(2) == GZIP_MAGIC:
                handle.seek(0)
                handle = files.enter_context(gzip.GzipFile(fileobj=handle))  # type: ignore[arg-type]
            else:
                handle.seek(0)
            yield from (line for line in handle if line.strip())
    except (OSError, EOFError) as error:
        raise BatchFileError(
            f"BATCH file {url} cannot be read ({type(error).__name__}: {error}); the tap's "
            "batch_config storage must be readable from where target-aep runs"
        ) from None


class LeanRecordPath:
    """Mixin for a `Target`: the SDK's per-record path without the steps this target skips.

    For a record of a stream without stream maps (the SDK's identity map, no flattening) into
    a sink that does not preprocess records, the SDK's own steps in its order, less: the
    shallow copy of the record (nothing else reads the message after it), the identity
    transform and its flattening check, the sink lookup by schema, `preprocess_record` (the
    Sink's identity) and `_after_process_record` (a debug log line). Any other record takes
    the SDK's path (`Target._process_record_message`). Gain: ~1.5 CPU µs per charge record
    (the target in-process on 20,000 charges with mapping left out, lean vs SDK path, best of
    8 runs each on a shared 2-core machine: 15.2 vs 16.6). The steps are the sink's
    `record_intake`, found once per stream and SCHEMA (a SCHEMA may replace the stream's sink
    and maps), where the sink has one.
    """

    _record_intakes: dict[Any, Callable[[dict], None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._record_intakes = {}  # per stream, its sink's `record_intake`
        super().__init__(*args, **kwargs)

    def _process_schema_message(self, message_dict: dict) -> None:
        """A SCHEMA may replace its stream's sink and stream maps: every intake is found again."""
        self._record_intakes = {}
        super()._process_schema_message(message_dict)  # type: ignore[misc]

    def _process_record_message(self, message_dict: dict) -> None:
        record = message_dict.get("record")
        stream = message_dict.get("stream")
        intake = (
            self._record_intakes.get(stream)
            if type(record) is dict and type(stream) is str
            else None
        )
        if intake is not None:
            intake(record)  # type: ignore[arg-type]
            return
        sink = self._lean_sink(message_dict)
        if sink is None:
            super()._process_record_message(message_dict)  # type: ignore[misc]
            return
        record = message_dict["record"]
        intake = sink.record_intake(self) if isinstance(sink, LeanRecordSteps) else None
        if intake is not None:
            self._record_intakes[stream] = intake
            intake(record)
            return
        context = sink._get_context(record)
        sink._add_sdc_metadata_to_record(record, message_dict, context)
        sink._validate_and_parse(record)
        sink._singer_validate_message(record)
        sink.tally_record_read()
        sink.process_record(record, context)
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.drain_one(sink)  # type: ignore[attr-defined]
        self._handle_max_record_age()  # type: ignore[attr-defined]

    def _lean_sink(self, message_dict: dict) -> Sink | None:
        """The sink of a record the lean path can take, else None (the SDK's path)."""
        stream = message_dict.get("stream")
        if type(message_dict.get("record")) is not dict:
            return None
        maps = self.mapper.stream_maps.get(stream)  # type: ignore[attr-defined]
        if not maps or len(maps) != 1:
            return None
        (stream_map,) = maps
        if type(stream_map) is not SameRecordTransform or stream_map.stream_alias != stream:
            return None
        if stream_map.flattening_options and stream_map.flattening_enabled:
            return None
        sink: Sink | None = self._sinks_active.get(stream)  # type: ignore[attr-defined]
        if sink is None or type(sink).preprocess_record is not Sink.preprocess_record:
            return None
        return sink


class DrainClock(Protocol):
    """What `IdleAwareReader` asks its target (a `TimelyState`)."""

    def seconds_until_drain(self) -> float | None: ...

    def drain_if_due(self) -> None: ...


class IdleAwareReader(MsgSpecReader):
    """The SDK's msgspec reader of Singer lines, which lets records due by age be drained
    while no input arrives (a tap waiting on a slow API, a trickle of changes).

    On a pipe (how Meltano and a shell feed a target) lines are read from its file
    descriptor with `select` (https://docs.python.org/3/library/select.html#select.select)
    waiting at most until the oldest waiting record is due, then `clock.drain_if_due()`.
    msgspec decodes the bytes lines directly (no text decoding step). Other input (a file, a
    StringIO) never waits, and is read as the SDK reads it.
    """

    clock: DrainClock | None = None
    CHUNK_BYTES = 1 << 16

    def process_lines(
        self, file_input: IO[str] | None, callbacks: dict[str, Callable[[dict], None]]
    ) -> Any:
        """The SDK's loop over the lines (`read_messages`), fed by `timed_lines` when the input
        is a pipe."""
        source = file_input if file_input is not None else sys.stdin
        descriptor = _pipe_descriptor(source)
        if descriptor is None or self.clock is None:
            return self.read_messages(file_input or self.default_input, callbacks)
        return self.read_messages(timed_lines(descriptor, self.clock, self.CHUNK_BYTES), callbacks)

    def read_messages(
        self, lines: Iterable[Any], callbacks: dict[str, Callable[[dict], None]]
    ) -> TypingCounter[str]:
        """What the SDK's `GenericSingerReader.process_lines` does with each line, a RECORD
        handed to its callback without the steps between (the `type` key's check, the
        callbacks' lookup, the per-type tally): the same decoder (the SDK's msgspec one), the
        same errors for a line that is no JSON or has no `type`, the same counts returned.
        Gain: ~5,300 instructions per charge record (the target process on 2,000 charges,
        valgrind's cachegrind), ~1.5 % of the process."""
        stats: defaultdict[str, int] = defaultdict(int)
        records = 0
        decode = sdk_msgspec.decoder.decode
        on_record = callbacks[SingerMessageType.RECORD]
        for line in lines:
            self._current_message = line
            try:
                message = decode(line)
            except msgspec.DecodeError:
                message = self.deserialize_json(line)  # raises as the SDK does, logged
            if message.__class__ is dict and message.get("type") == "RECORD":
                on_record(message)
                records += 1
                continue
            self.assert_line_requires(message, requires={"type"})
            kind = message["type"]
            if callback := callbacks.get(kind):
                callback(message)
            else:
                self._process_unknown_message(message)
            stats[kind] += 1
        if records:
            stats[SingerMessageType.RECORD.value] += records
        return Counter(**stats)


def _pipe_descriptor(source: Any) -> int | None:
    """The file descriptor of `source` when it is a pipe or socket (input that can pause).

    None on Windows, whose `select` takes sockets only
    (https://docs.python.org/3/library/select.html#select.select): there records are due by
    age only when the next message arrives.
    """
    if os.name == "nt":
        return None
    try:
        descriptor = source.fileno()
        mode = os.fstat(descriptor).st_mode
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None
    return descriptor if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


def timed_lines(descriptor: int, clock: DrainClock, chunk_bytes: int) -> Iterator[bytes]:
    """The non-empty lines read from `descriptor`; between reads, when records are due and no
    input is ready, `clock.drain_if_due()`."""
    parts: list[bytes] = []  # the line being read, when it spans reads
    while True:
        wait = clock.seconds_until_drain()
        if wait is not None:
            ready, _, _ = select.select([descriptor], [], [], wait)
            if not ready:
                clock.drain_if_due()
                continue
        chunk = os.read(descriptor, chunk_bytes)
        if not chunk:
            break
        if b"\n" not in chunk:
            parts.append(chunk)
            continue
        lines = chunk.split(b"\n")
        if parts:
            parts.append(lines[0])
            lines[0] = b"".join(parts)
        parts = [lines.pop()] if lines[-1] else []
        for line in lines:  # the empty ones left out: one generator per line, not two
            if line:
                yield line
    last = b"".join(parts)
    if last.strip():
        yield last
