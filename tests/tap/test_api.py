"""api.py: headers, retries of transient failures, and clear fatal errors without the key."""

from __future__ import annotations

import logging

import pytest
from tap_stripe_xdm.api import StripeAPI
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.ratelimit import RateLimiter
from tap_stripe_xdm.retry import RetryPolicy
from tap_stripe_xdm.settings import TapSettings

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config

PARAMS = {"limit": 100, "created[gte]": SEEDED_START, "created[lt]": SEEDED_END}


def make_api(url: str, *, max_retries: int = 3, **config: object) -> StripeAPI:
    settings = TapSettings.from_config(base_config(url, **config), user_agent="tap-stripe-xdm/test")
    return StripeAPI(
        settings,
        limiter=RateLimiter(1000),
        retry_policy=RetryPolicy(max_retries=max_retries, base_seconds=0.01, max_seconds=0.02),
        logger=logging.getLogger("test"),
    )


@pytest.fixture
def double() -> StripeDouble:
    with StripeDouble() as stripe:
        stripe.seed({"charges": 30}, start=SEEDED_START, end=SEEDED_END)
        yield stripe


def charge_requests(double: StripeDouble) -> list:
    return [r for r in double.requests if r.path == "/v1/charges"]


def test_every_request_carries_bearer_key_pinned_version_user_agent(double: StripeDouble) -> None:
    make_api(double.url, api_version="2026-09-30.endive").list_page("/v1/charges", PARAMS)
    headers = double.requests[-1].headers
    assert headers["Authorization"] == "Bearer sk_test_double"
    assert headers["Stripe-Version"] == "2026-09-30.endive"
    assert headers["User-Agent"] == "tap-stripe-xdm/test"
    assert "Stripe-Account" not in headers


def test_connected_account_is_sent_as_stripe_account_header(double: StripeDouble) -> None:
    double.seed({"charges": 3}, start=SEEDED_START, end=SEEDED_END, account="acct_1Other")
    page = make_api(double.url).list_page("/v1/charges", PARAMS, account="acct_1Other")
    assert double.requests[-1].headers["Stripe-Account"] == "acct_1Other"
    assert len(page.data) == 3


@pytest.mark.parametrize(
    ("status", "should_retry"),
    [(429, None), (500, None), (503, None), (409, None), (400, True)],
    ids=["429", "500", "503", "409-conflict", "400-stripe-says-retry"],
)
def test_transient_status_is_retried_then_succeeds(
    double: StripeDouble, status: int, should_retry: bool | None
) -> None:
    double.inject("/v1/charges", status=status, times=2, should_retry=should_retry)
    page = make_api(double.url).list_page("/v1/charges", PARAMS)
    assert len(page.data) == 30
    assert len(charge_requests(double)) == 3


def test_dropped_connection_is_retried(double: StripeDouble) -> None:
    double.inject("/v1/charges", status=0, times=2)
    assert len(make_api(double.url).list_page("/v1/charges", PARAMS).data) == 30
    assert len(charge_requests(double)) == 3


def test_cut_off_body_is_retried(double: StripeDouble) -> None:
    double.inject("/v1/charges", status=200, body=b'{"object": "list", "data": [{"id"')
    assert len(make_api(double.url).list_page("/v1/charges", PARAMS).data) == 30
    assert len(charge_requests(double)) == 2


def test_truncated_transfer_is_retried(double: StripeDouble) -> None:
    double.inject("/v1/charges", status=200, body=b'{"object": "list"', declared_length=5000)
    assert len(make_api(double.url).list_page("/v1/charges", PARAMS).data) == 30
    assert len(charge_requests(double)) == 2


def test_should_retry_false_stops_at_once_even_for_5xx(double: StripeDouble) -> None:
    double.inject("/v1/charges", status=500, should_retry=False)
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url).list_page("/v1/charges", PARAMS)
    assert len(charge_requests(double)) == 1
    assert "HTTP 500" in str(caught.value)


def test_retries_are_bounded_and_the_error_names_the_request_id(double: StripeDouble) -> None:
    double.inject("/v1/charges", status=503, times=10)
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url, max_retries=2).list_page("/v1/charges", PARAMS)
    assert len(charge_requests(double)) == 3
    message = str(caught.value)
    assert "after 3 attempts" in message
    assert "Request-Id: req_" in message


def test_invalid_key_401_says_so_without_the_key(double: StripeDouble) -> None:
    secret = "sk_test_51WrongKeyAbcdefghijklmnop"
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url, api_key=secret).list_page("/v1/charges", PARAMS)
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "invalid, expired or revoked" in message
    assert "api_key" in message
    assert "Request-Id: req_" in message
    assert "Invalid API Key provided" in message  # Stripe's own error.message
    assert secret not in message
    assert "WrongKey" not in message
    assert len(charge_requests(double)) == 1  # not retried


def test_restricted_key_403_names_the_resource_and_permission(double: StripeDouble) -> None:
    key = "rk_test_51OnlyCustomersAbcdefghijkl"
    double.add_key(key, allowed={"customers"})
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url, api_key=key).list_page("/v1/charges", PARAMS)
    message = str(caught.value)
    assert "HTTP 403" in message
    assert "may not read charges" in message
    assert "charge_read" in message
    assert "Request-Id: req_" in message
    assert key not in message
    assert "OnlyCustomers" not in message


def test_404_is_fatal_with_stripe_message_and_request_id(double: StripeDouble) -> None:
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url).list_page("/v1/no_such_things", {"limit": 100})
    message = str(caught.value)
    assert "HTTP 404" in message
    assert "Stripe said:" in message
    assert "Request-Id: req_" in message
    assert len([r for r in double.requests if r.path == "/v1/no_such_things"]) == 1


def test_other_4xx_is_not_retried(double: StripeDouble) -> None:
    double.inject("/v1/charges", status=400, times=5)
    with pytest.raises(StripeRequestError, match="HTTP 400"):
        make_api(double.url).list_page("/v1/charges", PARAMS)
    assert len(charge_requests(double)) == 1


def test_request_timeout_is_retried() -> None:
    with StripeDouble(latency=0.5) as slow:
        slow.seed({"charges": 2}, start=SEEDED_START, end=SEEDED_END)
        api = make_api(slow.url, max_retries=1, request_timeout=0.1)
        with pytest.raises(StripeRequestError, match="still failing after 2 attempts"):
            api.list_page("/v1/charges", PARAMS)
        assert len(charge_requests(slow)) == 2


def test_unknown_cursor_is_reported_as_a_missing_cursor(double: StripeDouble) -> None:
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url).list_page("/v1/charges", {**PARAMS, "starting_after": "ch_gone"})
    assert caught.value.is_missing_cursor
    assert caught.value.status == 404


class RecordingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(1000, per_endpoint=500)
        self.acquired: list[str] = []
        self.throttles: list[tuple[str, str | None]] = []

    def acquire(self, endpoint: str = "") -> float:
        self.acquired.append(endpoint)
        return super().acquire(endpoint)

    def throttled(self, endpoint: str = "", reason: str | None = None) -> None:
        self.throttles.append((endpoint, reason))
        super().throttled(endpoint, reason)


def test_429_slows_the_lane_stripe_names_and_is_counted(double: StripeDouble) -> None:
    settings = TapSettings.from_config(base_config(double.url), user_agent="ua")
    limiter = RecordingLimiter()
    api = StripeAPI(
        settings,
        limiter=limiter,
        retry_policy=RetryPolicy(max_retries=3, base_seconds=0.01, max_seconds=0.02),
        logger=logging.getLogger("test"),
    )
    double.inject("/v1/charges", status=429)
    double.inject("/v1/charges", status=503)
    api.list_page("/v1/charges", PARAMS)
    # the double's 429 says endpoint-rate; only the 429 slows the run down, not the 503
    assert limiter.throttles == [("/v1/charges", "endpoint-rate")]
    assert limiter.rate("/v1/charges") == pytest.approx(250, rel=0.05)
    assert limiter.rate() == 1000
    counts = api.counts()
    assert (counts.requests, counts.retries, counts.rate_limited) == (3, 2, 1)


def test_requests_count_against_their_endpoint(double: StripeDouble) -> None:
    settings = TapSettings.from_config(base_config(double.url), user_agent="ua")
    limiter = RecordingLimiter()
    api = StripeAPI(
        settings,
        limiter=limiter,
        retry_policy=RetryPolicy(max_retries=0, base_seconds=0.01, max_seconds=0.02),
        logger=logging.getLogger("test"),
    )
    api.list_page("/v1/charges", PARAMS)
    with pytest.raises(StripeRequestError):
        api.retrieve("/v1/charges/ch_missing")
    assert limiter.acquired == ["/v1/charges", "/v1/charges/:id"]


def test_unconnected_account_403_names_the_account_not_a_permission(double: StripeDouble) -> None:
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url).list_page("/v1/charges", PARAMS, account="acct_1NotConnected")
    message = str(caught.value)
    assert "HTTP 403" in message
    assert "no access to connected account acct_1NotConnected" in message
    assert "account_ids" in message
    assert "Request-Id: req_" in message
    assert "sk_test_double" not in message


def test_retrieve_gets_one_object_under_the_same_retry_policy(double: StripeDouble) -> None:
    charge = double.objects("charges")[0]
    path = f"/v1/charges/{charge['id']}"
    double.inject(path, status=503, times=2)
    fetched = make_api(double.url).retrieve(path, account=None)
    assert fetched == charge
    requests = [r for r in double.requests if r.path == path]
    assert len(requests) == 3
    assert requests[-1].headers["Stripe-Version"] == "2026-10-28.endive"


def test_retrieve_of_a_missing_object_is_a_404_error(double: StripeDouble) -> None:
    with pytest.raises(StripeRequestError) as caught:
        make_api(double.url).retrieve("/v1/charges/ch_missing")
    assert caught.value.status == 404
    assert "No such charge" in str(caught.value)


def test_repeated_parameters_are_sent_as_pairs(double: StripeDouble) -> None:
    params = [("types[]", "charge.updated"), ("types[]", "charge.captured"), ("limit", 10)]
    make_api(double.url).list_page("/v1/events", params)
    assert double.requests[-1].params["types[]"] == ["charge.updated", "charge.captured"]
