"""The three packages as a user gets them: the sdist and wheel `uv build` makes of each, and each
wheel installed alone into a clean venv, its dependencies from the package index and nothing
from the workspace.

`uv build --all-packages` builds each workspace member's sdist and then its wheel from that sdist
(what a user's installer does with an sdist); `--wheel` builds wheels straight from the source
tree, to compare with.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

from tests.interop.foreign_venv import find_uv
from tests.shared_paths import REPO_ROOT

PROJECTS = ("tap-stripe-xdm", "target-aep", "stripe-emulator")
BUILD_TIMEOUT_SECONDS = 600
# Variables that would let a process see the workspace or a plugin's configuration.
_LEAKY_PREFIXES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "TAP_STRIPE_XDM_", "TARGET_AEP_")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.setdefault("UV_SYSTEM_CERTS", "true")  # as bin/bootstrap: works behind TLS proxies
    env.update(extra)
    return env


def run(command: list[str], *, cwd: Path, timeout: float = BUILD_TIMEOUT_SECONDS, **kwargs):
    """Run a command; fail the test with its output when it fails."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env=kwargs.pop("env", None) or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited with {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return result


def uv() -> str:
    command = find_uv()
    if command is None:
        pytest.skip("uv is not installed (bin/test installs it into .venv-tools)")
    return command


@dataclass(frozen=True)
class Distributions:
    project: str
    sdist: Path
    wheel: Path  # built from the sdist
    tree_wheel: Path  # built from the source tree

    @property
    def module(self) -> str:
        return self.project.replace("-", "_")

    @property
    def source(self) -> Path:
        return REPO_ROOT / self.project

    def metadata(self) -> Message:
        with zipfile.ZipFile(self.wheel) as wheel:
            (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
            return HeaderParser().parsestr(wheel.read(name).decode())


def _one(folder: Path, pattern: str) -> Path:
    (path,) = folder.glob(pattern)
    return path


def build_all(out: Path) -> dict[str, Distributions]:
    command = uv()
    run([command, "build", "--all-packages", "--out-dir", str(out / "release")], cwd=REPO_ROOT)
    run(
        [command, "build", "--all-packages", "--wheel", "--out-dir", str(out / "tree")],
        cwd=REPO_ROOT,
    )
    built = {}
    for project in PROJECTS:
        stem = project.replace("-", "_")
        built[project] = Distributions(
            project,
            sdist=_one(out / "release", f"{stem}-*.tar.gz"),
            wheel=_one(out / "release", f"{stem}-*.whl"),
            tree_wheel=_one(out / "tree", f"{stem}-*.whl"),
        )
    return built


def wheel_digests(wheel: Path) -> dict[str, str]:
    """Every file of a wheel, by name, with the SHA-256 of its bytes."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()}


@dataclass(frozen=True)
class CleanVenv:
    """A venv holding one wheel and its dependencies from the package index."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def command(self, name: str) -> str:
        path = self.root / "bin" / name
        assert path.exists(), f"the wheel installed no `{name}` command into {self.root}"
        return str(path)

    def run(self, *args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        """A command of the venv, run outside the repository."""
        return run([*args], cwd=self.root, timeout=timeout, **kwargs)


def install_alone(wheel: Path, root: Path) -> CleanVenv:
    command = uv()
    run([command, "venv", "--quiet", "--python", sys.executable, str(root)], cwd=root.parent)
    venv = CleanVenv(root)
    run([command, "pip", "install", "--quiet", "--python", str(venv.python), str(wheel)], cwd=root)
    return venv
