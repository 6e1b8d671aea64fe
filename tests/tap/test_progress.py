"""Long reads tell a person how far each stream has got (progress.py): records, rate, the share
of the created range read and the time the rest takes; a live line on a terminal."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest
from tap_stripe_xdm.progress import ERASE_LINE, PartitionProgress, Progress
from tap_stripe_xdm.tap import TapStripeXdm

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config, run_tap

PROGRESS_LINE = re.compile(
    r"^Progress charges: (?P<records>[\d,]+) records \((?P<rate>[\d,]+)/s\)"
    r"(; created range (?P<percent>\d+)% read(, about .+ left)?)?$"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_partition_tells_its_records_rate_share_read_and_time_left() -> None:
    clock = Clock()
    partition = PartitionProgress("charges", clock)
    unread = [100]
    clock.now += 5  # the plan and the changes took 5 s
    partition.reading_range(100, lambda: unread[0])
    partition.add(600)
    partition.add(400)
    clock.now += 20
    unread[0] = 60  # 40 of the range's 100 seconds read in 20 s: the other 60 take 30 s
    assert partition.describe(clock.now) == (
        "1,000 records (40/s); created range 40% read, about 30 s left"
    )
    assert partition.short(clock.now) == "charges 1,000 (40%, 30 s left)"


def test_before_the_created_range_only_records_and_rate_are_told() -> None:
    clock = Clock()
    partition = PartitionProgress("charges of acct_1", clock)
    partition.add(30)
    clock.now += 10
    assert partition.describe(clock.now) == "30 records (3/s)"
    assert partition.short(clock.now) == "charges of acct_1 30"


def test_long_times_left_are_told_in_minutes_and_hours() -> None:
    clock = Clock()
    partition = PartitionProgress("charges", clock)
    unread = [1000]
    partition.reading_range(1000, lambda: unread[0])
    clock.now += 100
    unread[0] = 900  # 10 % in 100 s: 900 s left
    assert partition.describe(clock.now).endswith("about 15 min 0 s left")
    unread[0] = 990  # 1 % in 100 s: 9,900 s left
    assert partition.describe(clock.now).endswith("about 2 h 45 min left")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_live_line_is_redrawn_in_place_and_erased_at_the_end(caplog) -> None:
    terminal = Terminal()
    clock = Clock()
    progress = Progress(10, logging.getLogger("test-progress"), stream=terminal, clock=clock)
    with (
        caplog.at_level(logging.INFO),
        progress.track("charges") as charges,
        progress.track("customers") as customers,
    ):
        charges.add(100)
        customers.add(7)
        clock.now += 1
        progress.report()
        charges.add(100)
        progress.report()
        progress.erase_live_line()
    assert terminal.getvalue() == (
        f"\r{ERASE_LINE}charges 100 | customers 7\r"
        f"\r{ERASE_LINE}charges 200 | customers 7\r"
        f"{ERASE_LINE}"
    )
    assert not caplog.records  # no log line besides


def test_off_a_terminal_each_partition_gets_a_plain_log_line(caplog) -> None:
    pipe = io.StringIO()
    clock = Clock()
    progress = Progress(10, logging.getLogger("test-progress"), stream=pipe, clock=clock)
    with caplog.at_level(logging.INFO), progress.track("charges") as charges:
        charges.add(20)
        clock.now += 2
        progress.report()
    assert [r.getMessage() for r in caplog.records] == ["Progress charges: 20 records (10/s)"]
    assert pipe.getvalue() == ""


def written_records(tap: TapStripeXdm, counts: dict[str, int]) -> None:
    """Count the RECORD messages the tap writes, per stream, as it writes them."""
    write = tap.message_writer.write_message

    def counting(message: Any) -> None:
        write(message)
        if getattr(message, "type", None) == "RECORD":
            counts[message.stream] = counts.get(message.stream, 0) + 1

    tap.message_writer.write_message = counting  # type: ignore[method-assign]


@pytest.mark.parametrize("interval", [0.2, 0])
def test_a_read_longer_than_the_interval_logs_true_progress_lines_unless_off(
    interval: float, caplog
) -> None:
    written: dict[str, int] = {}
    snapshots: list[tuple[str, int]] = []  # each progress line, with the records written by then

    class Snapshot(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("Progress "):
                snapshots.append((record.getMessage(), written.get("charges", 0)))

    handler = Snapshot()
    logging.getLogger("tap-stripe-xdm").addHandler(handler)
    try:
        # 20 ms per answer, 2 cursors: the read of 2,000 charges takes well over 0.2 s
        with StripeDouble(latency=0.02) as stripe, caplog.at_level(logging.INFO):
            stripe.seed({"charges": 2000}, start=SEEDED_START, end=SEEDED_END, seed=4)
            config = base_config(
                stripe.url, max_concurrency=2, progress_interval_seconds=str(interval)
            )
            run = run_tap(
                config, streams={"charges"}, prepare=lambda tap: written_records(tap, written)
            )
    finally:
        logging.getLogger("tap-stripe-xdm").removeHandler(handler)
    assert len(run.records("charges")) == 2000
    assert any(r.getMessage().startswith("Read 2,000 charges in ") for r in caplog.records)
    if interval == 0:
        assert snapshots == []
        return
    assert snapshots, "no progress line"
    counts, percents = [], []
    for message, written_by_then in snapshots:
        match = PROGRESS_LINE.match(message)
        assert match, message
        records = int(match["records"].replace(",", ""))
        # what the line says was emitted had been written (a page at a time, so it may
        # trail by the page being written, never lead)
        assert records <= written_by_then, (message, written_by_then)
        counts.append(records)
        if match["percent"] is not None:
            percents.append(int(match["percent"]))
    assert counts == sorted(counts)
    assert counts[-1] > 0
    assert percents == sorted(percents)
    assert percents
    assert all(0 <= p <= 100 for p in percents)
