"""retry.py: which failures are retried and how long the tap waits."""

from __future__ import annotations

import pytest
from tap_stripe_xdm.retry import RetryPolicy


def policy(random_value: float = 1.0) -> RetryPolicy:
    return RetryPolicy(max_retries=5, base_seconds=0.5, max_seconds=4, random=lambda: random_value)


@pytest.mark.parametrize("status", [429, 409, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status: int) -> None:
    assert policy().should_retry_status(status, None)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
def test_client_errors_are_final(status: int) -> None:
    assert not policy().should_retry_status(status, None)


def test_stripe_should_retry_header_overrides_the_status() -> None:
    assert not policy().should_retry_status(503, "false")
    assert not policy().should_retry_status(429, "False")
    assert policy().should_retry_status(400, "true")


def test_waits_double_up_to_the_cap() -> None:
    waits = [policy(1.0).delay(n) for n in range(1, 7)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_draws_between_half_and_full_step() -> None:
    assert policy(0.0).delay(3) == 1.0
    assert policy(0.5).delay(3) == 1.5
    assert policy(1.0).delay(3) == 2.0


def test_retry_after_is_respected_but_capped() -> None:
    assert policy(0.0).delay(1, retry_after=3) == 3
    assert policy(0.0).delay(1, retry_after=60) == 4
