"""Older API versions: what a request pinned to an earlier `Stripe-Version` sees differently.

The emulator stores objects in its own (newest) version. Clients pinned to an older version, such
as singer-io's tap-stripe (2022-11-15), get the documented older shapes of the fields that moved:

- 2025-03-31.basil moved a subscription's billing period onto its items and removed the
  subscription's `discount`
  (https://docs.stripe.com/changelog/basil/2025-03-31/deprecate-subscription-current-period-start-and-end);
  before it, a single-plan subscription also shows that item's `plan` and `quantity` at the top
  level (the legacy plan view; singer-io's 2022-11-15 schema declares both and expands
  `data.plan.tiers`: https://github.com/singer-io/tap-stripe/blob/master/tap_stripe/schemas/subscriptions.json).
"""

from __future__ import annotations

from typing import Any

BASIL = "2025-03-31"


def is_before_basil(version: str) -> bool:
    """Whether `version` (YYYY-MM-DD[.name]) predates 2025-03-31.basil."""
    return version[:10] < BASIL


def subscription_before_basil(obj: dict[str, Any]) -> dict[str, Any]:
    """A subscription as a pre-basil version renders it (a new dict; `obj` is not changed)."""
    items = (obj.get("items") or {}).get("data") or []
    first = items[0] if items else {}
    single = first if len(items) == 1 else {}
    return {
        **obj,
        "current_period_start": first.get("current_period_start"),
        "current_period_end": first.get("current_period_end"),
        "discount": None,
        "plan": single.get("plan"),
        "quantity": single.get("quantity"),
    }


def renders_differently(resource: str, version: str) -> bool:
    """Whether objects of `resource` need re-rendering for a request pinned to `version`."""
    return resource == "subscriptions" and is_before_basil(version)


def render(resource: str, obj: dict[str, Any], version: str) -> dict[str, Any]:
    """`obj` as a request pinned to `version` sees it."""
    if renders_differently(resource, version):
        return subscription_before_basil(obj)
    return obj
