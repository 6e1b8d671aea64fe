"""The tap's settings: one typed object in which each setting, its default and its check are
declared once.

`TapSettings` has one field per setting. The SDK's config schema (shown by `--about`, copied
into the README table and meltano.yml) is generated from those fields, and
`TapSettings.from_config` checks a whole config once, at start: every problem names the setting
and the environment variable a Meltano user sets (`TAP_STRIPE_XDM_<SETTING>`). Numbers are
accepted as int, float, Decimal (the SDK reads config files with `parse_float=Decimal`) or
numeric strings (environment variables of kinds Meltano passes as text).
"""

from __future__ import annotations

import dataclasses
import decimal
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from tap_stripe_xdm.instants import iso, unix_from_iso

ENV_PREFIX = "TAP_STRIPE_XDM_"
"""Meltano and the SDK (`--config=ENV`) read `<PLUGIN NAME>_<SETTING>` from the environment."""
DAY = 86_400
# Stripe guarantees events through the events API for 30 days:
# https://docs.stripe.com/api/events/list
EVENT_RETENTION_DAYS = 30
SCHEMA_DRIFT_MODES = ("evolve", "drop", "fail")
"""What `schema_drift` may say (schema_drift.py)."""
CONNECTED_ACCOUNTS_MODES = ("listed", "all")
"""What `connected_accounts` may say (accounts.py)."""


class SettingsError(ValueError):
    """One or more settings are invalid; `problems` holds one message per setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _InvalidValueError(ValueError):
    """What is wrong with one value, worded to follow the setting's name."""


# --- kinds of value: the JSON schema each declares, and how a raw config value is read -------


class _Kind:
    secret: ClassVar[bool] = False
    hint: ClassVar[str] = ""
    """What a value looks like, for the message when a required setting is missing."""

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, raw: Any) -> Any:
        raise NotImplementedError

    def show(self, value: Any) -> Any:
        """The value as a user writes it (for the settings line in the log)."""
        return value


class _StripeKey(_Kind):
    """A secret (sk_) or restricted (rk_) key: https://docs.stripe.com/keys."""

    secret = True
    hint = "a Stripe secret key (sk_...) or restricted key (rk_...)"
    PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")

    def schema(self) -> dict[str, Any]:
        return {"type": ["string"]}

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.startswith(self.PREFIXES):
            # Never echo the value: it may be a real secret pasted into the wrong setting.
            raise _InvalidValueError(
                "must be a Stripe secret key (sk_live_/sk_test_...) or restricted key "
                "(rk_live_/rk_test_...); publishable keys (pk_...) and other values cannot read "
                "data"
            )
        return raw


class _Instant(_Kind):
    """An ISO 8601 date-time (UTC when it names no zone), held as Unix seconds."""

    hint = "an ISO 8601 date-time, e.g. 2024-01-01T00:00:00Z"

    def schema(self) -> dict[str, Any]:
        return {"type": ["string"], "format": "date-time"}

    def parse(self, raw: Any) -> int:
        value = unix_from_iso(raw) if isinstance(raw, str) else None
        if value is None:
            raise _InvalidValueError(
                f"{raw!r} is not an ISO 8601 date-time (e.g. 2024-01-01T00:00:00Z)"
            )
        return value

    def show(self, value: Any) -> Any:
        return None if value is None else iso(value)


@dataclass(frozen=True)
class _Text(_Kind):
    pattern: re.Pattern[str] | None = None
    expected: str = ""

    def schema(self) -> dict[str, Any]:
        return {"type": ["string"]}

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise _InvalidValueError(f"must be a string (got {raw!r})")
        if self.pattern is not None and not self.pattern.match(raw):
            raise _InvalidValueError(f"{raw!r} is not {self.expected}")
        return raw


@dataclass(frozen=True)
class _Choice(_Kind):
    choices: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        return {"type": ["string"], "enum": list(self.choices)}

    def parse(self, raw: Any) -> str:
        if raw not in self.choices:
            raise _InvalidValueError(f"must be one of {', '.join(self.choices)} (got {raw!r})")
        return raw


class _ApiUrl(_Kind):
    def schema(self) -> dict[str, Any]:
        return {"type": ["string"]}

    def parse(self, raw: Any) -> str:
        parts = urlsplit(raw) if isinstance(raw, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise _InvalidValueError(
                f"{raw!r} must be an http(s) URL such as https://api.stripe.com"
            )
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            # The key travels in a header: plain HTTP is only acceptable to this machine.
            raise _InvalidValueError(f"{raw!r} must use https (plain http only for localhost)")
        return raw.rstrip("/")


class _AccountIds(_Kind):
    """Connected account ids: https://docs.stripe.com/connect/authentication."""

    ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]+$")

    def schema(self) -> dict[str, Any]:
        return {"type": ["array"], "items": {"type": ["string"]}}

    def parse(self, raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, (list, tuple)) or not all(isinstance(a, str) for a in raw):
            raise _InvalidValueError("must be a list of Stripe account ids (acct_...)")
        bad = [a for a in raw if not self.ACCOUNT_ID.match(a)]
        if bad:
            raise _InvalidValueError(f"has values that are not account ids (acct_...): {bad}")
        if len(set(raw)) != len(raw):
            raise _InvalidValueError("lists an account more than once")
        return tuple(raw)

    def show(self, value: Any) -> Any:
        return list(value)


class _Shard(_Kind):
    """`i/n`: this run reads shard i (0-based) of n, a stable split of the accounts (accounts)."""

    FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

    def schema(self) -> dict[str, Any]:
        return {"type": ["string"]}

    def parse(self, raw: Any) -> tuple[int, int]:
        match = self.FORM.match(raw) if isinstance(raw, str) else None
        if match is None:
            raise _InvalidValueError(
                f"{raw!r} is not i/n (this run's shard i of n shards, 0-based, e.g. 0/4)"
            )
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or index >= count:
            raise _InvalidValueError(
                f"{raw!r} names shard {index} of {count}: n must be at least 1 and i one of 0..n-1"
            )
        return index, count

    def show(self, value: Any) -> Any:
        return None if value is None else f"{value[0]}/{value[1]}"


class _Flag(_Kind):
    """true or false, also as the text an environment variable carries."""

    def schema(self) -> dict[str, Any]:
        # "string" too: an environment variable arrives as text.
        return {"type": ["boolean", "string"]}

    def parse(self, raw: Any) -> bool:
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        if not isinstance(raw, bool):
            raise _InvalidValueError(f"must be true or false (got {raw!r})")
        return raw


def _as_decimal(raw: Any) -> decimal.Decimal | None:
    """int, float, Decimal or a numeric string as a finite Decimal; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        try:
            raw = decimal.Decimal(raw.strip())
        except decimal.InvalidOperation:
            return None
    if isinstance(raw, float) and not math.isfinite(raw):
        return None
    if isinstance(raw, (int, float)):
        return decimal.Decimal(raw)
    if isinstance(raw, decimal.Decimal) and raw.is_finite():
        return raw
    return None


@dataclass(frozen=True)
class _Whole(_Kind):
    minimum: int

    def schema(self) -> dict[str, Any]:
        # "string" too: an environment variable may arrive as text.
        return {"type": ["integer", "string"]}

    def parse(self, raw: Any) -> int:
        number = _as_decimal(raw)
        if number is None or number != number.to_integral_value() or number < self.minimum:
            raise _InvalidValueError(f"must be an integer of at least {self.minimum} (got {raw!r})")
        return int(number)


@dataclass(frozen=True)
class _Number(_Kind):
    zero_allowed: bool = False
    maximum: float | None = None
    why_maximum: str = ""

    def schema(self) -> dict[str, Any]:
        # "string" too: an environment variable may arrive as text.
        return {"type": ["number", "string"]}

    def parse(self, raw: Any) -> float:
        number = _as_decimal(raw)
        if number is None or number < 0 or (number == 0 and not self.zero_allowed):
            bound = "0 or more" if self.zero_allowed else "greater than 0"
            raise _InvalidValueError(f"must be a number {bound} (got {raw!r})")
        if self.maximum is not None and number > self.maximum:
            raise _InvalidValueError(
                f"must be at most {self.maximum:g} (got {number:g}): {self.why_maximum}"
            )
        return float(number)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- the settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    kind: _Kind
    description: str
    required: bool
    title: str | None
    has_default: bool


def _setting(
    kind: _Kind,
    description: str,
    *,
    default: Any = None,
    required: bool = False,
    title: str | None = None,
) -> Any:
    """A dataclass field that is also a setting: its kind, default, description."""
    spec = _Spec(kind, description, required, title, has_default=default is not None)
    if required:
        return field(metadata={"setting": spec}, repr=not kind.secret)
    return field(default=default, metadata={"setting": spec}, repr=not kind.secret)


def env_var(name: str) -> str:
    """The environment variable that sets setting `name`."""
    return ENV_PREFIX + name.upper()


@dataclass(frozen=True, kw_only=True)
class TapSettings:
    """Validated settings, one field per setting; `api_key` is left out of repr and logs."""

    api_key: str = _setting(
        _StripeKey(),
        "Stripe secret key (sk_live_/sk_test_...) or, better, a restricted key (rk_...) with "
        "Read access to the six resources.",
        required=True,
        title="API key",
    )
    start_date: int = _setting(
        _Instant(),
        "Read objects created at or after this instant (ISO 8601) on the first run; later runs "
        "continue from the bookmark.",
        required=True,
    )
    end_date: int | None = _setting(
        _Instant(), "Optional: read only objects created before this instant (exclusive)."
    )
    api_version: str = _setting(
        _Text(
            re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$"),
            "a Stripe API version (expected YYYY-MM-DD or YYYY-MM-DD.<name>, "
            "e.g. 2026-10-28.endive)",
        ),
        "Stripe API version sent as Stripe-Version on every request; the stream schemas "
        "describe this version.",
        # The newest version when the schemas were written (stripe-python 16.1.0 pins it):
        # the endive major, whose object shapes the schema files describe.
        # https://docs.stripe.com/api/versioning
        default="2026-10-28.endive",
    )
    api_url: str = _setting(
        _ApiUrl(),
        "Base URL of the Stripe API (tests point it at a local double).",
        default="https://api.stripe.com",
    )
    account_ids: tuple[str, ...] = _setting(
        _AccountIds(),
        "Stripe Connect accounts (acct_...) to read with the Stripe-Account header, each with "
        "its own bookmarks. Empty: the key's own account. Used when connected_accounts is "
        "listed.",
        default=(),
    )
    connected_accounts: str = _setting(
        _Choice(CONNECTED_ACCOUNTS_MODES),
        "listed: read the accounts in account_ids (or the key's own). all: list the "
        "platform's connected accounts (GET /v1/accounts) at the start of each run and read "
        "each with its own bookmarks; an account new since the last run starts from "
        "start_date, one that disappeared keeps its state, and one Stripe refuses is "
        "reported by id while the others are read.",
        default="listed",
    )
    include_platform_account: bool = _setting(
        _Flag(),
        "With connected_accounts all: also read the platform's own data (records with a null "
        "account_id), in a partition of its own.",
        default=True,
    )
    account_shard: tuple[int, int] | None = _setting(
        _Shard(),
        "i/n (0-based, e.g. 0/4): read only shard i of n, the accounts whose id hashes to i "
        "(SHA-256 modulo n; the platform's own account is in shard 0), so n runs with shards "
        "0/n..n-1/n read every account exactly once. Give each shard its own state (Meltano: "
        "--state-id-suffix). Empty: every account.",
    )
    max_requests_per_second: float = _setting(
        _Number(),
        "One limit shared by all concurrent requests of the run. Stripe allows 100/s in live "
        "mode, 25/s in test mode and 25/s per endpoint.",
        # https://docs.stripe.com/rate-limits: the test-mode limit, safe in either mode.
        default=25.0,
    )
    max_requests_per_second_per_endpoint: float = _setting(
        _Number(),
        "Limit of the run's requests to one endpoint (e.g. listing charges), within "
        "max_requests_per_second. Stripe allows 25/s per endpoint by default.",
        # https://docs.stripe.com/rate-limits: "individual endpoint" default 25 requests/s.
        default=25.0,
    )
    request_timeout: float = _setting(
        _Number(), "Seconds to wait for one HTTP response before retrying.", default=80.0
    )
    max_retries: int = _setting(
        _Whole(minimum=0),
        "Retries per request for 429, 409, 5xx, connection errors, timeouts and unreadable "
        "bodies (never when Stripe says Stripe-Should-Retry: false).",
        default=6,
    )
    backoff_base_seconds: float = _setting(
        _Number(),
        "First retry waits about this long; each further retry doubles it (with 50-100% jitter).",
        default=0.5,
    )
    backoff_max_seconds: float = _setting(_Number(), "Upper bound of one retry wait.", default=20.0)
    max_concurrency: int = _setting(
        _Whole(minimum=1), "Created-windows read at the same time per stream.", default=8
    )
    max_concurrent_partitions: int = _setting(
        _Whole(minimum=1),
        "Streams read at the same time (with account_ids, each stream of each account counts "
        "once), all under the same rate limits.",
        default=12,
    )
    window_size_days: float = _setting(
        _Number(),
        "Where objects are dense, created-windows holding more than a page are split until "
        "they span at most this many days (the bookmark advances window by window); windows "
        "are also split to keep every worker busy.",
        default=30.0,
    )
    visibility_lag_seconds: int = _setting(
        _Whole(minimum=0),
        "Stop this many seconds before now: objects appear in Stripe's lists shortly after "
        "their created second, and the bookmark must not pass them.",
        default=300,
    )
    capture_changes: bool = _setting(
        _Flag(),
        "After a stream's first full read, also read Stripe's events each run and emit the "
        "current state of every object changed or deleted since (deletes carry "
        "_sdc_deleted_at), and re-read balance transactions within their lookback. false: only "
        "objects created since the last run.",
        default=True,
    )
    events_horizon_days: float = _setting(
        _Number(
            maximum=EVENT_RETENTION_DAYS,
            why_maximum=f"Stripe keeps events {EVENT_RETENTION_DAYS} days, older changes "
            "cannot be read",
        ),
        "If a stream's events bookmark is older than this (at most 30: Stripe keeps events 30 "
        "days), its changes cannot all be read: the stream is re-read in full from start_date, "
        "with a warning, and change capture resumes.",
        default=30.0,
    )
    balance_transactions_lookback_days: float = _setting(
        _Number(zero_allowed=True),
        "Balance transactions have no events: each run re-reads (and re-emits) those created "
        "this many days before the bookmark, so status changes (pending -> available) arrive. "
        "0 turns it off.",
        default=14.0,
    )
    schema_drift: str = _setting(
        _Choice(SCHEMA_DRIFT_MODES),
        "Fields Stripe returns that a stream's schema does not declare (Stripe adds fields "
        "without a new API version). evolve: declare them (type from the value) in an updated "
        "SCHEMA before the first record carrying them; drop: remove them (warned once per "
        "field, counted at the end); fail: stop naming the field.",
        default="evolve",
    )
    progress_interval_seconds: float = _setting(
        _Number(zero_allowed=True),
        "Every this many seconds, a progress line per stream (per account) being read: "
        "records so far, records per second and, while objects are read by created date, the "
        "share of the range read and about how long the rest takes (a live line on a "
        "terminal). 0 turns it off.",
        default=10.0,
    )
    log_metrics: bool = _setting(
        _Flag(),
        "Log the Singer SDK's METRIC lines (record counts, HTTP request timings per stream). "
        "Off by default: the tap's own progress lines and end-of-stream totals say the same "
        "for a person; on for tools that parse Singer metrics.",
        default=False,
    )
    user_agent: str | None = _setting(
        _Text(),
        "User-Agent header. Default (computed from the installed version): "
        "tap-stripe-xdm/<version>.",
    )

    # --- derived values, in the units the code works in ---------------------------------------

    @property
    def window_size_seconds(self) -> int:
        return max(1, int(self.window_size_days * DAY))

    @property
    def events_horizon_seconds(self) -> int:
        return int(self.events_horizon_days * DAY)

    @property
    def balance_transactions_lookback_seconds(self) -> int:
        return int(self.balance_transactions_lookback_days * DAY)

    # --- building and showing ----------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, user_agent: str) -> TapSettings:
        """Typed settings from a raw config; SettingsError lists every invalid setting.

        `user_agent` is the computed default of the setting of that name.
        """
        problems: list[str] = []
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            spec: _Spec = item.metadata["setting"]
            raw = config.get(item.name)
            if raw is None or raw == "":
                if spec.required:
                    problems.append(_named(item.name, f"is required: {spec.kind.hint}"))
                continue  # the field's default
            try:
                values[item.name] = spec.kind.parse(raw)
            except _InvalidValueError as problem:
                problems.append(_named(item.name, str(problem)))
        start, end = values.get("start_date"), values.get("end_date")
        if start is not None and end is not None and end <= start:
            problems.append(_named("end_date", "must be later than start_date"))
        base = values.get("backoff_base_seconds", cls.backoff_base_seconds)
        if values.get("backoff_max_seconds", cls.backoff_max_seconds) < base:
            problems.append(_named("backoff_max_seconds", "must be at least backoff_base_seconds"))
        if values.get("connected_accounts") == "all" and values.get("account_ids"):
            problems.append(
                _named(
                    "account_ids",
                    "must be empty with connected_accounts all (every connected account is "
                    "read); set connected_accounts to listed to read only these",
                )
            )
        if problems:
            raise SettingsError(problems)
        values.setdefault("user_agent", user_agent)
        return cls(**values)

    def describe(self) -> str:
        """The effective settings except secrets, one line: `name=<JSON value>, ...`."""
        shown = []
        for item in dataclasses.fields(self):
            kind = item.metadata["setting"].kind
            if not kind.secret:
                value = kind.show(getattr(self, item.name))
                shown.append(f"{item.name}={json.dumps(value, separators=(',', ':'))}")
        return ", ".join(shown)

    @classmethod
    def config_jsonschema(cls) -> dict[str, Any]:
        """The SDK's config schema (`--about`), generated from the fields."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for item in dataclasses.fields(cls):
            spec: _Spec = item.metadata["setting"]
            schema = spec.kind.schema()
            if spec.required:
                required.append(item.name)
            else:
                schema["type"] = [*schema["type"], "null"]
            if spec.title:
                schema["title"] = spec.title
            if spec.has_default:
                default = item.default
                schema["default"] = list(default) if isinstance(default, tuple) else default
            schema["description"] = spec.description
            if spec.kind.secret:
                schema["secret"] = True
                schema["writeOnly"] = True
            properties[item.name] = schema
        return {"type": "object", "properties": properties, "required": required}


def _named(name: str, problem: str) -> str:
    return f"{name} {problem} (environment variable {env_var(name)})"
