"""Which Stripe accounts a run reads: the listed ones or every connected account, the platform's
own, and of those the share of this run's shard.

With `connected_accounts: all` the run lists the platform's connected accounts at its start
(`GET /v1/accounts`, https://docs.stripe.com/api/accounts/list, paginated like every list) and
reads each with `Stripe-Account` (https://docs.stripe.com/connect/authentication) in a state
partition of its own. An account that appears later gets a new partition, which starts from
`start_date`; the partition of one that disappeared stays in the state untouched (the SDK
writes every partition it holds), so a reconnected account resumes where it stopped.

`account_shard: "i/n"` keeps the accounts whose id hashes to i modulo n (SHA-256 of the id, the
same in every process and on every machine, unlike Python's salted `hash`), so n runs with
shards 0..n-1 read disjoint sets that together are every account. The platform's own account
(no `Stripe-Account` header) belongs to shard 0.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from tap_stripe_xdm.api import StripeAPI
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.settings import TapSettings

ACCOUNTS_PATH = "/v1/accounts"
PAGE_LIMIT = 100  # Stripe's largest page: https://docs.stripe.com/api/pagination
PLATFORM_SHARD = 0
"""The shard that reads the platform's own account."""


def shard_of(account: str | None, shards: int) -> int:
    """The shard (0..shards-1) that reads `account` (None: the platform's own account)."""
    if account is None:
        return PLATFORM_SHARD
    digest = hashlib.sha256(account.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def list_connected_accounts(api: StripeAPI) -> Iterable[str]:
    """Every connected account's id, page by page (newest first, as Stripe lists them)."""
    params: dict[str, str | int] = {"limit": PAGE_LIMIT}
    while True:
        page = api.list_page(ACCOUNTS_PATH, params)
        for account in page.data:
            yield account["id"]
        if not page.has_more or not page.data:
            return
        params = {"limit": PAGE_LIMIT, "starting_after": page.data[-1]["id"]}


def is_unreachable(error: StripeRequestError, account: str | None) -> bool:
    """Stripe refused `account` itself (not connected, or access revoked), not the request."""
    return account is not None and error.status == 403 and error.code == "account_invalid"


@dataclass
class RunAccounts:
    """The accounts of this run, and those found unreachable while reading (reported at the end).

    `partitioned`: each account (the platform's as None) has a state partition; otherwise the
    run reads only the platform's own account with stream-level bookmarks, as without Connect.
    """

    accounts: tuple[str | None, ...]
    partitioned: bool
    skip_unreachable: bool
    """Whether an account Stripe refuses is reported and skipped (connected_accounts: all) or
    stops the run (an account named in account_ids is expected to be readable)."""
    unreachable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(cls, settings: TapSettings, api: StripeAPI, logger: logging.Logger) -> RunAccounts:
        """List the accounts (one GET /v1/accounts walk with `all`) and keep this shard's."""
        everything: list[str | None]
        if settings.connected_accounts == "all":
            connected: list[str | None] = list(dict.fromkeys(list_connected_accounts(api)))
            everything = [None, *connected] if settings.include_platform_account else connected
            logger.info(
                "connected_accounts=all: %d connected accounts%s",
                len(connected),
                ", and the platform's own" if settings.include_platform_account else "",
            )
            partitioned = True
        elif settings.account_ids:
            everything, partitioned = list(settings.account_ids), True
        else:
            everything, partitioned = [None], False
        shard = settings.account_shard
        if shard is not None:
            index, count = shard
            everything = [a for a in everything if shard_of(a, count) == index]
            logger.info(
                "account_shard=%d/%d: %d accounts in this shard", index, count, len(everything)
            )
        return cls(
            accounts=tuple(everything),
            partitioned=partitioned,
            skip_unreachable=settings.connected_accounts == "all",
        )

    def partitions(self, account_field: str) -> list[dict] | None:
        """The SDK partitions: one per account, or None for stream-level bookmarks."""
        if not self.partitioned:
            return None
        return [{account_field: account} for account in self.accounts]

    def reads(self, account: str | None) -> bool:
        """Whether a partition (or, unpartitioned, the stream) of `account` is read now."""
        return account in self.accounts and account not in self.unreachable

    def report_unreachable(self, account: str, error: StripeRequestError) -> None:
        self.unreachable.setdefault(account, str(error))

    def summary(self) -> str | None:
        """One line naming every account skipped because Stripe refused it (None: none)."""
        if not self.unreachable:
            return None
        return (
            f"{len(self.unreachable)} connected account(s) could not be read and were skipped "
            f"(the others were read): {', '.join(sorted(self.unreachable))}. Stripe refused "
            "the key for them (access revoked, or the account disconnected); the next run "
            "tries them again from their bookmarks."
        )
