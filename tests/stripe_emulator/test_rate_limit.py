"""Beyond the per-account budget, Stripe's 429 answer; lifting the limit restores service."""

from __future__ import annotations

from stripe_emulator import StripeEmulator

from tests.stripe_emulator.emulator_client import get


def test_rate_limit_answers_429_with_reason_header_beyond_the_budget():
    with StripeEmulator(rate_limit_per_second=3) as stripe:
        statuses = [get(stripe, "/v1/charges") for _ in range(6)]
        limited = [a for a in statuses if a.status_code == 429]
        assert limited, [a.status_code for a in statuses]
        assert limited[0].headers["Stripe-Rate-Limited-Reason"] == "global-rate"
        assert limited[0].json()["error"]["code"] == "rate_limit"
        stripe.rate_limit_per_second = None
        assert get(stripe, "/v1/charges").status_code == 200
