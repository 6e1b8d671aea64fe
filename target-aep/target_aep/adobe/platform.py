"""The one HTTP client for Platform calls (DCS, batch ingestion, Catalog, Schema Registry).

Every call carries the four headers Platform requires (`Authorization`, `x-api-key`,
`x-gw-ims-org-id`, `x-sandbox-name`); transient failures (connection errors, 429, 5xx) are retried
with bounded exponential backoff and jitter; a 401 renews the IMS token once. What is left (2xx
and the other 4xx) goes back to the caller, which knows what the answer means for its API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from target_aep.adobe.backoff import Backoff, retry_after_seconds
from target_aep.adobe.ims import ImsTokenProvider
from target_aep.errors import DeliveryError
from target_aep.settings import TargetSettings

LOGGER = logging.getLogger(__name__)


class PlatformClient:
    """Authenticated, retrying requests to Adobe Experience Platform."""

    def __init__(self, settings: TargetSettings, *, backoff: Backoff | None = None) -> None:
        """`settings` carry the credentials (required by the settings check wherever a client
        is built), the endpoints and the retry and timeout tuning."""
        self.settings = settings
        self.backoff = backoff or Backoff(
            max_retries=settings.max_retries,
            base_seconds=settings.backoff_base_seconds,
            max_seconds=settings.backoff_max_seconds,
        )
        self._session = requests.Session()
        pool = max(10, 2 * settings.streaming_concurrency)
        for scheme in ("https://", "http://"):
            self._session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=pool))
        self.tokens = ImsTokenProvider(
            self._session,
            ims_url=settings.ims_url,
            client_id=settings.client_id or "",
            client_secret=settings.client_secret or "",
            scopes=settings.scopes,
            backoff=self.backoff,
            timeout=settings.request_timeout,
        )

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json_body: Any = None,
        body: bytes | None = None,
        body_file: Path | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        renew_on: tuple[int, ...] = (401,),
    ) -> requests.Response:
        """Send one call; retry what is transient; return the first non-transient answer.

        `what` names the call in errors and logs (e.g. "create batch"). `renew_on` lists the
        statuses that mean "token refused" (DCS also uses 403 for an expired token). Raises
        `DeliveryError` when retries are exhausted or the token is still refused after renewal.
        """
        extra = dict(headers or {})
        if json_body is not None:
            extra.setdefault("Content-Type", "application/json")
        renewed = False
        attempt = 0
        while True:
            token = self.tokens.token()
            retry_after = None
            try:
                response = self._send(method, url, token, extra, json_body, body, body_file, params)
            except requests.RequestException as error:
                problem = f"connection error ({type(error).__name__})"
            else:
                LOGGER.debug("%s %s -> %s", method, url, response.status_code)
                status = response.status_code
                if status in renew_on and not renewed:
                    LOGGER.info(
                        "Platform answered %d to %s; renewing the IMS token once", status, what
                    )
                    self.tokens.renew(token)
                    renewed = True
                    continue
                if status in renew_on:
                    raise DeliveryError(
                        f"{what}: Platform still answers HTTP {status} after renewing the IMS "
                        "token; check the credential's product profile and sandbox access"
                    )
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = f"HTTP {response.status_code}{describe_error(response)}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt >= self.backoff.max_retries:
                raise DeliveryError(f"{what} failed after {attempt + 1} attempts: {problem}")
            LOGGER.warning(
                "%s failed (%s); retry %d of %d",
                what,
                problem,
                attempt + 1,
                self.backoff.max_retries,
            )
            self.backoff.wait(attempt, retry_after)
            attempt += 1

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        extra: Mapping[str, str],
        json_body: Any,
        body: bytes | None,
        body_file: Path | None,
        params: Mapping[str, str] | None,
    ) -> requests.Response:
        identity = {
            "Authorization": f"Bearer {token}",
            "x-api-key": self.settings.client_id,
            "x-gw-ims-org-id": self.settings.ims_org_id,
            "x-sandbox-name": self.settings.sandbox_name,
        }
        # Unset settings send no header (as requests drops None-valued headers).
        headers = {name: value for name, value in identity.items() if value is not None}
        headers.update(extra)
        timeout = self.settings.request_timeout
        if body_file is not None:
            with body_file.open("rb") as stream:  # streamed, re-opened on each attempt
                return self._session.request(
                    method, url, data=stream, headers=headers, params=params, timeout=timeout
                )
        return self._session.request(
            method, url, json=json_body, data=body, headers=headers, params=params, timeout=timeout
        )


def describe_error(response: requests.Response) -> str:
    """Adobe's own words for a failed call (`title`/`detail`/`message`), short, for error text."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    parts = [
        str(payload[key])
        for key in ("title", "detail", "message", "error_code")
        if isinstance(payload.get(key), (str, int))
    ]
    return (": " + "; ".join(parts))[:500] if parts else ""


def expect(
    response: requests.Response, what: str, ok: tuple[int, ...] = (200, 201)
) -> requests.Response:
    """Return `response` when its status is one of `ok`, else fail with Adobe's reason."""
    if response.status_code not in ok:
        raise DeliveryError(f"{what} failed: HTTP {response.status_code}{describe_error(response)}")
    return response
