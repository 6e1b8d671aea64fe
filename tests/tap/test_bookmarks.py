"""bookmarks.py: where a run resumes, and bookmarks that only move forward."""

from __future__ import annotations

from tap_stripe_xdm.bookmarks import advance, later_bookmark, resume_point


def test_resume_point_is_the_later_of_bookmark_and_start_date() -> None:
    assert resume_point(None, 1_000) == 1_000
    assert resume_point(5_000, 1_000) == 5_000
    assert resume_point(500, 1_000) == 1_000
    assert resume_point("2024-01-01T00:00:00Z", 0) == 1_704_067_200
    assert resume_point("1704067200", 0) == 1_704_067_200


def test_later_bookmark_compares_unix_seconds_with_iso_start_dates() -> None:
    assert later_bookmark(1_704_067_300, "2024-01-01T00:00:00Z") == 1_704_067_300
    assert later_bookmark(1_000, "2024-01-01T00:00:00+00:00") == 1_704_067_200
    assert later_bookmark(None, None) is None


def test_advance_moves_forward_only() -> None:
    state: dict = {}
    assert advance(state, 100)
    assert state == {"replication_key": "created", "replication_key_value": 100}
    assert not advance(state, 100)
    assert not advance(state, 50)
    assert state["replication_key_value"] == 100
    assert advance(state, 150)
    assert state["replication_key_value"] == 150


def test_advance_replaces_a_bookmark_of_another_replication_key() -> None:
    state = {"replication_key": "updated", "replication_key_value": 10_000}
    assert advance(state, 100)
    assert state == {"replication_key": "created", "replication_key_value": 100}
