"""HTTP access to Stripe (list pages, and single objects by id): headers, the shared rate
limit (each request counted against its endpoint: the list path, or `<list path>/:id` for
retrieving one object), retries, errors.

One thread-safe urllib3 connection pool (keep-alive) for all worker threads, behind the
shared `RateLimiter`. urllib3 is the transport requests itself uses; called directly it reads
a 176 KB page with half the CPU (measured 0.42 vs 0.98 ms), and pages are the hot path. Pages
are decoded with msgspec straight into plain dicts: the list envelope is checked, the
objects are passed on untouched.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import urllib3

from tap_stripe_xdm.errors import RunInterrupted, StripeRequestError, describe_failure, redact
from tap_stripe_xdm.ratelimit import RateLimiter
from tap_stripe_xdm.retry import RetryPolicy
from tap_stripe_xdm.settings import TapSettings

# Refused/dropped connections, timeouts, cut-off bodies (urllib3 wraps most of these).
TRANSIENT_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


class _ListBody(msgspec.Struct):
    """Stripe's list envelope; other envelope fields (object, url) are ignored."""

    data: list[dict[str, Any]]
    has_more: bool


class _ErrorDetail(msgspec.Struct):
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None


class _ErrorBody(msgspec.Struct):
    error: _ErrorDetail


_LIST_DECODER = msgspec.json.Decoder(_ListBody)
_OBJECT_DECODER = msgspec.json.Decoder(dict[str, Any])
_ERROR_DECODER = msgspec.json.Decoder(_ErrorBody)

# A mapping, or pairs when a name repeats (`types[]` of the events endpoint).
Params = Mapping[str, str | int] | Sequence[tuple[str, str | int]]
_T = TypeVar("_T")


def _as_text(params: Params) -> list[tuple[str, str]]:
    """The query as name/text pairs, the form urllib3 encodes (once per request)."""
    pairs = params.items() if isinstance(params, Mapping) else params
    return [(name, str(value)) for name, value in pairs]


@dataclass(frozen=True)
class ListPage:
    """One page of a list endpoint, newest object first."""

    data: list[dict[str, Any]]
    has_more: bool


class _TransientError(Exception):
    """A failed attempt worth retrying; carries what to log and any Retry-After."""

    def __init__(
        self,
        reason: str,
        request_id: str | None = None,
        retry_after: float | None = None,
        *,
        rate_limited: bool = False,
        limited_by: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        self.limited_by = limited_by
        """Stripe-Rate-Limited-Reason of a 429: which of Stripe's limiters refused."""


@dataclass
class RequestCounts:
    """Requests sent and retried so far (for the per-stream summary in the log)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0


class StripeAPI:
    """GET Stripe list pages under one rate limit and one retry policy."""

    def __init__(
        self,
        settings: TapSettings,
        *,
        limiter: RateLimiter,
        retry_policy: RetryPolicy,
        logger: logging.Logger,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._settings = settings
        self._stopped = threading.Event()
        self._limiter = limiter
        self._policy = retry_policy
        self._logger = logger
        # waits between attempts end early once the run stops
        self._sleep = sleep or self._stopped.wait
        self._headers = {
            "Authorization": f"Bearer {settings.api_key}",
            "Stripe-Version": settings.api_version,
            "User-Agent": settings.user_agent or "tap-stripe-xdm",  # from_config sets it
            "Accept": "application/json",
        }
        self._pool = urllib3.PoolManager(
            ca_certs=_ca_bundle(),
            # one kept-alive connection per worker of every partition read at the same time
            maxsize=settings.max_concurrency * settings.max_concurrent_partitions + 2,
            retries=False,  # retries are ours (retry.py), with Stripe's rules
            timeout=urllib3.Timeout(total=settings.request_timeout),
        )
        self._counts_lock = threading.Lock()
        self._counts = RequestCounts()

    def stop(self) -> None:
        """The run was interrupted: no request is started or retried from now on (each raises
        RunInterrupted), and a wait before a retry ends at once."""
        self._stopped.set()

    def counts(self) -> RequestCounts:
        """A snapshot of the counters."""
        with self._counts_lock:
            return RequestCounts(**vars(self._counts))

    def _count(
        self, also: RequestCounts | None, *, retry: bool = False, rate_limited: bool = False
    ) -> None:
        with self._counts_lock:
            for counts in (self._counts, also) if also is not None else (self._counts,):
                counts.requests += 1
                counts.retries += retry
                counts.rate_limited += rate_limited

    def list_page(
        self,
        path: str,
        params: Params,
        *,
        account: str | None = None,
        counts: RequestCounts | None = None,
    ) -> ListPage:
        """GET one page of `path` (e.g. /v1/charges), retrying transient failures; each
        attempt is counted in the run's counts and in `counts` (one partition's, say)."""
        body = self._get(path, path, params, account, _LIST_DECODER, counts)
        return ListPage(body.data, body.has_more)

    def retrieve(
        self, path: str, *, account: str | None = None, counts: RequestCounts | None = None
    ) -> dict[str, Any]:
        """GET one object (e.g. /v1/charges/ch_1) under the same limit and retry policy.

        A missing object raises StripeRequestError with status 404.
        """
        endpoint = path.rsplit("/", 1)[0] + "/:id"
        return self._get(endpoint, path, {}, account, _OBJECT_DECODER, counts)

    def _get(
        self,
        endpoint: str,
        path: str,
        params: Params,
        account: str | None,
        decoder: msgspec.json.Decoder[_T],
        counts: RequestCounts | None = None,
    ) -> _T:
        url = self._settings.api_url + path
        headers = {**self._headers, "Stripe-Account": account} if account else self._headers
        attempts = self._policy.max_retries + 1
        last: _TransientError | None = None
        for attempt in range(1, attempts + 1):
            if self._stopped.is_set():
                raise RunInterrupted()
            if last is not None:
                wait = self._policy.delay(attempt - 1, last.retry_after)
                self._logger.warning(
                    "GET %s%s failed (%s; Request-Id: %s); retry %d of %d in %.2f s",
                    path,
                    f" for {account}" if account else "",
                    last.reason,
                    last.request_id or "none",
                    attempt - 1,
                    attempts - 1,
                    wait,
                )
                if last.rate_limited:  # the run slows down, not this thread only
                    self._limiter.throttled(endpoint, last.limited_by)
                self._sleep(wait)
                if self._stopped.is_set():
                    raise RunInterrupted()
            self._limiter.acquire(endpoint)
            self._count(
                counts, retry=last is not None, rate_limited=bool(last and last.rate_limited)
            )
            try:
                return self._attempt(url, path, params, headers, account, decoder)
            except _TransientError as transient:
                last = transient
        assert last is not None
        raise StripeRequestError(
            f"GET {path}"
            + (f" for connected account {account}" if account else "")
            + f" still failing after {attempts} attempts: {last.reason}. Stripe may be degraded"
            " or the rate limit too high for this account; raise max_retries or lower"
            f" max_requests_per_second and rerun. Request-Id: {last.request_id or 'none'}",
            status=None,
            request_id=last.request_id,
        )

    def _attempt(
        self,
        url: str,
        path: str,
        params: Params,
        headers: dict[str, str],
        account: str | None,
        decoder: msgspec.json.Decoder[_T],
    ) -> _T:
        try:
            response = self._pool.request(
                "GET", url, fields=_as_text(params), headers=headers, redirect=False
            )
        except TRANSIENT_NETWORK_ERRORS as exc:
            raise _TransientError(f"{type(exc).__name__}: {redact(str(exc))[:200]}") from None
        request_id = response.headers.get("Request-Id")
        status = response.status
        if status == 200:
            try:
                return decoder.decode(response.data)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise _TransientError(f"unreadable body ({exc})", request_id) from None

        detail = _error_detail(response.data)
        should_retry = response.headers.get("Stripe-Should-Retry")
        if self._policy.should_retry_status(status, should_retry):
            reason = f"HTTP {status}" + (f": {detail.message}" if detail.message else "")
            raise _TransientError(
                redact(reason),
                request_id,
                _retry_after(response),
                rate_limited=status == 429,
                limited_by=response.headers.get("Stripe-Rate-Limited-Reason"),
            )
        raise StripeRequestError(
            describe_failure(
                status=status,
                path=path,
                account=account,
                stripe_message=detail.message,
                stripe_type=detail.type,
                request_id=request_id,
                stripe_code=detail.code,
                restricted_key=self._settings.api_key.startswith("rk_"),
            ),
            status=status,
            request_id=request_id,
            code=detail.code,
            param=detail.param,
        )


def _ca_bundle() -> str | None:
    """The CA bundle requests would use (certifi, installed with singer-sdk's requests), so
    TLS to api.stripe.com verifies the same way; None falls back to the system's store."""
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


def _error_detail(content: bytes) -> _ErrorDetail:
    try:
        return _ERROR_DECODER.decode(content).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _ErrorDetail()


def _retry_after(response: urllib3.BaseHTTPResponse) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
