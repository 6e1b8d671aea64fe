"""streams.py: each stream reads its endpoint completely."""

from __future__ import annotations

import threading

import pytest
from tap_stripe_xdm.tap import TapStripeXdm

from tests.doubles.stripe_api import StripeDouble
from tests.tap.conftest import SEED_COUNTS
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config, run_tap

STREAMS = ["charges", "subscriptions", "refunds", "balance_transactions", "customers", "prices"]


@pytest.fixture(scope="module")
def full_run():
    with StripeDouble() as double:
        double.seed(SEED_COUNTS, start=SEEDED_START, end=SEEDED_END, seed=11)
        yield double, run_tap(base_config(double.url, max_concurrency=3))


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_emits_every_object_of_its_endpoint_once(full_run, stream: str) -> None:
    double, run = full_run
    ids = run.ids(stream)
    assert len(ids) == len(set(ids)) == SEED_COUNTS[stream]
    assert set(ids) == {o["id"] for o in double.objects(stream)}
    assert {r.path for r in double.requests} >= {f"/v1/{stream}"}


def test_records_are_stripe_objects_unchanged_plus_account_id(full_run) -> None:
    double, run = full_run
    stored = {o["id"]: o for o in double.objects("charges")}
    for emitted in run.records("charges"):
        record = dict(emitted)
        assert record.pop("account_id") is None
        assert record == stored[record["id"]]


def test_every_list_request_asks_for_100_per_page(full_run) -> None:
    double, _ = full_run
    lists = [r for r in double.requests if r.path.startswith("/v1/")]
    assert lists
    assert all(r.params.get("limit") == ["100"] for r in lists)


def test_windows_are_half_open_created_ranges(full_run) -> None:
    double, _ = full_run
    for request in double.requests:
        if request.path == "/v1/subscription_items":
            continue
        assert set(request.params) >= {"created[gte]", "created[lt]"}
        assert int(request.params["created[gte]"][0]) < int(request.params["created[lt]"][0])


def test_subscriptions_of_every_status_including_canceled(full_run) -> None:
    double, run = full_run
    assert all(
        r.params.get("status") == ["all"] for r in double.requests if r.path == "/v1/subscriptions"
    )
    statuses = {r["status"] for r in run.records("subscriptions")}
    assert {"canceled", "incomplete_expired", "active"} <= statuses


def test_subscription_with_more_than_10_items_gets_all_of_them(full_run) -> None:
    double, run = full_run
    stored = {s["id"]: s for s in double.objects("subscriptions")}
    big = [s for s in stored.values() if len(s["items"]["data"]) > 10]
    assert big, "the seeded data must hold subscriptions with more than 10 items"
    for record in run.records("subscriptions"):
        expected = [item["id"] for item in stored[record["id"]]["items"]["data"]]
        assert [item["id"] for item in record["items"]["data"]] == expected
        assert record["items"]["has_more"] is False
    paged = [r for r in double.requests if r.path == "/v1/subscription_items"]
    assert {r.params["subscription"][0] for r in paged} == {s["id"] for s in big}


def test_prices_active_and_archived(full_run) -> None:
    double, run = full_run
    assert {r["active"] for r in run.records("prices")} == {True, False}
    assert all("active" not in r.params for r in double.requests if r.path == "/v1/prices")


def test_api_version_is_sent_on_every_request() -> None:
    with StripeDouble() as double:
        run_tap(base_config(double.url, api_version="2025-03-31.basil"))
        assert double.requests
        assert {r.headers["Stripe-Version"] for r in double.requests} == {"2025-03-31.basil"}


def test_subscription_items_are_read_for_the_subscriptions_account() -> None:
    with StripeDouble() as double:
        double.seed({"subscriptions": 12}, start=SEEDED_START, end=SEEDED_END, account="acct_1S")
        run = run_tap(base_config(double.url, account_ids=["acct_1S"]), streams={"subscriptions"})
        stored = {
            s["id"]: len(s["items"]["data"])
            for s in double.objects("subscriptions", account="acct_1S")
        }
        assert {r["id"]: len(r["items"]["data"]) for r in run.records()} == stored
        paged = [r for r in double.requests if r.path == "/v1/subscription_items"]
        assert paged
        assert all(r.headers.get("Stripe-Account") == "acct_1S" for r in paged)


def test_object_deleted_between_two_pages_loses_nothing() -> None:
    with StripeDouble() as double:
        double.seed({"customers": 450}, start=SEEDED_START, end=SEEDED_END, seed=8)
        expected = {c["id"] for c in double.objects("customers")}
        deleted: list[str] = []

        def delete_the_first_cursor(tap: TapStripeXdm) -> None:
            api = tap.runtime.api
            list_page = api.list_page

            def list_page_then_delete(path, params, *, account=None, counts=None):
                page = list_page(path, params, account=account, counts=counts)
                if not deleted and page.has_more:
                    deleted.append(page.data[-1]["id"])
                    double.delete("customers", page.data[-1]["id"])
                return page

            api.list_page = list_page_then_delete

        run = run_tap(
            base_config(double.url, max_concurrency=1),
            streams={"customers"},
            prepare=delete_the_first_cursor,
        )
        assert deleted
        assert set(run.ids()) == expected  # the deleted one was emitted before its deletion
        assert run.final_state["bookmarks"]["customers"]["replication_key_value"] > SEEDED_END


def test_windows_are_read_concurrently_without_tripping_the_rate_limit() -> None:
    with StripeDouble(latency=0.03, rate_limit_per_second=40) as double:
        double.seed({"charges": 6_000}, start=SEEDED_START, end=SEEDED_END, seed=9)
        in_flight = 0
        most = 0
        lock = threading.Lock()
        taps: list[TapStripeXdm] = []

        def track_in_flight(tap: TapStripeXdm) -> None:
            taps.append(tap)
            api = tap.runtime.api
            list_page = api.list_page

            def tracked(path, params, *, account=None, counts=None):
                nonlocal in_flight, most
                with lock:
                    in_flight += 1
                    most = max(most, in_flight)
                try:
                    return list_page(path, params, account=account, counts=counts)
                finally:
                    with lock:
                        in_flight -= 1

            api.list_page = tracked

        config = base_config(double.url, max_concurrency=6, max_requests_per_second=40)
        run = run_tap(config, streams={"charges"}, prepare=track_in_flight)
        assert len(run.ids()) == 6_000
        assert most >= 3, "several windows are read at the same time"
        assert taps[0].runtime.api.counts().rate_limited == 0, "the shared limiter kept under 40/s"


def test_subscription_with_more_than_100_items_is_paged_to_the_end() -> None:
    with StripeDouble() as double:
        double.seed({"subscriptions": 1}, start=SEEDED_START, end=SEEDED_END, seed=3)
        subscription = double.objects("subscriptions")[0]
        template = subscription["items"]["data"][0]
        items = [{**template, "id": f"si_many{n:03d}"} for n in range(150)]
        subscription["items"] = {**subscription["items"], "data": items, "total_count": 150}
        double.add("subscriptions", subscription)
        run = run_tap(base_config(double.url), streams={"subscriptions"})
        (record,) = run.records()
        assert [item["id"] for item in record["items"]["data"]] == [i["id"] for i in items]
        paged = [r for r in double.requests if r.path == "/v1/subscription_items"]
        assert len(paged) == 2
