"""What one run reads for one stream (or Connect account): created-windows, events, or both.

Decided once per partition from its state, before any request, so the rules are in one place:

- first read (no `created` bookmark): everything from start_date, in its current state; change
  capture starts at this run's events end (whatever changes later is read from events next run);
- change capture: objects created since the bookmark, plus the events since the events bookmark
  for objects emitted by earlier runs (those created before this run's windows start: newer
  ones are read by the windows in their current state already);
- events bookmark missing or older than the horizon: changes in the gap cannot be read
  (Stripe keeps events 30 days: https://docs.stripe.com/api/events/list), so the stream is
  re-read in full from start_date, and change capture starts again at this run's events end.
  An interrupted re-read resumes where it stopped;
- no events for the resource (balance transactions): the windows start `lookback` seconds
  before the bookmark, so late status changes of recent objects arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from tap_stripe_xdm import bookmarks
from tap_stripe_xdm.instants import iso


@dataclass(frozen=True)
class ReadPlan:
    created_start: int
    """Created-windows read [created_start, range end)."""
    rereading: bool = False
    """The windows are a full re-read: progress goes to REREAD_POSITION, not the bookmark."""
    events_start: int | None = None
    """Read events created in [events_start, events end); None: no events this run."""
    changes_before: int = 0
    """Emit changes only of objects created in [start_date, changes_before)."""
    reread_before: int = 0
    """Objects created before this were emitted by an earlier run (a lookback re-reads them)."""
    restart_capture_at: int | None = None
    """Set the events bookmark to this before reading (first read and full re-read)."""
    warning: str | None = None


def plan_read(
    state: dict,
    *,
    start_date: int,
    now: int,
    events_end: int,
    capture_changes: bool,
    has_events: bool,
    lookback_seconds: int,
    horizon_seconds: int,
) -> ReadPlan:
    """The plan for one partition whose state is `state` (see the module docstring)."""
    created = bookmarks.created_bookmark(state)
    resume = bookmarks.resume_point(created, start_date)
    if not capture_changes or created is None:
        first = capture_changes and has_events
        return ReadPlan(resume, restart_capture_at=events_end if first else None)
    if not has_events:
        start = max(start_date, created - lookback_seconds) if lookback_seconds else resume
        return ReadPlan(min(start, resume), reread_before=resume if lookback_seconds else 0)

    events_from = bookmarks.events_bookmark(state)
    horizon = now - horizon_seconds
    if events_from is None or events_from < horizon:
        why = (
            "it has no events bookmark (change capture was off or the state predates it)"
            if events_from is None
            else f"its events bookmark {iso(events_from)} is older than "
            f"events_horizon_days ({horizon_seconds / 86_400:g} days; Stripe keeps events 30 days)"
        )
        return ReadPlan(
            start_date,
            rereading=True,
            restart_capture_at=events_end,
            warning=f"{why}, so changes since then cannot all be read from events: re-reading "
            f"it in full from start_date {iso(start_date)} on this run; change capture "
            f"resumes from {iso(events_end)}",
        )
    rereading_from = bookmarks.reread_position(state)
    if rereading_from is not None:
        start = max(rereading_from, start_date)
        return ReadPlan(start, rereading=True, events_start=events_from, changes_before=start)
    return ReadPlan(resume, events_start=events_from, changes_before=resume)
