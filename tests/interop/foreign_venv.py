"""Foreign Singer plugins, each in its own virtualenv, created once and cached in the clone.

A plugin's venv lives in `.venv-interop/<name>-<key>/` (ignored by git), where `key` digests
the pinned requirements and the Python version: changing a pin builds a new venv and removes
the old one. `uv venv` + `uv pip install` build one in seconds (uv's wheel cache is shared by
every venv). A venv counts as built only once its marker file is written, so an interrupted
build is redone. Where a plugin cannot be installed (no package index, no uv), the test that
needs it skips, naming the package and the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.shared_paths import REPO_ROOT

CACHE_ROOT = Path(os.environ.get("INTEROP_VENV_DIR", REPO_ROOT / ".venv-interop"))
MARKER = "interop-installed.json"
INSTALL_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class ForeignPlugin:
    """A plugin from PyPI at pinned versions; `name` names its venv folder."""

    name: str
    requirements: tuple[str, ...]

    @property
    def key(self) -> str:
        text = "\n".join([f"python {sys.version_info[:3]}", *sorted(self.requirements)])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def folder(self) -> Path:
        return CACHE_ROOT / f"{self.name}-{self.key}"


@dataclass(frozen=True)
class ForeignVenv:
    plugin: ForeignPlugin
    root: Path
    build_seconds: float  # 0 when the cached venv was reused

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def executable(self, name: str) -> Path:
        path = self.root / "bin" / name
        if not path.exists():
            pytest.fail(f"{self.plugin.requirements} installed no `{name}` command in {self.root}")
        return path


def find_uv() -> str | None:
    """The uv command: on PATH, or where bin/bootstrap or Meltano installed it."""
    for candidate in (
        shutil.which("uv"),
        REPO_ROOT / ".venv-tools" / "bin" / "uv",
        REPO_ROOT / ".venv-meltano" / "bin" / "uv",
    ):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def _skip(plugin: ForeignPlugin, why: str) -> None:
    pytest.skip(f"cannot install {' '.join(plugin.requirements)} for the interop test: {why}")


def ensure_venv(plugin: ForeignPlugin) -> ForeignVenv:
    """The plugin's cached venv, built first if absent or built for other pins."""
    folder = plugin.folder
    if (folder / MARKER).exists():
        return ForeignVenv(plugin, folder, 0.0)
    uv = find_uv()
    if uv is None:
        _skip(plugin, "uv is not installed (bin/test installs it into .venv-tools)")
    for stale in CACHE_ROOT.glob(f"{plugin.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # other pins, or an interrupted build
    started = time.monotonic()
    python = str(folder / "bin" / "python")
    steps = (
        [uv, "venv", "--quiet", "--python", sys.executable, str(folder)],
        [uv, "pip", "install", "--quiet", "--python", python, *plugin.requirements],
    )
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.setdefault("UV_SYSTEM_CERTS", "true")  # as bin/bootstrap: works behind TLS proxies
    for step in steps:
        try:
            result = subprocess.run(
                step, capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(folder, ignore_errors=True)
            _skip(plugin, f"`{' '.join(step[:3])}` took over {INSTALL_TIMEOUT_SECONDS} s")
        if result.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            _skip(plugin, result.stderr.strip()[-1500:] or f"exit code {result.returncode}")
    seconds = time.monotonic() - started
    (folder / MARKER).write_text(
        json.dumps({"requirements": list(plugin.requirements), "build_seconds": seconds})
    )
    return ForeignVenv(plugin, folder, seconds)
