"""The interop suite's venv cache: built once, reused, rebuilt when a pin changes."""

from __future__ import annotations

import subprocess

import pytest

from tests.interop import foreign_venv
from tests.interop.foreign_venv import MARKER, ForeignPlugin, ensure_venv


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(foreign_venv, "CACHE_ROOT", tmp_path)
    return tmp_path


def installed(venv, module: str) -> bool:
    probe = subprocess.run([venv.python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def test_a_venv_is_built_once_then_reused_and_rebuilt_when_a_pin_changes(cache):
    first = ensure_venv(ForeignPlugin("probe", ("six==1.17.0",)))
    assert first.build_seconds > 0
    assert installed(first, "six")
    again = ensure_venv(ForeignPlugin("probe", ("six==1.17.0",)))
    assert (again.root, again.build_seconds) == (first.root, 0.0)

    changed = ensure_venv(ForeignPlugin("probe", ("six==1.17.0", "backoff==2.2.1")))
    assert changed.root != first.root
    assert not first.root.exists()  # the venv of the old pins is gone
    assert installed(changed, "backoff")
    assert [path.name for path in cache.iterdir()] == [changed.root.name]


def test_an_interrupted_build_is_redone(cache):
    plugin = ForeignPlugin("probe", ("six==1.17.0",))
    built = ensure_venv(plugin)
    (built.root / MARKER).unlink()  # as if the install had been killed before finishing
    rebuilt = ensure_venv(plugin)
    assert rebuilt.build_seconds > 0
    assert installed(rebuilt, "six")


def test_a_package_that_cannot_be_installed_skips_naming_it(cache):
    wheel = cache / "absent_plugin-0.0.1-py3-none-any.whl"  # local: no index is asked
    plugin = ForeignPlugin("probe", (str(wheel),))
    with pytest.raises(pytest.skip.Exception, match=r"absent_plugin-0\.0\.1"):
        ensure_venv(plugin)
    assert not plugin.folder.exists()
