"""Instants as Stripe and Singer write them: Unix seconds (Stripe's `created`) and ISO 8601.

Stripe timestamps are Unix seconds (https://docs.stripe.com/api/charges/object#charge_object-created);
settings, logs and `_sdc_deleted_at` use ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime


def iso(unix_seconds: int) -> str:
    """Unix seconds as ISO 8601 in UTC, e.g. 2024-01-01T00:00:00+00:00."""
    return datetime.datetime.fromtimestamp(unix_seconds, datetime.timezone.utc).isoformat()


def unix_from_iso(text: str) -> int | None:
    """An ISO 8601 date-time (UTC when it names no zone; `Z` accepted) as Unix seconds, or
    None when `text` is not one."""
    try:
        parsed = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return int(parsed.timestamp())
