"""bin/bootstrap leaves compiled bytecode in every environment it or Meltano installs, so a
machine where PYTHONDONTWRITEBYTECODE is set (many container images) does not compile every
imported module again in each process of each run.

A copy of the project without tests/ is bootstrapped in a clean environment with
PYTHONDONTWRITEBYTECODE=1: Python then writes no bytecode on import, so any that exists was
compiled at install time.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_bin_run import clean_environment, copy_without_tests


def compiled(folder: Path) -> list[Path]:
    return list(folder.glob("__pycache__/*.pyc"))


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory) -> Path:
    project = copy_without_tests(tmp_path_factory.mktemp("bootstrap") / "clone")
    env = clean_environment(PYTHONDONTWRITEBYTECODE="1")
    subprocess.run(
        ["bash", "-c", "source bin/bootstrap"], cwd=project, env=env, check=True, timeout=900
    )
    # the plugin venvs Meltano creates on first use (bin/run's `meltano run` does the same)
    subprocess.run(
        ["bin/meltano", "install"], cwd=project, env=env, check=True, timeout=900,
        capture_output=True,
    )  # fmt: skip
    return project


def test_the_workspace_venv_and_the_packages_own_sources_are_compiled(bootstrapped):
    site = next((bootstrapped / ".venv" / "lib").glob("python*/site-packages"))
    assert compiled(site / "singer_sdk")
    for package in ("tap-stripe-xdm/tap_stripe_xdm", "target-aep/target_aep",
                    "stripe-emulator/stripe_emulator"):  # fmt: skip
        assert compiled(bootstrapped / package), package


def test_meltano_and_the_plugin_venvs_it_installs_are_compiled(bootstrapped):
    meltano = next((bootstrapped / ".venv-meltano" / "lib").glob("python*/site-packages"))
    assert compiled(meltano / "meltano" / "cli")
    for plugin in ("extractors/tap-stripe-xdm", "loaders/target-aep"):
        venv = bootstrapped / ".meltano" / plugin / "venv"
        site = next((venv / "lib").glob("python*/site-packages"))
        assert compiled(site / "singer_sdk"), plugin
