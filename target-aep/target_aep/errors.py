"""Every error the target raises on purpose, at the ground floor so any layer can raise it.

Each message says what happened and what to do, and never carries a secret value.
"""

from __future__ import annotations

from collections.abc import Sequence

from singer_sdk.exceptions import ConfigValidationError


class SettingError(ConfigValidationError):
    """Settings are missing or invalid: one problem per entry of `errors`, each naming the
    setting and the environment variable a Meltano user sets it with.

    A `ConfigValidationError`, so the SDK's command line prints every problem and exits 1.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        problems = list(problems)
        if len(problems) == 1:
            summary = problems[0]
        else:
            summary = f"{len(problems)} settings need fixing: " + "; ".join(problems)
        super().__init__(summary, errors=problems)


class RunInterrupted(SystemExit):
    """The run was asked to stop (Ctrl-C, SIGTERM): exit code 130, as a shell reports a
    process ended by SIGINT (128 + 2). A SystemExit: no traceback, and no `except Exception`
    on the way takes it for a failure of a record or a destination."""

    def __init__(self) -> None:
        super().__init__(130)


class DeliveryError(Exception):
    """A failure that must stop the run without advancing state (message carries no secret)."""


class PlatformApiError(Exception):
    """A Platform API answered a call with an unexpected status (no retry helps)."""

    def __init__(self, api: str, what: str, status: int, detail: str = "") -> None:
        super().__init__(f"{api} could not {what}: HTTP {status}{detail}")
        self.api = api
        self.what = what
        self.status = status
        self.detail = detail


class ProvisioningError(Exception):
    """Provisioning cannot go on (the message says why and what to do)."""


class InvalidXdmRecordError(Exception):
    """`on_invalid_record: fail` and a record could not be mapped or is invalid XDM."""


class UnmappedStreamError(ValueError):
    """A stream has no mapping: the message names it and says how to map it."""


class SchemaSourceError(ValueError):
    """A dataset schema could not be read or compiled (the message names the source)."""


class BatchFileError(ValueError):
    """A BATCH message's files cannot be read as records (the message names the file or the
    encoding and what the target reads)."""
