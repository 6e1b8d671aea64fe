"""TapStripeXdm: settings and the stream list."""

from __future__ import annotations

import os
import signal
import sys
from functools import cached_property
from types import FrameType
from typing import Any

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_stripe_xdm.accounts import RunAccounts
from tap_stripe_xdm.errors import RunInterrupted
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

    _interrupted = False

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
            if self._interrupted:  # the interruption goes on; nothing more to say
                self._hand_over_what_is_written()
            else:
                self._end_run()

    def _end_run(self) -> None:
        unreachable = self.run_accounts.summary()
        if unreachable:
            self.logger.error("%s", unreachable)
        if isinstance(self.message_writer, BufferedMsgSpecWriter):
            self.message_writer.flush()
        for stream in self.streams.values():
            summary = stream.drift_summary() if isinstance(stream, StripeStream) else None
            if summary:
                self.logger.warning("%s", summary)

    # Replaces the SDK's handler (PluginBase._handle_termination, installed for SIGINT and
    # SIGTERM by its constructor), which wrote the tap's state from inside the signal handler
    # and raised SystemExit(0) in the main thread while the partitions' threads read on.
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C (SIGINT, to every process of the terminal's group) or SIGTERM (Meltano
        stopping its plugins): one line, then the run stops at once with exit code 130.

        No request is started or retried any more; every partition stops at its next page
        (the baton fails them all), writing no further STATE; what is written already is
        whole messages, so the next run continues from the last STATE the target printed.
        A second Ctrl-C ends the process without waiting.
        """
        if self._interrupted:
            if signum == signal.SIGINT:
                os._exit(130)
            return  # Meltano's SIGTERM after the terminal's SIGINT: the same request
        self._interrupted = True
        self.logger.warning(
            "interrupted (%s): stopping; the next run continues from the last saved bookmarks",
            signal.Signals(signum).name,
        )
        if "runtime" in self.__dict__:  # the run has started (cached_property)
            self.runtime.api.stop()
        stop = RunInterrupted()
        self.baton.stop(stop)
        raise stop

    def _hand_over_what_is_written(self) -> None:
        """Interrupted: flush the whole messages written so far, if anyone still reads them;
        a reader gone (the target stopped too) is no error, and the interpreter's own flush at
        exit finds nothing to write (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
        try:
            if isinstance(self.message_writer, BufferedMsgSpecWriter):
                self.message_writer.flush()
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())

    def discover_streams(self) -> list[StripeStream]:
        return discover(self)


if __name__ == "__main__":
    TapStripeXdm.cli()
