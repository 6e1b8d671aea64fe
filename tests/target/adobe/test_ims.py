"""IMS server-to-server tokens: cached, renewed before expiry, failures told without secrets."""

from __future__ import annotations

import pytest
import requests
from target_aep.adobe.backoff import Backoff
from target_aep.adobe.ims import ImsTokenProvider
from target_aep.errors import DeliveryError

NO_WAIT = Backoff(max_retries=3, base_seconds=0, max_seconds=0, sleep=lambda _: None)


class Clock:
    """A hand-driven clock, so expiry is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def provider(aep, *, secret=None, clock=None) -> ImsTokenProvider:
    return ImsTokenProvider(
        requests.Session(),
        ims_url=aep.url,
        client_id=aep.client_id,
        client_secret=secret or aep.client_secret,
        scopes="openid,AdobeID",
        backoff=NO_WAIT,
        timeout=5,
        **({"clock": clock} if clock else {}),
    )


def test_token_is_fetched_once_and_reused_while_valid(aep):
    tokens = provider(aep)
    assert {tokens.token() for _ in range(5)} == {aep.issued_tokens[0]}
    assert aep.count("POST", "/ims/token/v3") == 1


def test_token_is_renewed_a_few_minutes_before_it_expires(aep):
    clock = Clock()
    tokens = provider(aep, clock=clock)
    first = tokens.token()
    clock.now += 86399 - 301  # just outside the 5-minute renewal margin: still the same token
    assert tokens.token() == first
    clock.now += 2  # inside the margin: renewed before Platform could refuse it
    assert tokens.token() != first
    assert aep.count("POST", "/ims/token/v3") == 2


def test_renew_replaces_only_the_token_that_was_refused(aep):
    tokens = provider(aep)
    first = tokens.token()
    second = tokens.renew(first)
    assert second != first
    assert tokens.renew(first) == second  # a late 401 for the old token does not renew again
    assert aep.count("POST", "/ims/token/v3") == 2


def test_wrong_secret_fails_with_an_actionable_message_that_hides_the_secret(aep):
    with pytest.raises(DeliveryError) as failure:
        provider(aep, secret="very-wrong-secret").token()
    text = str(failure.value)
    assert "invalid_client" in text
    assert "client_secret" in text  # tells the user what to check
    assert "very-wrong-secret" not in text
    assert "very-wrong-secret" not in repr(provider(aep, secret="very-wrong-secret"))


def test_ims_server_errors_are_retried_then_succeed(aep):
    aep.inject("/ims", 503, "drop")
    assert provider(aep).token() == aep.issued_tokens[0]
    assert aep.count("POST", "/ims/token/v3") == 3


def test_ims_server_errors_beyond_the_retry_budget_stop_the_run(aep):
    aep.inject("/ims", *[500] * 4)
    with pytest.raises(DeliveryError, match="after 4 attempts"):
        provider(aep).token()
