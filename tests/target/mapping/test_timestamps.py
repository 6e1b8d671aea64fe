"""Timestamps: every form a Stripe tap emits -> RFC 3339 UTC with `Z`."""

from __future__ import annotations

import datetime as dt

import pytest
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
