"""What one tap run shares across all streams: settings, one rate limiter, one API client,
one progress report, and one fixed moment the run reads up to (`created` range end, events
end), so every stream reads up to the same moment."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from singer_sdk.metrics import METRICS_LOGGER_NAME

from tap_stripe_xdm.api import StripeAPI
from tap_stripe_xdm.progress import Progress
from tap_stripe_xdm.ratelimit import RateLimiter
from tap_stripe_xdm.retry import RetryPolicy
from tap_stripe_xdm.settings import TapSettings


@dataclass(frozen=True)
class TapRuntime:
    settings: TapSettings
    api: StripeAPI
    limiter: RateLimiter
    """The one limiter every request of the run waits for (also inside `api`)."""
    range_end: int
    """Objects created before this are read (now - visibility lag, or end_date if earlier)."""
    events_end: int
    """Events created before this are read (now - visibility lag; end_date does not apply)."""
    progress: Progress
    """Every partition's progress, told every `progress_interval_seconds` (progress.py)."""

    @classmethod
    def start(cls, settings: TapSettings, logger: logging.Logger) -> TapRuntime:
        """Start the run: log the effective settings (never the key) and fix its end."""
        logger.info("settings: %s", settings.describe())
        # The SDK logs its metrics at INFO on this logger (singer_sdk/metrics.py).
        logging.getLogger(METRICS_LOGGER_NAME).setLevel(
            logging.INFO if settings.log_metrics else logging.WARNING
        )
        limiter = RateLimiter(
            settings.max_requests_per_second,
            per_endpoint=settings.max_requests_per_second_per_endpoint,
        )
        policy = RetryPolicy(
            max_retries=settings.max_retries,
            base_seconds=settings.backoff_base_seconds,
            max_seconds=settings.backoff_max_seconds,
        )
        api = StripeAPI(settings, limiter=limiter, retry_policy=policy, logger=logger)
        # Objects show up in list results shortly after their `created` second (observed by
        # other Stripe taps, e.g. https://github.com/singer-io/tap-stripe, which reads a
        # lookback); stopping a little before "now" keeps the bookmark from passing them.
        started_at = int(time.time())
        visible_until = started_at - settings.visibility_lag_seconds
        range_end = visible_until
        if settings.end_date is not None:
            range_end = min(range_end, settings.end_date)
        return cls(
            settings=settings,
            api=api,
            limiter=limiter,
            range_end=range_end,
            events_end=visible_until,
            progress=Progress(settings.progress_interval_seconds, logger),
        )
