"""The target's settings: one typed object, every default once and shown by `--about`, every
problem reported at once naming the setting and its environment variable, numbers read in every
form the SDK hands them over (a config file's fractions arrive as Decimal)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from target_aep.errors import SettingError
from target_aep.mapping import MAPPING_NAMES
from target_aep.settings import SETTING_GROUPS, StreamSettings, TargetSettings
from target_aep.target import TargetAep

from tests.doubles.aep_api import aep_double
from tests.target.examples import example, singer_schema
from tests.target.singer_run import dataset_schema, record_messages, run_cli

CREDENTIALS = {"ims_org_id": "O@AdobeOrg", "client_id": "c", "client_secret": "s3cr3t-value"}
NUMBER_SETTINGS = [
    item.name
    for item in dataclasses.fields(TargetSettings)
    if item.metadata["spec"].kind == "number"
]
INTEGER_SETTINGS = [
    item.name
    for item in dataclasses.fields(TargetSettings)
    if item.metadata["spec"].kind == "integer"
]


def logged_settings(log: str) -> dict:
    """The `settings: name=<JSON>, ...` line the target logs at start, as a dict."""
    (line,) = [line for line in log.splitlines() if "settings: " in line]
    value = r'"(?:[^"\\]|\\.)*"|\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\]|[^,"\[]+'  # string|array|other
    pairs = re.findall(rf"([a-z_][\w.]*)=({value})", line.split("settings: ", 1)[1])
    return {name: json.loads(value) for name, value in pairs}


# --- one declaration: defaults in the schema, the object and the docs -------------------------


def test_every_setting_with_a_default_shows_that_default_in_the_config_schema():
    properties = TargetAep.config_jsonschema["properties"]
    for item in dataclasses.fields(TargetSettings):
        if item.name == "streams":
            continue
        default = None if item.default is dataclasses.MISSING else item.default
        if isinstance(default, tuple):  # a list setting: JSON has arrays, not tuples
            default = list(default)
        assert properties[item.name].get("default") == default, item.name
    tuning = (
        "request_timeout",
        "max_retries",
        "backoff_base_seconds",
        "backoff_max_seconds",
        "streaming_max_request_bytes",
        "streaming_concurrency",
        "batch_max_file_bytes",
        "batch_poll_interval_seconds",
        "batch_poll_timeout_seconds",
        "batch_size_rows",
    )
    for name in tuning:  # the ones --about showed as None before
        assert properties[name]["default"] is not None, name


def test_the_about_table_shows_the_adobe_tuning_defaults():
    about = subprocess.run(
        [str(Path(sys.executable).with_name("target-aep")), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {line.split("|")[1].strip(): line.split("|")[3].strip() for line in about.splitlines()
            if line.startswith("| ") and line.count("|") >= 5}  # fmt: skip
    assert rows["request_timeout"] == "60.0"
    assert rows["max_retries"] == "5"
    assert rows["backoff_base_seconds"] == "1.0"
    assert rows["streaming_max_request_bytes"] == "900000"
    assert rows["batch_poll_timeout_seconds"] == "3600.0"
    assert rows["batch_size_rows"] == "10000"


def test_defaults_apply_when_nothing_is_set():
    settings = TargetSettings.from_config({"tenant_id": "acme"})
    assert settings == TargetSettings(tenant_id="acme")
    assert settings.backoff_base_seconds == 1.0
    assert settings.dead_letter_file == Path("output") / "dead_letter.jsonl"


# --- numbers in every form ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NUMBER_SETTINGS)
@pytest.mark.parametrize("value", [3, 2.5, Decimal("2.5"), "2.5", " 2.5 "])
def test_a_number_setting_takes_ints_floats_decimals_and_numeric_strings(name, value):
    settings = TargetSettings.from_config({"tenant_id": "acme", name: value})
    assert getattr(settings, name) == float(str(value).strip())
    assert type(getattr(settings, name)) is float


@pytest.mark.parametrize("name", INTEGER_SETTINGS)
def test_an_integer_setting_takes_whole_numbers_in_any_form(name):
    for value in (2048, Decimal("2048"), Decimal("2048.0"), 2048.0, "2048"):
        settings = TargetSettings.from_config({"tenant_id": "acme", name: value})
        assert getattr(settings, name) == 2048
        assert type(getattr(settings, name)) is int


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("max_retries", 2.5, "'max_retries' must be a whole number, got 2.5"),
        ("request_timeout", "soon", "'request_timeout' must be a number, got 'soon'"),
        ("request_timeout", True, "'request_timeout' must be a number"),
        ("backoff_base_seconds", Decimal("NaN"), "'backoff_base_seconds' must be a number"),
        ("batch_partial_ingestion_percent", 101, "must be >= 0 and <= 100, got 101"),
        ("streaming_concurrency", "0", "'streaming_concurrency' must be >= 1, got '0'"),
    ],
)
def test_a_bad_number_is_named_with_its_environment_variable(name, value, message):
    with pytest.raises(SettingError, match=re.escape(message)) as failure:
        TargetSettings.from_config({"tenant_id": "acme", name: value})
    assert f"environment variable TARGET_AEP_{name.upper()}" in str(failure.value)


# --- every problem at once ---------------------------------------------------------------------


def test_every_problem_is_reported_at_once_each_naming_setting_and_variable():
    config = {
        "destination": "streaming",
        "mapping_mode": "raw",
        "max_retries": -1,
        "platform_url": "platform.adobe.io",
        "client_id": "c",
        "streams": {"charges": {"dataset_id": "ds", "mapping": "nope", "flow": "f"}},
        "flattening_max_depth": "deep",  # an SDK built-in setting, checked by its schema
    }
    with pytest.raises(SettingError) as failure:
        TargetAep(config=config, validate_config=True)
    problems = failure.value.errors
    named = {
        "mapping_mode": "TARGET_AEP_MAPPING_MODE",
        "max_retries": "TARGET_AEP_MAX_RETRIES",
        "platform_url": "TARGET_AEP_PLATFORM_URL",
        "ims_org_id": "TARGET_AEP_IMS_ORG_ID",
        "client_secret": "TARGET_AEP_CLIENT_SECRET",
        "inlet_id": "TARGET_AEP_INLET_ID",
        "tenant_id": "TARGET_AEP_TENANT_ID",
        "streams.charges.mapping": "part of TARGET_AEP_STREAMS",
        "streams.charges.flow": "part of TARGET_AEP_STREAMS",
        "streams.charges.schema_id": "part of TARGET_AEP_STREAMS",
        "streams.charges.flow_id": "part of TARGET_AEP_STREAMS",
        "flattening_max_depth": "TARGET_AEP_FLATTENING_MAX_DEPTH",
    }
    for setting, variable in named.items():
        (problem,) = [p for p in problems if p.startswith(f"setting '{setting}' ")]
        assert problem.endswith(f"(environment variable {variable})"), problem
    assert len(problems) == len(named)
    assert f"{len(named)} settings need fixing" in str(failure.value)


def test_a_secret_is_never_echoed_in_a_problem():
    with pytest.raises(SettingError) as failure:
        TargetSettings.from_config({"tenant_id": "acme", "client_secret": 12345678})
    assert "12345678" not in str(failure.value)
    assert "'client_secret' must be a string" in str(failure.value)


# --- what the settings decide ------------------------------------------------------------------


def test_the_mapping_of_a_stream_is_its_setting_then_the_mode_then_its_table():
    settings = TargetSettings.from_config(
        {"tenant_id": "acme", "streams": {"stripe_charges": {"mapping": "charges"}}},
        mapping_names=MAPPING_NAMES,
    )
    assert settings.mapping_for("stripe_charges") == "charges"
    assert settings.mapping_for("charges") is None  # its own table
    compat = TargetSettings.from_config(
        {"tenant_id": "acme", "mapping_mode": "compat", "streams": {"x": {"mapping": "generic"}}}
    )
    assert compat.mapping_for("charges") == "compat"
    assert compat.mapping_for("x") == "generic"


def test_a_stream_the_config_does_not_name_gets_empty_ids_or_fails_naming_them():
    files = TargetSettings.from_config({"tenant_id": "acme"})
    assert files.stream("refunds") == StreamSettings()
    streaming = TargetSettings.from_config(
        {"tenant_id": "acme", "destination": "streaming", "inlet_id": "in", **CREDENTIALS}
    )
    with pytest.raises(SettingError) as failure:
        streaming.stream("refunds")
    assert [p.split("'")[1] for p in failure.value.errors] == [
        "streams.refunds.dataset_id",
        "streams.refunds.schema_id",
        "streams.refunds.flow_id",
    ]


def test_the_effective_settings_are_logged_once_in_one_parseable_line_without_secrets(caplog):
    caplog.set_level("INFO")
    config = {"tenant_id": "acme", "backoff_base_seconds": Decimal("0.25"), **CREDENTIALS,
              "streams": {"charges": {"dataset_id": "ds, with a comma"}}}  # fmt: skip
    TargetAep(config=config, validate_config=True)
    logged = logged_settings(caplog.text)
    assert caplog.text.count("settings: ") == 1
    assert logged["backoff_base_seconds"] == 0.25
    assert logged["max_retries"] == 5  # defaults too: what applies
    assert logged["dead_letter_path"] == str(Path("output") / "dead_letter.jsonl")
    assert logged["streams.charges.dataset_id"] == "ds, with a comma"
    expected = {item.name for item in dataclasses.fields(TargetSettings)} - {
        "streams",
        "client_secret",
    }
    assert expected <= set(logged)
    assert "client_secret" not in logged
    assert "s3cr3t-value" not in caplog.text


# --- the defect: fractional settings in a config file -----------------------------------------

DATASET_ID = "65f0c0ffee00000000charges"
SCHEMA_ID = "https://ns.adobe.com/acme/schemas/charges0000000000000000000000000"
STREAM_IDS = {"dataset_id": DATASET_ID, "schema_id": SCHEMA_ID, "flow_id": "flow-charges-0001"}


def test_a_config_file_with_fractional_values_for_every_number_setting_runs(tmp_path):
    """Regression: the SDK reads config files with parse_float=Decimal, so `0.5` arrived as
    Decimal and was refused ("setting 'backoff_base_seconds' must be a number")."""
    fractions = {
        "request_timeout": 10.5,
        "backoff_base_seconds": 0.001,
        "backoff_max_seconds": 0.01,
        "batch_poll_interval_seconds": 0.25,
        "batch_poll_timeout_seconds": 30.5,
        "batch_partial_ingestion_percent": 12.5,
        "drain_max_age_seconds": 2.5,
        "state_min_interval_seconds": 0.5,
    }
    assert set(fractions) == set(NUMBER_SETTINGS)
    with aep_double() as aep:
        aep.register_dataset(
            DATASET_ID, SCHEMA_ID, dataset_schema("charges", "acme", singer_schema("charges"))
        )
        config = aep.config(
            destination="streaming",
            tenant_id="acme",
            output_dir=str(tmp_path / "out"),
            streams={"charges": STREAM_IDS},
            **fractions,
        )
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config))
        charge = example("charges")
        records = [{**charge, "id": f"ch_file_{n}", "created": charge["created"] + n}
                   for n in range(3)]  # fmt: skip
        state = {"bookmarks": {"charges": {"replication_key_value": 1}}}
        messages = record_messages("charges", singer_schema("charges"), records, state)
        done = subprocess.run(
            [str(Path(sys.executable).with_name("target-aep")), "--config", str(config_file)],
            input="".join(json.dumps(message) + "\n" for message in messages),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert len(aep.dcs_entities[DATASET_ID]) == 3
    assert [json.loads(line) for line in done.stdout.splitlines()] == [state]
    logged = logged_settings(done.stderr)
    for name, value in fractions.items():
        assert logged[name] == value, name


# --- the smallest sets of settings a run starts with (Meltano's settings_group_validation) -------

GROUP_VALUES = {
    "tenant_id": "demo",
    **CREDENTIALS,
    "inlet_id": "inlet-1",
    "streams": {
        "charges": {
            "dataset_id": "ds-1",
            "schema_id": "https://ns.adobe.com/demo/schemas/charges",
            "flow_id": "flow-1",
        }
    },
}


DESTINATIONS = ("files", "streaming", "batch")


def _starts(names: tuple[str, ...], destination: str) -> bool:
    """Whether a config of only these settings runs a `charges` stream with this destination
    (a config without `destination` gets the default, files)."""
    if "destination" not in names and destination != "files":
        return False
    config = {name: GROUP_VALUES[name] for name in names if name != "destination"}
    if "destination" in names:
        config["destination"] = destination
    try:
        TargetSettings.from_config(config).stream("charges")
    except SettingError:
        return False
    return True


@pytest.mark.parametrize("group", SETTING_GROUPS, ids=lambda group: "+".join(group))
def test_each_setting_group_is_enough_to_start_and_needs_every_member(group):
    started = [d for d in DESTINATIONS if _starts(group, d)]
    assert started
    for name in group:
        rest = tuple(n for n in group if n != name)
        if name == "destination":  # needed to leave the default
            assert set(started) - {"files"}
            assert [d for d in DESTINATIONS if _starts(rest, d)] == ["files"]
        else:
            assert any(not _starts(rest, d) for d in started), f"{name} is not needed"


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_every_destination_has_a_setting_group(destination):
    assert any(_starts(group, destination) for group in SETTING_GROUPS)


@pytest.mark.parametrize("log_metrics", [None, "false", "true"])
def test_the_sdks_metric_lines_are_logged_only_when_log_metrics_is_on(tmp_path, log_metrics):
    config: dict = {"tenant_id": "acme", "output_dir": str(tmp_path / "out")}
    if log_metrics is not None:
        config["log_metrics"] = log_metrics  # as text, as an environment variable holds it
    charges = [{**example("charges"), "id": f"ch_metric_{n}"} for n in range(3)]
    messages = record_messages("charges", singer_schema("charges"), charges, {"bookmarks": {}})
    done = run_cli(config, messages, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    metric_lines = [line for line in done.stderr.splitlines() if "METRIC" in line]
    assert bool(metric_lines) == (log_metrics == "true"), done.stderr[-3000:]
    assert "Run summary:" in done.stderr  # the target's own lines stay
