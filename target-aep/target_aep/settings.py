"""The target's settings: one typed object built once from the config, every default in one place.

Each setting is declared once, as a field of `TargetSettings`: its type, default, bounds and
description. The SDK's config schema (`target-aep --about`, the README table, the settings in
meltano.yml) is generated from these declarations, so what the docs show is what applies.

`TargetSettings.from_config` checks everything that can be checked before the first record and
reports every problem at once, each naming the setting and the environment variable
(`TARGET_AEP_<SETTING>`) a Meltano user sets it with. Number settings take what config sources
deliver: ints and floats, the `Decimal`s the SDK makes of fractions in config files, and the
strings the SDK reads from environment variables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jsonschema
from singer_sdk import typing as th

from target_aep.errors import SettingError

ENV_PREFIX = "TARGET_AEP_"
DESTINATIONS = ("files", "streaming", "batch")
MAPPING_MODES = ("xdm", "compat")
ON_INVALID_RECORD = ("dead_letter", "fail")
ON_UNMAPPED_STREAM = ("fail", "generic", "skip")
# Bookkeeping other Stripe taps add to every record (singer-io's tap-stripe: `updated`,
# `updated_by_event_type`, https://github.com/singer-io/tap-stripe/blob/master/tap_stripe/__init__.py):
# it describes the reading, not the object, so it never counts in an `_id`.
DEFAULT_ID_IGNORE_FIELDS = ("updated", "updated_by_event_type")
SCHEMA_EVOLUTION = ("drop", "add_fields")
# Profile needs a person: on for the streams whose records carry the Stripe customer (the
# customer itself, and its charges, refunds and subscriptions); off for ledger entries and prices.
PROFILE_BY_DEFAULT = frozenset({"customers", "charges", "refunds", "subscriptions"})
# The usual scopes of an Experience Platform API credential, as Adobe's own streaming connector
# requests them (https://github.com/adobe/experience-platform-streaming-connect); copy the exact
# string the Developer Console shows for the credential when it differs.
DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
# DCS answers 413 above 1 MB per request
# (https://experienceleague.adobe.com/docs/experience-platform/ingestion/tutorials/streaming-multiple-messages.html).
DCS_REQUEST_LIMIT_BYTES = 1_000_000
# The batch ingestion API's small-file upload takes files up to 256 MB; larger ones need the
# chunked large-file calls
# (https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/batch/api-overview).
BATCH_FILE_LIMIT_BYTES = 256 * 1024 * 1024
CREDENTIALS = ("ims_org_id", "client_id", "client_secret")
# What each destination cannot work without: top-level settings, and ids per stream.
NEEDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "files": ((), ()),
    "streaming": ((*CREDENTIALS, "inlet_id"), ("dataset_id", "schema_id", "flow_id")),
    "batch": (CREDENTIALS, ("dataset_id",)),
}
# The smallest sets of settings a run can start with (Meltano's settings_group_validation,
# https://docs.meltano.com/reference/plugin-definition-syntax#settings_group_validation): files,
# the default destination, needs a tenant id or the credentials to read it from the Schema
# Registry; streaming and batch need what NEEDS lists, with per-stream ids under `streams`.
SETTING_GROUPS: tuple[tuple[str, ...], ...] = (
    ("tenant_id",),
    CREDENTIALS,
    ("destination", *NEEDS["streaming"][0], "streams"),
    ("destination", *NEEDS["batch"][0], "streams"),
)

_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_IDENTITY_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")
# A number written as text (how the SDK reads number settings from environment variables).
_NUMBER_TEXT = r"^\s*[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?\s*$"
_INTEGER_TEXT = r"^\s*[+-]?[0-9]+\s*$"


@dataclass(frozen=True)
class Spec:
    """How one setting is read, checked and shown in the config schema."""

    kind: str  # text | secret | url | choice | integer | number | boolean | strings | streams
    description: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


def _declare(default: Any, spec: Spec) -> Any:
    if isinstance(default, dict):
        return field(default_factory=dict, metadata={"spec": spec})
    return field(default=default, repr=spec.kind != "secret", metadata={"spec": spec})


def text(default: str | None, description: str) -> Any:
    """A string setting."""
    return _declare(default, Spec("text", description))


def secret(description: str) -> Any:
    """A string setting never shown: not in repr, logs or error messages."""
    return _declare(None, Spec("secret", description))


def url(default: str, description: str) -> Any:
    """An http(s) base URL, kept without its trailing slash."""
    return _declare(default, Spec("url", description))


def boolean(default: bool | None, description: str) -> Any:
    """true or false (also the strings true/false, as environment variables carry them)."""
    return _declare(default, Spec("boolean", description))


def choice(default: str, choices: tuple[str, ...], description: str) -> Any:
    """One of a fixed set of strings."""
    return _declare(default, Spec("choice", description, choices=choices))


def strings(default: tuple[str, ...], description: str) -> Any:
    """A list of strings (a JSON array, or comma-separated text from an environment variable)."""
    return _declare(default, Spec("strings", description))


def integer(
    default: int | None, description: str, *, minimum: int, maximum: int | None = None
) -> Any:
    """A whole number within bounds."""
    return _declare(default, Spec("integer", description, minimum=minimum, maximum=maximum))


def number(
    default: float | None, description: str, *, minimum: float, maximum: float | None = None
) -> Any:
    """A number within bounds (read as a float)."""
    return _declare(default, Spec("number", description, minimum=minimum, maximum=maximum))


@dataclass(frozen=True)
class StreamSettings:
    """`streams.<name>`: where one Singer stream's records go and how they are mapped."""

    dataset_id: str | None = text(None, "AEP dataset id for this stream.")
    schema_id: str | None = text(
        None,
        "Schema $id of the dataset (https://ns.adobe.com/<tenant>/schemas/<id>); with Adobe "
        "credentials, records are validated against it from the Schema Registry.",
    )
    flow_id: str | None = text(None, "Streaming dataflow id (HTTP API source).")
    schema_path: str | None = text(
        None, "Platform-form JSON schema file to validate this stream's records against."
    )
    mapping: str | None = text(
        None,
        "Mapping for this stream: a Stripe table name (charges, refunds, ...), 'compat' "
        "(Adobe's Stripe source layout) or 'generic' (whole record in the tenant area). "
        "Default: the table named like the stream.",
    )
    enable_profile: bool | None = boolean(
        None,
        "Whether this stream's dataset is enabled for Real-Time Customer Profile: "
        "target-aep-provision enables its schema and dataset, and the target keeps its records "
        "within Profile's size limits (10 KB per ExperienceEvent, 100 KB per profile record). "
        "Default: on for customers, charges, refunds and subscriptions (xdm mapping), off "
        "otherwise.",
    )


@dataclass(frozen=True)
class TargetSettings:
    """Every setting of the target, typed, with its default (the config schema is made from it)."""

    # --- mapping, validation, files ---------------------------------------------------------
    destination: str = choice(
        "files",
        DESTINATIONS,
        "files (JSON Lines on disk), streaming (DCS inlet) or batch (batch ingestion).",
    )
    output_dir: str = text("output", "Root folder for files.")
    tenant_id: str | None = text(
        None,
        "AEP tenant id (custom fields live under _<tenant_id>). Read from the Schema Registry "
        "when Adobe credentials are set and this is not.",
    )
    mapping_mode: str = choice(
        "xdm",
        MAPPING_MODES,
        "xdm: standard XDM fields + tenant area; compat: Adobe's Stripe source layout.",
    )
    identity_namespace: str = text(
        "StripeCustomerID",
        "Identity namespace code holding the Stripe customer id (primary identity).",
    )
    streams: Mapping[str, StreamSettings] = _declare(
        {},
        Spec(
            "streams",
            "Per stream: dataset_id, schema_id, flow_id, schema_path, mapping, enable_profile.",
        ),
    )
    dead_letter_path: str | None = text(
        None,
        "JSON Lines file for records that fail mapping, validation or delivery. "
        "Default: <output_dir>/dead_letter.jsonl.",
    )
    on_invalid_record: str = choice(
        "dead_letter",
        ON_INVALID_RECORD,
        "dead_letter: write invalid records to the dead-letter file and go on; "
        "fail: stop the run (state not advanced).",
    )
    on_unmapped_stream: str = choice(
        "fail",
        ON_UNMAPPED_STREAM,
        "What to do with the records of a stream no mapping covers (another tap's plans, "
        "subscription_items, ...); its SCHEMA alone never stops a run. fail: stop at its first "
        "record (state not advanced); generic: keep each record whole under "
        "_<tenant>.<stream>, with a warning; skip: drop them, counted in the run summary.",
    )
    id_ignore_fields: tuple[str, ...] = strings(
        DEFAULT_ID_IGNORE_FIELDS,
        "Record fields that never count in an _id digest: bookkeeping other taps add to every "
        "record (Singer's _sdc_* fields never count either).",
    )
    schema_evolution: str = choice(
        "drop",
        SCHEMA_EVOLUTION,
        "Tenant fields the dataset's schema lacks (fields Stripe added). drop: remove them from "
        "the record, counted per field in the run summary; add_fields: first add what the "
        "stream's Singer schema declares to the stream's tenant field group (additive only; "
        "needs schema_id, Adobe credentials and Manage Schemas), then drop what is still missing.",
    )
    file_max_records: int = integer(
        100_000, "Files destination: rotate a file after this many records.", minimum=1
    )
    file_max_bytes: int = integer(
        128 * 1024 * 1024,
        "Files destination: rotate a file before it exceeds this many bytes.",
        minimum=1024,
    )
    batch_size_rows: int = integer(
        10_000,
        "Records per drain: a stream's records are delivered (and STATE may follow) every this "
        "many records, and at the end of the input.",
        minimum=1,
    )
    drain_max_age_seconds: float = number(
        5.0,
        "Files and streaming: every stream's records are delivered once the oldest of them "
        "waited this many seconds (also while no input arrives), and after each drain (by age "
        "or batch_size_rows) the STATE it made true is printed, so a rerun after a crash "
        "re-sends at most about this much. Files: each drain writes new files. Batch: not "
        "used (STATE follows the batch policy).",
        minimum=0,
    )
    state_min_interval_seconds: float = number(
        1.0,
        "Files and streaming: at most one STATE per this many seconds; a STATE made true "
        "sooner is printed (the newest then true) once the interval has passed, also while no "
        "input arrives, and at the end of input. Meltano saves every STATE line to its system "
        "database before it reads on; 0 prints each true STATE at once.",
        minimum=0,
    )
    log_metrics: bool = boolean(
        False,
        "Log the Singer SDK's METRIC lines (batch processing times, record counts per stream). "
        "Off by default: the run summary says the same for a person; on for tools that parse "
        "Singer metrics.",
    )
    # --- Adobe Experience Platform (streaming and batch destinations, Schema Registry) --------
    ims_org_id: str | None = text(None, "IMS organisation id (...@AdobeOrg).")
    client_id: str | None = text(None, "OAuth server-to-server client id.")
    client_secret: str | None = secret("OAuth server-to-server client secret.")
    scopes: str = text(DEFAULT_SCOPES, "IMS scopes.")
    sandbox_name: str = text("prod", "AEP sandbox.")
    ims_url: str = url("https://ims-na1.adobelogin.com", "IMS.")
    platform_url: str = url("https://platform.adobe.io", "Platform API base URL.")
    dcs_url: str = url("https://dcs.adobedc.net", "Streaming collection (DCS) base URL.")
    inlet_id: str | None = text(None, "Streaming inlet (HTTP API connection).")
    request_timeout: float = number(60.0, "Seconds per Platform request.", minimum=0)
    max_retries: int = integer(5, "Retries of a transient failure.", minimum=0)
    backoff_base_seconds: float = number(1.0, "First backoff wait.", minimum=0)
    backoff_max_seconds: float = number(60.0, "Longest backoff wait.", minimum=0)
    streaming_max_request_bytes: int = integer(
        900_000,
        "Streaming: pack messages up to this request size (under DCS's 1 MB).",
        minimum=1024,
        maximum=DCS_REQUEST_LIMIT_BYTES,
    )
    streaming_concurrency: int = integer(4, "Streaming: requests in flight.", minimum=1)
    batch_max_file_bytes: int = integer(
        250 * 1024 * 1024,
        "Batch: max file size (under the 256 MB of a single upload).",
        minimum=1,
        maximum=BATCH_FILE_LIMIT_BYTES,
    )
    batch_max_records: int | None = integer(
        None,
        "Batch: complete a batch once it holds this many records (and whenever STATE is "
        "printed). Unset (with batch_max_bytes unset): one batch per dataset per run, STATE "
        "once it succeeded.",
        minimum=1,
    )
    batch_max_bytes: int | None = integer(
        None,
        "Batch: complete a batch once it holds this many bytes of JSON (and whenever STATE is "
        "printed). Adobe recommends batches of 256 MB to 100 GB.",
        minimum=1,
    )
    batch_daily_limit: int = integer(
        90,
        "Batch: warn before a batch would make more than this many batches into the "
        "configuration's Profile-enabled datasets today (UTC), counted from Catalog; Adobe's "
        "guardrail is 90 Profile and ExperienceEvent batches per sandbox per day. 0: no check.",
        minimum=0,
    )
    batch_poll_interval_seconds: float = number(10.0, "Batch: status poll interval.", minimum=0)
    batch_poll_timeout_seconds: float = number(3600.0, "Batch: give up polling after.", minimum=0)
    batch_partial_ingestion_percent: float | None = number(
        None,
        "Batch: tolerated percentage of failed rows (partial batch ingestion); unset: none.",
        minimum=0,
        maximum=100,
    )

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        mapping_names: Collection[str] = (),
        sdk_schema: Mapping[str, Any] | None = None,
        require_delivery_ids: bool = True,
    ) -> TargetSettings:
        """Read and check the whole config; raise `SettingError` listing every problem.

        `mapping_names` are the values `streams.<name>.mapping` may take (the mapping layer
        knows them; not checked when empty). `sdk_schema` is the full config schema, whose
        SDK built-in settings (stream maps, flattening, ...) are checked by their JSON schema.
        `require_delivery_ids=False` (target-aep-provision, which creates them) does not ask for
        the inlet and per-stream ids the destination needs.
        """
        problems: list[str] = []
        values = {
            item.name: _read(item.name, item.metadata["spec"], config.get(item.name), problems)
            for item in fields(cls)
            if item.name != "streams"
        }
        values["streams"] = _read_streams(config.get("streams"), mapping_names, problems)
        values = {name: value for name, value in values.items() if value is not None}
        settings = cls(**values)
        problems += settings._cross_checks(require_delivery_ids)
        if sdk_schema is not None:
            problems += _sdk_setting_problems(config, sdk_schema)
        if problems:
            raise SettingError(problems)
        return settings

    def _cross_checks(self, require_delivery_ids: bool = True) -> list[str]:
        """What no single setting can say: what the destination needs, where the tenant id
        comes from."""
        problems = []
        needed, _per_stream = NEEDS[self.destination]
        if not require_delivery_ids:
            needed = tuple(name for name in needed if name in CREDENTIALS)
        for name in needed:
            if not getattr(self, name):
                problems.append(_problem(name, f"is required with destination {self.destination}"))
        if self.tenant_id and not _TENANT_ID.match(self.tenant_id):
            problems.append(
                _problem(
                    "tenant_id", "must be letters, digits and underscores, without the '_' prefix"
                )
            )
        if not self.tenant_id and not self.has_adobe_credentials:
            problems.append(
                _problem(
                    "tenant_id",
                    "is required (custom fields go under _<tenant_id>) unless Adobe credentials "
                    "(ims_org_id, client_id, client_secret) are set to read it from the Schema "
                    "Registry",
                )
            )
        if not _IDENTITY_CODE.match(self.identity_namespace):
            problems.append(_problem("identity_namespace", "must be an identity namespace code"))
        for name, stream in self.streams.items():
            problems += self._stream_problems(name, stream, require_delivery_ids)
        return problems

    def _stream_problems(
        self, name: str, stream: StreamSettings, require_delivery_ids: bool = True
    ) -> list[str]:
        problems = []
        for id_name in NEEDS[self.destination][1] if require_delivery_ids else ():
            if not getattr(stream, id_name):
                problems.append(
                    _problem(
                        f"streams.{name}.{id_name}",
                        f"is required with destination {self.destination}",
                    )
                )
        if stream.schema_path and not Path(stream.schema_path).is_file():
            problems.append(
                _problem(f"streams.{name}.schema_path", f"names no file: {stream.schema_path}")
            )
        return problems

    def stream(self, name: str) -> StreamSettings:
        """`streams.<name>`; for a stream the config does not name (checked when it appears),
        fails naming each id its destination needs."""
        configured = self.streams.get(name)
        if configured is not None:
            return configured
        empty = StreamSettings()
        problems = self._stream_problems(name, empty)
        if problems:
            raise SettingError(problems)
        return empty

    def mapping_for(self, stream: str) -> str | None:
        """The mapping `stream` uses: `streams.<name>.mapping`, else `compat` under
        `mapping_mode: compat`, else None (the stream's own table)."""
        configured = self.streams.get(stream)
        if configured is not None and configured.mapping:
            return configured.mapping
        return "compat" if self.mapping_mode == "compat" else None

    def profile_enabled(self, stream: str) -> bool:
        """Whether `stream`'s dataset is enabled for Real-Time Customer Profile:
        `streams.<name>.enable_profile`, else on for PROFILE_BY_DEFAULT with the xdm mapping."""
        configured = self.streams.get(stream)
        if configured is not None and configured.enable_profile is not None:
            return configured.enable_profile
        return stream in PROFILE_BY_DEFAULT and self.mapping_for(stream) is None

    @property
    def has_adobe_credentials(self) -> bool:
        """Every IMS credential is set (the Schema Registry and Adobe destinations can work)."""
        return all(getattr(self, name) for name in CREDENTIALS)

    @property
    def dead_letter_file(self) -> Path:
        """Where dead letters go: `dead_letter_path`, else `<output_dir>/dead_letter.jsonl`."""
        if self.dead_letter_path:
            return Path(self.dead_letter_path)
        return Path(self.output_dir) / "dead_letter.jsonl"

    @property
    def run_summary_file(self) -> Path:
        """Where the run summary goes: `<output_dir>/run_summary.json`."""
        return Path(self.output_dir) / "run_summary.json"

    def log_line(self) -> str:
        """The effective settings, secrets left out, as one line:
        `settings: name=<JSON value>, ...` (per-stream ones as `streams.<stream>.<name>`)."""
        pairs: list[tuple[str, Any]] = []
        for item in fields(self):
            spec: Spec = item.metadata["spec"]
            if spec.kind == "secret":
                continue
            if item.name == "streams":
                for stream, ids in sorted(self.streams.items()):
                    for sub in fields(ids):
                        pairs.append((f"streams.{stream}.{sub.name}", getattr(ids, sub.name)))
            elif item.name == "dead_letter_path":
                pairs.append((item.name, str(self.dead_letter_file)))
            else:
                pairs.append((item.name, getattr(self, item.name)))
        return "settings: " + ", ".join(f"{name}={json.dumps(value)}" for name, value in pairs)


def config_schema(mapping_names: Collection[str] = ()) -> dict:
    """The SDK config schema (`--about`, README, meltano.yml), made from the declarations."""
    return th.PropertiesList(
        *(_schema_property(item, mapping_names) for item in fields(TargetSettings))
    ).to_dict()


def _schema_property(item: Any, mapping_names: Collection[str]) -> th.Property:
    spec: Spec = item.metadata["spec"]
    if spec.kind != "streams":
        default = None if item.default is MISSING else item.default
        if isinstance(default, tuple):  # a list setting: shown (and given) as a JSON array
            default = list(default)
        return _property(item.name, spec, default)
    per_stream = th.ObjectType(
        *(
            _property(
                sub.name,
                sub.metadata["spec"],
                None,
                choices=mapping_names if sub.name == "mapping" else (),
            )
            for sub in fields(StreamSettings)
        ),
        additional_properties=False,
    )
    return th.Property(
        item.name, th.ObjectType(additional_properties=per_stream), description=spec.description
    )


def _property(name: str, spec: Spec, default: Any, *, choices: Collection[str] = ()) -> th.Property:
    # JSON Schema's minimum/maximum, passed through Property's **kwargs.
    bounds: dict[str, Any] = {
        key: value
        for key, value in (("minimum", spec.minimum), ("maximum", spec.maximum))
        if value is not None
    }
    if spec.kind == "integer":
        kind: Any = th.CustomType({"type": ["integer", "string"], "pattern": _INTEGER_TEXT})
    elif spec.kind == "boolean":
        kind = th.CustomType(
            {"type": ["boolean", "string"], "enum": [True, False, "true", "false"]}
        )
    elif spec.kind == "strings":
        kind = th.ArrayType(th.StringType)
    elif spec.kind == "number":
        kind = th.CustomType({"type": ["number", "string"], "pattern": _NUMBER_TEXT})
    else:
        kind = th.StringType
    return th.Property(
        name,
        kind,
        default=default,
        description=spec.description,
        secret=spec.kind == "secret",
        allowed_values=list(tuple(choices) or spec.choices) or None,
        **bounds,
    )


# --- reading one value ----------------------------------------------------------------------


def _problem(setting: str, text: str) -> str:
    """`setting '<name>' <problem> (environment variable TARGET_AEP_<NAME>)`."""
    top = setting.split(".")[0]
    variable = ENV_PREFIX + top.upper()
    where = variable if top == setting else f"part of {variable}"
    return f"setting '{setting}' {text} (environment variable {where})"


def _read(name: str, spec: Spec, raw: Any, problems: list[str]) -> Any:
    """One setting's value, or None (its default applies) when unset or invalid."""
    if raw is None or raw == "":
        return None
    if spec.kind in ("integer", "number"):
        return _read_number(name, spec, raw, problems)
    if spec.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        problems.append(_problem(name, f"must be true or false, got {raw!r}"))
        return None
    if spec.kind == "strings":
        return _read_strings(name, raw, problems)
    if not isinstance(raw, str):
        shown = "" if spec.kind == "secret" else f", got {raw!r}"
        problems.append(_problem(name, f"must be a string{shown}"))
        return None
    if spec.kind == "url":
        value = raw.rstrip("/")
        if not value.startswith(("https://", "http://")):
            problems.append(_problem(name, f"must be an http(s) URL, got {raw!r}"))
            return None
        return value
    if spec.kind == "choice" and raw not in spec.choices:
        problems.append(_problem(name, f"must be one of {', '.join(spec.choices)}, got {raw!r}"))
        return None
    return raw


def _read_number(name: str, spec: Spec, raw: Any, problems: list[str]) -> int | float | None:
    """An int, float, Decimal or numeric string, within the setting's bounds."""
    whole = spec.kind == "integer"
    kind = "a whole number" if whole else "a number"
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
        problems.append(_problem(name, f"must be {kind}, got {raw!r}"))
        return None
    try:
        value = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or (whole and value != value.to_integral_value()):
        problems.append(_problem(name, f"must be {kind}, got {raw!r}"))
        return None
    low, high = spec.minimum, spec.maximum
    if (low is not None and value < Decimal(str(low))) or (
        high is not None and value > Decimal(str(high))
    ):
        bounds = f">= {_show(low)}" + (f" and <= {_show(high)}" if high is not None else "")
        problems.append(_problem(name, f"must be {bounds}, got {raw!r}"))
        return None
    return int(value) if whole else float(value)


def _read_strings(name: str, raw: Any, problems: list[str]) -> tuple[str, ...] | None:
    """A list of strings, a JSON array of them, or comma-separated text."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError:
                problems.append(_problem(name, f"must be a JSON array of strings, got {raw!r}"))
                return None
        else:
            raw = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(item, str) for item in raw):
        problems.append(_problem(name, f"must be a list of strings, got {raw!r}"))
        return None
    return tuple(raw)


def _show(bound: float | None) -> str:
    return str(int(bound)) if bound is not None and bound == int(bound) else str(bound)


def _read_streams(
    raw: Any, mapping_names: Collection[str], problems: list[str]
) -> dict[str, StreamSettings]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, Mapping):
        problems.append(_problem("streams", "must be an object keyed by stream name"))
        return {}
    known = {item.name: item.metadata["spec"] for item in fields(StreamSettings)}
    streams: dict[str, StreamSettings] = {}
    for stream, entry in raw.items():
        if entry is None:
            entry = {}
        if not isinstance(entry, Mapping):
            problems.append(_problem(f"streams.{stream}", "must be an object"))
            continue
        values = {}
        for key, value in entry.items():
            setting = f"streams.{stream}.{key}"
            if key not in known:
                problems.append(
                    _problem(setting, f"is not a per-stream setting ({', '.join(known)})")
                )
                continue
            read = _read(setting, known[key], value, problems)
            if (
                key == "mapping"
                and read is not None
                and mapping_names
                and read not in mapping_names
            ):
                problems.append(
                    _problem(setting, f"must be one of {', '.join(mapping_names)}, got {read!r}")
                )
                continue
            if read is not None:
                values[key] = read
        streams[str(stream)] = StreamSettings(**values)
    return streams


def _sdk_setting_problems(config: Mapping[str, Any], sdk_schema: Mapping[str, Any]) -> list[str]:
    """The SDK's built-in settings (stream maps, flattening, ...) checked by their JSON schema."""
    owned = {item.name for item in fields(TargetSettings)}
    others = {
        name: schema
        for name, schema in (sdk_schema.get("properties") or {}).items()
        if name not in owned
    }
    validator = jsonschema.Draft202012Validator({"type": "object", "properties": others})
    return [
        _problem(".".join(str(part) for part in error.absolute_path), error.message)
        for error in validator.iter_errors(dict(config))
        if error.absolute_path
    ]
