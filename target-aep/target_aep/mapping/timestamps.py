"""Timestamps: whatever form a Stripe tap emits -> an XDM date-time (RFC 3339, UTC, `Z`).

Stripe's timestamps are Unix seconds (https://docs.stripe.com/api/charges/object#charge_object-created);
XDM date-time fields take an RFC 3339 string and streaming validation refuses an epoch number
(https://experienceleague.adobe.com/en/docs/experience-platform/xdm/schema/field-constraints).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

_UTC = dt.timezone.utc

# Unix seconds -> RFC 3339, for the stamps seen lately: a record repeats its moments (`created`,
# period bounds, its items'), and neighbours share them. Emptied when full, so memory stays flat.
_STAMPS: dict[int, str] = {}
_STAMPS_MAX = 4096
_LAST_STAMP: tuple[Any, Any] = (None, None)

# A new stamp (every record of a backfill has its own `created`) is its day's date, looked up,
# and the time of day from two small tables: about a fifth of gmtime + strftime's cost. Unix
# time has 86,400 seconds a day, leap seconds not counted
# (https://pubs.opengroup.org/onlinepubs/9699919799/basedefs/V1_chap04.html#tag_04_16), so this
# is exact; it is used from 1970 to 9999, where strftime writes the same four-digit years.
_DAYS: dict[int, str] = {}  # days since 1970-01-01 -> "YYYY-MM-DDT"
_DAYS_MAX = 4096
_MINUTES = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))
_SECONDS = tuple(f"{second:02d}Z" for second in range(60))
_EPOCH = dt.date(1970, 1, 1)
END_OF_9999 = 253_402_300_800  # 10000-01-01T00:00:00Z: Unix seconds before it have 4-digit years


def _stamp_of(value: int) -> str:
    """RFC 3339 of whole Unix seconds, as `time.strftime("%Y-%m-%dT%H:%M:%SZ")` writes them."""
    if not 0 <= value < END_OF_9999:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    day = value // 86_400
    date = _DAYS.get(day)
    if date is None:
        if len(_DAYS) >= _DAYS_MAX:
            _DAYS.clear()
        date = _DAYS[day] = (_EPOCH + dt.timedelta(days=day)).isoformat() + "T"
    second = value - day * 86_400
    return date + _MINUTES[second // 60] + _SECONDS[second % 60]


def to_rfc3339(value: Any) -> str | None:
    """A timestamp in any form Stripe taps emit -> RFC 3339 UTC with 'Z' (XDM date-time).

    Accepts Unix seconds (int, float or numeric string), ISO 8601 strings, and the `datetime`
    objects the SDK makes of `date-time` fields before the sink sees them.
    """
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is int:  # the common case (Stripe's Unix seconds): no datetime object needed
        global _LAST_STAMP  # the last one first: a row often converts what the previous did
        last = _LAST_STAMP
        if last[0] == value:
            return last[1]
        stamp = _STAMPS.get(value)
        if stamp is None:
            stamp = _stamp_of(value)
            if len(_STAMPS) >= _STAMPS_MAX:
                _STAMPS.clear()
            _STAMPS[value] = stamp
        _LAST_STAMP = (value, stamp)  # swapped as one tuple (thread-safe)
        return stamp
    if kind is bool:
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        moment = dt.datetime.fromtimestamp(value, _UTC)
    elif isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_UTC)
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            moment = dt.datetime.fromtimestamp(float(text), _UTC)
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_UTC)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    moment = moment.astimezone(_UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_unix(value: Any) -> int | None:
    """A timestamp in any form `to_rfc3339` accepts -> whole Unix seconds (None when absent)."""
    if value is None or value == "":
        return None
    if type(value) is int:
        return value
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_UTC)
        return int(moment.timestamp())
    stamp = to_rfc3339(value)
    if stamp is None:
        return None
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return int(parsed.timestamp())
