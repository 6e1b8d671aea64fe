"""Whole, consistent Stripe data sets for the emulator (`StripeStore.seed`) and for tests.

Objects come from the object_factories; this module decides how many, when (`created`
spread over a window, many sharing a second) and how they link: charges point at customers
created before them, refunds at earlier charges (whose amount_refunded adds up), balance
transactions at both, subscription items at seeded prices. Generation streams one finished
object at a time so benchmark-sized sets do not need every object in memory at once.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from stripe_emulator.object_factories import (
    CURRENCIES,
    SUBSCRIPTION_STATUS_WEIGHTS,
    make_balance_transaction,
    make_charge,
    make_customer,
    make_price,
    make_refund,
    make_subscription,
    new_id,
    pick_currency,
    random_amount,
)
from stripe_emulator.resources import OBJECT_OF, SUBSCRIPTION_STATUSES


class _CreatedSpread:
    """Timestamps in [start, end) drawn from few distinct seconds, so many objects share one."""

    def __init__(self, rng: random.Random, start: int, end: int, count: int) -> None:
        if end <= start:
            raise ValueError(f"seed window is empty: start={start} end={end}")
        distinct = max(1, min(end - start, count // 3 or 1))
        self._rng = rng
        self._seconds = [rng.randrange(start, end) for _ in range(distinct)]

    def draw(self, count: int) -> list[int]:
        return sorted(self._rng.choice(self._seconds) for _ in range(count))


class _OlderPicker:
    """Picks a random object created no later than a given second (any object when none is)."""

    def __init__(
        self,
        objs: list[Any],
        rng: random.Random,
        created: Callable[[Any], int] = lambda o: o["created"],
    ) -> None:
        self._objs = sorted(objs, key=created)
        self._keys = [created(o) for o in self._objs]
        self._rng = rng

    def __bool__(self) -> bool:
        return bool(self._objs)

    def pick(self, created: int) -> Any:
        upto = bisect.bisect_right(self._keys, created) or len(self._objs)
        return self._objs[self._rng.randrange(upto)]


# One subscription in six has more than 10 items by default: enough to exercise the completion
# of truncated item lists everywhere; benchmarks of a typical account ask for fewer.
LONG_SUBSCRIPTIONS_EVERY = 6


def seed_objects(
    counts: dict[str, int], *, start: int, end: int, seed: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """`iter_seed_objects` gathered into one list per resource, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in counts}
    for resource, obj in iter_seed_objects(counts, start=start, end=end, seed=seed):
        out[resource].append(obj)
    for objs in out.values():
        objs.sort(key=lambda o: o["created"])
    return out


@dataclass
class _ChargePlan:
    """What later objects need to know about a charge before it is built (refunds change it)."""

    id: str
    created: int
    status: str
    currency: str
    amount: int
    customer: dict[str, Any] | None
    payment_intent: str
    balance_transaction: str | None
    amount_refunded: int = 0


def iter_seed_objects(
    counts: dict[str, int],
    *,
    start: int,
    end: int,
    seed: int = 0,
    long_subscriptions_every: int = LONG_SUBSCRIPTIONS_EVERY,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A consistent data set, one finished (resource, object) at a time so memory stays flat:
    `counts` objects per resource, `created` spread over [start, end). One subscription in
    `long_subscriptions_every` has 11-14 items (Stripe embeds 10, so a reader completes them
    from /v1/subscription_items); the second subscription always does (below 2: only it).

    Guarantees (when the counts allow): every subscription status incl. canceled; some
    subscriptions with more than 10 items; inactive and one-time prices; several currencies
    including jpy; charges linked to customers created before them; refunds and balance
    transactions linked to seeded charges (charge.amount_refunded matches its refunds).
    """
    unknown = set(counts) - set(OBJECT_OF)
    if unknown:
        raise ValueError(
            f"cannot seed unknown resources {sorted(unknown)}; known: {sorted(OBJECT_OF)}"
        )
    rng = random.Random(seed)

    def spread(name: str) -> list[int]:
        n = counts.get(name, 0)
        return _CreatedSpread(rng, start, end, n).draw(n) if n > 0 else []

    customers: list[dict[str, Any]] = []  # just what charges and subscriptions link to
    for i, created in enumerate(spread("customers")):
        customer = make_customer(rng, created, currency=pick_currency(rng))
        if i % 5 == 4:  # a few share an email (Stripe allows it; the email filter must return all)
            customer["email"] = customers[-1]["email"]
        customers.append({k: customer[k] for k in ("id", "created", "currency", "email")})
        yield "customers", customer
    older_customer = _OlderPicker(customers, rng)

    prices: list[dict[str, Any]] = []
    for i, created in enumerate(spread("prices")):
        currency = CURRENCIES[i % len(CURRENCIES)]
        price = make_price(rng, created, currency=currency, active=i % 6 != 5, recurring=i % 7 != 6)
        prices.append(price)
        yield "prices", price

    for i, created in enumerate(spread("subscriptions")):
        if i < len(SUBSCRIPTION_STATUSES):
            status = SUBSCRIPTION_STATUSES[i]
        else:
            status = rng.choices(SUBSCRIPTION_STATUSES, SUBSCRIPTION_STATUS_WEIGHTS)[0]
        long = i == 1 or (long_subscriptions_every > 1 and i % long_subscriptions_every == 1)
        n_items = rng.randint(11, 14) if long else rng.choice((1, 1, 1, 2, 3))
        currency = pick_currency(rng)
        pool = [p for p in prices if p["currency"] == currency and p["type"] == "recurring"]
        rng.shuffle(pool)
        chosen = pool[:n_items]
        while len(chosen) < n_items:  # not enough seeded prices: embed fresh ones (not listed)
            chosen.append(make_price(rng, created, currency=currency))
        customer_id = older_customer.pick(created)["id"] if older_customer else None
        yield "subscriptions", make_subscription(rng, created, customer_id, chosen, status=status)

    plans = []
    for i, created in enumerate(spread("charges")):
        linked: dict[str, Any] | None = (
            older_customer.pick(created) if older_customer and i % 4 else None
        )
        status = rng.choices(("succeeded", "failed", "pending"), (17, 2, 1))[0]
        currency = (linked or {}).get("currency") or pick_currency(rng)
        plans.append(
            _ChargePlan(
                id=new_id(rng, "ch"),
                created=created,
                status=status,
                currency=currency,
                amount=random_amount(rng, currency),
                customer=linked,
                payment_intent=new_id(rng, "pi"),
                balance_transaction=new_id(rng, "txn") if status == "succeeded" else None,
            )
        )

    older_charge = _OlderPicker(
        [plan for plan in plans if plan.status == "succeeded"], rng, created=lambda p: p.created
    )
    refunds = [_refund_of_older_charge(rng, created, older_charge) for created in spread("refunds")]
    refunds.sort(key=lambda r: r["created"])

    for plan in plans:
        charge = make_charge(
            rng,
            plan.created,
            plan.customer["id"] if plan.customer else None,
            plan.currency,
            status=plan.status,
            billing_email=plan.customer["email"] if plan.customer else None,
            amount=plan.amount,
        )
        charge.update(
            id=plan.id,
            payment_intent=plan.payment_intent,
            balance_transaction=plan.balance_transaction,
            amount_refunded=plan.amount_refunded,
            refunded=plan.amount_refunded == plan.amount,
        )
        yield "charges", charge
    for refund in refunds:
        yield "refunds", refund
    yield from (
        ("balance_transactions", txn)
        for txn in _balance_transactions(
            rng, counts.get("balance_transactions", 0), plans, refunds, spread
        )
    )


def _refund_of_older_charge(
    rng: random.Random, created: int, older_charge: _OlderPicker
) -> dict[str, Any]:
    """A refund of a charge created before it (counted into the charge's amount_refunded)."""
    plan = older_charge.pick(created) if older_charge else None
    if plan is None or plan.amount_refunded >= plan.amount:
        return make_refund(rng, created)
    amount = rng.randint(1, plan.amount - plan.amount_refunded)
    plan.amount_refunded += amount
    charge = {"id": plan.id, "currency": plan.currency, "payment_intent": plan.payment_intent}
    return make_refund(rng, max(created, plan.created), charge, amount=amount)


def _balance_transactions(
    rng: random.Random,
    count: int,
    charges: Iterable[_ChargePlan],
    refunds: Iterable[dict[str, Any]],
    spread: Callable[[str], list[int]],
) -> Iterator[dict[str, Any]]:
    """Balance transactions: first those of seeded charges/refunds (ids match), then payouts."""
    made = 0
    for charge in charges:
        if made >= count:
            return
        if charge.balance_transaction:
            made += 1
            yield make_balance_transaction(
                rng,
                charge.created,
                amount=charge.amount,
                currency=charge.currency,
                kind="charge",
                source=charge.id,
                txn_id=charge.balance_transaction,
            )
    for refund in refunds:
        if made >= count:
            return
        made += 1
        yield make_balance_transaction(
            rng,
            refund["created"],
            amount=-refund["amount"],
            currency=refund["currency"],
            kind="refund",
            source=refund["id"],
            txn_id=refund["balance_transaction"],
        )
    for created in spread("balance_transactions")[: count - made]:
        kind = rng.choice(("payout", "adjustment", "transfer", "stripe_fee"))
        currency = pick_currency(rng)
        amount = -random_amount(rng, currency)
        source = new_id(rng, {"payout": "po", "transfer": "tr"}.get(kind, "adj"))
        yield make_balance_transaction(
            rng, created, amount=amount, currency=currency, kind=kind, source=source
        )
