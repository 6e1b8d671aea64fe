"""The tests' Stripe double: the product's Stripe emulator plus what only tests need.

`StripeDouble` is `stripe_emulator.StripeEmulator` (Stripe's documented behaviour, sample data,
latency and rate limit switches) with two test conveniences on top:
- `requests`: every request as the double saw it (method, path, params, Title-Cased headers),
  cleared in place by `clear_requests()`;
- `inject(...)`: the next requests under a path prefix get a canned failure instead (a Stripe
  5xx/429/4xx error answer, a broken body, a cut-off transfer, or a dropped connection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe_emulator.emulator import StripeEmulator
from stripe_emulator.errors import StripeError, rate_limited
from stripe_emulator.http_server import Handler, Request, new_request_id, write_answer

RecordedRequest = Request


@dataclass
class _Injection:
    """A canned answer for the next `remaining` requests under `prefix` (see inject)."""

    prefix: str
    status: int
    remaining: int
    should_retry: bool | None
    body: bytes | None
    headers: dict[str, str]
    declared_length: int | None
    account: str | None = None


def injected_error(status: int) -> StripeError:
    """The error Stripe would send with `status` (429: its rate-limit answer)."""
    if status == 429:
        return rate_limited("endpoint-rate")
    if status >= 500:
        return StripeError(
            status,
            "An unknown error occurred. Please try again later "
            "(injected by the local Stripe double).",
            type_="api_error",
        )
    return StripeError(status, f"Injected HTTP {status} from the local Stripe double.")


class StripeDouble(StripeEmulator):
    """The Stripe emulator, recording every request and answering injected failures."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.requests: list[RecordedRequest] = []
        self._injections: list[_Injection] = []

    def inject(
        self,
        path_prefix: str,
        *,
        status: int,
        times: int = 1,
        should_retry: bool | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        declared_length: int | None = None,
        account: str | None = None,
    ) -> None:
        """The next `times` requests under `path_prefix` get this answer instead of the real one.

        With `account`, only requests made for that connected account (`Stripe-Account`) do.

        status 0 drops the connection unanswered; `body` replaces the Stripe error JSON (e.g. a
        cut-off document); `declared_length` claims a longer Content-Length than `body`, so the
        transfer itself is truncated.
        """
        with self._lock:
            self._injections.append(
                _Injection(
                    path_prefix,
                    status,
                    times,
                    should_retry,
                    body,
                    dict(headers or {}),
                    declared_length,
                    account,
                )
            )

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()  # in place: callers may hold the list

    def received(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def answer(self, handler: Handler, request: Request) -> None:
        injection = self._take_injection(request)
        if injection is None:
            super().answer(handler, request)
        else:
            self._answer_injected(handler, injection)

    def _take_injection(self, request: Request) -> _Injection | None:
        account = request.headers.get("Stripe-Account")
        with self._lock:
            for injection in self._injections:
                if (
                    injection.remaining > 0
                    and request.path.startswith(injection.prefix)
                    and injection.account in (None, account)
                ):
                    injection.remaining -= 1
                    return injection
        return None

    def _answer_injected(self, handler: Handler, injection: _Injection) -> None:
        if injection.status == 0:
            handler.close_connection = True  # hang up without a single byte of answer
            return
        extra = dict(injection.headers)
        if injection.should_retry is not None:
            extra["Stripe-Should-Retry"] = "true" if injection.should_retry else "false"
        if injection.body is not None:
            body = injection.body
        else:
            error = injected_error(injection.status)
            body = error.body
            extra = {**error.headers, **extra}
        if injection.declared_length is not None:
            handler.close_connection = True
        write_answer(
            handler,
            injection.status,
            body,
            new_request_id(),
            extra,
            declared_length=injection.declared_length,
        )
