"""A throwaway copy of this Meltano project, driven with the real Meltano CLI.

The copy holds what a user's clone holds (meltano.yml, logging.yaml and the two plugin
packages); Meltano installs the plugins into the copy's own .meltano/ exactly as on a fresh machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.shared_paths import REPO_ROOT

IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv*", ".meltano", "output")


def meltano_executable() -> Path:
    """Meltano lives in its own venv (bin/test and bin/run install it there)."""
    path = Path(os.environ.get("MELTANO_BIN", REPO_ROOT / ".venv-meltano" / "bin" / "meltano"))
    if not path.exists():
        pytest.skip(f"Meltano is not installed at {path}: run bin/test, which installs it")
    return path


class MeltanoProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.meltano = meltano_executable()
        shutil.copy2(REPO_ROOT / "meltano.yml", root / "meltano.yml")
        shutil.copy2(REPO_ROOT / "logging.yaml", root / "logging.yaml")  # Meltano's log setup
        for package in ("tap-stripe-xdm", "target-aep"):
            shutil.copytree(REPO_ROOT / package, root / package, ignore=IGNORED)

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TAP_STRIPE_XDM_", "TARGET_AEP_", "MELTANO_", "VIRTUAL_ENV"))
        }
        env.update(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", MELTANO_ENVIRONMENT="local")
        env.update(extra)
        return env

    def meltano_cmd(self, *args: str, env: dict[str, str], timeout: float = 600) -> str:
        result = subprocess.run(
            [str(self.meltano), *args],
            cwd=self.root,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"meltano {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
            )
        return result.stdout + result.stderr

    def install(self) -> None:
        self.meltano_cmd("install", env={})

    def run(self, env: dict[str, str], *options: str) -> str:
        return self.meltano_cmd("run", *options, "tap-stripe-xdm", "target-aep", env=env)

    def state(self, env: dict[str, str], suffix: str) -> dict:
        """The state Meltano stored for this pipeline (state id with `suffix`)."""
        state_id = f"local:tap-stripe-xdm-to-target-aep:{suffix}"
        out = self.meltano_cmd("--environment=local", "state", "get", state_id, env=env)
        start = out.index("{")
        decoder = json.JSONDecoder()
        value, _ = decoder.raw_decode(out[start:])
        return value
