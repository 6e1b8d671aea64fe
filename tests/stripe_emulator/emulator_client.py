"""How the emulator's tests talk to it: GET with the key, a page's ids, walking all pages; and
the small data sets they add."""

from __future__ import annotations

import random
from typing import Any

import requests
from stripe_emulator import StripeEmulator, object_factories

KEY = "sk_test_double"


T0 = 1_700_000_000


def get(
    emulator: StripeEmulator,
    path: str,
    *,
    key: str | None = KEY,
    headers: dict | None = None,
    **params: Any,
) -> requests.Response:
    all_headers = {"Authorization": f"Bearer {key}"} if key else {}
    all_headers.update(headers or {})
    return requests.get(emulator.url + path, params=params, headers=all_headers, timeout=10)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [obj["id"] for obj in response.json()["data"]]


def add_charges(
    emulator: StripeEmulator, createds: list[int], account: str | None = None
) -> list[dict]:
    """Charges created at `createds`, stored in that order (ties keep it)."""
    rng = random.Random(7)
    return [
        emulator.add("charges", object_factories.make_charge(rng, c), account=account)
        for c in createds
    ]


def walk(emulator: StripeEmulator, path: str, **params: Any) -> list[str]:
    """Follow starting_after from the first page until has_more is false."""
    seen: list[str] = []
    cursor: dict[str, str] = {}
    while True:
        body = get(emulator, path, **params, **cursor).json()
        seen.extend(obj["id"] for obj in body["data"])
        if not body["has_more"]:
            return seen
        cursor = {"starting_after": body["data"][-1]["id"]}


def raw_event(type_: str, created: int, **extra: Any) -> dict:
    """An event as a test adds it: the envelope's other fields get Stripe's defaults."""
    return {
        "type": type_,
        "created": created,
        "data": {"object": {"id": "x", "object": "thing"}},
        **extra,
    }


# A data set big enough for every awkward case the generator guarantees.
SEED_COUNTS = {
    "customers": 40,
    "prices": 30,
    "subscriptions": 30,
    "charges": 200,
    "refunds": 30,
    "balance_transactions": 240,
}
