"""Long runs tell a person how far each stream has got (a log line per stream, periodically)."""

from __future__ import annotations

import logging

from tap_stripe_xdm import partition_read

from tests.tap.tap_run import base_config, run_tap


def test_a_long_read_logs_progress_with_the_count_and_the_completed_point(
    stripe_double, monkeypatch, caplog
):
    stripe_double.seed({"charges": 450}, start=1_704_067_200, end=1_704_967_200)
    monkeypatch.setattr(partition_read, "PROGRESS_EVERY_SECONDS", 0.0)  # every page, for the test
    with caplog.at_level(logging.INFO):
        run_tap(base_config(stripe_double.url), streams={"charges"})
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress")]
    assert lines, "no progress line"
    assert all(line.startswith("Progress charges: ") for line in lines)
    counts = [int(line.split(": ")[1].split()[0]) for line in lines]
    assert counts == sorted(counts)
    assert counts[-1] == 450
