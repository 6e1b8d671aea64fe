"""Stripe's error answers: the `{"error": {...}}` body, its status, and key redaction.

Shapes and wording follow https://docs.stripe.com/api/errors and the messages Stripe sends.
"""

from __future__ import annotations

import json
import re
from typing import Any


class StripeError(Exception):
    """An answer in Stripe's error shape: {"error": {"type", "code", "message", "param", ...}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            error["param"] = param
        self.body = json.dumps({"error": error}).encode()


def no_such(object_name: str, obj_id: str, param: str | None = None) -> StripeError:
    return StripeError(
        404, f"No such {object_name}: '{obj_id}'", code="resource_missing", param=param
    )


def unrecognized_url(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/. (This local Stripe emulator serves GET "
        "endpoints only.)",
    )


# Stripe answers 401s with this challenge, as HTTP requires.
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Stripe"'}


def missing_key() -> StripeError:
    return StripeError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
        "https://stripe.com/docs/api#authentication for details, or we can help at "
        "https://support.stripe.com/.",
        headers=_CHALLENGE,
    )


def invalid_key(key: str) -> StripeError:
    return StripeError(401, f"Invalid API Key provided: {mask_key(key)}", headers=_CHALLENGE)


def no_account_access(key: str, account: str) -> StripeError:
    """A Stripe-Account the key cannot act for (unknown, or access revoked)."""
    return StripeError(
        403,
        f"The provided key '{mask_key(key)}' does not have access to account '{account}' (or "
        "that account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def missing_permission(key: str, account: str, permission: str) -> StripeError:
    """A restricted key (rk_...) used outside its permissions."""
    return StripeError(
        403,
        f"The provided key '{mask_key(key)}' does not have the required permissions for this "
        f"endpoint on account '{account}'. Having the 'rak_{permission}' permission would allow "
        "this request to continue.",
    )


def exclusive(*params: str) -> StripeError:
    return StripeError(
        400,
        f"You may only specify one of these parameters: {', '.join(params)}.",
        param=params[0],
    )


def mask_key(key: str) -> str:
    """Stripe's redaction of a key in messages: prefix kept, at most the last 4 characters shown."""
    match = re.match(r"(?:sk|rk|pk)_(?:test|live)_", key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    shown = min(4, len(rest) // 2)
    return prefix + "*" * (len(rest) - shown) + (rest[-shown:] if shown else "")


def unknown_parameter(name: str) -> StripeError:
    return StripeError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
    )


def rate_limited(reason: str) -> StripeError:
    return StripeError(
        429,
        "Too many requests hit the API too quickly. "
        "We recommend an exponential backoff of your requests.",
        code="rate_limit",
        headers={"Stripe-Rate-Limited-Reason": reason},
    )
