"""Stripe's limits (https://docs.stripe.com/rate-limits): per account, a global budget and one
per endpoint that also counts against the global one; beyond either, a 429 `rate_limit` whose
`Stripe-Rate-Limited-Reason` names the limiter. Off unless set, so other tests are unaffected."""

from __future__ import annotations

import time

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


def test_no_limit_is_enforced_unless_set():
    with StripeEmulator() as stripe:
        statuses = {get(stripe, "/v1/charges").status_code for _ in range(60)}
        assert statuses == {200}
        assert stripe.rate_limited == 0


def test_endpoint_limit_refuses_one_endpoint_while_others_are_served():
    with StripeEmulator(endpoint_rate_limit_per_second=4) as stripe:
        charges = [get(stripe, "/v1/charges") for _ in range(8)]
        # the one-second burst holds `rate` requests; a few more may refill meanwhile
        assert 4 <= sum(a.status_code == 200 for a in charges) < 8
        refused = next(a for a in charges if a.status_code == 429)
        assert refused.headers["Stripe-Rate-Limited-Reason"] == "endpoint-rate"
        # Stripe's documented error body: type, code, message, doc_url
        error = refused.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "rate_limit"
        assert error["doc_url"] == "https://stripe.com/docs/error-codes/rate-limit"
        assert "Too many requests" in error["message"]
        # another endpoint has its own budget, and retrieving is an endpoint of its own
        assert get(stripe, "/v1/customers").status_code == 200
        assert get(stripe, "/v1/charges/ch_missing").status_code == 404
        assert stripe.rate_limited == sum(a.status_code == 429 for a in charges)


def test_endpoint_requests_count_against_the_global_limit():
    with StripeEmulator(rate_limit_per_second=6, endpoint_rate_limit_per_second=4) as stripe:
        answers = [get(stripe, path) for path in ["/v1/charges"] * 4 + ["/v1/customers"] * 4]
        reasons = [a.headers.get("Stripe-Rate-Limited-Reason") for a in answers]
        assert reasons[:4] == [None] * 4
        assert "global-rate" in reasons[4:], reasons


def test_limits_are_per_account():
    with StripeEmulator(endpoint_rate_limit_per_second=2) as stripe:
        stripe.add_account("acct_1Other")
        own = [get(stripe, "/v1/charges").status_code for _ in range(4)]
        other = get(stripe, "/v1/charges", headers={"Stripe-Account": "acct_1Other"})
        assert 429 in own
        assert other.status_code == 200


def test_a_client_within_the_limits_is_never_refused():
    with StripeEmulator(rate_limit_per_second=20, endpoint_rate_limit_per_second=10) as stripe:
        for _ in range(25):  # 10/s to one endpoint, 20/s over two: at the limits, not beyond
            started = time.monotonic()
            assert get(stripe, "/v1/charges").status_code == 200
            assert get(stripe, "/v1/prices").status_code == 200
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
        assert stripe.rate_limited == 0


def test_refused_requests_use_no_budget():
    with StripeEmulator(endpoint_rate_limit_per_second=2) as stripe:
        while get(stripe, "/v1/charges").status_code == 200:
            pass
        for _ in range(5):  # hammering while refused does not push recovery further out
            get(stripe, "/v1/charges")
        time.sleep(0.6)  # one token back at 2/s
        assert get(stripe, "/v1/charges").status_code == 200
