"""Fixtures for the tap tests: a double seeded with a known data set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START

SEED_COUNTS = {
    "charges": 600,
    "subscriptions": 40,
    "refunds": 60,
    "balance_transactions": 150,
    "customers": 80,
    "prices": 30,
}


@pytest.fixture
def seeded_double() -> Iterator[StripeDouble]:
    """A double holding SEED_COUNTS objects created in [SEEDED_START, SEEDED_END)."""
    with StripeDouble() as double:
        double.seed(SEED_COUNTS, start=SEEDED_START, end=SEEDED_END, seed=7)
        yield double
