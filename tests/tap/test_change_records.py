"""change_records.py: a window of changes -> records in the pinned version, deletes marked."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tap_stripe_xdm.change_records import ChangeRecords
from tap_stripe_xdm.event_windows import Change, ChangeWindow

PINNED = "2026-10-28.endive"
STAMPS = {"updated_by_event_type": "customer.updated", "updated": "1970-01-01T00:16:40+00:00"}
DECLARED = frozenset({"id", "object", "created", "livemode", "name", "email"})
CURRENT = {"cus_a": {"id": "cus_a", "object": "customer", "created": 150, "name": "fetched"}}


def change(obj_id: str, created: int = 150, **options: Any) -> Change:
    version = options.pop("api_version", PINNED)
    kind = options.pop("type", "customer.updated")
    snapshot = {"id": obj_id, "object": "customer", "created": created, "livemode": False}
    snapshot["name"] = "snapshot"
    snapshot.update(options.pop("fields", {}))
    event = {"type": kind, "created": 1_000, "api_version": version, "data": {"object": snapshot}}
    return Change(event, **options)


class FakeObjects:
    """Current objects by id (CURRENT); everything else is deleted."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    def retrieve(self, object_id: str) -> dict[str, Any] | None:
        self.fetched.append(object_id)
        return dict(CURRENT[object_id]) if object_id in CURRENT else None

    def complete(self, objects: list[dict[str, Any]]) -> None:
        pass


def build(*changes: Change) -> tuple[list[dict[str, Any]], list[str]]:
    objects = FakeObjects()
    window = ChangeWindow(0, 2_000, {c.object["id"]: c for c in changes}, len(changes))
    with ThreadPoolExecutor(2) as pool:
        builder = ChangeRecords(
            objects=objects,
            pool=pool,
            pinned_version=PINNED,
            start_date=100,
            changes_before=200,
            account="acct_1",
            declared=DECLARED,
            logger=logging.getLogger("test"),
        )
        return builder.records(window), sorted(objects.fetched)


def test_a_snapshot_in_the_pinned_version_is_emitted_without_a_request() -> None:
    records, fetched = build(change("cus_a"))
    assert records == [{**change("cus_a").object, "account_id": "acct_1", **STAMPS}]
    assert fetched == []


def test_another_version_or_a_tie_fetches_the_object() -> None:
    for stale in (change("cus_a", api_version="2024-06-20"), change("cus_a", tied=True)):
        records, fetched = build(stale)
        assert records == [{**CURRENT["cus_a"], "account_id": "acct_1", **STAMPS}]
        assert fetched == ["cus_a"]


def test_a_delete_that_cannot_be_fetched_keeps_what_its_event_carried(caplog) -> None:
    extra = {"email": "a@example.com", "account_balance": 0}  # the second: an older version's
    gone = change(
        "cus_gone", api_version="2024-06-20", type="customer.deleted", deleted=True, fields=extra
    )
    with caplog.at_level(logging.WARNING):
        records, _ = build(gone)
    assert records == [
        {
            "id": "cus_gone",
            "object": "customer",
            "created": 150,
            "livemode": False,
            "name": "snapshot",
            "email": "a@example.com",
            "_sdc_deleted_at": "1970-01-01T00:16:40+00:00",
            "account_id": "acct_1",
            "updated_by_event_type": "customer.deleted",
            "updated": "1970-01-01T00:16:40+00:00",
        }
    ]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "cus_gone" in warning
    assert "account_balance" in warning
    assert "2024-06-20" in warning


@pytest.mark.parametrize("carried", [{}, {"unknown": 1}])
def test_a_delete_whose_event_carried_nothing_more_is_a_tombstone(carried) -> None:
    gone = change("cus_gone", api_version="2024-06-20", type="customer.deleted", deleted=True)
    del gone.event["data"]["object"]["name"]
    gone.event["data"]["object"].update(carried)
    records, _ = build(gone)
    assert records == [
        {
            "id": "cus_gone",
            "object": "customer",
            "created": 150,
            "livemode": False,
            "_sdc_deleted_at": "1970-01-01T00:16:40+00:00",
            "account_id": "acct_1",
            "updated_by_event_type": "customer.deleted",
            "updated": "1970-01-01T00:16:40+00:00",
        }
    ]


def test_an_update_of_an_object_deleted_since_waits_for_its_delete_event() -> None:
    records, fetched = build(change("cus_gone", api_version=None))
    assert records == []
    assert fetched == ["cus_gone"]


def test_objects_not_emitted_by_an_earlier_run_are_left_out_without_requests() -> None:
    before_start = change("cus_old", created=99, api_version="2024-06-20")
    read_this_run = change("cus_new", created=200, api_version="2024-06-20")
    records, fetched = build(before_start, read_this_run)
    assert records == []
    assert fetched == []


def with_fact(newest: Change, fact_version: str = PINNED) -> Change:
    """`newest` after an older fact event of the same object (a charge.succeeded, say)."""
    fact = change(newest.object["id"], api_version=fact_version, type="customer.created")
    fact.event["created"] = 900
    fact.object["name"] = "at the fact"
    newest.fact = fact
    return newest


def test_a_fact_before_the_newest_state_is_a_record_of_its_own_first() -> None:
    records, fetched = build(with_fact(change("cus_a")))
    assert [(r["name"], r["updated_by_event_type"], r["updated"]) for r in records] == [
        ("at the fact", "customer.created", "1970-01-01T00:15:00+00:00"),
        ("snapshot", "customer.updated", "1970-01-01T00:16:40+00:00"),
    ]
    assert fetched == []


def test_a_fact_keeps_its_own_snapshot_when_only_the_newest_is_tied() -> None:
    records, fetched = build(with_fact(change("cus_a", tied=True)))
    assert [r["name"] for r in records] == ["at the fact", "fetched"]
    assert fetched == ["cus_a"]


def test_an_object_whose_events_are_in_another_version_is_fetched_once_for_both() -> None:
    stale = with_fact(change("cus_a", api_version="2024-06-20"), fact_version="2024-06-20")
    records, fetched = build(stale)
    assert [(r["name"], r["updated_by_event_type"]) for r in records] == [
        ("fetched", "customer.created"),
        ("fetched", "customer.updated"),
    ]
    assert records[0] is not records[1]
    assert fetched == ["cus_a"]


def test_a_windows_records_are_in_the_order_of_their_events() -> None:
    late, early = change("cus_late"), change("cus_early")
    early.event["created"] = 500
    records, _ = build(late, early)
    assert [r["id"] for r in records] == ["cus_early", "cus_late"]
