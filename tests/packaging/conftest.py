"""Fixtures for the packaging tests: the built distributions, each wheel in its own clean venv,
the Stripe emulator served from its wheel, and the installed tap's output against it."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.interop.singer_pipe import Messages
from tests.packaging.distributions import (
    PROJECTS,
    CleanVenv,
    Distributions,
    build_all,
    clean_env,
    install_alone,
)

EMULATOR_KEY = "sk_test_packaging"
# A month of data ending two days ago: the tap's visibility lag cuts nothing off.
EMULATOR_END = int(time.time()) - 2 * 86_400
EMULATOR_START = EMULATOR_END - 30 * 86_400
SEED_COUNTS = "charges=12,customers=5,subscriptions=4,refunds=3,balance_transactions=10,prices=3"


@pytest.fixture(scope="session")
def distributions(tmp_path_factory) -> dict[str, Distributions]:
    return build_all(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def venvs(distributions, tmp_path_factory) -> dict[str, CleanVenv]:
    root = tmp_path_factory.mktemp("venvs")
    return {p: install_alone(distributions[p].wheel, root / p) for p in PROJECTS}


@pytest.fixture(scope="session")
def emulator_url(venvs) -> Iterator[str]:
    """The Stripe emulator, started from its own installed wheel."""
    process = subprocess.Popen(
        [
            venvs["stripe-emulator"].command("stripe-emulator"),
            *("--port", "0", "--api-key", EMULATOR_KEY, "--seed-counts", SEED_COUNTS),
            *("--start", str(EMULATOR_START), "--end", str(EMULATOR_END)),
        ],
        cwd=venvs["stripe-emulator"].root,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"the emulator printed {url!r}"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def tap_config(emulator_url: str) -> dict:
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EMULATOR_START - 86_400))
    return {"api_key": EMULATOR_KEY, "api_url": emulator_url, "start_date": start}


@pytest.fixture(scope="session")
def tap_output(venvs, emulator_url, tmp_path_factory) -> Messages:
    """What the installed tap writes for a full read of the emulator's data."""
    config = tmp_path_factory.mktemp("tap") / "config.json"
    config.write_text(json.dumps(tap_config(emulator_url)))
    tap = venvs["tap-stripe-xdm"]
    result = tap.run(tap.command("tap-stripe-xdm"), "--config", str(config))
    return Messages(result.stdout.encode())
