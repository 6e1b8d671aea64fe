"""The Singer SDK's standard tap tests, run against the local Stripe double.

The SDK builds the test class at import time from a config
(https://sdk.meltano.com/en/latest/testing.html), so the double is started when this module is
imported and stopped when the module's tests end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_stripe_xdm.tap import TapStripeXdm

from tests.doubles.stripe_api import StripeDouble
from tests.tap.conftest import SEED_COUNTS
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config

DOUBLE = StripeDouble().start()
DOUBLE.seed(SEED_COUNTS, start=SEEDED_START, end=SEEDED_END, seed=21)


@pytest.fixture(scope="module", autouse=True)
def _stop_double_after_module() -> Iterator[None]:
    yield
    DOUBLE.stop()


TestTapStripeXdm = get_tap_test_class(
    TapStripeXdm,
    config=base_config(DOUBLE.url),
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=120),
)
