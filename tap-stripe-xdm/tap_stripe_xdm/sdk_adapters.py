"""Every place the tap bends a singer-sdk internal, each with its reason and measured gain.

The overrides live in `AdaptedStream`, the base of the tap's stream. `SDK_INTERNALS` lists
what each one relies on in the installed singer-sdk; `missing_sdk_internals()` checks it, so
an SDK upgrade that renames or reshapes one fails a test naming the override instead of
silently bringing back the slow or misleading default (tests/tap/test_sdk_adapters.py).

Gains measured per record on Stripe's charge example (1.9 KB of JSON, nested 5 levels) with
the default identity stream map: best of 5 x 20,000 records, Python 3.11, singer-sdk 0.54.9, on
2 vCPUs shared with other work (load about 4.5):

- `_generate_record_messages`: 23.9 -> 2.8 µs when every property is selected;
- `_MemoizedSelectionMask`: 36.1 -> 16.3 µs on the SDK's own path (one property deselected);
- `_increment_stream_state`: 1.26 -> 0.06 µs, and no misleading warning or state key (it
  replaces a process-wide logger filter and three pops of `progress_markers`).

`sync_partitions_concurrently` replaces the SDK's `Tap.sync_all`, which syncs streams one
after another: it syncs every partition at the same time, each by the SDK's own `Stream.sync`
(`Baton` keeps the output single-writer). `announce_schema` is no speed-up: the SDK has no
public way to change a stream's schema during a run, which `schema_drift: evolve` needs
(schema_drift.py). `drop_env_notice` keeps one SDK start-up line out of the log;
`readable_bookmark_line` shows the bookmark of another as ISO 8601.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import inspect
import logging
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from singer_sdk import Stream, Tap, batch
from singer_sdk.mapper import PluginMapper
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL, Breadcrumb, SelectionMask
from singer_sdk.singerlib.encoding.simple import RecordMessage

# What singer-sdk logs at INFO on the plugin's logger when the plugin is built without
# `parse_env_config` (singer_sdk/plugin_base.py, `PluginBase.__init__`): Meltano always builds it
# so, passing every setting in the config file, and the tap is built twice per `meltano run`
# (discovery, then the sync), so a person saw this twice per run, saying nothing to act on.
SDK_ENV_NOTICE = "Skipping parse of env var settings..."


class _DropEnvNotice(logging.Filter):
    """Drops the SDK's `SDK_ENV_NOTICE` line, nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != SDK_ENV_NOTICE


def drop_env_notice(logger: logging.Logger) -> None:
    """Keep the SDK's `SDK_ENV_NOTICE` off `logger` (once per logger, however often called)."""
    if not any(isinstance(f, _DropEnvNotice) for f in logger.filters):
        logger.addFilter(_DropEnvNotice())


# What singer-sdk logs at INFO when a stream starts (singer_sdk/streams/_state.py,
# `write_starting_replication_value`), with the bookmark as the state holds it: Unix seconds
# on a rerun, the start date's own text on a first run.
SDK_BOOKMARK_LINE = "Starting incremental sync of '%s' with bookmark value: %s"


class _ReadableBookmark(logging.Filter):
    """Shows the bookmark of `SDK_BOOKMARK_LINE` as `render` writes it; drops nothing."""

    def __init__(self, render: Callable[[Any], str]) -> None:
        super().__init__()
        self.render = render

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.msg == SDK_BOOKMARK_LINE and isinstance(args, tuple) and len(args) == 2:
            record.args = (args[0], self.render(args[1]))
        return True


def readable_bookmark_line(logger: logging.Logger, render: Callable[[Any], str]) -> None:
    """Have `logger` (a stream's: the SDK logs the line on it) show bookmarks by `render`."""
    if not any(isinstance(f, _ReadableBookmark) for f in logger.filters):
        logger.addFilter(_ReadableBookmark(render))


class _MemoizedSelectionMask(SelectionMask):
    """A selection mask that remembers what it resolved for nested properties.

    The SDK checks the selection of every property of every record, nested ones included;
    nested breadcrumbs are not in the catalog, so each check walks up to the parent
    (`SelectionMask.__missing__`). Stripe objects nest deeply, which made this walk the
    costliest step per record whenever a property is deselected.
    """

    def __missing__(self, breadcrumb: Breadcrumb) -> bool:
        selected = super().__missing__(breadcrumb)
        self[breadcrumb] = selected
        return selected


class AdaptedStream(Stream):
    """A Stream whose records already match their schema (TYPE_CONFORMANCE_LEVEL NONE) and
    whose bookmarks the tap moves itself (never from single records)."""

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

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
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

    def announce_schema(self, schema: dict[str, Any]) -> None:
        """Make `schema` the stream's schema from now on and write its SCHEMA message.

        The SDK sends a stream's SCHEMA once, when the stream starts, built by the stream maps
        the tap's mapper made from the catalog's schema. A schema that grows during the run
        (schema_drift.py) is registered with the mapper again, which rebuilds the stream's maps
        (identity, or the user's `stream_maps`) from it; the SCHEMA message then comes from the
        new maps, as at the start.
        """
        self._tap.mapper.register_raw_stream_schema(self.name, schema, self.primary_keys)
        self._stream_maps = None  # read again from the mapper
        self._input_schema = schema  # effective_schema: what the SDK's own record steps use
        self._write_schema_message()

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> None:
        """Keep no running maximum of `created`: the tap's bookmarks come from windows.

        For an unsorted stream the SDK keeps the largest replication key seen in
        `progress_markers`, warns once per partition that progress is not resumable, and
        turns that maximum into the bookmark when the partition ends. Stripe lists newest
        first and windows finish out of order, so that maximum may pass objects not yet
        emitted; the tap moves its bookmark to the window watermark instead (partition_read.py),
        which is resumable, and the SDK's marker and warning would only mislead.
        """


# --- streams read at the same time ------------------------------------------------------------


class RunStoppedError(BaseException):
    """Another partition of the run failed: this one stops too (a BaseException, so the SDK's
    `except Exception` in `Stream.sync` does not log it as this stream's own error)."""


class Baton:
    """The right to run SDK code: write SCHEMA, RECORD and STATE, and change the tap's state.

    The partitions of a run are read by threads of their own, but one thread at a time holds
    the baton, so output has one writer and every STATE is written while no other partition
    is half-way through changing its part of the state. A reader lets go of it only while it
    waits for pages (`released`), never while it writes. It is handed over in arrival order,
    so a partition whose pages keep coming cannot starve the others, except that a partition
    of the run's critical path (`urgent`: the rate limiter's critical endpoint) goes first,
    though never twice in a row while another waits. When output is the bottleneck (the
    target busy), the longest stream so keeps at least half of it and still reads at its
    endpoint's limit, instead of a sixth of it with six streams.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: collections.deque[threading.Lock] = collections.deque()
        self._urgent: collections.deque[threading.Lock] = collections.deque()
        self._urgent_last = False  # the last hand-over went to an urgent partition
        self._held = False
        self._owner: int | None = None
        self._failure: BaseException | None = None

    def acquire(self, *, urgent: bool = False) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                self._owner = threading.get_ident()
                return
            turn = threading.Lock()
            turn.acquire()
            (self._urgent if urgent else self._waiting).append(turn)
        turn.acquire()  # released by the holder handing over
        self._owner = threading.get_ident()

    def release(self) -> None:
        with self._mutex:
            self._owner = None
            if self._urgent and not (self._urgent_last and self._waiting):
                self._urgent_last = True
                self._urgent.popleft().release()  # still held: handed over
            elif self._waiting:
                self._urgent_last = False
                self._waiting.popleft().release()
            else:
                self._held = False

    @contextlib.contextmanager
    def released(self, urgent: Callable[[], bool] | None = None) -> Iterator[None]:
        """Let others write while this thread waits; a no-op for a thread not holding it
        (a stream synced on its own, outside `sync_partitions_concurrently`). `urgent`, asked
        when the thread takes the baton back, says whether it is on the critical path."""
        if self._owner != threading.get_ident():
            yield
            return
        self.release()
        try:
            yield
        finally:
            self.acquire(urgent=urgent is not None and urgent())
        if self._failure is not None:
            raise RunStoppedError() from self._failure

    def stop(self, failure: BaseException) -> None:
        """A partition failed: the others stop the next time they take the baton back."""
        with self._mutex:
            if self._failure is None:
                self._failure = failure

    @property
    def failure(self) -> BaseException | None:
        return self._failure


def sync_partitions_concurrently(tap: Tap, baton: Baton, workers: int) -> None:
    """`Tap.sync_all`, with every selected stream partition synced at the same time.

    The SDK syncs streams one after another and, within a stream, partitions one after
    another; a run of six streams then waits on six sequences of round trips. Here each
    partition (a stream, or a stream in one Connect account: whatever the stream's
    `partitions` lists) is synced by `Stream.sync(context)` on a thread of its own, at most
    `workers` at once, each holding `baton` while it runs SDK code. Everything else is the
    SDK's `sync_all`: progress markers reset and replication methods set first, the state
    written, deselected and child streams skipped, progress markers finalised and sync costs
    logged at the end.
    """
    tap._reset_state_progress_markers()
    tap._set_compatible_replication_methods()
    if tap.state:
        tap.state_writer.write_state(tap.state)
    synced: list[Stream] = []
    jobs: list[tuple[Stream, Mapping[str, Any] | None]] = []
    for stream in tap.streams.values():
        if not stream.selected and not stream.has_selected_descendents:
            tap.logger.info("Skipping deselected stream '%s'.", stream.name)
            continue
        if stream.parent_stream_type:
            continue  # synced by its parent, as the SDK does
        synced.append(stream)
        partitions = stream.partitions
        jobs.extend((stream, p) for p in partitions) if partitions else jobs.append((stream, None))

    def sync(stream: Stream, context: Mapping[str, Any] | None) -> None:
        baton.acquire()
        try:
            if baton.failure is None:
                stream.sync(dict(context) if context is not None else None)
        except RunStoppedError:
            pass
        except BaseException as failure:
            baton.stop(failure)
        finally:
            baton.release()

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="stripe-partition") as pool:
        for future in [pool.submit(sync, stream, context) for stream, context in jobs]:
            future.result()
    if baton.failure is not None:
        raise baton.failure
    for stream in synced:
        stream.finalize_state_progress_markers()
    for stream in tap.streams.values():
        stream.log_sync_costs()


@dataclass(frozen=True)
class SdkInternal:
    """One singer-sdk internal an override relies on, and how to see that it is still there."""

    override: str
    relies_on: str
    present: Callable[[], bool]


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _calls(function: Any, name: str) -> bool:
    return f"self.{name}(" in inspect.getsource(function)


SDK_INTERNALS: tuple[SdkInternal, ...] = (
    SdkInternal(
        "AdaptedStream._generate_record_messages",
        "Stream._generate_record_messages(self, record) yielding RecordMessages, called by "
        "Stream._write_record_message for every record",
        lambda: (
            _parameters(Stream._generate_record_messages) == ["self", "record"]
            and _calls(Stream._write_record_message, "_generate_record_messages")
        ),
    ),
    SdkInternal(
        "AdaptedStream._generate_record_messages",
        "Stream.stream_maps (each with transform(record) and stream_alias)",
        lambda: isinstance(inspect.getattr_static(Stream, "stream_maps"), property),
    ),
    SdkInternal(
        "AdaptedStream.mask / _MemoizedSelectionMask",
        "Stream.mask, a property returning a SelectionMask: a dict of breadcrumb -> bool whose "
        "__missing__(breadcrumb) resolves nested properties",
        lambda: (
            isinstance(inspect.getattr_static(Stream, "mask"), property)
            and issubclass(SelectionMask, dict)
            and _parameters(SelectionMask.__missing__) == ["self", "breadcrumb"]
        ),
    ),
    SdkInternal(
        "AdaptedStream.announce_schema",
        "PluginMapper.register_raw_stream_schema(self, stream_name, schema, key_properties), "
        "which replaces a stream's maps when its schema changed",
        lambda: (
            _parameters(PluginMapper.register_raw_stream_schema)
            == ["self", "stream_name", "schema", "key_properties"]
            and "self.stream_maps.pop(stream_name)"
            in inspect.getsource(PluginMapper.register_raw_stream_schema)
        ),
    ),
    SdkInternal(
        "AdaptedStream.announce_schema",
        "Stream._stream_maps (the cached maps; falsy: read again from the tap's mapper) and "
        "Stream._input_schema (what Stream.effective_schema returns when set)",
        lambda: (
            "self._stream_maps = self._tap.mapper.stream_maps[self.name]"
            in inspect.getsource(inspect.getattr_static(Stream, "stream_maps").fget)
            and "self._input_schema"
            in inspect.getsource(inspect.getattr_static(Stream, "effective_schema").fget)
        ),
    ),
    SdkInternal(
        "AdaptedStream.announce_schema",
        "Stream._write_schema_message(self), writing one SCHEMA per stream map",
        lambda: _parameters(Stream._write_schema_message) == ["self"],
    ),
    SdkInternal(
        "AdaptedStream._increment_stream_state",
        "Stream._increment_stream_state(self, latest_record, *, context), called by "
        "Stream._sync_records for every record",
        lambda: (
            _parameters(Stream._increment_stream_state) == ["self", "latest_record", "context"]
            and _calls(Stream._sync_records, "_increment_stream_state")
        ),
    ),
)


SDK_INTERNALS += (
    SdkInternal(
        "sync_partitions_concurrently",
        "Tap.sync_all: reset progress markers (Tap._reset_state_progress_markers), set "
        "replication methods (Tap._set_compatible_replication_methods), write the state, skip "
        "deselected and child streams, stream.sync() each, then "
        "stream.finalize_state_progress_markers() and stream.log_sync_costs()",
        lambda: all(
            call in inspect.getsource(Tap.sync_all)
            for call in (
                "self._reset_state_progress_markers()",
                "self._set_compatible_replication_methods()",
                "self._state_writer.write_state(self.state)",
                "stream.has_selected_descendents",
                "stream.parent_stream_type",
                "stream.sync()",
                "stream.finalize_state_progress_markers()",
                "stream.log_sync_costs()",
            )
        ),
    ),
    SdkInternal(
        "sync_partitions_concurrently",
        "Stream.sync(self, context), syncing one partition when given its context",
        lambda: (
            _parameters(Stream.sync) == ["self", "context"]
            and "context_list = [context] if context is not None else self.partitions"
            in inspect.getsource(Stream._sync_records)
        ),
    ),
)

SDK_INTERNALS += (
    SdkInternal(
        "StripeStream.get_batches",
        "Stream._sync_batches writing each file's BATCH message, then a STATE; "
        "Stream.get_batches filling files through singer_sdk.batch.lazy_chunked_generator, "
        "which hands a full file over before it reads the next record",
        lambda: (
            "self._write_batch_message(encoding=encoding, manifest=manifest)\n"
            "                self._write_state_message()"
            in inspect.getsource(Stream._sync_batches)
            and "self._sync_records(context, write_messages=False)"
            in inspect.getsource(Stream.get_batches)
            and "list(itertools.islice(iterator, chunk_size))"
            in inspect.getsource(batch.lazy_chunked_generator)
        ),
    ),
)


def missing_sdk_internals() -> list[str]:
    """One message per internal the installed singer-sdk no longer has (none: all present)."""
    missing = []
    for internal in SDK_INTERNALS:
        try:
            present = internal.present()
        except (AttributeError, TypeError, ValueError, OSError):
            present = False
        if not present:
            missing.append(
                f"{internal.override} relies on {internal.relies_on}, which the installed "
                "singer-sdk no longer has: adapt the override in sdk_adapters.py or remove it"
            )
    return missing
