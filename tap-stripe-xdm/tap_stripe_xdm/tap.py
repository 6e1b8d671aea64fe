"""TapStripeXdm: settings and the stream list."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_stripe_xdm import settings as defaults
from tap_stripe_xdm.runtime import TapRuntime
from tap_stripe_xdm.settings import SettingsError, TapSettings, parse_settings
from tap_stripe_xdm.streams import STREAM_TYPES
from tap_stripe_xdm.writer import BufferedMsgSpecWriter

__version__ = "0.1.0"


class TapStripeXdm(Tap):
    """Stripe charges, subscriptions, refunds, balance transactions, customers and prices."""

    name = "tap-stripe-xdm"
    message_writer_class = BufferedMsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType(nullable=False),
            required=True,
            secret=True,
            title="API key",
            description="Stripe secret key (sk_live_/sk_test_...) or, better, a restricted key "
            "(rk_...) with Read access to the six resources.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType(nullable=False),
            required=True,
            description="Read objects created at or after this instant (ISO 8601) on the first "
            "run; later runs continue from the bookmark.",
        ),
        th.Property(
            "end_date",
            th.DateTimeType,
            description="Optional: read only objects created before this instant (exclusive).",
        ),
        th.Property(
            "api_version",
            th.StringType,
            default=defaults.DEFAULT_API_VERSION,
            description="Stripe API version sent as Stripe-Version on every request; the "
            "stream schemas describe this version.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=defaults.DEFAULT_API_URL,
            description="Base URL of the Stripe API (tests point it at a local double).",
        ),
        th.Property(
            "account_ids",
            th.ArrayType(th.StringType),
            description="Stripe Connect accounts (acct_...) to read with the Stripe-Account "
            "header, each with its own bookmarks. Empty: the key's own account.",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            default=defaults.DEFAULT_MAX_REQUESTS_PER_SECOND,
            description="One limit shared by all concurrent requests of the run. Stripe allows "
            "100/s in live mode, 25/s in test mode and 25/s per endpoint.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=defaults.DEFAULT_REQUEST_TIMEOUT,
            description="Seconds to wait for one HTTP response before retrying.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=defaults.DEFAULT_MAX_RETRIES,
            description="Retries per request for 429, 409, 5xx, connection errors, timeouts "
            "and unreadable bodies (never when Stripe says Stripe-Should-Retry: false).",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=defaults.DEFAULT_BACKOFF_BASE_SECONDS,
            description="First retry waits about this long; each further retry doubles it "
            "(with 50-100% jitter).",
        ),
        th.Property(
            "backoff_max_seconds",
            th.NumberType,
            default=defaults.DEFAULT_BACKOFF_MAX_SECONDS,
            description="Upper bound of one retry wait.",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=defaults.DEFAULT_MAX_CONCURRENCY,
            description="Created-windows read at the same time per stream.",
        ),
        th.Property(
            "window_size_days",
            th.NumberType,
            default=defaults.DEFAULT_WINDOW_SIZE_DAYS,
            description="Where objects are dense, created-windows holding more than a page "
            "are split until they span at most this many days (the bookmark advances window by "
            "window); windows are also split to keep every worker busy.",
        ),
        th.Property(
            "visibility_lag_seconds",
            th.IntegerType,
            default=defaults.DEFAULT_VISIBILITY_LAG_SECONDS,
            description="Stop this many seconds before now: objects appear in Stripe's lists "
            "shortly after their created second, and the bookmark must not pass them.",
        ),
        th.Property(
            "capture_changes",
            th.BooleanType,
            default=defaults.DEFAULT_CAPTURE_CHANGES,
            description="After a stream's first full read, also read Stripe's events each run "
            "and emit the current state of every object changed or deleted since (deletes carry "
            "_sdc_deleted_at), and re-read balance transactions within their lookback. false: "
            "only objects created since the last run.",
        ),
        th.Property(
            "events_horizon_days",
            th.NumberType,
            default=defaults.DEFAULT_EVENTS_HORIZON_DAYS,
            description="If a stream's events bookmark is older than this (at most 30: Stripe "
            "keeps events 30 days), its changes cannot all be read: the stream is re-read in "
            "full from start_date, with a warning, and change capture resumes.",
        ),
        th.Property(
            "balance_transactions_lookback_days",
            th.NumberType,
            default=defaults.DEFAULT_BALANCE_TRANSACTIONS_LOOKBACK_DAYS,
            description="Balance transactions have no events: each run re-reads (and re-emits) "
            "those created this many days before the bookmark, so status changes (pending -> "
            "available) arrive. 0 turns it off.",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            description="User-Agent header (default tap-stripe-xdm/<version>).",
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kwargs.get("validate_config", True):
            try:
                self.settings  # noqa: B018  (parse now: fail fast, naming the setting)
            except SettingsError as exc:
                raise ConfigValidationError(
                    "Config validation failed", errors=exc.problems
                ) from None

    @cached_property
    def settings(self) -> TapSettings:
        return parse_settings(self.config, user_agent=f"{self.name}/{__version__}")

    @cached_property
    def runtime(self) -> TapRuntime:
        return TapRuntime.start(self.settings, self.logger)

    def sync_all(self) -> None:
        """Sync the selected streams, then hand over all output before returning.

        Records re-emitted by change capture or the balance-transaction lookback may follow
        the last STATE (no bookmark moved), so the end of the run flushes them too.
        """
        try:
            super().sync_all()
        finally:
            if isinstance(self.message_writer, BufferedMsgSpecWriter):
                self.message_writer.flush()

    def discover_streams(self) -> list:
        return [stream_type(self) for stream_type in STREAM_TYPES]


if __name__ == "__main__":
    TapStripeXdm.cli()
