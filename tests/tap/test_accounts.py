"""accounts.py: every connected account (connected_accounts: all), the platform's own, accounts
that appear, vanish or are refused, and shards that together read each account exactly once."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from stripe_emulator.errors import no_account_access
from tap_stripe_xdm.accounts import shard_of

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_START, TapRun, base_config, run_tap

END_2025 = 1_735_689_600  # base_config's end_date
CONNECTED = ("acct_1Alpha", "acct_1Bravo", "acct_1Charlie")


def connected_double() -> StripeDouble:
    """Charges in the platform and in three connected accounts."""
    double = StripeDouble().start()
    double.seed({"charges": 30}, start=SEEDED_START, end=1_710_000_000, seed=1)
    for n, account in enumerate(CONNECTED):
        double.seed({"charges": 20 + 10 * n}, start=SEEDED_START, end=1_720_000_000, seed=n + 2,
                    account=account)  # fmt: skip
    return double


def by_account(run: TapRun) -> dict[str | None, set[str]]:
    found: dict[str | None, set[str]] = {}
    for record in run.records("charges"):
        found.setdefault(record["account_id"], set()).add(record["id"])
    return found


def charge_ids(double: StripeDouble, account: str | None = None) -> set[str]:
    return {c["id"] for c in double.objects("charges", account=account)}


def partition_bookmarks(run: TapRun) -> dict[str | None, int]:
    partitions = run.final_state["bookmarks"].get("charges", {}).get("partitions", [])
    return {p["context"]["account_id"]: p.get("replication_key_value") for p in partitions}


@pytest.fixture
def double():
    double = connected_double()
    yield double
    double.stop()


def test_all_reads_every_connected_account_and_the_platform_each_with_its_bookmark(double):
    for n in range(102):  # listing takes two pages of 100
        double.add_account(f"acct_1Empty{n:03d}", created=SEEDED_START + n)
    run = run_tap(base_config(double.url, connected_accounts="all"), streams={"charges"})
    assert by_account(run) == {
        None: charge_ids(double),
        **{account: charge_ids(double, account) for account in CONNECTED},
    }
    bookmarks = partition_bookmarks(run)
    assert len(bookmarks) == 1 + 3 + 102
    assert set(bookmarks.values()) == {END_2025}
    listing = [r for r in double.requests if r.path == "/v1/accounts"]
    assert [r.params.get("starting_after") for r in listing] == [None, [listing_last(double)]]
    assert all("Stripe-Account" not in r.headers for r in listing)
    platform_reads = [
        r for r in double.requests if r.path == "/v1/charges" and "Stripe-Account" not in r.headers
    ]
    assert platform_reads


def listing_last(double: StripeDouble) -> str:
    """The 100th account of GET /v1/accounts (newest first), the second page's cursor."""
    return [account for _, account in double.connected_accounts()][99]


def test_the_platform_is_left_out_when_include_platform_account_is_false(double):
    config = base_config(double.url, connected_accounts="all", include_platform_account=False)
    run = run_tap(config, streams={"charges"})
    assert set(by_account(run)) == set(CONNECTED)
    assert None not in partition_bookmarks(run)
    assert all("Stripe-Account" in r.headers for r in double.requests if r.path == "/v1/charges")


def test_a_new_account_starts_from_start_date_and_a_vanished_one_keeps_its_state(double):
    config = base_config(double.url, connected_accounts="all", end_date="2024-06-01T00:00:00Z")
    first = run_tap(config, streams={"charges"})
    before = first.final_state["bookmarks"]["charges"]["partitions"]
    vanished = next(p for p in before if p["context"]["account_id"] == "acct_1Bravo")

    double.remove_account("acct_1Bravo")  # disconnected: no longer listed
    double.seed({"charges": 15}, start=SEEDED_START, end=1_705_000_000, seed=9, account="acct_1New")
    config["end_date"] = "2025-01-01T00:00:00Z"
    double.clear_requests()
    second = run_tap(config, state=first.final_state, streams={"charges"})

    found = by_account(second)
    assert found["acct_1New"] == charge_ids(double, "acct_1New")  # all of it, from start_date
    assert "acct_1Bravo" not in found
    assert not any(r.headers.get("Stripe-Account") == "acct_1Bravo" for r in double.requests)
    after = second.final_state["bookmarks"]["charges"]["partitions"]
    assert vanished in after  # untouched, for when it comes back
    assert partition_bookmarks(second)["acct_1New"] == END_2025


def test_an_account_stripe_refuses_is_reported_by_id_and_the_others_are_read(double, caplog):
    refused = no_account_access("sk_test_double", "acct_1Bravo")
    double.inject("/v1/", status=403, body=refused.body, times=1000, account="acct_1Bravo")
    with caplog.at_level(logging.ERROR):
        config = base_config(double.url, connected_accounts="all")
        run = run_tap(config, streams={"charges", "prices"})
    found = by_account(run)
    assert "acct_1Bravo" not in found
    assert found["acct_1Alpha"] == charge_ids(double, "acct_1Alpha")
    assert found["acct_1Charlie"] == charge_ids(double, "acct_1Charlie")
    assert None in found
    assert partition_bookmarks(run)["acct_1Bravo"] is None  # no bookmark moved
    summary = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(summary) == 1
    assert "acct_1Bravo" in summary[0]
    # refused at once: no retries, at most one request per stream (read at the same time)
    tried = [r for r in double.requests if r.headers.get("Stripe-Account") == "acct_1Bravo"]
    assert 1 <= len(tried) <= 2


def test_a_listed_account_stripe_refuses_still_stops_the_run(double):
    refused = no_account_access("sk_test_double", "acct_1Bravo")
    double.inject("/v1/", status=403, body=refused.body, times=1000, account="acct_1Bravo")
    config = base_config(double.url, account_ids=["acct_1Alpha", "acct_1Bravo"])
    with pytest.raises(Exception, match="acct_1Bravo"):
        run_tap(config, streams={"charges"})


@pytest.mark.parametrize("shards", [2, 3])
def test_the_shards_together_read_every_account_exactly_once(double, shards):
    config = base_config(double.url, connected_accounts="all")
    whole = run_tap(config, streams={"charges", "prices"})
    records = Counter[tuple[str, str | None, str]]()
    partitions: list[str | None] = []
    for index in range(shards):
        part = run_tap({**config, "account_shard": f"{index}/{shards}"}, streams={"charges"})
        records.update((r["id"], r["account_id"], "charges") for r in part.records())
        accounts = list(partition_bookmarks(part)) if part.states else []  # an empty shard
        partitions += accounts
        assert all(shard_of(a, shards) == index for a in accounts)
        if index == 0:
            assert None in accounts  # the platform's own account is shard 0's
    expected = Counter((r["id"], r["account_id"], "charges") for r in whole.records("charges"))
    assert records == expected  # nothing twice, nothing missing
    assert sorted(partitions, key=str) == sorted(partition_bookmarks(whole), key=str)
    assert len(partitions) == len(set(partitions))


def test_listed_accounts_are_sharded_too_and_a_shard_without_accounts_reads_nothing(double):
    config = base_config(double.url, account_ids=list(CONNECTED))
    owners = {shard_of(a, 8) for a in CONNECTED}
    empty = next(i for i in range(8) if i not in owners)
    run = run_tap({**config, "account_shard": f"{empty}/8"}, streams={"charges"})
    assert run.records() == []
    assert not [r for r in double.requests if r.path == "/v1/charges"]
    # without accounts the key's own account is read by shard 0 only
    plain = base_config(double.url)
    assert run_tap({**plain, "account_shard": "1/2"}, streams={"charges"}).records() == []
    assert by_account(run_tap({**plain, "account_shard": "0/2"}, streams={"charges"})) == {
        None: charge_ids(double)
    }


def test_an_accounts_shard_is_fixed_by_its_id_alone() -> None:
    # SHA-256 of the id: the same in every process; changing it would move accounts between
    # shards and so between states.
    assert [shard_of(f"acct_{n}", 5) for n in range(8)] == [2, 4, 1, 1, 2, 0, 3, 3]
    assert shard_of(None, 7) == 0


def test_switching_from_listed_to_all_keeps_the_listed_accounts_bookmarks(double):
    listed = base_config(double.url, account_ids=["acct_1Alpha", "acct_1Bravo"])
    first = run_tap(listed, streams={"charges"})
    assert set(by_account(first)) == {"acct_1Alpha", "acct_1Bravo"}
    config = base_config(double.url, connected_accounts="all")
    second = run_tap(config, state=first.final_state, streams={"charges"})
    # the listed accounts resume (nothing new); the others, and the platform, start over
    assert by_account(second) == {
        None: charge_ids(double),
        "acct_1Charlie": charge_ids(double, "acct_1Charlie"),
    }
