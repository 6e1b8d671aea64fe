"""Start singer-io's tap-stripe against a local Stripe API (run with the tap's own Python).

Usage: python singer_io_launcher.py <tap arguments>, with STRIPE_API_BASE set (e.g.
http://127.0.0.1:12111). The tap talks to Stripe through the `stripe` library (5.5.0), whose
module setting `stripe.api_base` names the API host; stripe-python's own tests point it at a
local stripe-mock the same way (https://github.com/stripe/stripe-python/blob/v5.5.0/tests/conftest.py).
The launcher sets it, then calls the tap's own entry point.

One more step is needed: the tap times each request under a name it parses from a hard-coded
`https://api.stripe.com/v1/<name>` URL, and fails on any other host. The launcher wraps the HTTP
client with the same timer, named from the URL's path instead.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import stripe
import tap_stripe
from singer import metrics


def _timed_by_path(client):  # replaces tap_stripe.apply_request_timer_to_client
    original = client.request

    def request(*args, **kwargs):
        parts = [*urlsplit(args[1]).path.strip("/").split("/"), ""]
        with metrics.http_request_timer(parts[1]):
            return original(*args, **kwargs)

    client.request = request


def main() -> None:
    stripe.api_base = os.environ["STRIPE_API_BASE"]
    tap_stripe.apply_request_timer_to_client = _timed_by_path
    sys.argv[0] = "tap-stripe"
    tap_stripe.main()


if __name__ == "__main__":
    main()
