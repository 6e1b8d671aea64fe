"""The Adobe settings the delivery needs, read once from the target's config and checked up front.

A missing or malformed setting fails before any record is read, naming the setting, so the user
fixes the config instead of discovering it halfway through a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
DCS_REQUEST_LIMIT_BYTES = 1_000_000  # DCS answers 413 above 1 MB per request
BATCH_FILE_LIMIT_BYTES = 256 * 1024 * 1024  # larger files need the (deprecated) large-file API


class SettingError(ValueError):
    """A setting is missing or invalid; the message names it and never echoes a secret value."""


@dataclass(frozen=True)
class StreamIds:
    """The AEP ids of one Singer stream (`streams.<name>`)."""

    dataset_id: str | None = None
    schema_id: str | None = None
    flow_id: str | None = None


@dataclass(frozen=True)
class AdobeSettings:
    """Credentials, endpoints and tuning knobs of the Platform delivery, with defaults."""

    ims_org_id: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = DEFAULT_SCOPES
    sandbox_name: str = "prod"
    ims_url: str = "https://ims-na1.adobelogin.com"
    platform_url: str = "https://platform.adobe.io"
    dcs_url: str = "https://dcs.adobedc.net"
    inlet_id: str | None = None
    streams: Mapping[str, StreamIds] = field(default_factory=dict)
    request_timeout: float = 60.0
    max_retries: int = 5
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    streaming_max_request_bytes: int = 900_000
    streaming_concurrency: int = 4
    batch_max_file_bytes: int = 250 * 1024 * 1024
    batch_poll_interval_seconds: float = 10.0
    batch_poll_timeout_seconds: float = 3600.0
    batch_partial_ingestion_percent: float | None = None

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, needs: tuple[str, ...] = ()
    ) -> AdobeSettings:
        """Read the settings; `needs` names extra required settings (e.g. `inlet_id`)."""
        for name in ("ims_org_id", "client_id", "client_secret", *needs):
            if not _present(config.get(name)):
                raise SettingError(
                    f"setting '{name}' is required to deliver to Adobe Experience Platform"
                )
        values: dict[str, Any] = {}
        for name in ("ims_org_id", "client_id", "client_secret", "inlet_id"):
            if _present(config.get(name)):
                values[name] = _text(config, name)
        for name in ("scopes", "sandbox_name"):
            if _present(config.get(name)):
                values[name] = _text(config, name)
        for name in ("ims_url", "platform_url", "dcs_url"):
            if _present(config.get(name)):
                values[name] = _url(config, name)
        for name in (
            "request_timeout",
            "backoff_base_seconds",
            "backoff_max_seconds",
            "batch_poll_interval_seconds",
            "batch_poll_timeout_seconds",
        ):
            if config.get(name) is not None:
                values[name] = _number(config, name, minimum=0.0)
        if config.get("max_retries") is not None:
            values["max_retries"] = int(_number(config, "max_retries", minimum=0))
        if config.get("streaming_concurrency") is not None:
            values["streaming_concurrency"] = int(
                _number(config, "streaming_concurrency", minimum=1)
            )
        if config.get("streaming_max_request_bytes") is not None:
            values["streaming_max_request_bytes"] = int(
                _number(
                    config,
                    "streaming_max_request_bytes",
                    minimum=1024,
                    maximum=DCS_REQUEST_LIMIT_BYTES,
                )
            )
        if config.get("batch_max_file_bytes") is not None:
            values["batch_max_file_bytes"] = int(
                _number(config, "batch_max_file_bytes", minimum=1, maximum=BATCH_FILE_LIMIT_BYTES)
            )
        if config.get("batch_partial_ingestion_percent") is not None:
            values["batch_partial_ingestion_percent"] = _number(
                config, "batch_partial_ingestion_percent", minimum=0.0, maximum=100.0
            )
        values["streams"] = _streams(config.get("streams"))
        return cls(**values)

    def stream_ids(self, stream: str) -> StreamIds:
        """The ids configured for `stream` (empty when the stream has no entry)."""
        return self.streams.get(stream, StreamIds())


def require_stream_setting(stream: str, name: str, value: str | None) -> str:
    """Return a per-stream id, or fail naming `streams.<stream>.<name>`."""
    if not value:
        raise SettingError(f"setting 'streams.{stream}.{name}' is required for this destination")
    return value


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _text(config: Mapping[str, Any], name: str) -> str:
    value = config[name]
    if not isinstance(value, str):
        raise SettingError(f"setting '{name}' must be a string")
    return value


def _url(config: Mapping[str, Any], name: str) -> str:
    value = _text(config, name).rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise SettingError(f"setting '{name}' must be an http(s) URL, got {value!r}")
    return value


def _number(
    config: Mapping[str, Any], name: str, *, minimum: float, maximum: float | None = None
) -> float:
    value = config[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SettingError(f"setting '{name}' must be a number")
    try:
        number = float(value)
    except ValueError:
        raise SettingError(f"setting '{name}' must be a number, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise SettingError(f"setting '{name}' must be {bounds}, got {value!r}")
    return number


def _streams(raw: Any) -> dict[str, StreamIds]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SettingError("setting 'streams' must be an object keyed by stream name")
    streams: dict[str, StreamIds] = {}
    for stream, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise SettingError(f"setting 'streams.{stream}' must be an object")
        ids = {}
        for name in ("dataset_id", "schema_id", "flow_id"):
            value = entry.get(name)
            if value is not None and not isinstance(value, str):
                raise SettingError(f"setting 'streams.{stream}.{name}' must be a string")
            ids[name] = value or None
        streams[stream] = StreamIds(**ids)
    return streams
