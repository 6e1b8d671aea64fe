"""Profile's size guardrails: no record over them leaves the target for a Profile dataset.

Real-Time Customer Profile drops, without an error, ExperienceEvents over 10 KB and profile
(record-class) rows over 100 KB
(https://experienceleague.adobe.com/en/docs/experience-platform/profile/guardrails). For a
stream whose dataset is Profile-enabled, `ProfileSizeGuard.fit` measures the record as it is
sent (its compact JSON) against the limit of its class and, when it is over, trims it:

- only the tenant copy (`_<tenant>`) is trimmed; every standard XDM field stays whole;
- the trimmed parts are the tenant copy's Stripe lists (a subscription's `items`, a charge's
  `refunds`, a customer's `subscriptions`: objects with `object: "list"` and `data`), longest
  first: each keeps its first items, and its `totalCount` (`total_count` in the compat layout)
  holds the full number of items and `hasMore` (`has_more`) is true, as in a Stripe list page
  (https://docs.stripe.com/api/pagination);
- a record still over the limit with every such list emptied cannot be brought under it: it
  goes to the dead-letter file with its size and the limit.

The limits are taken as 10,000 and 100,000 bytes (the decimal reading of Adobe's KB, the
stricter one).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from target_aep.json_encoding import valid_json

EXPERIENCE_EVENT_LIMIT_BYTES = 10_000
PROFILE_RECORD_LIMIT_BYTES = 100_000
GUARDRAILS_URL = "https://experienceleague.adobe.com/en/docs/experience-platform/profile/guardrails"


@dataclass(slots=True)  # made per record: a frozen dataclass's __init__ costs ~3x
class Fitted:
    """A record as it will be sent: its JSON, and whether lists were shortened to fit."""

    encoded: bytes
    trimmed: bool


class RecordTooLargeError(ValueError):
    """The record stays over the limit with every trimmable list emptied."""


def _lists(value: Any) -> Iterator[dict[str, Any]]:
    """Every Stripe list object (`object: "list"` with a `data` array) under `value`."""
    if type(value) is dict:
        if value.get("object") == "list" and type(value.get("data")) is list:
            yield value
        for item in value.values():
            yield from _lists(item)
    elif type(value) is list:
        for item in value:
            yield from _lists(item)


class ProfileSizeGuard:
    """The size limit of one Profile dataset's records, and the trimming that keeps them in."""

    def __init__(self, *, is_record_class: bool, tenant_id: str) -> None:
        self.limit = PROFILE_RECORD_LIMIT_BYTES if is_record_class else EXPERIENCE_EVENT_LIMIT_BYTES
        self.kind = "profile record" if is_record_class else "ExperienceEvent"
        self._tenant = f"_{tenant_id}"

    def fit(self, xdm: dict[str, Any], encoded: bytes) -> Fitted:
        """A validated `xdm` (`encoded`: its JSON) as it will be sent, trimmed in place if it
        was over the limit."""
        if len(encoded) <= self.limit:
            return Fitted(encoded, trimmed=False)
        original = len(encoded)
        lists = list(_lists(xdm.get(self._tenant)))
        full = {id(found): len(found["data"]) for found in lists}  # before anything is cut
        while len(encoded) > self.limit:
            longest = max(lists, key=lambda found: len(found.get("data") or ()), default=None)
            items = longest.get("data") if longest is not None else None
            if longest is None or not items:
                raise RecordTooLargeError(
                    f"the record is {original:,} bytes ({len(encoded):,} with its tenant lists "
                    f"emptied), over Profile's {self.limit:,}-byte limit for an {self.kind} "
                    f"({GUARDRAILS_URL})"
                )
            per_item = len(valid_json(items)) / len(items)
            cut = max(1, math.ceil((len(encoded) - self.limit) / per_item))
            kept = items[: max(0, len(items) - cut)]
            if kept:
                longest["data"] = kept
            else:
                del longest["data"]  # nothing empty is sent
            camel = "has_more" not in longest and "total_count" not in longest
            total = "totalCount" if camel else "total_count"
            known = longest.get(total)
            longest[total] = max(full[id(longest)], known if type(known) is int else 0)
            longest["hasMore" if camel else "has_more"] = True
            encoded = valid_json(xdm)
        return Fitted(encoded, trimmed=True)
