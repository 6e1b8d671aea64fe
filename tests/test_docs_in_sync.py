"""README settings tables, meltano.yml plugin definitions and the Meltano Hub definitions in hub/
match the plugins' --about, and the Hub definitions are in the Hub's format."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from tests.shared_paths import REPO_ROOT

PLUGINS = {"tap-stripe-xdm": "extractors", "target-aep": "loaders"}

# The Hub's format (https://github.com/meltano/hub/tree/main/schemas): the keys a variant file
# may hold (plugin_definitions/{extractors,loaders}.schema.json), those it must hold
# (common/common.schema.json and the `quality` rating), the capabilities per plugin type
# (common/{extractors,loaders}_specific.schema.json), a setting's keys and kinds
# (common/base_setting.schema.json) and the maintenance statuses (hub_metadata.schema.json).
HUB_COMMON_KEYS = {
    "name", "variant", "namespace", "label", "description", "pip_url", "executable", "repo",
    "docs", "logo_url", "hidden", "python", "settings", "settings_group_validation", "commands",
    "capabilities", "requires", "maintenance_status", "quality", "domain_url", "keywords",
    "definition", "next_steps", "settings_preamble", "usage", "prereq",
    "supported_python_versions", "log_parser",
}  # fmt: skip
HUB_KEYS = {
    "extractors": HUB_COMMON_KEYS | {"metadata", "schema", "select"},
    "loaders": HUB_COMMON_KEYS | {"dialect", "target_schema"},
}
HUB_REQUIRED = {"name", "namespace", "variant", "label", "quality"}
HUB_CAPABILITIES = {
    "extractors": {
        "properties", "catalog", "discover", "state", "about", "stream-maps",
        "schema-flattening", "activate-version", "batch", "test", "log-based",
        "structured-logging",
    },
    "loaders": {
        "about", "stream-maps", "activate-version", "batch", "soft-delete", "hard-delete",
        "datatype-failsafe", "schema-flattening", "target-schema", "validate-records",
        "structured-logging",
    },
}  # fmt: skip
SETTING_KEYS = {
    "name", "aliases", "label", "value", "placeholder", "kind", "description", "tooltip",
    "documentation", "env", "value_processor", "value_post_processor", "oauth", "options",
    "docs", "hidden", "sensitive",
}  # fmt: skip
SETTING_KINDS = {
    "oauth",
    "date_iso8601",
    "file",
    "email",
    "integer",
    "options",
    "object",
    "array",
    "boolean",
    "string",
    "decimal",
}  # fmt: skip (`hidden` and `password` are deprecated)
MAINTENANCE_STATUSES = {"active", "beta", "development", "inactive", "unknown"}
QUALITIES = {"gold", "silver", "bronze", "unknown"}
# What issue 16's users rely on in a definition (meltano add --from-ref, the Hub's page).
EXPECTED_KEYS = {
    "name", "namespace", "variant", "label", "description", "repo", "docs", "pip_url",
    "executable", "capabilities", "keywords", "settings", "settings_group_validation",
}  # fmt: skip
# Meltano setting kind -> the JSON Schema type of a setting of that kind.
JSON_TYPE_OF_KIND = {
    "string": "string",
    "integer": "integer",
    "decimal": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


@functools.cache
def about(plugin: str) -> dict:
    exe = Path(sys.executable).with_name(plugin)
    out = subprocess.run([str(exe), "--about", "--format=json"], check=True, capture_output=True)
    return json.loads(out.stdout)


def hub_definition(plugin: str) -> dict:
    (path,) = (REPO_ROOT / "hub" / PLUGINS[plugin] / plugin).glob("*.yml")
    return yaml.safe_load(path.read_text())


def meltano_yml_definition(plugin: str) -> dict:
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    (declared,) = [p for p in project["plugins"][PLUGINS[plugin]] if p["name"] == plugin]
    return declared


def schema_at(properties: dict, dotted: str) -> dict:
    """The JSON schema of setting `a.b.c` (a nested property of the config schema)."""
    head, _, rest = dotted.partition(".")
    assert head in properties, f"{dotted}: no such setting in --about"
    spec = properties[head]
    return schema_at(spec["properties"], rest) if rest else spec


def json_types(spec: dict) -> set[str]:
    declared = spec.get("type")
    if declared is None:
        return {t for alt in spec.get("oneOf", []) + spec.get("anyOf", []) for t in json_types(alt)}
    return set(declared) if isinstance(declared, list) else {declared}


def test_readme_meltano_yml_and_hub_definitions_are_generated_from_the_current_settings():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "sync_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("source", ["meltano.yml", "hub"])
@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_setting_is_declared_with_its_kind_label_default_and_secrecy(plugin, source):
    definition = (
        meltano_yml_definition(plugin) if source == "meltano.yml" else hub_definition(plugin)
    )
    declared = {s["name"]: s for s in definition["settings"]}
    properties = about(plugin)["settings"]["properties"]
    for name in properties:  # each one itself, or an object through its dotted leaves
        assert name in declared or any(d.startswith(f"{name}.") for d in declared), name
    for name, setting in declared.items():
        spec = schema_at(properties, name)
        assert setting.get("label"), name
        assert setting.get("description"), name
        if setting["kind"] == "options":
            assert [o["value"] for o in setting["options"]] == [v for v in spec["enum"] if v], name
        elif setting["kind"] == "date_iso8601":
            assert spec["format"] == "date-time", name
        else:
            assert JSON_TYPE_OF_KIND[setting["kind"]] in json_types(spec), name
        assert bool(setting.get("sensitive")) == bool(spec.get("secret")), name
        if spec.get("secret"):
            assert "value" not in setting, name
        else:
            assert setting.get("value") == spec.get("default"), name


@pytest.mark.parametrize("plugin", PLUGINS)
def test_hub_definition_is_in_the_hubs_format(plugin):
    definition = hub_definition(plugin)
    plugin_type = PLUGINS[plugin]
    assert set(definition) >= EXPECTED_KEYS | HUB_REQUIRED
    assert set(definition) <= HUB_KEYS[plugin_type]
    assert set(definition["capabilities"]) <= HUB_CAPABILITIES[plugin_type]
    assert definition["maintenance_status"] in MAINTENANCE_STATUSES
    assert definition["quality"] in QUALITIES
    for setting in definition["settings"]:
        assert set(setting) <= SETTING_KEYS, setting["name"]
        assert setting["kind"] in SETTING_KINDS, setting["name"]
    names = {s["name"] for s in definition["settings"]}
    for group in definition["settings_group_validation"]:
        assert group, "an empty group would make every configuration valid"
        assert set(group) <= names, group


@pytest.mark.parametrize("plugin", PLUGINS)
def test_hub_definition_names_what_the_package_installs_and_says(plugin):
    definition = hub_definition(plugin)
    info = about(plugin)
    distribution = metadata.distribution(definition["pip_url"])
    assert distribution.metadata["Name"] == plugin
    scripts = {ep.name for ep in distribution.entry_points if ep.group == "console_scripts"}
    assert definition["executable"] in scripts
    assert definition["namespace"] == plugin.replace("-", "_")
    urls = dict(u.split(", ", 1) for u in distribution.metadata.get_all("Project-URL"))
    assert definition["repo"] == urls["Repository"]
    assert definition["docs"] == urls["Documentation"]
    assert definition["variant"] == definition["repo"].split("/")[3].lower()
    assert definition["description"] == info["description"]
    assert sorted(definition["capabilities"]) == sorted(info["capabilities"])


def test_the_taps_setting_group_is_its_required_settings():
    required = about("tap-stripe-xdm")["settings"]["required"]
    assert hub_definition("tap-stripe-xdm")["settings_group_validation"] == [required]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_meltano_yml_declares_the_plugin_as_its_hub_definition_does(plugin):
    declared, published = meltano_yml_definition(plugin), hub_definition(plugin)
    keys = ("namespace", "executable", "capabilities", "commands", "settings_group_validation")
    for key in (*keys, "settings"):
        assert declared.get(key) == published.get(key), key
    assert declared["pip_url"] == f"-e ./{plugin}"  # the clone's own source, editable


def test_no_secret_value_is_written_into_meltano_yml():
    text = (REPO_ROOT / "meltano.yml").read_text()
    assert not re.search(r"\b[sr]k_(live|test)_[A-Za-z0-9]{8,}", text), "Stripe key found"
    project = yaml.safe_load(text)
    secrets = {"api_key", "client_secret"}
    for environment in project["environments"]:
        plugins = (environment.get("config") or {}).get("plugins", {})
        for kind in plugins.values():
            for plugin in kind:
                assert not secrets & set(plugin.get("config") or {}), environment["name"]
