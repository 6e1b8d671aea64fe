"""Adobe IMS OAuth server-to-server tokens (`client_credentials`): fetched, cached, renewed.

There is no refresh token for this grant: renewing means asking again with the same client id,
secret and scopes. The token is renewed a little before it expires (so a long run never sends an
expired one) and on demand after a 401. The secret travels only in the POST body, never in a URL,
log line or exception message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import requests

from target_aep.adobe.backoff import Backoff, retry_after_seconds
from target_aep.errors import DeliveryError

LOGGER = logging.getLogger(__name__)

TOKEN_PATH = "/ims/token/v3"
RENEW_MARGIN_SECONDS = 300.0  # renew 5 minutes early (aepp uses ~8 min; tokens last ~24 h)


class ImsTokenProvider:
    """Hands out a valid access token, asking IMS only when the cached one is (nearly) expired."""

    def __init__(
        self,
        session: requests.Session,
        *,
        ims_url: str,
        client_id: str,
        client_secret: str,
        scopes: str,
        backoff: Backoff,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._token_url = ims_url.rstrip("/") + TOKEN_PATH
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scopes,
        }
        self._backoff = backoff
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:  # never show the form (it holds the secret)
        return f"ImsTokenProvider(url={self._token_url!r})"

    def token(self) -> str:
        """A token valid for at least the renewal margin."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, self._renew_at = self._fetch()
            return self._token

    def renew(self, rejected: str) -> str:
        """Replace `rejected` (a token answered with 401) unless another thread already did."""
        with self._lock:
            if self._token is None or self._token == rejected:
                self._token, self._renew_at = self._fetch()
            return self._token

    def _fetch(self) -> tuple[str, float]:
        for attempt in range(self._backoff.max_retries + 1):
            started = self._clock()
            retry_after = None
            try:
                response = self._session.post(
                    self._token_url, data=self._form, timeout=self._timeout
                )
            except requests.RequestException as error:
                problem = f"connection error ({type(error).__name__})"
            else:
                if response.status_code == 200:
                    return self._read(response, started)
                if response.status_code != 429 and response.status_code < 500:
                    raise DeliveryError(
                        f"Adobe IMS refused the client credentials: HTTP {response.status_code}"
                        f"{_ims_error(response)}; check client_id, client_secret and scopes"
                    )
                problem = f"HTTP {response.status_code}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt == self._backoff.max_retries:
                raise DeliveryError(
                    f"Adobe IMS token request failed after {attempt + 1} attempts: {problem}"
                )
            LOGGER.warning("Adobe IMS token request failed (%s); retrying", problem)
            self._backoff.wait(attempt, retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, response: requests.Response, started: float) -> tuple[str, float]:
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = float(body["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise DeliveryError("Adobe IMS answered 200 without access_token/expires_in") from None
        margin = min(RENEW_MARGIN_SECONDS, expires_in / 10)
        LOGGER.info("Obtained an Adobe IMS access token valid for %.0f s", expires_in)
        return token, started + expires_in - margin


def _ims_error(response: requests.Response) -> str:
    """IMS's error code (e.g. `invalid_client`): safe to show, it never contains the secret."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f" ({code})" if isinstance(code, str) and code.isidentifier() else ""
