"""Every number, integer, flag and date setting through `meltano run`: from environment variables
(text, fractions included) and from meltano.yml (YAML numbers), each checked in the settings line
the plugin logs once it has read its config. A value Meltano cannot hand over is refused by the
plugin, naming the setting and its environment variable, not by Meltano's own conversion.

Meltano 4.4.1 converts an environment variable by its setting's `kind` before the plugin sees
it (`decimal` cannot be serialised, `integer` and `date_iso8601` break on or mangle text), so
scripts/sync_docs.py declares these settings `kind: string` and each plugin reads the text.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import fields

import pytest
import yaml
from tap_stripe_xdm.settings import TapSettings
from target_aep.settings import TargetSettings, config_schema

from tests.doubles.stripe_api import StripeDouble

PIPELINE = ("tap-stripe-xdm", "target-aep")
START = 1735689600  # 2025-01-01
# One valid value per setting, none of them its default, fractions where the setting takes them.
TAP_VALUES: dict[str, object] = {
    "start_date": "2025-01-01T00:00:00Z",
    "end_date": "2031-01-01T00:00:00Z",
    "max_requests_per_second": 50.5,
    "max_requests_per_second_per_endpoint": 30.5,
    "request_timeout": 12.5,
    "max_retries": 2,
    "backoff_base_seconds": 0.25,
    "backoff_max_seconds": 1.5,
    "max_concurrency": 3,
    "max_concurrent_partitions": 4,
    "window_size_days": 7.5,
    "visibility_lag_seconds": 0,
    "capture_changes": False,
    "include_platform_account": False,
    "log_metrics": True,
    "events_horizon_days": 20.5,
    "balance_transactions_lookback_days": 1.5,
    "progress_interval_seconds": 2.5,
}
# How the tap logs them (dates as ISO 8601 in UTC).
TAP_LOGGED = {
    **TAP_VALUES,
    "start_date": "2025-01-01T00:00:00+00:00",
    "end_date": "2031-01-01T00:00:00+00:00",
}
TARGET_VALUES: dict[str, object] = {
    "file_max_records": 1000,
    "file_max_bytes": 1_000_000,
    "batch_size_rows": 500,
    "drain_max_age_seconds": 2.5,
    "state_min_interval_seconds": 0.5,
    "log_metrics": True,
    "request_timeout": 12.5,
    "max_retries": 2,
    "backoff_base_seconds": 0.25,
    "backoff_max_seconds": 2.5,
    "streaming_max_request_bytes": 500_000,
    "streaming_concurrency": 2,
    "batch_max_file_bytes": 10_000_000,
    "batch_max_records": 5000,
    "batch_max_bytes": 9_000_000,
    "batch_daily_limit": 40,
    "batch_poll_interval_seconds": 0.5,
    "batch_poll_timeout_seconds": 30.5,
    "batch_partial_ingestion_percent": 2.5,
}


def env_text(value: object) -> str:
    """A value as a user writes it in an environment variable."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def declared_kinds(project_root, plugin_type: str, name: str) -> dict[str, str]:
    """Each setting's `kind` as the project's meltano.yml declares it to Meltano."""
    project = yaml.safe_load((project_root / "meltano.yml").read_text())
    (plugin,) = [p for p in project["plugins"][plugin_type] if p["name"] == name]
    return {s["name"]: s["kind"] for s in plugin["settings"]}


def not_text(schema: dict, names: set[str]) -> set[str]:
    """Of the plugin's own settings, those its schema types as a number, integer, flag or date."""
    properties = schema["properties"]
    return {
        name
        for name in names
        if set(properties[name]["type"]) & {"number", "integer", "boolean"}
        or properties[name].get("format") == "date-time"
    }


def logged_settings(output: str, plugin: str) -> str:
    """The `settings: ...` line the plugin logged (Meltano prefixes each plugin's lines)."""
    lines = [
        line
        for line in output.splitlines()
        if plugin in line and re.search(r"settings: \w+=", line)
    ]
    assert lines, f"{plugin} logged no settings line:\n{output[-6000:]}"
    return lines[0]


def assert_logged(line: str, expected: dict[str, object]) -> None:
    for name, value in expected.items():
        assert re.search(rf"\b{name}={re.escape(json.dumps(value))}(,|\s|$)", line), (name, line)


@pytest.fixture(scope="module")
def stripe():
    with StripeDouble() as double:
        double.seed(
            {"charges": 8, "customers": 4, "prices": 2}, start=START, end=START + 86_400, seed=3
        )
        yield double


def base_env(stripe: StripeDouble, output_dir) -> dict[str, str]:
    return {
        "TAP_STRIPE_XDM_API_URL": stripe.url,
        "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
        "TARGET_AEP_OUTPUT_DIR": str(output_dir),
        "TARGET_AEP_TENANT_ID": "acme",
    }


def test_the_value_lists_cover_every_such_setting_and_meltano_passes_each_as_text(
    installed_project,
):
    tap = not_text(TapSettings.config_jsonschema(), {f.name for f in fields(TapSettings)})
    target = not_text(config_schema(), {f.name for f in fields(TargetSettings)} - {"streams"})
    assert tap == set(TAP_VALUES)
    assert target == set(TARGET_VALUES)
    tap_kinds = declared_kinds(installed_project.root, "extractors", "tap-stripe-xdm")
    target_kinds = declared_kinds(installed_project.root, "loaders", "target-aep")
    assert {tap_kinds[name] for name in tap} == {"string"}
    assert {target_kinds[name] for name in target} == {"string"}


def test_every_number_flag_and_date_setting_from_the_environment_reaches_the_plugins(
    installed_project, stripe, tmp_path
):
    env = base_env(stripe, tmp_path / "out")
    env.update({f"TAP_STRIPE_XDM_{k.upper()}": env_text(v) for k, v in TAP_VALUES.items()})
    env.update({f"TARGET_AEP_{k.upper()}": env_text(v) for k, v in TARGET_VALUES.items()})
    # What Meltano itself shows of them (it used to crash on a decimal from the environment).
    listed = installed_project.meltano_cmd("config", "list", "tap-stripe-xdm", env=env)
    assert "TAP_STRIPE_XDM_BACKOFF_BASE_SECONDS" in listed
    assert "'0.25'" in listed

    output = installed_project.run(env, "--state-id-suffix", "settings-env")

    assert_logged(logged_settings(output, "tap-stripe-xdm"), TAP_LOGGED)
    assert_logged(logged_settings(output, "target-aep"), TARGET_VALUES)
    assert (tmp_path / "out" / "charges").is_dir()


def test_every_number_flag_and_date_setting_from_meltano_yml_reaches_the_plugins(
    installed_project, stripe, tmp_path
):
    path = installed_project.root / "meltano.yml"
    original = path.read_text()
    project = yaml.safe_load(original)
    (local,) = [e for e in project["environments"] if e["name"] == "local"]
    plugins = local["config"]["plugins"]
    plugins["extractors"][0]["config"].update(TAP_VALUES)
    plugins["loaders"][0]["config"].update(TARGET_VALUES)
    path.write_text(yaml.safe_dump(project, sort_keys=False))
    try:
        output = installed_project.run(
            base_env(stripe, tmp_path / "out"), "--state-id-suffix", "settings-yml"
        )
    finally:
        path.write_text(original)

    assert_logged(logged_settings(output, "tap-stripe-xdm"), TAP_LOGGED)
    assert_logged(logged_settings(output, "target-aep"), TARGET_VALUES)


def failed_run(project, env: dict[str, str]) -> str:
    """All the output of a `meltano run` that must fail (not cut short: the plugin's message
    may come before the other plugin's last lines)."""
    result = subprocess.run(
        [str(project.meltano), "run", "--state-id-suffix", "settings-bad", *PIPELINE],
        cwd=project.root,
        env=project.env(env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0, result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    "bad",
    [
        {
            "TAP_STRIPE_XDM_MAX_REQUESTS_PER_SECOND": "abc",
            "TAP_STRIPE_XDM_MAX_RETRIES": "2.5",
            "TAP_STRIPE_XDM_CAPTURE_CHANGES": "maybe",
            "TAP_STRIPE_XDM_START_DATE": "yesterday",
            "TAP_STRIPE_XDM_END_DATE": "2024-13-01",
        },
        {"TARGET_AEP_BACKOFF_BASE_SECONDS": "abc", "TARGET_AEP_BATCH_SIZE_ROWS": "ten"},
    ],
    ids=["tap", "target"],
)
def test_invalid_values_from_the_environment_are_refused_at_once_naming_setting_and_variable(
    installed_project, stripe, tmp_path, bad
):
    output = failed_run(installed_project, {**base_env(stripe, tmp_path / "out"), **bad})
    for variable, value in bad.items():
        setting = variable.removeprefix("TAP_STRIPE_XDM_").removeprefix("TARGET_AEP_").lower()
        named = [line for line in output.splitlines() if setting in line and variable in line]
        assert named, (variable, output[-4000:])
        assert value in named[0], (variable, named[0])
    for meltano_crash in ("ConversionSyntax", "not JSON serializable", "invalid literal"):
        assert meltano_crash not in output
