"""The `stripe-emulator` command: prints its URL first, serves the seeded data, stops cleanly."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.stripe_emulator.emulator_client import KEY, T0

COMMANDS = {
    "console script": [str(Path(sys.executable).with_name("stripe-emulator"))],
    "python -m": [sys.executable, "-m", "stripe_emulator"],
}


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_command_line_serves_seeded_data_and_prints_its_url_first(command, tmp_path):
    arguments = ["--port", "0", "--seed-counts", "charges=30,customers=5"]
    arguments += ["--start", str(T0), "--end", str(T0 + 3600)]
    process = subprocess.Popen(
        [*command, *arguments],
        cwd=tmp_path,  # anywhere: the command needs no repository around it
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        # what it serves, for a person: counts and the created range in ISO 8601
        assert process.stderr.readline().strip() == (
            f"stripe-emulator serving 30 charges, 5 customers, created from "
            f"{iso(T0)} to {iso(T0 + 3600)}"
        )
        assert url.startswith("http://127.0.0.1:")
        answer = requests.get(
            url + "/v1/charges",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        assert len(answer.json()["data"]) == 30
        assert all(T0 <= charge["created"] < T0 + 3600 for charge in answer.json()["data"])
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


@pytest.mark.parametrize("counts", ["invoices=5", "charges=many", "charges"])
def test_bad_seed_counts_stop_with_a_message_naming_the_resources(counts):
    result = subprocess.run(
        [*COMMANDS["python -m"], "--port", "0", "--seed-counts", counts],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"bad seed count {counts!r}" in result.stderr
    assert "'balance_transactions', 'charges', 'customers'" in result.stderr


def test_command_line_enforces_limits_and_counts_its_429s_at_exit(tmp_path):
    process = subprocess.Popen(
        [*COMMANDS["python -m"], "--port", "0", "--endpoint-rate-limit", "2", "--rate-limit", "50"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        statuses = [
            requests.get(
                url + "/v1/charges", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
            ).status_code
            for _ in range(6)
        ]
        assert 429 in statuses
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"answered {statuses.count(429)} 429s" in err
