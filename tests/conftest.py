"""Fixtures shared by every test area."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.doubles.stripe_api import StripeDouble


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    """A started, empty local Stripe API double (key `sk_test_double`), stopped afterwards."""
    with StripeDouble() as double:
        yield double
