"""README settings tables and meltano.yml setting declarations match the plugins' --about."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.shared_paths import REPO_ROOT

PLUGINS = {"tap-stripe-xdm": "extractors", "target-aep": "loaders"}


def about(plugin: str) -> dict:
    exe = Path(sys.executable).with_name(plugin)
    out = subprocess.run([str(exe), "--about", "--format=json"], check=True, capture_output=True)
    return json.loads(out.stdout)


def test_readme_and_meltano_yml_are_generated_from_the_current_settings():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "sync_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_setting_is_declared_in_meltano_yml_with_its_secrecy(plugin):
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    (declared,) = [p for p in project["plugins"][PLUGINS[plugin]] if p["name"] == plugin]
    settings = {s["name"]: s for s in declared["settings"]}
    properties = about(plugin)["settings"]["properties"]
    assert set(settings) == set(properties)
    for name, spec in properties.items():
        assert settings[name].get("kind"), name
        assert settings[name].get("description"), name
        assert bool(settings[name].get("sensitive")) == bool(spec.get("secret")), name


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
