"""Ctrl-C of the tap on its own, in a terminal: one line, exit code 130, no traceback, no
retry, its threads stopped; what it wrote is whole messages and a rerun from its last STATE
brings every object (nothing skipped)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config, parse_lines, run_tap
from tests.terminal import ctrl_c_when

LINE = "interrupted (SIGINT): stopping; the next run continues from the last saved bookmarks"


def records_written(path: Path) -> int:
    return path.read_bytes().count(b'"type":"RECORD"') if path.exists() else 0


def test_ctrl_c_stops_the_tap_with_one_line_and_a_rerun_from_its_last_state_misses_nothing(
    tmp_path: Path,
) -> None:
    with StripeDouble(latency=0.01) as double:
        double.seed({"charges": 3_000}, start=SEEDED_START, end=SEEDED_END, seed=7)
        # 10 requests a second for ~30 pages of charges alone: seconds of reading, so the
        # Ctrl-C lands while every window worker waits on a page or on the limiter
        config = base_config(
            double.url, window_size_days=15, max_concurrency=4, max_requests_per_second=10
        )
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config))
        out = tmp_path / "out.jsonl"
        command = f"exec {sys.executable} -m tap_stripe_xdm.tap --config {config_file} > {out}"

        run = ctrl_c_when(
            ["sh", "-c", command],
            lambda _: records_written(out) >= 300,
            env={**os.environ, "COLUMNS": "200"},
            cwd=tmp_path,
        )

        assert run.exit_code == 130, run.after
        assert run.after.count(LINE) == 1, run.after
        assert run.noise() == [], run.after
        assert "Gracefully shutting down" not in run.after  # the SDK's handler is replaced
        messages = parse_lines(out.read_bytes())  # every line a whole message
        states = [m["value"] for m in messages if m["type"] == "STATE"]
        read = {m["record"]["id"] for m in messages if m["type"] == "RECORD"}
        every = {c["id"] for c in double.objects("charges")}
        assert 0 < len(read & every) < len(every), "the Ctrl-C must land mid-read"

        resumed = run_tap(config, state=states[-1], streams={"charges"})

        assert (read | set(resumed.ids("charges"))) >= every
