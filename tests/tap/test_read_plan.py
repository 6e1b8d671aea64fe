"""read_plan.py: what a run reads per stream partition, decided from its state."""

from __future__ import annotations

from typing import Any

from tap_stripe_xdm.read_plan import ReadPlan, plan_read

DAY = 86_400
START = 1_700_000_000  # start_date
NOW = 1_800_000_000
EVENTS_END = NOW - 300


def plan(state: dict[str, Any], **overrides: Any) -> ReadPlan:
    options: dict[str, Any] = {
        "start_date": START,
        "now": NOW,
        "events_end": EVENTS_END,
        "capture_changes": True,
        "has_events": True,
        "lookback_seconds": 14 * DAY,
        "horizon_seconds": 30 * DAY,
    }
    options.update(overrides)
    return plan_read(state, **options)


def read(created: int, events: int | None = None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"replication_key": "created", "replication_key_value": created}
    if events is not None:
        state["events_bookmark"] = events
    return {**state, **extra}


def test_first_read_takes_everything_and_starts_change_capture_at_the_runs_end() -> None:
    first = plan({})
    assert first == ReadPlan(START, restart_capture_at=EVENTS_END)
    assert first.events_start is None, "nothing earlier was emitted: no changes to read"


def test_later_runs_read_new_objects_and_changes_of_objects_emitted_before() -> None:
    later = plan(read(NOW - DAY, events=NOW - DAY))
    assert later.created_start == NOW - DAY
    assert later.events_start == NOW - DAY
    assert later.changes_before == NOW - DAY  # newer objects are read whole by the windows
    assert not later.rereading
    assert later.warning is None
    assert later.restart_capture_at is None


def test_an_events_bookmark_older_than_the_horizon_means_a_full_reread_with_a_warning() -> None:
    stale = plan(read(NOW - DAY, events=NOW - 31 * DAY))
    assert stale.created_start == START
    assert stale.rereading
    assert stale.events_start is None
    assert stale.restart_capture_at == EVENTS_END
    assert stale.warning is not None
    assert "older than events_horizon_days" in stale.warning
    assert "re-reading it in full from start_date" in stale.warning


def test_the_horizon_is_the_setting() -> None:
    assert not plan(read(NOW, events=NOW - 8 * DAY)).rereading
    assert plan(read(NOW, events=NOW - 8 * DAY), horizon_seconds=7 * DAY).rereading


def test_a_created_bookmark_without_events_bookmark_is_an_unknown_gap() -> None:
    upgraded = plan(read(NOW - DAY))
    assert upgraded.rereading
    assert upgraded.created_start == START
    assert upgraded.warning is not None
    assert "no events bookmark" in upgraded.warning


def test_an_interrupted_reread_resumes_where_it_stopped_and_reads_changes_before_it() -> None:
    resumed = plan(read(NOW - DAY, events=NOW - 2 * DAY, full_reread_created=START + 50 * DAY))
    assert resumed.rereading
    assert resumed.created_start == START + 50 * DAY
    assert resumed.events_start == NOW - 2 * DAY
    assert resumed.changes_before == START + 50 * DAY
    assert resumed.warning is None


def test_without_change_capture_only_the_created_range_is_read() -> None:
    off = plan(read(NOW - DAY, events=NOW - 40 * DAY), capture_changes=False)
    assert off == ReadPlan(NOW - DAY)


def test_streams_without_events_reread_a_lookback_before_the_bookmark() -> None:
    bookmark = START + 100 * DAY
    assert plan(read(bookmark), has_events=False).created_start == bookmark - 14 * DAY
    assert plan(read(START + DAY), has_events=False).created_start == START  # not before start
    assert plan(read(bookmark), has_events=False, lookback_seconds=0).created_start == bookmark
    assert plan({}, has_events=False) == ReadPlan(START)  # first read: no capture to start
