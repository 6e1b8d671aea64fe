"""What went wrong with a Stripe request, said so that the reader knows what to do.

Messages carry Stripe's own `error.message` (https://docs.stripe.com/api/errors) and the
`Request-Id` (Stripe support can look it up: https://docs.stripe.com/api/request_ids) and never
the API key: Stripe masks keys in its messages, and we redact anything shaped
like a key again in case it did not.
"""

from __future__ import annotations

import re

from singer_sdk.exceptions import FatalAPIError

from tap_stripe_xdm.resources import RESOURCES


class RunInterrupted(SystemExit):
    """The run was asked to stop (Ctrl-C, SIGTERM): exit code 130, as a shell reports a
    process ended by SIGINT (128 + 2). A SystemExit, so that neither the SDK's nor the
    reader's `except Exception` takes it for a stream's failure, and it prints no traceback.
    """

    def __init__(self) -> None:
        super().__init__(130)


_KEY_LIKE = re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9*]+")

# Which Read permission a restricted key needs for each endpoint, by its last path segment.
READ_PERMISSION = {
    **{resource.path.rsplit("/", 1)[-1]: resource.read_permission for resource in RESOURCES},
    **{
        embedded.path.rsplit("/", 1)[-1]: embedded.read_permission
        for resource in RESOURCES
        for embedded in resource.embedded_lists
    },
    "events": "Events (event_read)",  # change capture reads /v1/events
}


def redact(text: str) -> str:
    """Replace anything that looks like a Stripe key."""
    return _KEY_LIKE.sub("<redacted key>", text)


class StripeRequestError(FatalAPIError):
    """A request Stripe refused for good (a 4xx other than 429, or retries exhausted)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        request_id: str | None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(redact(message))
        self.status = status
        self.request_id = request_id
        self.code = code  # Stripe's error.code, e.g. resource_missing
        self.param = param  # the parameter Stripe blames, e.g. starting_after

    @property
    def is_missing_cursor(self) -> bool:
        """The `starting_after` object no longer exists (deleted between two pages)."""
        return self.code == "resource_missing" and self.param == "starting_after"


def describe_failure(
    *,
    status: int,
    path: str,
    account: str | None,
    stripe_message: str | None,
    stripe_type: str | None,
    request_id: str | None,
    stripe_code: str | None = None,
    restricted_key: bool = False,
) -> str:
    """Build the message for a non-retriable HTTP error on `GET path`."""
    # /v1/<resource> or /v1/<resource>/<id>
    parts = path.strip("/").split("/")
    resource = parts[1] if len(parts) > 1 else parts[0]
    where = f"GET {path}" + (f" for connected account {account}" if account else "")
    said = f"Stripe said: {stripe_message}" if stripe_message else "Stripe gave no error message"
    if stripe_type:
        said += f" (type {stripe_type})"
    rid = f"Request-Id: {request_id or 'none'}"
    if status == 401:
        advice = (
            "The API key in setting api_key is invalid, expired or revoked. Create or roll a key "
            "in the Stripe Dashboard (Developers > API keys) and update api_key."
        )
    elif status == 403 and account and (stripe_code == "account_invalid" or not restricted_key):
        advice = (
            f"The key in setting api_key has no access to connected account {account}: it is "
            "not connected to your platform, or its access was revoked. Fix account_ids or "
            "reconnect the account (with connected_accounts all, the run skips it and reads "
            "the others)."
        )
    elif status == 403:
        permission = READ_PERMISSION.get(resource, resource)
        # Events are not a stream: change capture reads them.
        instead = (
            "set capture_changes to false"
            if resource == "events"
            else (f"deselect the {resource} stream")
        )
        advice = (
            f"The restricted key in setting api_key may not read {resource}. Give the key Read "
            f"access to {permission} in the Stripe Dashboard, or {instead}."
        )
    elif status == 404:
        advice = (
            f"Stripe has no {resource} endpoint or object here. Check api_url and api_version"
            + (f", and that {account} in account_ids exists." if account else ".")
        )
    else:
        advice = "Stripe rejected the request and said it should not be retried as is."
    return f"HTTP {status} on {where}. {advice} {said}. {rid}"


class SchemaDriftError(Exception):
    """A record holds a field its stream's schema does not declare and `schema_drift` is
    `fail` (the message names the stream and the field, and the settings that go on)."""
