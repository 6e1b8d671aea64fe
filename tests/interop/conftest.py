"""Fixtures for the interop tests: foreign plugins' venvs (built once, cached in the clone)."""

from __future__ import annotations

import pytest

from tests.interop.foreign_venv import ForeignVenv, ensure_venv
from tests.interop.plugins import SINGER_IO_TAP_STRIPE, SINGER_TOOLS, TARGET_CSV, TARGET_JSONL


@pytest.fixture(scope="session")
def singer_io_tap_stripe() -> ForeignVenv:
    return ensure_venv(SINGER_IO_TAP_STRIPE)


@pytest.fixture(scope="session")
def target_jsonl() -> ForeignVenv:
    return ensure_venv(TARGET_JSONL)


@pytest.fixture(scope="session")
def target_csv() -> ForeignVenv:
    return ensure_venv(TARGET_CSV)


@pytest.fixture(scope="session")
def singer_tools() -> ForeignVenv:
    return ensure_venv(SINGER_TOOLS)
