"""The record path: one stream's route map -> validate -> keep or reject (dead letter) -> deliver.

A record the dataset's schema refuses only for tenant fields the schema lacks (fields Stripe
added) loses those fields and is kept (unknown_fields.py); the run summary counts them.

Plain Python, no SDK in it: the sink (SDK glue) hands each record to `Route.take` as it arrives
and each drain's kept records to `Route.deliver`, which returns only when every one of them is
placed by the destination or in the dead-letter file (made durable), so STATE may follow.
`Routes` holds what a run's streams share (settings, destination, dead-letter file, summary,
Schema Registry, tenant id) and builds each stream's route: its mapping, its dataset ids and
its dataset schema.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from target_aep.deadletter import DeadLetterWriter
from target_aep.delivery import build_delivery
from target_aep.delivery.base import Dataset, Delivery, MappedRecord
from target_aep.errors import InvalidXdmRecordError, SettingError, UnmappedStreamError
from target_aep.json_encoding import valid_json
from target_aep.mapping import MAPPING_NAMES, Mapper, mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.mapping.engine import CONVERSION_FAILURES, FieldProblem
from target_aep.mapping.names import camel_case
from target_aep.profile_size import ProfileSizeGuard, RecordTooLargeError
from target_aep.run_summary import RunSummary, StreamTally
from target_aep.schema_evolution import FieldGroupExtender
from target_aep.settings import TargetSettings
from target_aep.unknown_fields import UnknownTenantFields
from target_aep.validation import RecordValidator, builtin_schema, schema_from_file, with_tenant

# What a mapping raises for a record it cannot map at all (the record is dead-lettered with it);
# a value one field cannot use costs that field only (`FieldProblem`).
MAPPING_FAILURES = CONVERSION_FAILURES
LOGGER = logging.getLogger(__name__)
EXPERIENCE_EVENT_CLASS = "https://ns.adobe.com/xdm/context/experienceevent"


def _as_error(problem: FieldProblem) -> dict:
    """A mapping problem in the dead-letter error form (JSON-pointer path, like validation's)."""
    path = "/" + problem.path.replace("[", ".").replace("]", "").replace(".", "/")
    return {"path": path, "message": problem.message, "keyword": "mapping"}


@dataclass(eq=False)
class Route:
    """One Singer stream -> one AEP dataset."""

    mapper: Mapper
    validator: RecordValidator
    unknown_fields: UnknownTenantFields
    dataset: Dataset
    delivery: Delivery
    dead_letters: DeadLetterWriter
    tally: StreamTally
    summary: RunSummary
    fail_on_invalid: bool
    extend_schema: Callable[[], RecordValidator | None] | None = None
    """`schema_evolution: add_fields`: extends the dataset's schema, returning its new
    validator (None: nothing added); called at most once per route."""
    profile_guard: ProfileSizeGuard | None = None
    """For a Profile-enabled dataset: Profile's size limit, and the trimming that keeps to it."""
    stream: str = field(init=False)  # the dataset's stream, read per record
    warned_paths: set[str] = field(init=False, default_factory=set)
    # The validator's check for records whose tenant fields fit by construction (None: none).
    accepts_certified: Callable[[Any], bool] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.stream = self.dataset.stream
        self._use(self.validator)

    def _use(self, validator: RecordValidator) -> None:
        """Validate by `validator` from now on; where the mapper vouches for its tenant fields
        (mapping/tenant.py) and the dataset's schema declares them alike, they are not read
        again for a record the mapper certifies."""
        self.validator = validator
        detail = self.mapper.tenant_detail
        self.accepts_certified = None if detail is None else validator.accepting_with_known(*detail)

    def batch_started(self) -> None:
        """A batch got its first record: the run's first one starts the summary's clock."""
        self.summary.note_batch_started()

    def take(self, record: Mapping[str, Any]) -> MappedRecord | None:
        """Map and validate one record: the XDM to keep, or None when it was dead-lettered."""
        self.tally.received += 1
        source_id = record.get("id")
        source_id = None if source_id is None else str(source_id)
        try:
            xdm, problems = self.mapper.map_reporting(record)
        except MAPPING_FAILURES as exc:
            self._reject(
                source_id,
                f"mapping failed: {type(exc).__name__}: {exc}",
                errors=[{"path": "", "message": str(exc), "keyword": "mapping"}],
                source=record,
            )
            return None
        certified = self.accepts_certified
        if (
            (certified is not None and self.mapper.tenant_certified and certified(xdm))
            or self.validator.is_valid(xdm)
            or self._valid_once_fields_are_known(xdm)
        ):
            if problems:
                self._warn_once(problems)  # the rest of the record is good: it goes on
            encoded = valid_json(xdm)
            guard = self.profile_guard
            if guard is not None and len(encoded) > guard.limit:
                return self._within_profile_limit(source_id, xdm, encoded)
            return MappedRecord(self.stream, source_id, encoded)
        errors = self.validator.errors(xdm)
        found = [error.as_dict() for error in errors]
        reason = f"invalid XDM for {self.validator.source}"
        if problems:  # what the schema misses is probably what could not be mapped
            paths = ", ".join(problem.path for problem in problems)
            reason = f"mapping failed at {paths}; {reason}"
            found = [_as_error(problem) for problem in problems] + found
        self._reject(
            source_id,
            reason,
            errors=found,
            record=xdm,
            source=record if problems else None,
        )
        return None

    def _within_profile_limit(
        self, source_id: str | None, xdm: dict, encoded: bytes
    ) -> MappedRecord | None:
        """The record (`encoded`: its JSON), trimmed to Profile's size limit when over it
        (profile_size.py), or None when it cannot be brought under it (dead-lettered with the
        reason)."""
        assert self.profile_guard is not None
        try:
            fitted = self.profile_guard.fit(xdm, encoded)
        except RecordTooLargeError as exc:
            self._reject(
                source_id,
                f"too large for Profile: {exc}",
                errors=[{"path": "", "message": str(exc), "keyword": "profile_size"}],
                record=xdm,
            )
            return None
        if fitted.trimmed:
            errors = self.validator.errors(xdm)
            if errors:  # a schema without the lists' count fields
                self._reject(
                    source_id,
                    f"trimmed to fit Profile's size limit, invalid for {self.validator.source}",
                    errors=[error.as_dict() for error in errors],
                    record=xdm,
                )
                return None
            self.tally.trimmed += 1
        return MappedRecord(self.stream, source_id, fitted.encoded)

    def _valid_once_fields_are_known(self, xdm: dict) -> bool:
        """Whether a refused record is valid once its tenant fields are known to the schema.

        With `schema_evolution: add_fields` the dataset's schema first gains what the stream's
        Singer schema declares (once per route); tenant fields it still lacks are dropped
        (counted, each path logged once). Standard XDM fields are never dropped.
        """
        if self.extend_schema is not None and self.unknown_fields.find(xdm):
            extend, self.extend_schema = self.extend_schema, None
            extended = extend()
            if extended is not None:
                self._use(extended)
                self.unknown_fields = UnknownTenantFields(
                    extended.schema, self.unknown_fields.tenant_id
                )
                if extended.is_valid(xdm):
                    return True
        dropped = self.unknown_fields.drop(xdm)
        if not dropped:
            return False
        for path in self.tally.count_dropped(dropped):
            LOGGER.warning(
                "stream %r: field %s is not in %s: dropped from the records that carry it "
                "(counted in the run summary; target-aep-provision adds it to the stream's "
                "field group)",
                self.stream,
                path,
                self.validator.source,
            )
        return self.validator.is_valid(xdm)

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

    def _warn_once(self, problems: list[FieldProblem]) -> None:
        for problem in problems:
            if problem.path not in self.warned_paths:
                self.warned_paths.add(problem.path)
                LOGGER.warning(
                    "stream %r: %s left out of the XDM record (%s); the rest is mapped "
                    "(warned once per field)",
                    self.stream,
                    problem.path,
                    problem.message,
                )

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


@dataclass(eq=False)
class UnmappedRoute:
    """A stream no mapping covers, under `on_unmapped_stream` `fail` or `skip`."""

    stream: str
    policy: str  # fail | skip
    problem: str  # what to tell the user at the first record
    tally: StreamTally

    def batch_started(self) -> None:
        """Nothing to time: no record of this stream is delivered."""

    def take(self, record: Mapping[str, Any]) -> None:
        """`fail`: stop the run here (before any later STATE); `skip`: count the record."""
        self.tally.received += 1
        if self.policy == "fail":
            raise UnmappedStreamError(
                f"{self.problem} Or set on_unmapped_stream to generic (keep the records whole "
                "under _<tenant>.<stream>) or skip (drop them, counted in the run summary)."
            )
        self.tally.skipped += 1

    def deliver(self, records: Sequence[MappedRecord]) -> None:
        """Nothing is kept, so nothing to deliver."""


class Routes:
    """A run's shared parts, and a route per stream built from them."""

    def __init__(self, settings: TargetSettings) -> None:
        self.settings = settings
        self.dead_letters = DeadLetterWriter(settings.dead_letter_file)
        self.summary = RunSummary()
        self.delivery = build_delivery(settings)
        self._lock = threading.Lock()
        self._told_cannot_extend: set[str] = set()
        self._closed = False

    def route_for(self, stream: str, singer_schema: Mapping[str, Any]) -> Route | UnmappedRoute:
        """The route of `stream` (a new one per SCHEMA message; the tally is the stream's).

        A stream no mapping covers gets what `on_unmapped_stream` says, decided only when its
        first record arrives: a SCHEMA alone never stops a run.
        """
        by_policy = False
        try:
            mapper = mapper_for(
                stream,
                self.mapping_options,
                self.settings.mapping_for(stream),
                singer_schema=singer_schema,
            )
        except UnmappedStreamError as exc:
            by_policy = True
            policy = self.settings.on_unmapped_stream
            if policy != "generic":
                return UnmappedRoute(stream, policy, str(exc), self.summary.tally_for(stream))
            mapper = mapper_for(
                stream, self.mapping_options, "generic", singer_schema=singer_schema
            )
            LOGGER.warning(
                "stream %r has no XDM mapping: its records are kept whole under _%s.%s "
                "(on_unmapped_stream: generic). To map it, set streams.%s.mapping to one of %s.",
                stream,
                self.tenant_id,
                camel_case(stream),
                stream,
                ", ".join(MAPPING_NAMES),
            )
        try:
            ids = self.settings.stream(stream)  # a stream the config does not name is checked
        except SettingError as exc:
            if not by_policy:
                raise
            # generic by on_unmapped_stream, without the dataset ids its destination needs
            return UnmappedRoute(stream, "fail", str(exc), self.summary.tally_for(stream))
        dataset = Dataset(
            stream=stream,
            dataset_id=ids.dataset_id,
            schema_id=ids.schema_id,
            flow_id=ids.flow_id,
            is_profile=mapper.is_profile,
            profile_enabled=self.settings.profile_enabled(stream),
        )
        tally = self.summary.tally_for(stream)
        tally.destination = self.delivery.describe(dataset)
        validator = self.validator_for(stream, mapper, singer_schema)
        return Route(
            mapper=mapper,
            validator=validator,
            unknown_fields=UnknownTenantFields(validator.schema, self.tenant_id),
            dataset=dataset,
            delivery=self.delivery,
            dead_letters=self.dead_letters,
            tally=tally,
            summary=self.summary,
            fail_on_invalid=self.settings.on_invalid_record == "fail",
            extend_schema=self._schema_extension(stream, mapper, singer_schema, tally),
            profile_guard=self._profile_guard(stream, mapper),
        )

    def _profile_guard(self, stream: str, mapper: Mapper) -> ProfileSizeGuard | None:
        """Profile's size limit for a Profile-enabled stream (by its mapping's class)."""
        if not self.settings.profile_enabled(stream):
            return None
        is_event = builtin_schema(mapper.schema).get("meta:class") == EXPERIENCE_EVENT_CLASS
        return ProfileSizeGuard(is_record_class=not is_event, tenant_id=self.tenant_id)

    def _schema_extension(
        self, stream: str, mapper: Mapper, singer_schema: Mapping[str, Any], tally: StreamTally
    ) -> Callable[[], RecordValidator | None] | None:
        """With `schema_evolution: add_fields`, what extends the stream's tenant field group
        (schema_evolution.py) and gives the validator of the extended schema."""
        if self.settings.schema_evolution != "add_fields":
            return None
        schema_id = self.settings.stream(stream).schema_id
        if not schema_id or self.schema_registry is None:
            if stream not in self._told_cannot_extend:
                self._told_cannot_extend.add(stream)
                LOGGER.warning(
                    "stream %r: schema_evolution add_fields needs streams.%s.schema_id and "
                    "Adobe credentials; fields the dataset's schema lacks are dropped",
                    stream,
                    stream,
                )
            return None

        def extend() -> RecordValidator | None:
            extension = FieldGroupExtender(self.schema_registry, self.tenant_id).extend(
                schema_id, mapper.tenant_schema(singer_schema)
            )
            for conflict in extension.conflicts:
                LOGGER.warning("stream %r: not added, another type exists: %s", stream, conflict)
            if extension.problem:
                LOGGER.warning(
                    "stream %r: cannot add fields to the tenant field group (%s); fields the "
                    "dataset's schema lacks are dropped",
                    stream,
                    extension.problem,
                )
            if not extension.added:
                return None
            tally.added_fields += extension.added
            LOGGER.info(
                "stream %r: added %s to the tenant field group of %s (schema_evolution: "
                "add_fields)",
                stream,
                ", ".join(extension.added),
                schema_id,
            )
            return self.validator_for(stream, mapper, singer_schema)

        return extend

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
        return MappingOptions(
            self.tenant_id,
            self.settings.identity_namespace,
            frozenset(self.settings.id_ignore_fields),
        )

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

    def state_may_follow(self) -> bool:
        """Before STATE is printed: whether the destination has made every record final."""
        return self.delivery.state_may_follow()

    def settle(self) -> None:
        """End of input: the destination makes every accepted record final."""
        self.delivery.settle()

    def close(self) -> None:
        """Release the destination (open batches given up) and close the dead-letter file:
        the end of the run, or the run stopping; only the first call does anything."""
        if self._closed:
            return
        self._closed = True
        try:
            self.delivery.close()
        finally:
            self.dead_letters.close()
