"""Fixtures shared by every test area."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.doubles.aep_api import AepDouble, aep_double
from tests.doubles.stripe_api import StripeDouble
from tests.shared_paths import XDM_DIR, require


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    """A started, empty local Stripe API double (key `sk_test_double`), stopped afterwards."""
    with StripeDouble() as double:
        yield double


@pytest.fixture
def aep() -> Iterator[AepDouble]:
    """A started local AEP double (IMS, DCS, batch, Catalog, registry, ...), stopped afterwards."""
    with aep_double() as double:
        yield double


@pytest.fixture
def aep_xdm() -> Iterator[AepDouble]:
    """The AEP double with Adobe's XDM library loaded from ../shared (skips when it is absent):
    what the Schema Registry's write side, provisioning and Flow Service tests compose from."""
    require(XDM_DIR)
    with aep_double() as double:
        yield double
