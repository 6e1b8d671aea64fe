"""settings.py, tap.py: every setting in --about; invalid settings fail fast, naming the setting."""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap_stripe_xdm.settings import SettingsError, TapSettings
from tap_stripe_xdm.tap import TapStripeXdm

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import logged_settings

REQUIRED_SETTINGS = {
    "api_key",
    "start_date",
    "api_version",
    "api_url",
    "account_ids",
    "max_requests_per_second",
    "request_timeout",
}
OWN_SETTINGS = REQUIRED_SETTINGS | {
    "end_date",
    "max_retries",
    "backoff_base_seconds",
    "backoff_max_seconds",
    "max_concurrency",
    "window_size_days",
    "visibility_lag_seconds",
    "capture_changes",
    "events_horizon_days",
    "balance_transactions_lookback_days",
    "progress_interval_seconds",
    "user_agent",
    "connected_accounts",
    "include_platform_account",
    "account_shard",
}
VALID = {"api_key": "sk_test_abc", "start_date": "2024-01-01T00:00:00Z"}


def problems(**config: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        TapSettings.from_config({**VALID, **config}, user_agent="ua")
    return caught.value.problems


def test_about_lists_every_setting_and_marks_the_key_secret() -> None:
    about = subprocess.run(
        [sys.executable, "-m", "tap_stripe_xdm.tap", "--about", "--format=json"],
        capture_output=True,
        check=True,
    )
    settings = json.loads(about.stdout)["settings"]
    assert set(settings["properties"]) >= OWN_SETTINGS
    assert settings["properties"]["api_key"]["secret"] is True
    assert set(settings["required"]) >= {"api_key", "start_date"}


def test_defaults() -> None:
    settings = TapSettings.from_config(VALID, user_agent="tap-stripe-xdm/0.1.0")
    assert settings.api_url == "https://api.stripe.com"
    assert settings.api_version == "2026-10-28.endive"
    assert settings.account_ids == ()
    assert settings.max_requests_per_second == 25
    assert settings.user_agent == "tap-stripe-xdm/0.1.0"
    assert settings.start_date == 1_704_067_200
    assert settings.capture_changes is True
    assert settings.events_horizon_seconds == 30 * 86_400
    assert settings.balance_transactions_lookback_seconds == 14 * 86_400


def test_change_capture_settings_are_read_and_a_zero_lookback_turns_it_off() -> None:
    settings = TapSettings.from_config(
        {
            **VALID,
            "capture_changes": False,
            "events_horizon_days": decimal.Decimal("7.5"),
            "balance_transactions_lookback_days": 0,
        },
        user_agent="ua",
    )
    assert settings.capture_changes is False
    assert settings.events_horizon_seconds == 648_000
    assert settings.balance_transactions_lookback_seconds == 0


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({"api_key": ""}, "api_key"),
        ({"api_key": "pk_test_123"}, "api_key"),
        ({"start_date": None}, "start_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2024-13-01"}, "start_date"),
        ({"end_date": "2023-01-01T00:00:00Z"}, "end_date"),
        ({"api_version": "latest"}, "api_version"),
        ({"api_url": "ftp://example.com"}, "api_url"),
        ({"api_url": "http://api.example.com"}, "api_url"),
        ({"account_ids": ["acct_1A", "cus_123"]}, "account_ids"),
        ({"account_ids": "acct_1A"}, "account_ids"),
        ({"account_ids": ["acct_1A", "acct_1A"]}, "account_ids"),
        ({"max_requests_per_second": 0}, "max_requests_per_second"),
        ({"request_timeout": -1}, "request_timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"window_size_days": 0}, "window_size_days"),
        ({"backoff_base_seconds": 5, "backoff_max_seconds": 1}, "backoff_max_seconds"),
        ({"capture_changes": "yes"}, "capture_changes"),
        ({"events_horizon_days": 0}, "events_horizon_days"),
        ({"events_horizon_days": 31}, "events_horizon_days"),
        ({"events_horizon_days": "thirty"}, "events_horizon_days"),
        ({"balance_transactions_lookback_days": -1}, "balance_transactions_lookback_days"),
        ({"connected_accounts": "every"}, "connected_accounts"),
        ({"connected_accounts": "all", "account_ids": ["acct_1A"]}, "account_ids"),
        ({"include_platform_account": "no"}, "include_platform_account"),
        ({"account_shard": "2"}, "account_shard"),
        ({"account_shard": "4/4"}, "account_shard"),
        ({"account_shard": "0/0"}, "account_shard"),
        ({"account_shard": "-1/3"}, "account_shard"),
        ({"account_shard": 3}, "account_shard"),
    ],
)
def test_invalid_setting_is_named(config: dict, setting: str) -> None:
    found = problems(**config)
    assert len(found) == 1
    assert found[0].startswith(setting)


def test_an_invalid_shard_names_the_setting_its_environment_variable_and_the_form() -> None:
    (found,) = problems(account_shard="3/3")
    assert found.startswith("account_shard '3/3' names shard 3 of 3")
    assert found.endswith("(environment variable TAP_STRIPE_XDM_ACCOUNT_SHARD)")
    settings = TapSettings.from_config({**VALID, "account_shard": " 2 / 5 "}, user_agent="ua")
    assert settings.account_shard == (2, 5)
    assert 'account_shard="2/5"' in settings.describe()


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("False", False), (" false ", False)]
)
def test_the_flag_takes_true_and_false_as_text_as_an_environment_variable_holds_them(
    text: str, expected: bool
) -> None:
    settings = TapSettings.from_config({**VALID, "capture_changes": text}, user_agent="ua")
    assert settings.capture_changes is expected


def test_wrong_kind_of_key_is_rejected_without_echoing_it() -> None:
    secret = "pk_live_51SecretLookingValue"
    (message,) = problems(api_key=secret)
    assert secret not in message
    assert "SecretLooking" not in message


def test_plain_http_is_accepted_only_for_this_machine() -> None:
    for url in ("http://127.0.0.1:12111", "http://localhost:8080/", "https://stripe.example"):
        assert TapSettings.from_config(
            {**VALID, "api_url": url}, user_agent="ua"
        ).api_url == url.rstrip("/")


def test_restricted_keys_and_decimal_numbers_from_config_files_are_accepted() -> None:
    settings = TapSettings.from_config(
        {**VALID, "api_key": "rk_live_abc", "max_requests_per_second": decimal.Decimal("12.5")},
        user_agent="ua",
    )
    assert settings.max_requests_per_second == 12.5


def test_all_problems_are_reported_together() -> None:
    found = problems(api_key="nope", max_concurrency=0, api_version="x")
    assert [p.split()[0] for p in found] == ["api_key", "api_version", "max_concurrency"]


def test_tap_fails_fast_on_invalid_settings() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TapStripeXdm(config={**VALID, "account_ids": ["nope"]}, parse_env_config=False)
    assert any(error.startswith("account_ids") for error in caught.value.errors)


def test_cli_exits_1_naming_the_setting_and_not_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    key = "sk_test_51RealLookingSecret"
    config.write_text(json.dumps({**VALID, "api_key": key, "max_concurrency": 0}))
    run = subprocess.run(
        [sys.executable, "-m", "tap_stripe_xdm.tap", "--config", str(config)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "max_concurrency must be an integer of at least 1" in run.stderr
    assert key not in run.stderr + run.stdout
    assert run.stdout == ""


def test_settings_repr_hides_the_key() -> None:
    settings = TapSettings.from_config({**VALID, "api_key": "sk_test_hidden"}, user_agent="ua")
    assert "sk_test_hidden" not in repr(settings)


# user_agent: computed; account_shard: every account unless set
NO_DEFAULT = {"api_key", "start_date", "end_date", "user_agent", "account_shard"}


def about_settings() -> dict:
    about = subprocess.run(
        [sys.executable, "-m", "tap_stripe_xdm.tap", "--about", "--format=json"],
        capture_output=True,
        check=True,
    )
    return json.loads(about.stdout)["settings"]["properties"]


def test_about_shows_the_default_the_tap_applies_for_every_setting_that_has_one() -> None:
    properties = about_settings()
    defaulted = {name for name in OWN_SETTINGS if "default" in properties[name]}
    assert defaulted == OWN_SETTINGS - NO_DEFAULT
    applied = TapSettings.from_config(VALID, user_agent="ua")
    for name in defaulted:
        value = getattr(applied, name)
        assert (list(value) if isinstance(value, tuple) else value) == properties[name]["default"]
    assert "tap-stripe-xdm/<version>" in properties["user_agent"]["description"]


def number_settings(properties: dict, kind: str) -> list[str]:
    return [name for name in OWN_SETTINGS if kind in properties[name]["type"]]


# A value for every number setting, fractional where the setting allows it.
FRACTIONAL = {
    "max_requests_per_second": "12.5",
    "request_timeout": "7.25",
    "backoff_base_seconds": "0.125",
    "backoff_max_seconds": "0.75",
    "window_size_days": "2.5",
    "events_horizon_days": "7.5",
    "balance_transactions_lookback_days": "0.5",
    "progress_interval_seconds": "2.5",
    "max_retries": "2",
    "max_concurrency": "3",
    "visibility_lag_seconds": "30",
}


def run_cli(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tap_stripe_xdm.tap", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_the_table_of_values_covers_every_number_setting() -> None:
    properties = about_settings()
    numbers = number_settings(properties, "number") + number_settings(properties, "integer")
    assert set(FRACTIONAL) == set(numbers)


def test_a_config_file_with_decimals_reaches_the_settings(tmp_path: Path) -> None:
    """Meltano hands config over as a file, which the SDK reads with parse_float=Decimal."""
    with StripeDouble() as double:
        config = tmp_path / "config.json"
        numbers = ", ".join(f'"{name}": {value}' for name, value in FRACTIONAL.items())
        config.write_text(  # decimals written as JSON numbers, not strings
            f'{{"api_key": "sk_test_double", "api_url": "{double.url}", '
            f'"start_date": "2024-01-01T00:00:00Z", {numbers}}}'
        )
        run = run_cli(config)
    assert run.returncode == 0, run.stderr
    logged = logged_settings(run.stderr)
    assert {name: logged[name] for name in FRACTIONAL} == {
        name: json.loads(value) for name, value in FRACTIONAL.items()
    }


def test_numeric_strings_from_the_environment_reach_the_settings(tmp_path: Path) -> None:
    """`--config=ENV` (and Meltano, for kinds it cannot pass typed) gives numbers as text."""
    with StripeDouble() as double:
        env = {f"TAP_STRIPE_XDM_{name.upper()}": value for name, value in FRACTIONAL.items()}
        env |= {
            "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
            "TAP_STRIPE_XDM_API_URL": double.url,
            "TAP_STRIPE_XDM_START_DATE": "2024-01-01T00:00:00Z",
        }
        run = subprocess.run(
            [sys.executable, "-m", "tap_stripe_xdm.tap", "--config=ENV"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            cwd=tmp_path,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr
    logged = logged_settings(run.stderr)
    assert {name: logged[name] for name in FRACTIONAL} == {
        name: json.loads(value) for name, value in FRACTIONAL.items()
    }
    assert "sk_test_double" not in run.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [(decimal.Decimal("0.25"), 0.25), (0.25, 0.25), (2, 2.0), (" 1.5 ", 1.5), ("3", 3.0)],
)
def test_number_settings_accept_every_form_of_number(value: object, expected: float) -> None:
    settings = TapSettings.from_config({**VALID, "request_timeout": value}, user_agent="ua")
    assert settings.request_timeout == expected


@pytest.mark.parametrize("value", [True, "fast", "nan", "inf", [1]])
def test_a_value_that_is_no_number_is_named_with_its_environment_variable(value: object) -> None:
    (message,) = problems(request_timeout=value)
    assert message.startswith("request_timeout must be a number greater than 0")
    assert message.endswith("(environment variable TAP_STRIPE_XDM_REQUEST_TIMEOUT)")


def test_integer_settings_accept_whole_numbers_in_any_form_and_refuse_fractions() -> None:
    for value in (3, "3", 3.0, decimal.Decimal("3")):
        assert (
            TapSettings.from_config({**VALID, "max_retries": value}, user_agent="ua").max_retries
            == 3
        )
    (message,) = problems(max_retries=2.5)
    assert message.startswith("max_retries must be an integer of at least 0 (got 2.5)")


def test_invalid_file_setting_names_the_setting_and_its_environment_variable(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        '{"api_key": "sk_test_double", "start_date": "2024-01-01T00:00:00Z", '
        '"backoff_base_seconds": -0.5}'
    )
    run = run_cli(config)
    assert run.returncode == 1
    assert (
        "backoff_base_seconds must be a number greater than 0 (got Decimal('-0.5'))" in run.stderr
    )
    assert "TAP_STRIPE_XDM_BACKOFF_BASE_SECONDS" in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("log_metrics", [None, "false", "true"])
def test_the_sdks_metric_lines_are_logged_only_when_log_metrics_is_on(
    tmp_path: Path, log_metrics: str | None
) -> None:
    with StripeDouble() as double:
        double.seed({"charges": 3}, start=1_704_067_200, end=1_704_153_600, seed=1)
        config = tmp_path / "config.json"
        settings = {"api_key": "sk_test_double", "api_url": double.url, "start_date": "2024-01-01"}
        if log_metrics is not None:
            settings["log_metrics"] = log_metrics  # as text, as an environment variable holds it
        config.write_text(json.dumps(settings))
        run = run_cli(config)
    assert run.returncode == 0, run.stderr
    metric_lines = [line for line in run.stderr.splitlines() if "METRIC" in line]
    assert bool(metric_lines) == (log_metrics == "true"), run.stderr[-3000:]
