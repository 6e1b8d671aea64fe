"""Ctrl-C of the target on its own, in a terminal: one line, exit code 130, no traceback; no
STATE beyond the records it placed, so the next run continues from its last STATE."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path

from tests.target.test_timely_state import charges, singer_lines
from tests.terminal import ctrl_c_when

LINE = (
    "interrupted (SIGINT): stopping; records after the last STATE printed are sent again by the"
    " next run"
)


def printed_states(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_ctrl_c_stops_the_target_with_one_line_and_no_state_past_the_records_it_placed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "tenant_id": "acme",
                "output_dir": str(out),
                "batch_size_rows": 500,
                "drain_max_age_seconds": 0.2,
            }
        )
    )
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    states = tmp_path / "states"
    stop = threading.Event()

    def tap() -> None:  # 1,200 records, a STATE every 100, then a tap that waits on its API
        with contextlib.suppress(BrokenPipeError), fifo.open("w") as pipe:
            pipe.writelines(singer_lines(charges(0, 1_200), state_every=100))
            pipe.flush()
            stop.wait(120)

    feeder = threading.Thread(target=tap, daemon=True)
    feeder.start()
    command = f"exec {sys.executable} -m target_aep.target --config {config} < {fifo} > {states}"
    try:
        run = ctrl_c_when(
            ["sh", "-c", command],
            lambda _: any(s.get("n") == 1_200 for s in printed_states(states)),
            env={**os.environ, "COLUMNS": "200"},
            cwd=tmp_path,
        )
    finally:
        stop.set()
        feeder.join(timeout=10)

    assert run.exit_code == 130, run.after
    assert run.after.count(LINE) == 1, run.after
    assert run.noise() == [], run.after
    assert "draining all sinks" not in run.after  # the SDK's handler is replaced
    last = printed_states(states)[-1]["n"]
    manifest = json.loads((out / "charges" / "manifest.json").read_text())
    written = {
        json.loads(line)["_id"]
        for path in (out / "charges").glob("part-*.json")
        for line in path.read_text().splitlines()
    }
    assert manifest["total_records"] >= last
    assert len(written) == manifest["total_records"]
