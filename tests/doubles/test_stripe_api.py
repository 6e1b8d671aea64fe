"""The tests' Stripe double: requests recorded as seen, injected failures answered as asked.

(What it inherits, Stripe's documented behaviour, is tested in tests/stripe_emulator/.)
"""

from __future__ import annotations

import pytest
import requests

from tests.stripe_emulator.emulator_client import T0, get


def test_injected_500_answers_with_stripe_error_and_retry_advice_then_recovers(stripe_double):
    stripe_double.inject("/v1/charges", status=500, times=2, should_retry=True)
    for _ in range(2):
        failed = get(stripe_double, "/v1/charges")
        assert failed.status_code == 500
        assert failed.json()["error"]["type"] == "api_error"
        assert failed.headers["Stripe-Should-Retry"] == "true"
        assert failed.headers["Request-Id"].startswith("req_")
    assert get(stripe_double, "/v1/charges").status_code == 200
    assert get(stripe_double, "/v1/customers").status_code == 200


def test_injection_only_hits_its_path_prefix(stripe_double):
    stripe_double.inject("/v1/customers", status=503)
    assert get(stripe_double, "/v1/charges").status_code == 200
    assert get(stripe_double, "/v1/customers").status_code == 503
    assert get(stripe_double, "/v1/customers").status_code == 200


def test_injected_429_has_rate_limit_shape(stripe_double):
    stripe_double.inject("/v1/", status=429, should_retry=False)
    answer = get(stripe_double, "/v1/charges")
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "rate_limit"
    assert answer.headers["Stripe-Rate-Limited-Reason"]
    assert answer.headers["Stripe-Should-Retry"] == "false"


def test_injected_broken_body_is_served_raw(stripe_double):
    stripe_double.inject("/v1/charges", status=200, body=b'{"object": "list", "data": [')
    answer = get(stripe_double, "/v1/charges")
    assert answer.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()


def test_injected_truncated_transfer_breaks_the_read(stripe_double):
    stripe_double.inject("/v1/charges", status=200, body=b'{"object": "li', declared_length=500)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(stripe_double, "/v1/charges")
    assert get(stripe_double, "/v1/charges").status_code == 200


def test_injected_drop_closes_the_connection_without_an_answer(stripe_double):
    stripe_double.inject("/v1/charges", status=0)
    with pytest.raises(requests.exceptions.ConnectionError):
        get(stripe_double, "/v1/charges")
    assert get(stripe_double, "/v1/charges").status_code == 200


def test_requests_record_params_and_can_be_cleared(stripe_double):
    get(stripe_double, "/v1/charges", limit=5, **{"created[gte]": T0})
    assert stripe_double.requests[-1].params == {"limit": ["5"], "created[gte]": [str(T0)]}
    held = stripe_double.requests
    stripe_double.clear_requests()
    assert held == []  # cleared in place
    get(stripe_double, "/v1/charges")
    assert [r.path for r in held] == ["/v1/charges"]


def test_requests_record_the_stripe_version_and_path(stripe_double):
    get(stripe_double, "/v1/charges", headers={"Stripe-Version": "2025-03-31.basil"})
    assert stripe_double.requests[-1].headers["Stripe-Version"] == "2025-03-31.basil"
    assert stripe_double.requests[-1].path == "/v1/charges"
