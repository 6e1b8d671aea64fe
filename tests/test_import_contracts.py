"""The import contracts in pyproject.toml hold: dependencies run one way, no cycles upward."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.shared_paths import REPO_ROOT


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
