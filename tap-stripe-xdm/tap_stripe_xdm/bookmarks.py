"""Where a stream (or a Connect account's partition) resumes, and how its bookmark moves.

The bookmark is `replication_key_value` = a `created` value (Unix seconds) before which every
object has been emitted. Reads are half-open [gte, lt), so resuming at the bookmark with
`created[gte]` re-reads nothing that was fully covered and skips nothing.
"""

from __future__ import annotations

from typing import Any

from tap_stripe_xdm.instants import iso, unix_from_iso

REPLICATION_KEY = "created"


def resume_point(bookmark: Any, start_date: int) -> int:
    """The later of the stored bookmark and `start_date` (as the SDK does for start dates).

    Bookmarks are integers written by this tap; an ISO string (from another tap's state or
    the SDK's start-date fallback) is accepted too.
    """
    value = _as_unix(bookmark)
    return start_date if value is None else max(value, start_date)


def _as_unix(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        return unix_from_iso(text)
    return None


def readable(value: Any) -> str:
    """A bookmark or start date of any supported form as ISO 8601 in UTC (as the tap's own
    log lines write instants); anything else as it is."""
    unix = _as_unix(value)
    return iso(unix) if unix is not None else str(value)


def later_bookmark(value: Any, start_date_value: Any) -> int | None:
    """Compare a bookmark and a start date of any supported form; return the later one."""
    candidates = [v for v in (_as_unix(value), _as_unix(start_date_value)) if v is not None]
    return max(candidates) if candidates else None


def advance(partition_state: dict, watermark: int) -> bool:
    """Move the bookmark forward to `watermark`; never backwards. True if it moved."""
    current = _as_unix(partition_state.get("replication_key_value"))
    if (
        current is not None
        and watermark <= current
        and (partition_state.get("replication_key") == REPLICATION_KEY)
    ):
        return False
    partition_state["replication_key"] = REPLICATION_KEY
    partition_state["replication_key_value"] = watermark
    return True


# --- change capture (same partition state, beside the `created` bookmark) --------------------

EVENTS_BOOKMARK = "events_bookmark"
"""Events created before this second (Unix) are reflected in emitted records."""
REREAD_POSITION = "full_reread_created"
"""While a full re-read is under way: the `created` second before which it has emitted all."""


def created_bookmark(partition_state: dict) -> int | None:
    """The stored `created` bookmark, or None when the stream was never read."""
    if partition_state.get("replication_key", REPLICATION_KEY) != REPLICATION_KEY:
        return None
    return _as_unix(partition_state.get("replication_key_value"))


def events_bookmark(partition_state: dict) -> int | None:
    return _as_unix(partition_state.get(EVENTS_BOOKMARK))


def reread_position(partition_state: dict) -> int | None:
    return _as_unix(partition_state.get(REREAD_POSITION))


def advance_key(partition_state: dict, key: str, value: int) -> bool:
    """Move `key` forward to `value`; never backwards. True if it moved."""
    current = _as_unix(partition_state.get(key))
    if current is not None and value <= current:
        return False
    partition_state[key] = value
    return True
