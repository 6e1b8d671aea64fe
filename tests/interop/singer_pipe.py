"""Running Singer plugins as processes: taps, targets, their messages and what they wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.interop.foreign_venv import ForeignVenv

PROJECT_BIN = Path(sys.executable).parent
LAUNCHER = Path(__file__).with_name("singer_io_launcher.py")
TIMEOUT_SECONDS = 300


@dataclass
class Messages:
    raw: bytes

    @property
    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw.splitlines() if line.strip()]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.parsed
            if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    def record_counts(self) -> Counter[str]:
        return Counter(m["stream"] for m in self.parsed if m["type"] == "RECORD")

    def streams_with_schema(self) -> set[str]:
        return {m["stream"] for m in self.parsed if m["type"] == "SCHEMA"}

    def last_state(self) -> dict[str, Any]:
        """The last STATE a tap sent."""
        states = [m["value"] for m in self.parsed if m["type"] == "STATE"]
        assert states, "no STATE message"
        return states[-1]

    def target_state(self) -> dict[str, Any]:
        """The state a target printed last (targets print the bare state value)."""
        assert self.parsed, "the target printed no state"
        return self.parsed[-1]


def run(command: list[str], *, stdin: bytes = b"", env: dict[str, str] | None = None, cwd=None):
    """Run one plugin process; fail the test with its stderr when it exits non-zero."""
    result = subprocess.run(
        [str(part) for part in command],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{Path(str(command[0])).name} exited {result.returncode}:\n"
            f"{result.stderr.decode(errors='replace')[-6000:]}"
        )
    return result


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


# --- singer-io's tap-stripe -------------------------------------------------------------------


def singer_io_catalog(
    venv: ForeignVenv, config: Path, env: dict[str, str], streams: set[str]
) -> dict[str, Any]:
    """The tap's discovered catalog with `streams` selected (stream-level metadata)."""
    discovered = run([venv.python, LAUNCHER, "--config", config, "--discover"], env=env)
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_singer_io(
    venv: ForeignVenv,
    *,
    stripe_url: str,
    account_id: str,
    start_date: str,
    streams: set[str],
    folder: Path,
    state: dict[str, Any] | None = None,
) -> Messages:
    """singer-io's tap-stripe against the Stripe API at `stripe_url`, in sync mode."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["STRIPE_API_BASE"] = stripe_url
    config = write_json(
        folder / "singer_io_config.json",
        {"client_secret": "sk_test_double", "account_id": account_id, "start_date": start_date},
    )
    catalog = write_json(
        folder / "singer_io_catalog.json", singer_io_catalog(venv, config, env, streams)
    )
    command = [venv.python, LAUNCHER, "--config", config, "--catalog", catalog]
    if state is not None:
        command += ["--state", write_json(folder / "singer_io_state.json", state)]
    return Messages(run(command, env=env).stdout)


# --- this project's plugins -------------------------------------------------------------------


def run_tap_stripe_xdm(config: dict[str, Any], folder: Path, state=None) -> Messages:
    command = [PROJECT_BIN / "tap-stripe-xdm", "--config", write_json(folder / "tap.json", config)]
    if state is not None:
        command += ["--state", write_json(folder / "tap_state.json", state)]
    return Messages(run(command).stdout)


def run_target_aep(config: dict[str, Any], messages: Messages, folder: Path) -> Messages:
    command = [PROJECT_BIN / "target-aep", "--config", write_json(folder / "target.json", config)]
    return Messages(run(command, stdin=messages.raw).stdout)


def run_foreign_target(
    venv: ForeignVenv, executable: str, config: dict[str, Any], messages: Messages, folder: Path
) -> Messages:
    config_path = write_json(folder / f"{executable}.json", config)
    return Messages(
        run([venv.executable(executable), "--config", config_path], stdin=messages.raw).stdout
    )


def xdm_rows(output_dir: Path, stream: str) -> list[dict[str, Any]]:
    """What target-aep's files destination wrote for `stream` (all parts, in manifest order)."""
    folder = output_dir / stream
    if not folder.exists():
        return []
    manifest = json.loads((folder / "manifest.json").read_text())
    rows: list[dict[str, Any]] = []
    for entry in manifest["files"]:
        rows.extend(json.loads(line) for line in (folder / entry["name"]).read_text().splitlines())
    return rows


def run_summary(output_dir: Path) -> dict[str, Any]:
    return json.loads((output_dir / "run_summary.json").read_text())["streams"]


def dead_letters(output_dir: Path) -> list[dict[str, Any]]:
    path = output_dir / "dead_letter.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
