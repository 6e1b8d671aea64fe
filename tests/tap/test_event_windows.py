"""event_windows.py: events read oldest window first, newest event per object, bounded memory."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from tap_stripe_xdm.api import ListPage
from tap_stripe_xdm.event_windows import ChangeWindow, event_params, read_changes


def event(n: int, obj_id: str, created: int, kind: str = "customer.updated") -> dict[str, Any]:
    return {
        "id": f"evt_{n:04d}",
        "type": kind,
        "created": created,
        "data": {"object": {"id": obj_id, "object": "customer", "created": 1, "n": n}},
    }


class FakeEvents:
    """GET /v1/events over a fixed list: newest first, [gte, lt), cursor, page size 3."""

    def __init__(self, events: list[dict[str, Any]], page_size: int = 3) -> None:
        self.events = sorted(events, key=lambda e: (e["created"], e["id"]), reverse=True)
        self.page_size = page_size
        self.calls: list[tuple[int, int, str | None]] = []

    def __call__(self, start: int, end: int, after: str | None) -> ListPage:
        self.calls.append((start, end, after))
        matching = [e for e in self.events if start <= e["created"] < end]
        if after is not None:
            matching = matching[[e["id"] for e in matching].index(after) + 1 :]
        page = matching[: self.page_size]
        return ListPage(page, len(matching) > len(page))


def read(fake: FakeEvents, start: int, end: int, **options: Any) -> list[ChangeWindow]:
    return list(
        read_changes(
            fake,
            start,
            end,
            object_type="customer",
            delete_types={"customer.deleted"},
            **options,
        )
    )


def test_many_events_of_one_object_yield_only_the_newest() -> None:
    fake = FakeEvents([event(n, "cus_1", 100 + n) for n in range(7)] + [event(9, "cus_2", 50)])
    (window,) = read(fake, 0, 1_000)
    assert set(window.changes) == {"cus_1", "cus_2"}
    assert window.changes["cus_1"].object["n"] == 6
    assert window.events == 8
    assert not window.changes["cus_1"].tied


def test_events_sharing_the_newest_second_are_tied_and_a_delete_among_them_wins() -> None:
    fake = FakeEvents(
        [
            event(1, "cus_1", 100),
            event(2, "cus_1", 200),
            event(3, "cus_1", 200, "customer.deleted"),
            event(4, "cus_2", 150),
        ]
    )
    (window,) = read(fake, 0, 1_000)
    assert window.changes["cus_1"].tied
    assert window.changes["cus_1"].deleted
    assert not window.changes["cus_2"].tied
    assert not window.changes["cus_2"].deleted


def test_events_of_other_objects_are_ignored() -> None:
    dispute = event(1, "dp_1", 100)
    dispute["data"]["object"]["object"] = "dispute"
    (window,) = read(FakeEvents([dispute, event(2, "cus_1", 100)]), 0, 1_000)
    assert set(window.changes) == {"cus_1"}


def test_too_many_events_split_the_range_into_windows_read_oldest_first() -> None:
    events = [event(n, f"cus_{n % 5}", 100 + n * 10) for n in range(40)]  # created 100..490
    fake = FakeEvents(events)
    windows = read(fake, 100, 500, max_events=6)
    assert len(windows) > 4
    assert [w.start for w in windows] == sorted(w.start for w in windows), "oldest first"
    assert windows[0].start == 100
    assert windows[-1].end == 500
    assert all(a.end == b.start for a, b in itertools.pairwise(windows)), "contiguous"
    assert sum(w.events for w in windows) == 40, "every event counted once in a kept window"
    assert all(w.events <= 6 + 3 for w in windows), "a window holds at most a page past the cap"
    # the newest state overall is in the last window that has the object
    last = {}
    for window in windows:
        last.update({k: c.object["n"] for k, c in window.changes.items()})
    assert last == {f"cus_{k}": max(n for n in range(40) if n % 5 == k) for k in range(5)}


def test_a_single_second_with_more_events_than_the_cap_is_taken_whole() -> None:
    fake = FakeEvents([event(n, f"cus_{n}", 100) for n in range(10)])
    (window,) = read(fake, 100, 101, max_events=2)
    assert len(window.changes) == 10


def test_event_params_repeat_types_and_limit_them_to_20() -> None:
    params = event_params(["a.b", "c.d"], 10, 20, "evt_1", 100)
    assert params == [
        ("types[]", "a.b"),
        ("types[]", "c.d"),
        ("created[gte]", 10),
        ("created[lt]", 20),
        ("limit", 100),
        ("starting_after", "evt_1"),
    ]
    with pytest.raises(ValueError, match="20"):
        event_params([f"t.{n}" for n in range(21)], 0, 1, None, 100)


def test_after_a_dense_stretch_the_window_grows_again_over_quiet_time() -> None:
    fake = FakeEvents([event(n, f"cus_{n}", 100 + n) for n in range(30)])  # all in 30 s
    windows = read(fake, 100, 100 + 10_000_000, max_events=6)
    assert sum(w.events for w in windows) == 30
    assert windows[-1].end == 100 + 10_000_000
    assert len(fake.calls) < 100, "quiet months cost a few requests, not one per small window"


def charge_event(n: int, created: int, kind: str, obj_id: str = "ch_1") -> dict[str, Any]:
    event_ = event(n, obj_id, created, kind)
    event_["data"]["object"]["object"] = "charge"
    return event_


FACTS = {"charge.succeeded", "charge.captured"}


def read_charges(fake: FakeEvents, start: int, end: int) -> list[ChangeWindow]:
    return list(
        read_changes(
            fake, start, end, object_type="charge", delete_types=frozenset(), fact_types=FACTS
        )
    )


def test_a_fact_event_followed_by_newer_events_is_kept_besides_the_newest() -> None:
    fake = FakeEvents(
        [
            charge_event(1, 100, "charge.succeeded"),  # a bank debit succeeds...
            charge_event(2, 200, "charge.refunded"),  # ...and is refunded in the same window
            charge_event(3, 300, "charge.updated"),
            charge_event(4, 150, "charge.succeeded", "ch_2"),  # a fact that is the newest
            charge_event(5, 160, "charge.updated", "ch_3"),  # no fact at all
        ]
    )
    (window,) = read_charges(fake, 0, 1_000)
    first = window.changes["ch_1"]
    assert first.object["n"] == 3
    assert first.fact is not None
    assert (first.fact.event["type"], first.fact.object["n"]) == ("charge.succeeded", 1)
    assert window.changes["ch_2"].fact is None, "the newest event is the fact: one record"
    assert window.changes["ch_3"].fact is None


def test_of_an_authorisation_and_its_capture_the_capture_is_the_fact_kept() -> None:
    fake = FakeEvents(
        [
            charge_event(1, 100, "charge.succeeded"),  # authorised, not captured
            charge_event(2, 200, "charge.captured"),
            charge_event(3, 300, "charge.refunded"),
        ]
    )
    (window,) = read_charges(fake, 0, 1_000)
    fact = window.changes["ch_1"].fact
    assert fact is not None
    assert fact.event["type"] == "charge.captured"


def test_without_fact_types_only_the_newest_event_is_kept() -> None:
    fake = FakeEvents([charge_event(1, 100, "charge.succeeded"), charge_event(2, 200, "x.y")])
    (window,) = list(read_changes(fake, 0, 1_000, object_type="charge", delete_types=frozenset()))
    assert window.changes["ch_1"].fact is None
