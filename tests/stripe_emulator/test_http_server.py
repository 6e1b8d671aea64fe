"""The server: concurrent keep-alive readers, and stop() hanging up kept-alive connections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from stripe_emulator import StripeEmulator

from tests.stripe_emulator.emulator_client import KEY, T0, walk


def test_concurrent_readers_each_page_through_everything(emulator):
    emulator.seed({"charges": 450}, start=T0, end=T0 + 600)
    expected = [c["id"] for c in emulator.objects("charges")]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: walk(emulator, "/v1/charges", limit=40), range(6)))
    assert all(result == expected for result in results)


def test_stop_hangs_up_kept_alive_connections():
    stripe = StripeEmulator().start()
    session = requests.Session()
    answer = session.get(stripe.url + "/v1/charges", headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200
    stripe.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(
            stripe.url + "/v1/charges", headers={"Authorization": f"Bearer {KEY}"}, timeout=5
        )
