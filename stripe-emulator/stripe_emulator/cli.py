"""The `stripe-emulator` command: serve seeded sample data until interrupted.

Prints the URL it serves on as the first line of stdout (so `--port 0` can be used by scripts),
then a one-line summary on stderr; SIGINT or SIGTERM stop it cleanly (exit code 0), after a
line on stderr counting the 429s it answered when a rate limit was set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import time

from stripe_emulator import added_fields
from stripe_emulator.emulator import DEFAULT_API_VERSION, StripeEmulator
from stripe_emulator.resources import OBJECT_OF
from stripe_emulator.seed_data import LONG_SUBSCRIPTIONS_EVERY


def _timestamp(text: str) -> int:
    if text.lstrip("-").isdigit():
        return int(text)
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return int(parsed.timestamp())


def _counts(text: str) -> dict[str, int]:
    counts = {}
    for part in filter(None, text.split(",")):
        name, _, number = part.partition("=")
        if name.strip() not in OBJECT_OF or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"bad seed count {part!r}: use resource=N with resource in {sorted(OBJECT_OF)}"
            )
        counts[name.strip()] = int(number)
    return counts


def _added_field(text: str) -> tuple[str, str, object]:
    try:
        return added_fields.parse_flag(text, OBJECT_OF)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stripe-emulator", description="Serve a local Stripe API emulator until killed."
    )
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--api-key", default="sk_test_double", help="the key clients must send")
    parser.add_argument(
        "--seed-counts", type=_counts, default={}, help="e.g. charges=2000,customers=500"
    )
    parser.add_argument(
        "--start", type=_timestamp, help="oldest `created` (unix seconds or ISO date)"
    )
    parser.add_argument(
        "--end", type=_timestamp, help="`created` upper bound, exclusive (default now)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for the generated data")
    parser.add_argument(
        "--events", action="store_true", help="also record each seeded object's creation event"
    )
    parser.add_argument(
        "--long-subscriptions-every",
        type=int,
        default=LONG_SUBSCRIPTIONS_EVERY,
        metavar="N",
        help="one seeded subscription in N has more than 10 items (Stripe embeds 10; a reader "
        f"completes the rest from /v1/subscription_items); default {LONG_SUBSCRIPTIONS_EVERY}",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="requests per second per account over all endpoints (429 beyond)",
    )
    parser.add_argument(
        "--endpoint-rate-limit",
        type=float,
        default=None,
        help="requests per second per account to each endpoint (429 beyond; Stripe: 25)",
    )
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION)
    parser.add_argument(
        "--added-field",
        type=_added_field,
        action="append",
        default=[],
        metavar="RESOURCE.PATH=JSON",
        help="serve a field Stripe's object description lacks, e.g. charges.risk_score=42 or "
        "'subscriptions.items.data.price.tier_hint=\"low\"' (repeatable)",
    )
    args = parser.parse_args(argv)

    end = args.end if args.end is not None else int(time.time())
    start = args.start if args.start is not None else end - 365 * 86_400
    emulator = StripeEmulator(
        api_key=args.api_key,
        latency=args.latency,
        rate_limit_per_second=args.rate_limit,
        endpoint_rate_limit_per_second=args.endpoint_rate_limit,
        api_version=args.api_version,
        port=args.port,
    )
    for resource, path, value in args.added_field:
        emulator.add_fields(resource, {path: value})
    if args.seed_counts:
        emulator.seed(
            args.seed_counts,
            start=start,
            end=end,
            seed=args.seed,
            events=args.events,
            long_subscriptions_every=args.long_subscriptions_every,
        )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with emulator:
        print(emulator.url, flush=True)
        print(banner(args.seed_counts, start, end), file=sys.stderr, flush=True)
        stopped.wait()
    if args.rate_limit is not None or args.endpoint_rate_limit is not None:
        print(f"stripe-emulator answered {emulator.rate_limited} 429s", file=sys.stderr, flush=True)
    return 0


def banner(counts: dict[str, int] | None, start: int, end: int) -> str:
    """What the emulator serves, for a person: counts and the `created` range in ISO 8601."""
    if not counts:
        return "stripe-emulator serving no objects"
    objects = ", ".join(f"{count:,} {resource}" for resource, count in counts.items())
    return f"stripe-emulator serving {objects}, created from {_iso(start)} to {_iso(end)}"


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
