"""bin/run's check of the whole configuration before Meltano runs anything.

`python scripts/preflight.py <environment> [meltano run options]` asks Meltano for the config it
would hand each plugin (`meltano config print`: meltano.yml, the environment and .env merged as
a run merges them), checks both with the plugins' own settings objects, and prints every
missing or invalid setting at once, each led by the environment variable to set and what to
set it to. Exit code 2 when anything must be fixed (nothing has run then), 0 otherwise; then
it prints the target's output folder (where bin/run finds the run summary) on stdout.

It also tells when the bookmarks Meltano stored for the environment make the configured start
date moot: a run resumes from the later of its bookmark and `start_date`
(tap_stripe_xdm/bookmarks.py), so an earlier start date reads nothing new until a full refresh.

Two things must not share an environment's state and output: another Stripe key (Meltano keys
the state by environment and pipeline, not by account, so the bookmarks of the first account
would make the run skip every object of the second created before them, silently) and another
AEP tenant (the files destination refuses a folder whose manifests list another tenant's
records). Both are refused here, exit code 2, each with what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tap_stripe_xdm.instants import iso
from tap_stripe_xdm.settings import SettingsError, TapSettings
from target_aep.delivery.files import tenant_problems
from target_aep.errors import SettingError
from target_aep.settings import TargetSettings
from target_aep.target import MAPPING_NAMES, TargetAep

ROOT = Path(__file__).resolve().parents[1]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
PIPELINE_STATE_ID = "{environment}:tap-stripe-xdm-to-target-aep"
VARIABLE = re.compile(r"\s*\(environment variable (\w+)\)$")
# meltano.yml's stripe-test and prod environments read the start date from this variable.
START_DATE_VARIABLE = "STRIPE_START_DATE"
# What to do, beyond the plugin's own words, for the settings a new user meets first.
ADVICE = {
    "TARGET_AEP_TENANT_ID": "set it to your AEP tenant id (in Platform's schema editor, custom "
    "fields are under _<tenant id>); for XDM files only looked at on disk, any name such as demo",
}
# `meltano config print` masks secret values; the secrets come from the environment or .env,
# which bin/run has exported (a secret set elsewhere is not checked: a valid-looking stand-in).
REDACTED = "*****"
SECRETS = {
    "tap-stripe-xdm": {"api_key": ("TAP_STRIPE_XDM_API_KEY", "sk_test_not_shown")},
    "target-aep": {"client_secret": ("TARGET_AEP_CLIENT_SECRET", "not shown")},
}


def meltano(environment: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MELTANO), f"--environment={environment}", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate()
    return process.returncode, out, err


def meltano_error(err: str) -> str:
    """Meltano's own one-line reason (the last `[error ]` line), without its log prefix."""
    lines = [line for line in err.splitlines() if "[error" in line]
    last = lines[-1] if lines else (err.strip().splitlines() or ["(no message)"])[-1]
    return re.sub(r"^.*\[error\s*\]\s*(meltano\s+)?", "", last).strip()


def problems_of(config: dict[str, Any], plugin: str) -> list[str]:
    """Every problem the plugin's settings object finds in `config`."""
    try:
        if plugin == "tap-stripe-xdm":
            TapSettings.from_config(config, user_agent="preflight")
            return []
        target = TargetSettings.from_config(
            config, mapping_names=MAPPING_NAMES, sdk_schema=TargetAep.config_jsonschema
        )
    except SettingsError as error:
        return list(error.problems)
    except SettingError as error:
        return [str(problem) for problem in error.errors]
    if target.destination == "files" and target.tenant_id:
        return tenant_problems(ROOT / target.output_dir, target.tenant_id)
    return []


def as_line(problem: str, environment: str) -> tuple[str, str]:
    """(the variable to set, what is wrong and what to do) of one problem."""
    match = VARIABLE.search(problem)
    variable = match.group(1) if match else ""
    text = VARIABLE.sub("", problem)
    from_meltano_yml = "TAP_STRIPE_XDM_START_DATE" not in os.environ and environment != "local"
    if variable == "TAP_STRIPE_XDM_START_DATE" and from_meltano_yml:
        variable = START_DATE_VARIABLE  # what meltano.yml reads in this environment
    if variable in ADVICE and "is required" in text:
        text = f"{text}; {ADVICE[variable]}"
    return variable, text


def with_secrets(plugin: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config with each masked secret as the environment holds it."""
    config = dict(config)
    for name, (variable, stand_in) in SECRETS[plugin].items():
        if config.get(name) == REDACTED:
            config[name] = os.environ.get(variable) or stand_in
    return config


def bookmarks(state: Any) -> Iterator[int]:
    """Every `created` bookmark (Unix seconds) in a stored Singer state."""
    if isinstance(state, dict):
        for key, value in state.items():
            if key == "replication_key_value" and isinstance(value, int):
                yield value
            else:
                yield from bookmarks(value)
    elif isinstance(state, list):
        for item in state:
            yield from bookmarks(item)


def start_date_file(environment: str) -> Path:
    """Where bin/run keeps the start date of the environment's last checked run."""
    return ROOT / ".meltano" / f"start-date.{environment}"


def moot_start_date(environment: str, start_date: int, state_text: str) -> str | None:
    """The notice when `start_date` changed since the last run to before the stored bookmarks
    (so it changes nothing)."""
    recorded = start_date_file(environment)
    previous = recorded.read_text().strip() if recorded.exists() else ""
    if not previous or previous == str(start_date):
        return None
    start = state_text.find("{")
    if start < 0:
        return None
    try:
        state, _ = json.JSONDecoder().raw_decode(state_text[start:])
    except ValueError:
        return None
    marks = list(bookmarks(state))
    if not marks or start_date >= min(marks):
        return None
    return (
        f"bin/run: the start date changed to {iso(start_date)} (the last run had "
        f"{iso(int(previous))}), but it is before the bookmarks Meltano keeps for "
        f"environment {environment!r} (the streams continue from {iso(min(marks))} or later): "
        "objects created before them are not read again. To read everything from the start "
        "date: bin/run --full-refresh"
    )


def stripe_key_file(environment: str) -> Path:
    """Where bin/run keeps a fingerprint of the Stripe key of the environment's last run."""
    return ROOT / ".meltano" / f"stripe-key.{environment}"


def fingerprint(api_key: str) -> str:
    """Tells two keys apart without keeping either: the first 16 hex digits of its SHA-256
    (one-way; the key itself is never written)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def other_stripe_key(environment: str, api_key: str, state_text: str) -> str | None:
    """The problem when the Stripe key changed since the environment's last run while Meltano
    keeps bookmarks for it (None otherwise)."""
    recorded = stripe_key_file(environment)
    previous = recorded.read_text().strip() if recorded.exists() else ""
    if not previous or previous == fingerprint(api_key):
        return None
    start = state_text.find("{")
    try:
        state, _ = json.JSONDecoder().raw_decode(state_text[start:]) if start >= 0 else ({}, 0)
    except ValueError:
        state = {}
    if not list(bookmarks(state)):
        return None
    return (
        f"the Stripe key changed since the last run of environment {environment!r}, and the "
        "bookmarks Meltano keeps for it are the previous key's: with another Stripe account "
        "they would skip every object of this one created before them. For another account "
        "run bin/run --full-refresh (it reads this account from the start date and moves the "
        "previous output aside) or give it an environment of its own (MELTANO_ENVIRONMENT); "
        f"for a rolled key of the same account delete {recorded.relative_to(ROOT)} and run "
        "again"
    )


def main(argv: list[str]) -> int:
    environment, run_options = argv[0], argv[1:]
    first_use = not (ROOT / ".meltano" / "meltano.db").exists()
    tap = meltano(environment, "config", "print", "tap-stripe-xdm")
    if first_use:  # it creates the system database: two at once would both try to
        tap.wait()
    target = meltano(environment, "config", "print", "target-aep")
    state = None
    if "--full-refresh" not in run_options:
        state = meltano(environment, "state", "get", PIPELINE_STATE_ID.format(**locals()))
    lines: list[tuple[str, str]] = []
    configs: dict[str, dict[str, Any]] = {}
    for plugin, process in (("tap-stripe-xdm", tap), ("target-aep", target)):
        code, out, err = finished(process)
        if code != 0:
            reason = meltano_error(err)
            named = re.search(r"for '(\w+)'", reason)  # "'x' is not a valid choice for 'name'"
            prefix = plugin.upper().replace("-", "_") + "_"
            lines.append((prefix + named.group(1).upper() if named else "", reason))
            continue
        configs[plugin] = with_secrets(plugin, json.loads(out))
        lines += [as_line(problem, environment) for problem in problems_of(configs[plugin], plugin)]
    state_result = finished(state) if state is not None else None
    api_key = configs.get("tap-stripe-xdm", {}).get("api_key")
    if isinstance(api_key, str) and state_result is not None and state_result[0] == 0:
        changed = other_stripe_key(environment, api_key, state_result[1])
        if changed:
            lines.append(("TAP_STRIPE_XDM_API_KEY", changed))
    if lines:
        print(
            f"bin/run: {len(lines)} setting(s) to fix before anything runs "
            f"(environment {environment!r}):",
            file=sys.stderr,
        )
        for variable, text in lines:
            print(f"  {variable}: {text}" if variable else f"  {text}", file=sys.stderr)
        print(
            "Set each in the environment or in .env (see .env.example), then run bin/run again.",
            file=sys.stderr,
        )
        return 2
    settings = TapSettings.from_config(configs["tap-stripe-xdm"], user_agent="preflight")
    if state_result is not None and state_result[0] == 0:
        notice = moot_start_date(environment, settings.start_date, state_result[1])
        if notice:
            print(notice, file=sys.stderr)
    start_date_file(environment).parent.mkdir(exist_ok=True)
    start_date_file(environment).write_text(f"{settings.start_date}\n")
    stripe_key_file(environment).write_text(f"{fingerprint(settings.api_key)}\n")
    print(configs["target-aep"].get("output_dir") or "output")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
