"""TapStripeXdm: settings and the stream list."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_stripe_xdm.accounts import RunAccounts
from tap_stripe_xdm.runtime import TapRuntime
from tap_stripe_xdm.sdk_adapters import Baton, drop_env_notice, sync_partitions_concurrently
from tap_stripe_xdm.settings import SettingsError, TapSettings
from tap_stripe_xdm.streams import StripeStream, discover
from tap_stripe_xdm.writer import BufferedMsgSpecWriter


class TapStripeXdm(Tap):
    """Stripe charges, subscriptions, refunds, balance transactions, customers and prices."""

    name = "tap-stripe-xdm"
    message_writer_class = BufferedMsgSpecWriter

    # Generated from TapSettings: each setting's type, default and description live there.
    config_jsonschema = TapSettings.config_jsonschema()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        drop_env_notice(self.logger)  # before the SDK's constructor logs it
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
        return TapSettings.from_config(self.config, user_agent=f"{self.name}/{self.plugin_version}")

    @cached_property
    def baton(self) -> Baton:
        """One writer at a time among the partitions read at the same time (sdk_adapters)."""
        return Baton()

    @cached_property
    def runtime(self) -> TapRuntime:
        return TapRuntime.start(self.settings, self.logger)

    @cached_property
    def run_accounts(self) -> RunAccounts:
        """The accounts this run reads: listed or all connected ones, this shard's share."""
        return RunAccounts.resolve(self.settings, self.runtime.api, self.logger)

    # singer-sdk marks sync_all @final; the tap reads its partitions at the same time and
    # must flush its buffered writer after them.
    def sync_all(self) -> None:  # type: ignore[misc]
        """Sync the selected streams' partitions at the same time (at most
        `max_concurrent_partitions`), then hand over all output before returning.

        Records re-emitted by change capture or the balance-transaction lookback may follow
        the last STATE (no bookmark moved), so the end of the run flushes them too.
        """
        self.runtime  # noqa: B018  (start the run: settings logged, its end fixed)
        self.run_accounts  # noqa: B018  (the accounts are listed once, before any stream)
        try:
            with self.runtime.progress.running():  # a line per partition every interval
                sync_partitions_concurrently(
                    self, self.baton, self.settings.max_concurrent_partitions
                )
        finally:
            unreachable = self.run_accounts.summary()
            if unreachable:
                self.logger.error("%s", unreachable)
            if isinstance(self.message_writer, BufferedMsgSpecWriter):
                self.message_writer.flush()
            for stream in self.streams.values():
                summary = stream.drift_summary() if isinstance(stream, StripeStream) else None
                if summary:
                    self.logger.warning("%s", summary)

    def discover_streams(self) -> list[StripeStream]:
        return discover(self)


if __name__ == "__main__":
    TapStripeXdm.cli()
