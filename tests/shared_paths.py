"""Where the read-only reference material lives: the `shared` folder beside the repository.

Tests read it in place (never copied). Where it is absent, tests that need it skip with a reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STRIPE_XDM_SHARED", REPO_ROOT.parent / "shared"))
STRIPE_EXAMPLES = SHARED / "stripe-examples"
STRIPE_FIXTURES = SHARED / "stripe-openapi" / "fixtures3.json"
XDM_DIR = SHARED / "xdm"
AEP_OPENAPI = SHARED / "aep-openapi"


def require(path: Path) -> Path:
    """Return `path`, or skip the calling test when the shared material is not beside the repo."""
    if not path.exists():
        pytest.skip(f"reference material not found at {path} (the ../shared folder is absent)")
    return path
