"""The Meltano Hub definitions in hub/ work as a user uses them: `meltano add --from-ref` adds each
plugin to a new Meltano project (installed from the built wheel instead of the package index),
`meltano config list` shows every setting, and the two added plugins run a pipeline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.meltano_project import meltano_executable
from tests.packaging.conftest import EMULATOR_KEY, tap_config
from tests.packaging.distributions import clean_env
from tests.shared_paths import REPO_ROOT

PLUGINS = {"tap-stripe-xdm": "extractors", "target-aep": "loaders"}
# A new project as `meltano init` writes it, without telemetry.
PROJECT = {
    "project_id": "packaging-test",
    "send_anonymous_usage_stats": False,
    "default_environment": "dev",
    "environments": [{"name": "dev"}],
}


def hub_definition(plugin: str) -> dict:
    (path,) = (REPO_ROOT / "hub" / PLUGINS[plugin] / plugin).glob("*.yml")
    return yaml.safe_load(path.read_text())


def meltano(project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(meltano_executable()), *args],
        cwd=project,
        env=clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", **(env or {})),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"meltano {' '.join(args)}:\n{result.stderr[-6000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def project(distributions, tmp_path_factory) -> Path:
    """A new Meltano project with both plugins added from their Hub definitions, each
    definition's pip_url pointed at the wheel just built (the only change)."""
    root = tmp_path_factory.mktemp("meltano-from-ref")
    (root / "meltano.yml").write_text(yaml.safe_dump(PROJECT, sort_keys=False))
    for plugin in PLUGINS:
        definition = {**hub_definition(plugin), "pip_url": str(distributions[plugin].wheel)}
        reference = root / f"{plugin}.yml"
        reference.write_text(yaml.safe_dump(definition, sort_keys=False))
        meltano(root, "add", plugin, "--from-ref", str(reference))
    return root


@pytest.mark.parametrize("plugin", PLUGINS)
def test_meltano_add_from_ref_declares_the_plugin_as_its_definition(plugin, project):
    (added,) = yaml.safe_load((project / "meltano.yml").read_text())["plugins"][PLUGINS[plugin]]
    definition = hub_definition(plugin)
    keys = ("name", "variant", "namespace", "executable", "capabilities", "commands", "settings")
    for key in (*keys, "settings_group_validation"):
        assert added.get(key) == definition.get(key), key


@pytest.mark.parametrize("plugin", PLUGINS)
def test_meltano_config_list_shows_every_setting(plugin, project):
    listed = meltano(project, "--environment=dev", "config", "list", "--all", plugin)
    names = {line.split()[0] for line in listed.splitlines() if line[:1].isalpha()}
    missing = {s["name"] for s in hub_definition(plugin)["settings"]} - names
    assert not missing, listed


def test_the_project_validates_against_meltanos_schema(project):
    import jsonschema

    site = meltano_executable().parent.parent / "lib"
    (schema_path,) = site.glob("python3*/site-packages/meltano/schemas/meltano.schema.json")
    jsonschema.validate(
        yaml.safe_load((project / "meltano.yml").read_text()), json.loads(schema_path.read_text())
    )


def test_the_added_plugins_run_a_pipeline_from_the_emulator_into_files(
    project, emulator_url, tap_output, tmp_path
):
    config = tap_config(emulator_url)
    assert config["api_key"] == EMULATOR_KEY
    env = {f"TAP_STRIPE_XDM_{name.upper()}": value for name, value in config.items()}
    env.update(TARGET_AEP_TENANT_ID="demo", TARGET_AEP_OUTPUT_DIR=str(tmp_path))
    meltano(project, "--environment=dev", "run", "tap-stripe-xdm", "target-aep", env=env)
    written = {
        manifest.parent.name: json.loads(manifest.read_text())["total_records"]
        for manifest in tmp_path.glob("*/manifest.json")
    }
    assert written == dict(tap_output.record_counts())
