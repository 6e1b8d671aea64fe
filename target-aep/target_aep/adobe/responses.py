"""Reading a Platform answer: its JSON when the status is expected, else a `PlatformApiError`
that names the API, the call and Adobe's own reason (never a token or secret)."""

from __future__ import annotations

from typing import Any

import requests

from target_aep.adobe.platform import describe_error
from target_aep.errors import PlatformApiError


def json_answer(
    response: requests.Response, api: str, what: str, ok: tuple[int, ...] = (200,)
) -> Any:
    """The JSON body of an expected answer; any other status raises `PlatformApiError`."""
    if response.status_code not in ok:
        raise PlatformApiError(api, what, response.status_code, describe_error(response))
    try:
        return response.json()
    except ValueError:
        raise PlatformApiError(
            api, what, response.status_code, ": the answer is not JSON"
        ) from None
