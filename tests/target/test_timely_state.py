"""STATE as soon as it is true (sdk_adapters.TimelyState): drains by size and by age, each
followed by the STATE it made true, never a STATE before its records are placed; and what that
does for a rerun after `kill -9`.

The process tests run `target-aep` as Meltano does: a child process fed through a pipe, its
STATE lines read as it prints them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from target_aep import sdk_adapters
from target_aep.sdk_adapters import PendingStates

from tests.target.examples import example, singer_schema

# --- which STATE is true (the bookkeeping alone) ---------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_state_with_no_record_waiting_is_true_at_once():
    pending = PendingStates()
    pending.state_received({"n": 1})
    assert pending.take_true() == {"n": 1}
    assert pending.take_true() is None  # printed once


def test_a_state_waits_for_every_sink_holding_records_from_before_it():
    pending = PendingStates()
    pending.holding("charges")
    pending.state_received({"n": 1})
    pending.holding("refunds")  # after STATE 1: does not hold it back
    pending.state_received({"n": 2})
    assert pending.take_true() is None
    pending.placed("refunds")
    assert pending.take_true() is None  # charges still holds records from before STATE 1
    pending.placed("charges")
    assert pending.take_true() == {"n": 2}


def test_a_drain_makes_true_the_states_before_the_oldest_record_still_waiting():
    pending = PendingStates()
    pending.holding("charges")
    pending.state_received({"n": 1})
    pending.holding("refunds")
    pending.state_received({"n": 2})
    pending.placed("charges")  # refunds holds records from between STATE 1 and 2
    assert pending.take_true() == {"n": 1}
    pending.placed("refunds")
    assert pending.take_true() == {"n": 2}


def test_states_no_sink_started_between_are_superseded_so_memory_stays_flat():
    pending = PendingStates()
    pending.holding("charges")
    for n in range(10_000):
        pending.state_received({"n": n})
    assert len(pending._states) == 1
    pending.placed("charges")
    assert pending.take_true() == {"n": 9_999}


def test_the_oldest_waiting_record_gives_the_age_of_the_drain():
    clock = Clock()
    pending = PendingStates(clock)
    assert pending.oldest is None
    clock.now = 10.0
    pending.holding("charges")
    clock.now = 12.0
    pending.holding("refunds")
    pending.holding("charges")  # already holding: its oldest record stays the one at 10
    assert pending.oldest == 10.0
    pending.placed("charges")
    assert pending.oldest == 12.0
    pending.placed("refunds")
    assert pending.oldest is None


def test_input_is_waited_for_with_select_on_a_pipe_but_not_on_windows_or_a_file(
    tmp_path, monkeypatch
):
    read, write = os.pipe()
    try:
        with open(read, closefd=False) as pipe, (tmp_path / "input").open("w") as file:
            assert sdk_adapters._pipe_descriptor(pipe) == read
            assert sdk_adapters._pipe_descriptor(file) is None
            monkeypatch.setattr(sdk_adapters.os, "name", "nt")
            assert sdk_adapters._pipe_descriptor(pipe) is None
    finally:
        os.close(read)
        os.close(write)


# --- the target as a process -----------------------------------------------------------------


def charges(start: int, stop: int) -> Iterator[dict]:
    charge = example("charges")
    for n in range(start, stop):
        yield {**charge, "id": f"ch_timely_{n:06d}", "created": charge["created"] + n}


def singer_lines(records: Iterable[dict], state_every: int, start: int = 0) -> Iterator[str]:
    """SCHEMA, then the records with a STATE (`{"n": records so far}`) after every
    `state_every`, as a tap writes them."""
    message = {"type": "SCHEMA", "stream": "charges", "schema": singer_schema("charges"),
               "key_properties": ["id"]}  # fmt: skip
    yield json.dumps(message) + "\n"
    n = start
    for record in records:
        yield json.dumps({"type": "RECORD", "stream": "charges", "record": record}) + "\n"
        n += 1
        if n % state_every == 0:
            yield json.dumps({"type": "STATE", "value": {"n": n}}) + "\n"


class TargetProcess:
    """`target-aep` in a child process with a pipe for input and its STATE lines as printed."""

    def __init__(self, tmp_path: Path, **settings) -> None:
        self.out = tmp_path / "out"
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"tenant_id": "acme", "output_dir": str(self.out),
                                      **settings}))  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "target_aep.target", "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.states: list[tuple[dict, int]] = []  # each STATE, with the records placed then
        self._reader = threading.Thread(target=self._read_states, daemon=True)
        self._reader.start()

    def _read_states(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.states.append((json.loads(line), self.placed()))

    def placed(self) -> int:
        """Records in the files the manifest lists (each complete, renamed into place)."""
        manifest = self.out / "charges" / "manifest.json"
        if not manifest.exists():
            return 0
        return json.loads(manifest.read_text())["total_records"]

    def feed(self, lines: Iterable[str]) -> None:
        assert self.process.stdin is not None
        for line in lines:
            self.process.stdin.write(line)
        self.process.stdin.flush()

    def wait_for_state(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.states) < count:
            assert time.monotonic() < deadline, f"only {len(self.states)} STATE(s) printed"
            assert self.process.poll() is None, "the target stopped"
            time.sleep(0.02)

    def finish(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(timeout=120) == 0
        self._reader.join(timeout=10)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)


def written_ids(out: Path) -> list[str]:
    return [
        json.loads(line)["_id"]
        for path in sorted((out / "charges").glob("part-*.json"))
        for line in path.read_text().splitlines()
    ]


def test_40000_records_to_files_print_state_after_each_drain_each_once_its_records_are_placed(
    tmp_path,
):
    # drains by size only here, and every STATE printed as soon as it is true
    target = TargetProcess(tmp_path, drain_max_age_seconds=3600, state_min_interval_seconds=0)
    target.feed(singer_lines(charges(0, 40_000), state_every=500))
    target.finish()
    states = [state["n"] for state, _ in target.states]
    # After each drain of 10,000 (batch_size_rows), as its files are placed, not once at the
    # end: the newest STATE the drain made true (the 9,500th record's), then the 10,000th
    # record's STATE at once, as it arrives after the drain with no record waiting.
    assert states == [9_500, 10_000, 19_500, 20_000, 29_500, 30_000, 39_500, 40_000]
    for state, placed in target.states:
        assert placed >= state["n"]  # never before its records are in listed files
    assert len(set(written_ids(target.out))) == 40_000


def test_a_trickle_gets_its_state_within_the_age_bound_while_no_input_arrives(tmp_path):
    target = TargetProcess(tmp_path, drain_max_age_seconds=0.5)
    lines = list(singer_lines(charges(0, 9), state_every=3))
    target.feed(lines[:5])  # SCHEMA, three records, STATE 3; then the input pauses
    started = time.monotonic()
    target.wait_for_state(1, timeout=30)
    assert target.states[0][0] == {"n": 3}
    assert target.states[0][1] >= 3
    target.feed(lines[5:9])  # two more records and STATE 6 (with the paused one, 3 records)
    target.wait_for_state(2, timeout=30)
    waited = time.monotonic() - started
    assert target.states[1][0] == {"n": 6}
    assert target.states[1][1] >= 6
    assert waited < 20  # far from the SDK's 5 minutes
    target.feed(lines[9:])
    target.finish()
    assert [state for state, _ in target.states] == [{"n": 3}, {"n": 6}, {"n": 9}]
    assert target.states[-1][1] == 9


def state_lines(count: int) -> list[str]:
    """SCHEMA, then `count` STATEs with no record between them (a tap's empty windows)."""
    message = {"type": "SCHEMA", "stream": "charges", "schema": singer_schema("charges"),
               "key_properties": ["id"]}  # fmt: skip
    states = (json.dumps({"type": "STATE", "value": {"n": n}}) + "\n" for n in range(1, count + 1))
    return [json.dumps(message) + "\n", *states]


def test_states_coming_faster_than_the_interval_are_printed_once_per_interval_newest_first(
    tmp_path,
):
    target = TargetProcess(tmp_path, state_min_interval_seconds=0.5)
    target.feed(state_lines(300))  # all true at once (no record waits), within milliseconds
    # the first at once; the newest once the interval has passed, while the input stays open
    target.wait_for_state(2, timeout=30)
    assert [state for state, _ in target.states] == [{"n": 1}, {"n": 300}]
    target.finish()
    assert len(target.states) == 2


def test_state_min_interval_0_prints_every_true_state_at_once(tmp_path):
    target = TargetProcess(tmp_path, state_min_interval_seconds=0)
    target.feed(state_lines(300))
    target.finish()
    assert [state["n"] for state, _ in target.states] == list(range(1, 301))


def test_kill_9_mid_run_then_a_rerun_from_the_last_state_re_sends_little(tmp_path):
    total, every = 20_000, 250
    first = TargetProcess(tmp_path, batch_size_rows=2_000, drain_max_age_seconds=0.5)
    first.feed(singer_lines(charges(0, 13_000), state_every=every))
    # STATEs follow the drains, at most one a second (state_min_interval_seconds): wait for
    # the one of the last full drain, then let the records after it come due by age
    deadline = time.monotonic() + 60
    while not first.states or first.states[-1][0]["n"] < 12_000:
        assert time.monotonic() < deadline, f"STATEs printed: {first.states}"
        time.sleep(0.05)
    time.sleep(1.0)
    first.kill()  # mid-run: input still open, records in flight
    resume = max(state["n"] for state, _ in first.states)
    assert resume >= 10_000
    second = TargetProcess(tmp_path)
    second.feed(singer_lines(charges(resume, total), state_every=every, start=resume))
    second.finish()
    ids = written_ids(first.out)
    assert len(set(ids)) == total  # nothing lost
    re_sent = len(ids) - total
    assert re_sent <= 0.05 * total, f"{re_sent} records written twice"


def test_no_stray_file_is_left_after_a_kill(tmp_path):
    """What a kill mid-write leaves (a temporary dot-file) is removed by the next run."""
    folder = tmp_path / "out" / "charges"
    folder.mkdir(parents=True)
    (folder / ".tmp-part-x.json").write_text("{")
    target = TargetProcess(tmp_path)
    target.feed(singer_lines(charges(0, 3), state_every=3))
    target.finish()
    assert not list(folder.glob(".tmp-*"))
    assert os.path.exists(folder / "manifest.json")
