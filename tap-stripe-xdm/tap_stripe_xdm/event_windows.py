"""Change capture: which objects changed, read from Stripe's events, oldest window first.

`GET /v1/events` lists newest first, guarantees events of the last 30 days and takes at most
20 exact names in `types[]` (https://docs.stripe.com/api/events/list). The range [start, end)
is read as consecutive time windows, oldest first. Within a window every event is read (newest
first) and only the newest event per object id is kept, so an object changed ten times in a
window is emitted once, in its newest state. An event that is a fact of its own (`fact_types`:
a charge's `charge.succeeded`, the moment it became a purchase) is kept too when newer events of
the object follow it in the window, the newest such event per object, so the transition is not
lost behind a later refund or edit. A window's changes are handed over whole, and only
then may the events bookmark move to the window's end: it never passes a change not yet
emitted, and the windows' order keeps an older state from overwriting a newer one.

Memory is bounded by `max_events`: a window holding more events is abandoned and read again
as two halves (down to one second, which is taken whole); the span doubles again after a
window holding under half of that, so quiet stretches cost few requests. Events of one object
sharing its newest second are `tied`: Stripe documents no order among them, so the caller
re-fetches the object rather than trust either snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from tap_stripe_xdm.api import ListPage

MAX_TYPES_PER_REQUEST = 20  # Stripe's limit on `types[]` (see the module docstring)
MAX_EVENTS_PER_WINDOW = 2_000  # buffer bound: 20 pages (2,000 charges ~ 17 MiB)


@dataclass
class Change:
    """The newest event seen for one object in a window."""

    event: dict[str, Any]
    tied: bool = False
    """Another event of the object has the same `created` second (order unknown)."""
    deleted: bool = False
    """The newest event (or one tied with it) is a delete."""
    fact: Change | None = None
    """The newest older event of the object in the window that is a fact of its own, when
    `event` is not one: emitted as a change of its own, before `event`. Its snapshot is the
    state that event describes, so a tie with other events does not matter to it."""

    @property
    def object(self) -> dict[str, Any]:
        return self.event["data"]["object"]


@dataclass(frozen=True)
class ChangeWindow:
    """Every change of events created in [start, end), newest event per object id."""

    start: int
    end: int
    changes: dict[str, Change]
    events: int


# fetch(start, end, starting_after) -> one page of events created in [start, end)
EventFetcher = Callable[[int, int, "str | None"], ListPage]


def event_params(
    types: Collection[str], start: int, end: int, starting_after: str | None, limit: int
) -> list[tuple[str, str | int]]:
    """Query of one events page: `types[]` repeated, half-open `created` range, cursor."""
    if not types or len(types) > MAX_TYPES_PER_REQUEST:
        raise ValueError(f"1 to {MAX_TYPES_PER_REQUEST} event types per request, got {len(types)}")
    params: list[tuple[str, str | int]] = [("types[]", kind) for kind in types]
    params += [("created[gte]", start), ("created[lt]", end), ("limit", limit)]
    if starting_after:
        params.append(("starting_after", starting_after))
    return params


def read_changes(
    fetch: EventFetcher,
    start: int,
    end: int,
    *,
    object_type: str,
    delete_types: Collection[str],
    fact_types: Collection[str] = (),
    max_events: int = MAX_EVENTS_PER_WINDOW,
) -> Iterator[ChangeWindow]:
    """Yield the changes of [start, end) window by window, oldest window first."""
    span = end - start
    lo = start
    while lo < end:
        hi = min(end, lo + span)
        window = _read_window(fetch, lo, hi, object_type, delete_types, fact_types, max_events)
        if window is None:  # too many events to hold: read it as two halves
            span = max(1, (hi - lo) // 2)
            continue
        yield window
        lo = hi
        if window.events < max_events // 2:
            span *= 2


def _read_window(
    fetch: EventFetcher,
    lo: int,
    hi: int,
    object_type: str,
    delete_types: Collection[str],
    fact_types: Collection[str],
    max_events: int,
) -> ChangeWindow | None:
    changes: dict[str, Change] = {}
    seen = 0
    cursor: str | None = None
    while True:
        page = fetch(lo, hi, cursor)
        for event in page.data:
            obj = (event.get("data") or {}).get("object") or {}
            obj_id = obj.get("id")
            if obj.get("object") != object_type or not obj_id:
                continue  # e.g. a dispute under charge.dispute.*: not this stream's object
            kind = event.get("type")
            is_delete = kind in delete_types
            known = changes.get(obj_id)
            if known is None:
                changes[obj_id] = Change(event, deleted=is_delete)
                continue
            if event.get("created") == known.event.get("created"):
                known.tied = True
                known.deleted = known.deleted or is_delete
            if (
                known.fact is None
                and kind in fact_types
                and known.event.get("type") not in fact_types
            ):
                known.fact = Change(event)
        seen += len(page.data)
        if not (page.has_more and page.data):
            return ChangeWindow(lo, hi, changes, seen)
        if seen >= max_events and hi - lo > 1:
            return None
        cursor = page.data[-1]["id"]
