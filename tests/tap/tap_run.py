"""Run the tap in-process (or as a subprocess) against the Stripe double and read its output."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap_stripe_xdm.tap import TapStripeXdm

# Objects in tests are created well before this; it keeps runs independent of the clock.
SEEDED_START = 1_700_000_000
SEEDED_END = 1_730_000_000
START_DATE = "2023-11-01T00:00:00Z"  # 1_698_796_800, before SEEDED_START


@dataclass
class TapRun:
    messages: list[dict[str, Any]] = field(default_factory=list)

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    def ids(self, stream: str | None = None) -> list[str]:
        return [r["id"] for r in self.records(stream)]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1]


def base_config(url: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "api_key": "sk_test_double",
        "api_url": url,
        "start_date": START_DATE,
        "end_date": "2025-01-01T00:00:00Z",
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.05,
    }
    config.update(overrides)
    return config


def parse_lines(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


@contextmanager
def _captured_stdout() -> Iterator[io.BytesIO]:
    buffer = io.BytesIO()
    original = sys.stdout
    sys.stdout = io.TextIOWrapper(buffer, write_through=True)
    try:
        yield buffer
    finally:
        wrapper, sys.stdout = sys.stdout, original
        wrapper.flush()
        wrapper.detach()  # keep the BytesIO open for reading


def run_tap(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    streams: set[str] | None = None,
    catalog: dict[str, Any] | None = None,
    prepare: Callable[[TapStripeXdm], None] | None = None,
) -> TapRun:
    """Sync in-process; `streams` limits the run to those streams (default: all six).

    `prepare` gets the tap before the sync (e.g. to wrap its API client).
    """
    tap = TapStripeXdm(config=config, state=state or {}, catalog=catalog, parse_env_config=False)
    if prepare is not None:
        prepare(tap)
    if streams is not None:
        for name, stream in tap.streams.items():
            stream.selected = name in streams
    with _captured_stdout() as buffer:
        try:
            tap.sync_all()
        except Exception as exc:
            sys.stdout.flush()
            exc.tap_run = TapRun(parse_lines(buffer.getvalue()))  # type: ignore[attr-defined]
            raise
    return TapRun(parse_lines(buffer.getvalue()))


def logged_settings(stderr: str) -> dict[str, Any]:
    """The settings the tap logged at start (`settings: name=<JSON value>, ...`), as a dict."""
    (line,) = [line for line in stderr.splitlines() if "settings: " in line]
    text = line[line.index("settings: ") + len("settings: ") :].rstrip()
    decoder = json.JSONDecoder()
    found: dict[str, Any] = {}
    position = 0
    while position < len(text):
        equals = text.index("=", position)
        name = text[position:equals].removeprefix(", ")
        found[name], position = decoder.raw_decode(text, equals + 1)
    return found


def charges_only_catalog(config_file: Path) -> dict:
    """The tap's discovered catalog (from its CLI) with only `charges` selected."""
    discovered = subprocess.run(
        [sys.executable, "-m", "tap_stripe_xdm.tap", "--config", str(config_file), "--discover"],
        capture_output=True,
        check=True,
    )
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "charges"
    return catalog


def kill_after(tap: subprocess.Popen[bytes], *, records: int, states: int) -> TapRun:
    """SIGKILL a running tap once it has printed `records` RECORDs and `states` STATEs; its
    complete messages (a line cut by the kill is not a message)."""
    assert tap.stdout is not None
    lines: list[bytes] = []
    seen_records = seen_states = 0
    for line in tap.stdout:
        lines.append(line)
        seen_records += b'"type":"RECORD"' in line
        seen_states += b'"type":"STATE"' in line
        if seen_records >= records and seen_states >= states:
            break
    os.kill(tap.pid, signal.SIGKILL)
    lines += tap.stdout.read().splitlines()
    tap.wait()
    assert tap.returncode == -signal.SIGKILL
    complete = [line.strip() for line in lines if line.strip().endswith(b"}")]
    return TapRun(parse_lines(b"\n".join(complete)))
