"""`bin/run` from a copy of the project without `tests/`, in a clean environment: the README's
no-account demo (the Stripe emulator package, then `meltano run`) needs no test code.

The copy holds what a clone holds (no venvs, no .meltano, no .env, no git, no tests/). The
environment is empty but for HOME, a PATH of the system's folders and `uv`'s, and the
variables that say how to reach the package index, so `bin/bootstrap` installs the workspace
and Meltano into the copy as on a new machine (from uv's cache when it is warm).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.doubles.stripe_api import StripeDouble
from tests.e2e.meltano_project import IGNORED
from tests.shared_paths import REPO_ROOT
from tests.terminal import ctrl_c_when

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


def bin_run(project: Path, counts: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bin/run", *args],
        cwd=project,
        env=clean_environment(STRIPE_EMULATOR_COUNTS=counts, **env),
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_bin_run_demo_works_without_the_tests_folder(clone):
    result = bin_run(clone, ",".join(f"{name}={n}" for name, n in COUNTS.items()))

    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-8000:]
    assert "stripe-emulator serving" in result.stderr  # the emulator package answered bin/run
    # Output through a pipe is plain text: no ANSI escape (colour, cursor) codes.
    assert "\x1b[" not in log, log[-8000:]
    summary = json.loads((clone / "output" / "local" / "run_summary.json").read_text())
    for stream, count in COUNTS.items():
        assert summary["streams"][stream]["received"] == count, stream
        assert summary["streams"][stream]["delivered"] == count, stream
        assert summary["streams"][stream]["dead_lettered"] == 0, stream
    # The summary, once: the table target-aep logs at its end (one row per stream, read /
    # written / dead-lettered), then where the same is kept.
    headers = re.findall(r"stream\s+read\s+written\s+dead-lettered\s+destination", log)
    assert len(headers) == 1, log[-8000:]
    table = log[log.index("Run summary:") :]
    for stream, count in COUNTS.items():
        row = rf"target-aep\s+{stream}\s+{count}\s+{count}\s+0\s+\S"
        assert re.search(row, table), stream
    assert "==> done: the run summary above is also in" in result.stderr.splitlines()[-1]
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


def test_a_changed_start_date_the_bookmarks_make_moot_is_told_with_how_to_start_over(clone):
    counts = ",".join(f"{name}={n}" for name, n in COUNTS.items())
    # After the demo run above: an earlier start date than the bookmarks it left.
    result = bin_run(clone, counts, TAP_STRIPE_XDM_START_DATE="2023-06-01T00:00:00Z")

    assert result.returncode == 0, result.stderr[-4000:]
    assert re.search(
        r"the start date changed to 2023-06-01T00:00:00\+00:00 \(the last run had "
        r"2024-01-01T00:00:00\+00:00\), but it is before the bookmarks .*"
        r"To read everything from the start date: bin/run --full-refresh",
        result.stderr,
    ), result.stderr[-4000:]
    # The same start date again: nothing to tell.
    again = bin_run(clone, counts, TAP_STRIPE_XDM_START_DATE="2023-06-01T00:00:00Z")
    assert again.returncode == 0, again.stderr[-4000:]
    assert "the start date changed" not in again.stderr


def test_every_missing_or_invalid_setting_is_listed_at_once_by_variable_before_anything_runs(
    clone,
):
    result = bin_run(
        clone,
        "charges=1",
        TAP_STRIPE_XDM_API_KEY="sk_test_abc",
        STRIPE_START_DATE="2024-13-01",
        TAP_STRIPE_XDM_MAX_REQUESTS_PER_SECOND="fast",
        TARGET_AEP_DESTINATION="streaming",
    )

    assert result.returncode == 2, result.stderr[-4000:]
    assert "Traceback" not in result.stderr
    listed = {
        line.split(":")[0].strip()
        for line in result.stderr.splitlines()
        if line.startswith("  ") and ":" in line
    }
    assert listed == {
        "STRIPE_START_DATE",  # what meltano.yml's stripe-test environment reads
        "TAP_STRIPE_XDM_MAX_REQUESTS_PER_SECOND",
        "TARGET_AEP_IMS_ORG_ID",
        "TARGET_AEP_CLIENT_ID",
        "TARGET_AEP_CLIENT_SECRET",
        "TARGET_AEP_INLET_ID",
        "TARGET_AEP_TENANT_ID",
    }, result.stderr
    assert "'2024-13-01' is not an ISO 8601 date-time" in result.stderr
    assert "bin/run: 7 setting(s) to fix before anything runs (environment 'stripe-test')" in (
        result.stderr
    )
    assert "meltano --environment" not in result.stderr  # Meltano never ran the pipeline


def test_the_stripe_test_path_needs_only_what_the_readme_says(clone):
    """The README's stripe-test row: a key, STRIPE_START_DATE and TARGET_AEP_TENANT_ID."""
    result = bin_run(
        clone, "charges=1", TAP_STRIPE_XDM_API_KEY="sk_test_abc", STRIPE_START_DATE="yesterday"
    )

    assert result.returncode == 2, result.stderr[-4000:]
    assert "  STRIPE_START_DATE: start_date 'yesterday' is not an ISO 8601" in result.stderr
    assert "  TARGET_AEP_TENANT_ID: setting 'tenant_id' is required" in result.stderr


def test_the_tool_wrappers_run_uv_and_meltano_of_the_clone_from_any_folder(clone, tmp_path):
    env = clean_environment()
    about = subprocess.run(
        [str(clone / "bin" / "uv"), "run", "tap-stripe-xdm", "--about", "--format=json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert about.returncode == 0, about.stderr[-3000:]
    assert json.loads(about.stdout)["name"] == "tap-stripe-xdm"
    # what bin/uv runs installs as bin/run does (a benchmark's `meltano install` makes plugin
    # venvs with uv): the system's certificates and bytecode, unless the caller chose otherwise
    settings = subprocess.run(
        [str(clone / "bin" / "uv"), "run", "python", "-c",
         "import os; print(os.environ['UV_SYSTEM_CERTS'], os.environ['UV_COMPILE_BYTECODE'])"],
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k not in ("UV_SYSTEM_CERTS", "UV_COMPILE_BYTECODE")},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert settings.returncode == 0, settings.stderr[-3000:]
    assert settings.stdout.split() == ["true", "1"]
    listed = subprocess.run(
        [str(clone / "bin" / "meltano"), "config", "list", "--all", "tap-stripe-xdm"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "TAP_STRIPE_XDM_MAX_REQUESTS_PER_SECOND" in listed.stdout


def test_the_stripe_test_path_as_the_readme_writes_it_then_a_full_refresh(clone):
    """A Stripe account (the tests' Stripe double behind TAP_STRIPE_XDM_API_URL) with the
    README's stripe-test variables, then `bin/run --full-refresh`."""
    start = 1735689600  # 2025-01-01
    with StripeDouble() as stripe:
        stripe.seed(COUNTS, start=start, end=start + 30 * 86_400, seed=11)
        env = {
            "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
            "STRIPE_START_DATE": "2025-01-01T00:00:00Z",
            "TARGET_AEP_TENANT_ID": "acme",
            "TAP_STRIPE_XDM_API_URL": stripe.url,
        }
        for args in ((), ("--full-refresh",)):
            result = bin_run(clone, "charges=1", *args, **env)

            assert result.returncode == 0, result.stderr[-6000:]
            assert "meltano --environment=stripe-test run" in result.stderr
            assert "starting the built-in Stripe emulator" not in result.stderr
            output = clone / "output" / "stripe-test"
            summary = json.loads((output / "run_summary.json").read_text())
            for stream, count in COUNTS.items():
                assert summary["streams"][stream]["received"] == count, (args, stream)
                assert summary["streams"][stream]["dead_lettered"] == 0, (args, stream)
                # The manifest counts each object once: the full refresh started a new folder.
                manifest = json.loads((output / stream / "manifest.json").read_text())
                assert sum(f["records"] for f in manifest["files"]) == count, (args, stream)
        assert "previous output of stripe-test moved to" in result.stderr
        assert (clone / "output" / "stripe-test.previous" / "charges").is_dir()
        # The demo's sample data (tenant demo) is in its own folder, never with this account's.
        written = list((clone / "output" / "stripe-test" / "charges").glob("part-*.json"))
        assert written
        assert all('"_demo"' not in path.read_text() for path in written)
        local = list((clone / "output" / "local" / "charges").glob("part-*.json"))
        assert local
        assert all('"_acme"' not in path.read_text() for path in local)


def test_a_killed_run_is_continued_saying_so_and_a_live_run_is_never_forced_past(clone):
    counts = "charges=5000"
    first = subprocess.Popen(
        ["bin/run"],
        cwd=clone,
        # One request a second: 50 pages of charges keep it running until it is killed.
        env=clean_environment(
            STRIPE_EMULATOR_COUNTS=counts, TAP_STRIPE_XDM_MAX_REQUESTS_PER_SECOND="1"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: bin/run, the emulator, Meltano
    )
    try:
        assert first.stderr is not None
        for line in first.stderr:  # until Meltano runs the pipeline
            if "==> meltano --environment=local run" in line:
                break
        time.sleep(2)
        assert first.poll() is None, "the first run ended before it could be killed"

        live = bin_run(clone, counts)  # while the first one runs
        assert live.returncode == 1, live.stderr[-3000:]
        assert f"another bin/run (PID {first.pid}) is running the local pipeline" in live.stderr
        assert "meltano --environment" not in live.stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)  # a crash: no cleanup, the lock stays
        first.wait()
    assert (clone / ".meltano" / "bin-run.local.lock").read_text().strip() == str(first.pid)

    after = bin_run(clone, counts)

    assert after.returncode == 0, after.stderr[-6000:]
    assert f"the previous bin/run (PID {first.pid}) of local was stopped before it finished" in (
        after.stderr
    )
    assert "meltano --environment=local run --force" in after.stderr
    assert "already running" not in after.stderr
    assert not (clone / ".meltano" / "bin-run.local.lock").exists()

    # The forced run left the killed run's job marked running (for 5 minutes after its last
    # heartbeat): the run after it is not refused either.
    again = bin_run(clone, counts)
    assert again.returncode == 0, again.stderr[-6000:]
    assert "a killed run's job stays marked running in Meltano until" in again.stderr
    assert "already running" not in again.stderr


def test_ctrl_c_in_a_terminal_stops_every_process_with_one_line_and_the_next_run_continues(
    clone,
):
    counts = "charges=5000"
    charges = clone / "output" / "local" / "charges"
    shutil.rmtree(clone / "output", ignore_errors=True)
    subprocess.run(  # the bookmarks of the module's earlier runs would leave nothing to read
        [".venv-meltano/bin/meltano", "--environment=local", "state", "clear", "--force",
         "local:tap-stripe-xdm-to-target-aep"],
        cwd=clone, env=clean_environment(), capture_output=True, check=False, timeout=120,
    )  # fmt: skip

    def delivering(_: str) -> bool:  # some charges placed and their STATE saved
        manifest = charges / "manifest.json"
        return manifest.exists() and json.loads(manifest.read_text())["total_records"] > 0

    # Two requests a second: 50 pages of charges keep the run busy until the Ctrl-C.
    env = clean_environment(
        STRIPE_EMULATOR_COUNTS=counts, TAP_STRIPE_XDM_MAX_REQUESTS_PER_SECOND="2"
    )
    run = ctrl_c_when(["bin/run"], delivering, env=env, cwd=clone, timeout=900)

    assert run.exit_code == 130, run.after
    line = "bin/run: interrupted; the next bin/run continues from the last saved bookmarks"
    assert run.after.count(line) == 1, run.after
    assert run.after.rstrip().endswith(line), run.after
    assert run.noise() == [], run.after  # the emulator outlived the plugins: no retries
    assert "Gracefully shutting down" not in run.after
    assert not (clone / ".meltano" / "bin-run.local.lock").exists()

    after = bin_run(clone, counts)

    assert after.returncode == 0, after.stderr[-6000:]
    assert "was stopped before it finished" not in after.stderr
    assert "already running" not in after.stderr
    delivered = {
        json.loads(record)["_id"]
        for part in charges.glob("part-*.json")
        for record in part.read_text().splitlines()
    }
    assert len(delivered) == 5000  # nothing skipped by the bookmarks the Ctrl-C left
