"""The emulator's own tests use the product class itself (not the tests' double built on it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stripe_emulator import StripeEmulator


@pytest.fixture
def emulator() -> Iterator[StripeEmulator]:
    """A started, empty Stripe emulator (key `sk_test_double`), stopped afterwards."""
    with StripeEmulator() as started:
        yield started
