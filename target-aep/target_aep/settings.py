"""The target's settings: their schema (shown by `--about`) and the checks run before any record.

Every setting of the mapping/files part and of the Adobe delivery part is declared here, with
the names the delivery code reads (`target_aep.adobe.settings`). `check_settings` fails fast,
naming the setting, for what the JSON schema cannot say (which settings a destination needs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from target_aep.delivery import DESTINATIONS
from target_aep.mapping import MAPPING_NAMES

DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
ADOBE_CREDENTIALS = ("ims_org_id", "client_id", "client_secret")
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_IDENTITY_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")

_STREAM_SETTINGS = th.ObjectType(
    th.Property("dataset_id", th.StringType, description="AEP dataset id for this stream."),
    th.Property(
        "schema_id",
        th.StringType,
        description="Schema $id of the dataset (https://ns.adobe.com/<tenant>/schemas/<id>); "
        "with Adobe credentials, records are validated against it from the Schema Registry.",
    ),
    th.Property("flow_id", th.StringType, description="Streaming dataflow id (HTTP API source)."),
    th.Property(
        "schema_path",
        th.StringType,
        description="Platform-form JSON schema file to validate this stream's records against.",
    ),
    th.Property(
        "mapping",
        th.StringType,
        allowed_values=list(MAPPING_NAMES),
        description="Mapping for this stream: a Stripe table name (charges, refunds, ...), "
        "'compat' (Adobe's Stripe source layout) or 'generic' (whole record in the tenant area). "
        "Default: the table named like the stream.",
    ),
    additional_properties=False,
)

CONFIG_SCHEMA = th.PropertiesList(
    # --- mapping, validation, files -------------------------------------------------------
    th.Property(
        "destination",
        th.StringType,
        default="files",
        allowed_values=list(DESTINATIONS),
        description="files (JSON Lines on disk), streaming (DCS inlet) or batch (batch ingestion).",
    ),
    th.Property(
        "output_dir", th.StringType, default="output", description="Root folder for files."
    ),
    th.Property(
        "tenant_id",
        th.StringType,
        description="AEP tenant id (custom fields live under _<tenant_id>). Read from the "
        "Schema Registry when Adobe credentials are set and this is not.",
    ),
    th.Property(
        "mapping_mode",
        th.StringType,
        default="xdm",
        allowed_values=["xdm", "compat"],
        description="xdm: standard XDM fields + tenant area; compat: Adobe's Stripe source layout.",
    ),
    th.Property(
        "identity_namespace",
        th.StringType,
        default="StripeCustomerID",
        description="Identity namespace code holding the Stripe customer id (primary identity).",
    ),
    th.Property(
        "streams",
        th.ObjectType(additional_properties=_STREAM_SETTINGS),
        description="Per stream: dataset_id, schema_id, flow_id, schema_path, mapping.",
    ),
    th.Property(
        "dead_letter_path",
        th.StringType,
        description="JSON Lines file for records that fail mapping, validation or delivery. "
        "Default: <output_dir>/dead_letter.jsonl.",
    ),
    th.Property(
        "on_invalid_record",
        th.StringType,
        default="dead_letter",
        allowed_values=["dead_letter", "fail"],
        description="dead_letter: write invalid records to the dead-letter file and go on; "
        "fail: stop the run (state not advanced).",
    ),
    th.Property(
        "file_max_records",
        th.IntegerType,
        default=100_000,
        description="Files destination: rotate a file after this many records.",
    ),
    th.Property(
        "file_max_bytes",
        th.IntegerType,
        default=128 * 1024 * 1024,
        description="Files destination: rotate a file before it exceeds this many bytes.",
    ),
    # --- Adobe Experience Platform (streaming and batch destinations) ---------------------
    th.Property("ims_org_id", th.StringType, description="IMS organisation id (...@AdobeOrg)."),
    th.Property("client_id", th.StringType, description="OAuth server-to-server client id."),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        description="OAuth server-to-server client secret.",
    ),
    th.Property("scopes", th.StringType, default=DEFAULT_SCOPES, description="IMS scopes."),
    th.Property("sandbox_name", th.StringType, default="prod", description="AEP sandbox."),
    th.Property(
        "ims_url", th.StringType, default="https://ims-na1.adobelogin.com", description="IMS."
    ),
    th.Property(
        "platform_url",
        th.StringType,
        default="https://platform.adobe.io",
        description="Platform API base URL.",
    ),
    th.Property(
        "dcs_url",
        th.StringType,
        default="https://dcs.adobedc.net",
        description="Streaming collection (DCS) base URL.",
    ),
    th.Property("inlet_id", th.StringType, description="Streaming inlet (HTTP API connection)."),
    th.Property("request_timeout", th.NumberType, description="Seconds per Platform request."),
    th.Property("max_retries", th.IntegerType, description="Retries of a transient failure."),
    th.Property("backoff_base_seconds", th.NumberType, description="First backoff wait."),
    th.Property("backoff_max_seconds", th.NumberType, description="Longest backoff wait."),
    th.Property(
        "streaming_max_request_bytes",
        th.IntegerType,
        description="Streaming: pack messages up to this request size (under DCS's 1 MB).",
    ),
    th.Property(
        "streaming_concurrency", th.IntegerType, description="Streaming: requests in flight."
    ),
    th.Property("batch_max_file_bytes", th.IntegerType, description="Batch: max file size."),
    th.Property(
        "batch_poll_interval_seconds", th.NumberType, description="Batch: status poll interval."
    ),
    th.Property(
        "batch_poll_timeout_seconds", th.NumberType, description="Batch: give up polling after."
    ),
    th.Property(
        "batch_partial_ingestion_percent",
        th.NumberType,
        description="Batch: tolerated percentage of failed rows (partial batch ingestion).",
    ),
).to_dict()


def has_adobe_credentials(config: Mapping[str, Any]) -> bool:
    """True when every IMS credential is set (the registry and Adobe destinations can work)."""
    return all(config.get(name) for name in ADOBE_CREDENTIALS)


def dead_letter_path(config: Mapping[str, Any]) -> Path:
    """Where dead letters go: `dead_letter_path`, else `<output_dir>/dead_letter.jsonl`."""
    explicit = config.get("dead_letter_path")
    if explicit:
        return Path(explicit)
    return Path(config.get("output_dir") or "output") / "dead_letter.jsonl"


def _fail(setting: str, problem: str) -> ConfigValidationError:
    message = f"setting '{setting}' {problem}"
    return ConfigValidationError(message, errors=[message])


def required_stream_settings(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Per-stream settings the chosen destination cannot work without."""
    destination = config.get("destination") or "files"
    if destination == "streaming":
        return ("dataset_id", "schema_id")
    if destination == "batch":
        return ("dataset_id",)
    return ()


def check_stream_settings(config: Mapping[str, Any], stream: str) -> None:
    """Fail naming `streams.<stream>.<setting>` when the destination needs it and it is unset."""
    settings = (config.get("streams") or {}).get(stream) or {}
    for name in required_stream_settings(config):
        if not settings.get(name):
            destination = config.get("destination")
            raise _fail(f"streams.{stream}.{name}", f"is required with destination {destination}")


def check_settings(config: Mapping[str, Any]) -> None:
    """Everything that can be checked before the first record; raises naming the setting."""
    destination = config.get("destination") or "files"
    if destination not in DESTINATIONS:
        raise _fail("destination", f"must be one of {', '.join(DESTINATIONS)}")
    if destination in ("streaming", "batch"):
        needed = ADOBE_CREDENTIALS + (("inlet_id",) if destination == "streaming" else ())
        for name in needed:
            if not config.get(name):
                raise _fail(name, f"is required with destination {destination}")
    tenant_id = config.get("tenant_id")
    if tenant_id and not _TENANT_ID.match(tenant_id):
        raise _fail("tenant_id", "must be letters, digits and underscores, without the '_' prefix")
    if not tenant_id and not has_adobe_credentials(config):
        raise _fail(
            "tenant_id",
            "is required (custom fields go under _<tenant_id>) unless Adobe credentials "
            "(ims_org_id, client_id, client_secret) are set to read it from the Schema Registry",
        )
    if not _IDENTITY_CODE.match(config.get("identity_namespace") or "StripeCustomerID"):
        raise _fail("identity_namespace", "must be an identity namespace code")
    for name, minimum in (("file_max_records", 1), ("file_max_bytes", 1024)):
        value = config.get(name)
        if value is not None and int(value) < minimum:
            raise _fail(name, f"must be at least {minimum}")
    for stream, settings in (config.get("streams") or {}).items():
        settings = settings or {}
        schema_path = settings.get("schema_path")
        if schema_path and not Path(schema_path).is_file():
            raise _fail(f"streams.{stream}.schema_path", f"names no file: {schema_path}")
        check_stream_settings(config, stream)
