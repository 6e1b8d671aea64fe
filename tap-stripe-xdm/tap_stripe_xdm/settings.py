"""The tap's settings: one validated, typed view of the raw config.

The SDK checks types against the JSON schema in `tap.py`; this module checks what a schema
cannot say safely (a key's prefix must never be echoed back) or clearly (dates in order,
plain HTTP only to this machine). Every problem names the setting.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.stripe.com"
# Newest Stripe API version when the schemas were written (stripe-python 16.1.0 pins it):
# the endive major, whose object shapes the schema files describe.
DEFAULT_API_VERSION = "2026-10-28.endive"
DEFAULT_MAX_REQUESTS_PER_SECOND = 25.0
DEFAULT_REQUEST_TIMEOUT = 80.0
DEFAULT_MAX_RETRIES = 6
DEFAULT_BACKOFF_BASE_SECONDS = 0.5
DEFAULT_BACKOFF_MAX_SECONDS = 20.0
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_WINDOW_SIZE_DAYS = 30.0
DEFAULT_VISIBILITY_LAG_SECONDS = 300
DEFAULT_CAPTURE_CHANGES = True
# Stripe keeps events for 30 days: a longer horizon would read a gap that is already gone.
EVENT_RETENTION_DAYS = 30
DEFAULT_EVENTS_HORIZON_DAYS = 30.0
DEFAULT_BALANCE_TRANSACTIONS_LOOKBACK_DAYS = 14.0

_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]+$")
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


class SettingsError(ValueError):
    """One or more settings are invalid; `problems` holds one message per setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TapSettings:
    """Validated settings. `api_key` is excluded from repr so it cannot leak via logs."""

    api_key: str
    start: int
    end: int | None
    api_version: str
    api_url: str
    account_ids: tuple[str, ...]
    max_requests_per_second: float
    request_timeout: float
    max_retries: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    max_concurrency: int
    window_size_seconds: int
    visibility_lag_seconds: int
    capture_changes: bool
    events_horizon_seconds: int
    balance_transactions_lookback_seconds: int
    user_agent: str

    def __repr__(self) -> str:
        return f"TapSettings(api_url={self.api_url!r}, api_version={self.api_version!r}, ...)"


def parse_settings(config: Mapping[str, Any], *, user_agent: str) -> TapSettings:
    """Return typed settings, or raise SettingsError listing every invalid setting."""
    problems: list[str] = []

    api_key = config.get("api_key")
    if not isinstance(api_key, str) or not api_key:
        problems.append(
            "api_key is required: a Stripe secret key (sk_...) or restricted key (rk_...)"
        )
    elif not api_key.startswith(_KEY_PREFIXES):
        # Never echo the value: it may be a real secret pasted into the wrong setting.
        problems.append(
            "api_key must be a Stripe secret key (sk_live_/sk_test_...) or restricted key "
            "(rk_live_/rk_test_...); publishable keys (pk_...) and other values cannot read data"
        )

    start = _timestamp(config, "start_date", problems, required=True)
    end = _timestamp(config, "end_date", problems, required=False)
    if start is not None and end is not None and end <= start:
        problems.append("end_date must be later than start_date")

    api_version = config.get("api_version") or DEFAULT_API_VERSION
    if not isinstance(api_version, str) or not _API_VERSION.match(api_version):
        problems.append(
            f"api_version {api_version!r} is not a Stripe API version "
            "(expected YYYY-MM-DD or YYYY-MM-DD.<name>, e.g. 2026-10-28.endive)"
        )

    api_url = _api_url(config.get("api_url") or DEFAULT_API_URL, problems)

    account_ids = config.get("account_ids") or []
    if not isinstance(account_ids, list) or not all(isinstance(a, str) for a in account_ids):
        problems.append("account_ids must be a list of Stripe account ids (acct_...)")
        account_ids = []
    bad = [a for a in account_ids if not _ACCOUNT_ID.match(a)]
    if bad:
        problems.append(f"account_ids has values that are not account ids (acct_...): {bad}")
    if len(set(account_ids)) != len(account_ids):
        problems.append("account_ids lists an account more than once")

    rate = _number(config, "max_requests_per_second", DEFAULT_MAX_REQUESTS_PER_SECOND, problems)
    timeout = _number(config, "request_timeout", DEFAULT_REQUEST_TIMEOUT, problems)
    backoff_base = _number(config, "backoff_base_seconds", DEFAULT_BACKOFF_BASE_SECONDS, problems)
    backoff_max = _number(config, "backoff_max_seconds", DEFAULT_BACKOFF_MAX_SECONDS, problems)
    if backoff_max < backoff_base:
        problems.append("backoff_max_seconds must be at least backoff_base_seconds")
    window_days = _number(config, "window_size_days", DEFAULT_WINDOW_SIZE_DAYS, problems)
    max_retries = _integer(config, "max_retries", DEFAULT_MAX_RETRIES, problems, minimum=0)
    concurrency = _integer(config, "max_concurrency", DEFAULT_MAX_CONCURRENCY, problems, minimum=1)
    lag = _integer(
        config, "visibility_lag_seconds", DEFAULT_VISIBILITY_LAG_SECONDS, problems, minimum=0
    )

    capture = config.get("capture_changes", DEFAULT_CAPTURE_CHANGES)
    if capture is None:
        capture = DEFAULT_CAPTURE_CHANGES
    if not isinstance(capture, bool):
        problems.append(f"capture_changes must be true or false (got {capture!r})")
        capture = DEFAULT_CAPTURE_CHANGES
    horizon_days = _number(config, "events_horizon_days", DEFAULT_EVENTS_HORIZON_DAYS, problems)
    if horizon_days > EVENT_RETENTION_DAYS:
        problems.append(
            f"events_horizon_days must be at most {EVENT_RETENTION_DAYS} (got {horizon_days:g}): "
            f"Stripe keeps events {EVENT_RETENTION_DAYS} days, older changes cannot be read"
        )
    lookback_days = _number(
        config,
        "balance_transactions_lookback_days",
        DEFAULT_BALANCE_TRANSACTIONS_LOOKBACK_DAYS,
        problems,
        allow_zero=True,
    )

    agent = config.get("user_agent") or user_agent
    if not isinstance(agent, str):
        problems.append("user_agent must be a string")

    if problems:
        raise SettingsError(problems)
    return TapSettings(
        api_key=api_key,  # type: ignore[arg-type]
        start=start,  # type: ignore[arg-type]
        end=end,
        api_version=api_version,
        api_url=api_url,
        account_ids=tuple(account_ids),
        max_requests_per_second=rate,
        request_timeout=timeout,
        max_retries=max_retries,
        backoff_base_seconds=backoff_base,
        backoff_max_seconds=backoff_max,
        max_concurrency=concurrency,
        window_size_seconds=max(1, int(window_days * 86_400)),
        visibility_lag_seconds=lag,
        capture_changes=capture,
        events_horizon_seconds=int(horizon_days * 86_400),
        balance_transactions_lookback_seconds=int(lookback_days * 86_400),
        user_agent=agent,
    )


def _timestamp(
    config: Mapping[str, Any], name: str, problems: list[str], *, required: bool
) -> int | None:
    raw = config.get(name)
    if raw in (None, ""):
        if required:
            problems.append(f"{name} is required (ISO 8601, e.g. 2024-01-01T00:00:00Z)")
        return None
    try:
        value = datetime.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{name} {raw!r} is not an ISO 8601 date-time (e.g. 2024-01-01T00:00:00Z)")
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return int(value.timestamp())


def _api_url(raw: object, problems: list[str]) -> str:
    if not isinstance(raw, str):
        problems.append("api_url must be a URL such as https://api.stripe.com")
        return DEFAULT_API_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"api_url {raw!r} must be an http(s) URL such as https://api.stripe.com")
    elif parts.scheme == "http" and not _is_loopback(parts.hostname):
        # The key travels in a header: plain HTTP is only acceptable to this machine.
        problems.append(f"api_url {raw!r} must use https (plain http only for localhost)")
    return raw.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _number(
    config: Mapping[str, Any],
    name: str,
    default: float,
    problems: list[str],
    *,
    allow_zero: bool = False,
) -> float:
    raw = config.get(name)
    if raw is None:
        return default
    # Config files are read with Decimal for fractions (the SDK's JSON reader).
    number = isinstance(raw, (int, float, decimal.Decimal)) and not isinstance(raw, bool)
    if not number or raw < 0 or (raw == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        problems.append(f"{name} must be a number {bound} (got {raw!r})")
        return default
    return float(raw)


def _integer(
    config: Mapping[str, Any], name: str, default: int, problems: list[str], *, minimum: int
) -> int:
    raw = config.get(name)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        problems.append(f"{name} must be an integer of at least {minimum} (got {raw!r})")
        return default
    return raw
