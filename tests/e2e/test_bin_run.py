"""`bin/run` from a copy of the project without `tests/`, in a clean environment: the README's
no-account demo (the Stripe emulator package, then `meltano run`) needs no test code.

The copy holds what a clone holds (no venvs, no .meltano, no .env, no git, no tests/). The
environment is empty but for HOME, a PATH of the system's folders and `uv`'s, and the
variables that say how to reach the package index, so `bin/bootstrap` installs the workspace
and Meltano into the copy as on a new machine (from uv's cache when it is warm).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.meltano_project import IGNORED
from tests.shared_paths import REPO_ROOT

COUNTS = {
    "charges": 12,
    "customers": 4,
    "subscriptions": 3,
    "refunds": 2,
    "balance_transactions": 9,
    "prices": 3,
}
NOT_IN_A_CLONE = shutil.ignore_patterns("tests", ".git", ".env", ".pytest_cache", ".ruff_cache")
# How to reach the package index (and its certificates); nothing else of ours leaks in.
INDEX_VARIABLES = (
    "UV_CACHE_DIR",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NATIVE_TLS",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CERT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


def copy_without_tests(destination: Path) -> Path:
    def ignored(folder: str, names: list[str]) -> set[str]:
        return IGNORED(folder, names) | NOT_IN_A_CLONE(folder, names)

    shutil.copytree(REPO_ROOT, destination, ignore=ignored)
    return destination


def clean_environment(**extra: str) -> dict[str, str]:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: run the tests with bin/test, which installs it")
    env = {name: os.environ[name] for name in INDEX_VARIABLES if name in os.environ}
    env.update(HOME=os.environ["HOME"], PATH=f"/usr/bin:/bin:{Path(uv).parent}", **extra)
    return env


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    project = copy_without_tests(tmp_path_factory.mktemp("bin-run") / "clone")
    assert not (project / "tests").exists()
    return project


def bin_run(project: Path, counts: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bin/run"],
        cwd=project,
        env=clean_environment(STRIPE_EMULATOR_COUNTS=counts),
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_bin_run_demo_works_without_the_tests_folder(clone):
    result = bin_run(clone, ",".join(f"{name}={n}" for name, n in COUNTS.items()))

    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-8000:]
    assert "stripe-emulator serving" in result.stderr  # the emulator package answered bin/run
    summary = json.loads((clone / "output" / "run_summary.json").read_text())
    for stream, count in COUNTS.items():
        assert summary["streams"][stream]["received"] == count, stream
        assert summary["streams"][stream]["delivered"] == count, stream
        assert summary["streams"][stream]["dead_lettered"] == 0, stream
    # The table bin/run ends with: one row per stream, read / written / dead-lettered.
    table = result.stdout[result.stdout.index("==> what this run did") :]
    assert re.search(r"stream\s+read\s+written\s+dead-lettered\s+destination", table)
    for stream, count in COUNTS.items():
        assert re.search(rf"^{stream}\s+{count}\s+{count}\s+0\s+\S", table, re.MULTILINE), stream
    # bin/run stops the emulator when it ends: nothing answers at its URL any more.
    url = (clone / ".meltano" / "stripe-emulator.url").read_text().strip()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/v1/charges", timeout=5)


def test_bin_run_stops_with_a_clear_error_when_the_emulator_cannot_start(clone):
    result = bin_run(clone, "invoices=5")

    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-4000:]
    assert "bad seed count 'invoices=5'" in result.stderr  # the emulator's own message
    assert "bin/run: the Stripe emulator did not start" in result.stderr
    assert "meltano --environment" not in result.stderr  # no run against any other Stripe
