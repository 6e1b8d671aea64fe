"""The Platform client: required headers, 401 -> one token renewal, bounded backoff, no leaks."""

from __future__ import annotations

import logging
import random

import pytest
from target_aep.adobe.backoff import Backoff
from target_aep.adobe.platform import PlatformClient
from target_aep.errors import DeliveryError, SettingError
from target_aep.settings import TargetSettings

STATS = "/data/foundation/schemaregistry/stats"


def client(aep, **overrides) -> PlatformClient:
    return PlatformClient(TargetSettings.from_config(aep.config(**overrides)))


def get_stats(platform: PlatformClient, aep):
    return platform.request(
        "GET", aep.url + STATS, what="read stats", headers={"Accept": "application/json"}
    )


def test_calls_carry_the_four_platform_headers_the_double_requires(aep):
    assert get_stats(client(aep), aep).status_code == 200
    wrong_org = client(aep, ims_org_id="SOMEONEELSE@AdobeOrg")
    assert get_stats(wrong_org, aep).status_code == 403  # the org header really is sent
    wrong_sandbox = client(aep, sandbox_name="dev")
    assert get_stats(wrong_sandbox, aep).status_code == 403


def test_token_revoked_mid_run_is_renewed_once_after_a_401(aep):
    platform = client(aep)
    get_stats(platform, aep)
    aep.revoke_tokens()
    assert get_stats(platform, aep).status_code == 200
    assert aep.count("GET", STATS, status=401) == 1
    assert aep.count("POST", "/ims/token/v3") == 2


def test_a_401_that_survives_renewal_stops_the_run(aep):
    aep.inject(STATS, 401, 401)
    with pytest.raises(DeliveryError, match="401 after renewing"):
        get_stats(client(aep), aep)
    assert aep.count("GET", STATS) == 2


def test_429_then_success_is_retried_after_a_backoff(aep):
    waits: list[float] = []
    platform = client(aep)
    platform.backoff = Backoff(max_retries=3, base_seconds=0.5, max_seconds=4, sleep=waits.append)
    aep.inject(STATS, 429)
    assert get_stats(platform, aep).status_code == 200
    assert len(waits) == 1
    assert aep.count("GET", STATS) == 2


def test_connection_drops_and_5xx_are_retried_until_the_budget_is_exhausted(aep):
    aep.inject(STATS, "drop", 500, 502, 503)
    with pytest.raises(DeliveryError, match=r"read stats failed after 4 attempts: HTTP 503"):
        get_stats(client(aep, max_retries=3), aep)
    assert aep.count("GET", STATS) == 4  # 1 try + 3 retries, then stop


def test_backoff_is_exponential_with_full_jitter_and_capped():
    random.seed(7)
    backoff = Backoff(max_retries=10, base_seconds=1, max_seconds=8)
    for attempt in range(8):
        ceiling = min(8, 2**attempt)
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole window
    assert backoff.delay(0, retry_after=3) >= 3  # Retry-After is a floor...
    assert backoff.delay(0, retry_after=600) <= 8  # ...but still capped


def test_secrets_and_tokens_never_reach_logs_or_error_messages(aep, caplog):
    caplog.set_level(logging.DEBUG)
    platform = client(aep, max_retries=1)
    get_stats(platform, aep)
    aep.revoke_tokens()
    get_stats(platform, aep)  # 401, then a renewed token
    aep.inject(STATS, 503, 503)
    with pytest.raises(DeliveryError) as server_failure:
        get_stats(platform, aep)
    bad_secret = client(aep, client_secret="another-s3cret-value")
    with pytest.raises(DeliveryError) as auth_failure:
        get_stats(bad_secret, aep)
    assert len(aep.issued_tokens) == 2
    texts = [
        caplog.text,
        str(server_failure.value),
        str(auth_failure.value),
        repr(platform.settings),
        repr(platform.tokens),
    ]
    for secret in [aep.client_secret, "another-s3cret-value", *aep.issued_tokens]:
        for text in texts:
            assert secret not in text


@pytest.mark.parametrize("setting", ["ims_org_id", "client_id", "client_secret"])
def test_missing_credentials_fail_naming_the_setting(aep, setting):
    config = aep.config(destination="batch")  # a destination that needs a Platform client
    del config[setting]
    with pytest.raises(SettingError, match=f"'{setting}' is required"):
        PlatformClient(TargetSettings.from_config(config))


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("platform_url", "platform.adobe.io", "'platform_url' must be an http"),
        ("max_retries", -1, "'max_retries' must be >= 0"),
        ("streaming_max_request_bytes", 2_000_000, "'streaming_max_request_bytes' must be"),
        ("batch_max_file_bytes", 300 * 1024 * 1024, "'batch_max_file_bytes' must be"),
        ("request_timeout", "soon", "'request_timeout' must be a number"),
        ("streams", {"charges": {"dataset_id": 5}}, "'streams.charges.dataset_id' must be"),
    ],
)
def test_invalid_settings_fail_naming_the_setting(aep, setting, value, message):
    with pytest.raises(SettingError, match=message):
        TargetSettings.from_config(aep.config(**{setting: value}))


def test_defaults_follow_adobes_documented_endpoints():
    settings = TargetSettings.from_config(
        {"ims_org_id": "O@AdobeOrg", "client_id": "c", "client_secret": "s"}
    )
    assert settings.ims_url == "https://ims-na1.adobelogin.com"
    assert settings.platform_url == "https://platform.adobe.io"
    assert settings.dcs_url == "https://dcs.adobedc.net"
    assert settings.sandbox_name == "prod"
    assert settings.scopes == (
        "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
    )
    assert settings.streaming_max_request_bytes < 1_000_000
