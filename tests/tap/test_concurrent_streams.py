"""All selected streams (and Connect accounts) are read at the same time, under one limiter,
and the output stays valid Singer: each stream's SCHEMA before its records, one writer, and
every STATE covering only records already printed, for every stream."""

from __future__ import annotations

import itertools
import json
import logging
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.resources import RESOURCES
from tap_stripe_xdm.sdk_adapters import Baton, RunStoppedError

from tests.doubles.stripe_api import StripeDouble
from tests.tap.singer_output import assert_states_behind_output, bookmark
from tests.tap.tap_run import (
    SEEDED_END,
    SEEDED_START,
    TapRun,
    base_config,
    kill_after,
    run_tap,
)

STREAMS = [resource.name for resource in RESOURCES]
COUNTS = {
    "charges": 1_500,
    "balance_transactions": 600,
    "customers": 500,
    "subscriptions": 120,
    "refunds": 300,
    "prices": 200,
}


def seeded(double: StripeDouble, seed: int = 3) -> StripeDouble:
    double.seed(COUNTS, start=SEEDED_START, end=SEEDED_END, seed=seed)
    return double


def created_by_id(double: StripeDouble) -> dict[str, dict[str, int]]:
    return {s: {o["id"]: o["created"] for o in double.objects(s)} for s in STREAMS}


def assert_valid_singer(run: TapRun, objects: dict[str, dict[str, int]]) -> None:
    """SCHEMA before the first RECORD of its stream; every STATE behind emitted records."""
    schema_seen: set[str] = set()
    for message in run.messages:
        if message["type"] == "SCHEMA":
            schema_seen.add(message["stream"])
        elif message["type"] == "RECORD":
            assert message["stream"] in schema_seen, "a RECORD before its stream's SCHEMA"
    states, _ = assert_states_behind_output(run, objects)
    assert states > len(STREAMS), "bookmarks should move during the run, not only at its end"


def test_streams_are_read_at_the_same_time_and_output_stays_valid_singer() -> None:
    with seeded(StripeDouble(latency=0.02)) as double:
        config = base_config(double.url, max_concurrency=2, window_size_days=20)
        run = run_tap(config)
        objects = created_by_id(double)
    for stream in STREAMS:
        assert set(run.ids(stream)) == set(objects[stream]), stream
    assert_valid_singer(run, objects)
    # interleaved: pages of different streams alternate (read one after another, the
    # records would change stream 5 times)
    order = [m["stream"] for m in run.messages if m["type"] == "RECORD"]
    changes = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert changes > 2 * len(STREAMS), "streams were read one after another"


def test_max_concurrent_partitions_1_reads_streams_one_after_another() -> None:
    with seeded(StripeDouble()) as double:
        run = run_tap(base_config(double.url, max_concurrent_partitions=1))
    order = [m["stream"] for m in run.messages if m["type"] == "RECORD"]
    blocks = [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s]
    assert sorted(blocks) == sorted(STREAMS), "each stream's records in one block"


def test_connect_accounts_are_read_at_the_same_time() -> None:
    with StripeDouble(latency=0.02) as double:
        for account in ("acct_1A", "acct_1B"):
            double.add_account(account)
            double.seed({"charges": 600}, start=SEEDED_START, end=SEEDED_END, account=account)
        config = base_config(double.url, account_ids=["acct_1A", "acct_1B"], max_concurrency=1)
        run = run_tap(config, streams={"charges"})
    order = [r["account_id"] for r in run.records()]
    assert order.count("acct_1A") == order.count("acct_1B") == 600
    first_b, last_a = order.index("acct_1B"), len(order) - 1 - order[::-1].index("acct_1A")
    assert first_b < last_a, "the accounts were read one after another"


# The double's limits (global, per endpoint) and the tap's at 80 % of them: the margin a user
# leaves, so that a stall of this shared machine (a GIL pause, say) bunching a second's requests
# cannot trip the double either. In each case one lane binds: without it the tap would exceed
# the double's limit by far (80 requests/s to one endpoint allowed 12; 6 endpoints at 25/s).
LIMIT_CASES = {
    "per endpoint": ((100, 12), (80, 9.6)),
    "global": ((30, 100), (24, 25)),
}


@pytest.mark.parametrize("binding", sorted(LIMIT_CASES))
def test_the_limiter_never_trips_the_doubles_enforced_limits(binding: str) -> None:
    (double_global, double_endpoint), (tap_global, tap_endpoint) = LIMIT_CASES[binding]
    limits = {"max_requests_per_second": tap_global,
              "max_requests_per_second_per_endpoint": tap_endpoint}  # fmt: skip
    enforced = {"rate_limit_per_second": double_global,
                "endpoint_rate_limit_per_second": double_endpoint}  # fmt: skip
    with seeded(StripeDouble(latency=0.03, **enforced)) as double:
        taps: list[Any] = []
        run = run_tap(base_config(double.url, **limits), prepare=taps.append)
        assert double.rate_limited == 0
        assert taps[0].runtime.api.counts().rate_limited == 0
        assert len(run.records()) == sum(COUNTS.values())


def test_a_tap_allowed_more_than_the_account_gets_429s_and_still_reads_everything() -> None:
    """The control of the test above: the double's limits are real."""
    with seeded(
        StripeDouble(latency=0.03, rate_limit_per_second=30, endpoint_rate_limit_per_second=12)
    ) as double:
        over = {"max_requests_per_second": 100, "max_requests_per_second_per_endpoint": 100}
        run = run_tap(base_config(double.url, max_retries=40, **over))
        assert double.rate_limited > 0
        assert len(run.records()) == sum(COUNTS.values()), "429s are retried, slowed down"


def test_one_failing_stream_stops_the_run_without_moving_its_bookmark() -> None:
    with seeded(StripeDouble(latency=0.01)) as double:
        double.inject("/v1/refunds", status=400, times=1_000)
        with pytest.raises(StripeRequestError, match="HTTP 400") as caught:
            run_tap(base_config(double.url))
        failed: TapRun = caught.value.tap_run  # type: ignore[attr-defined]
        objects = created_by_id(double)
    assert failed.records("refunds") == []
    assert all(bookmark(state, "refunds") is None for state in failed.states)
    assert_valid_singer_prefix(failed, objects)


def assert_valid_singer_prefix(run: TapRun, objects: dict[str, dict[str, int]]) -> None:
    """A run cut short: every STATE it printed is still behind the records it wrote."""
    assert_states_behind_output(run, objects)


def test_kill_9_mid_run_then_resume_from_the_last_state_loses_nothing(tmp_path: Path) -> None:
    with seeded(StripeDouble(latency=0.01), seed=9) as double:
        # 40 requests/s for ~60 requests: the run lasts seconds, the kill lands inside it
        config = base_config(double.url, max_concurrency=2, max_requests_per_second=40)
        config["window_size_days"] = 20
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config))
        tap = subprocess.Popen(
            [sys.executable, "-m", "tap_stripe_xdm.tap", "--config", str(config_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        killed = kill_after(tap, records=1_200, states=6)
        assert 0 < len(killed.records()) < sum(COUNTS.values()), "the kill must land mid-run"
        objects = created_by_id(double)
        assert_valid_singer_prefix(killed, objects)
        last_state = killed.final_state
        resumed = run_tap(config, state=last_state)
    for stream in STREAMS:
        assert set(killed.ids(stream)) | set(resumed.ids(stream)) == set(objects[stream])
        mark = bookmark(last_state, stream)
        if mark is not None:  # only objects at or after the bookmark are read again
            if stream == "balance_transactions":  # and those its lookback re-reads, by design
                mark -= 14 * 86_400
            repeated = set(killed.ids(stream)) & set(resumed.ids(stream))
            assert all(objects[stream][i] >= mark for i in repeated), stream


# --- the baton -------------------------------------------------------------------------------


def test_baton_is_handed_over_in_arrival_order() -> None:
    baton = Baton()
    baton.acquire()
    order: list[int] = []
    arrived = [threading.Event() for _ in range(3)]

    def waiter(n: int) -> None:
        arrived[n].set()
        baton.acquire()
        order.append(n)
        baton.release()

    threads = []
    for n in range(3):
        thread = threading.Thread(target=waiter, args=(n,))
        thread.start()
        arrived[n].wait()
        while len(baton._waiting) < n + 1:  # queued before the next one arrives
            threading.Event().wait(0.001)
        threads.append(thread)
    baton.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == [0, 1, 2]


def test_an_urgent_partition_goes_first_but_never_twice_in_a_row_while_another_waits() -> None:
    """The critical path's partition is handed the baton before those that came earlier, and
    after it the one waiting longest: no partition starves."""
    baton = Baton()
    baton.acquire()
    order: list[str] = []
    go = {name: threading.Event() for name in ("a", "b", "u1", "u2")}

    def waiter(name: str) -> None:
        go[name].wait()
        baton.acquire(urgent=name.startswith("u"))
        order.append(name)
        baton.release()

    threads = [threading.Thread(target=waiter, args=(name,)) for name in go]
    for thread in threads:
        thread.start()
    for name in ("a", "b", "u1", "u2"):  # queued in this order
        before = len(baton._waiting) + len(baton._urgent)
        go[name].set()
        while len(baton._waiting) + len(baton._urgent) == before:
            threading.Event().wait(0.001)
    baton.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == ["u1", "a", "u2", "b"]


def test_released_lets_another_thread_write_and_is_a_no_op_when_not_held() -> None:
    baton = Baton()
    with baton.released():  # not held: nothing to release
        pass
    baton.acquire()
    wrote = threading.Event()

    def other() -> None:
        baton.acquire()
        wrote.set()
        baton.release()

    thread = threading.Thread(target=other)
    thread.start()
    with baton.released():
        assert wrote.wait(5)
    thread.join(timeout=5)
    baton.release()


def test_a_failure_stops_the_others_when_they_take_the_baton_back() -> None:
    baton = Baton()
    baton.acquire()
    baton.stop(ValueError("refunds failed"))
    with pytest.raises(RunStoppedError), baton.released():
        pass
    assert isinstance(baton.failure, ValueError)
    baton.release()


def test_each_stream_logs_its_own_requests(caplog: pytest.LogCaptureFixture) -> None:
    """Streams read at once share the run's counters; each logs the requests it made itself."""
    with seeded(StripeDouble()) as double, caplog.at_level(logging.INFO):
        run_tap(base_config(double.url, max_concurrency=1))
        listed = {
            s: sum(1 for r in double.requests if r.path == f"/v1/{s}")
            for s in ("charges", "prices")
        }
    logged = {}
    for record in caplog.records:
        found = re.fullmatch(r"Read [\d,]+ (\w+) in ([\d,]+) requests .*", record.getMessage())
        if found:
            logged[found.group(1)] = int(found.group(2).replace(",", ""))
    assert {s: logged[s] for s in listed} == listed
