"""Timestamps: every form a Stripe tap emits -> RFC 3339 UTC with `Z`."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from target_aep.mapping import timestamps
from target_aep.mapping.timestamps import to_rfc3339


@pytest.mark.parametrize(
    "value",
    [
        1679090539,
        "1679090539",
        1679090539.0,
        "2023-03-17T22:02:19Z",
        "2023-03-17T22:02:19+00:00",
        "2023-03-17T23:02:19+01:00",
        dt.datetime(2023, 3, 17, 22, 2, 19, tzinfo=dt.timezone.utc),
        dt.datetime(2023, 3, 17, 22, 2, 19),  # naive: the SDK's parse of a UTC string
    ],
)
def test_every_timestamp_form_becomes_rfc3339_utc_with_z(value):
    assert to_rfc3339(value) == "2023-03-17T22:02:19Z"


def test_fractional_seconds_are_kept():
    assert to_rfc3339("2023-03-17T22:02:19.250Z") == "2023-03-17T22:02:19.250000Z"
    assert to_rfc3339(None) is None


def test_a_boolean_is_not_a_timestamp():
    with pytest.raises(ValueError, match="not a timestamp"):
        to_rfc3339(True)


# Moments where a hand-made conversion goes wrong first: the epoch, day, month and year ends,
# leap days (2000 is a leap year, 2100 is not), the last second of 9999, and past it.
EDGES = [0, 59, 60, 3599, 3600, 86_399, 86_400, 951_782_399, 951_782_400, 951_868_799,
         4_107_542_399, 4_107_542_400, 1_700_000_000, 253_402_300_799, 253_402_300_800, -1,
         -86_401]  # fmt: skip


@pytest.mark.parametrize("seconds", EDGES)
def test_unix_seconds_are_written_as_gmtime_and_strftime_write_them(seconds):
    expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    assert timestamps._stamp_of(seconds) == expected
    assert to_rfc3339(seconds) == expected


def test_a_day_of_stamps_and_the_bounded_cache_of_dates(monkeypatch):
    monkeypatch.setattr(timestamps, "_DAYS", {})
    monkeypatch.setattr(timestamps, "_DAYS_MAX", 3)
    start = 1_700_000_000 - 1_700_000_000 % 86_400
    for seconds in [*range(start, start + 86_400, 7), *range(start, start + 10 * 86_400, 4_001)]:
        assert timestamps._stamp_of(seconds) == time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)
        )
        assert len(timestamps._DAYS) <= 3
