"""Delivery benchmark: streaming and batch ingestion of 10,000 records against the local AEP double.

Prints records/s and Platform requests per 10,000 records for each destination, with the double
answering at once and with 50 ms latency per request (a realistic round trip to Adobe), and for
streaming at several `streaming_concurrency` values (the setting's default is chosen from this).
The double's own XDM validation and OpenAPI checks are off, so the time is the target's
(encoding, packing, HTTP) plus the double's HTTP handling on the same machine.

Run: uv run python benchmarks/target_delivery_benchmark.py [--records N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from target_aep.adobe.platform import PlatformClient
from target_aep.delivery.base import Dataset, MappedRecord
from target_aep.delivery.batch import BatchDelivery
from target_aep.delivery.streaming import StreamingDelivery
from target_aep.settings import TargetSettings

from tests.doubles.aep_api import (
    EXAMPLE_DATASET_ID,
    EXAMPLE_FLOW_ID,
    EXAMPLE_SCHEMA,
    EXAMPLE_SCHEMA_ID,
    AepDouble,
    example_event,
)

DATASET = Dataset("charges", EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID, EXAMPLE_FLOW_ID)
PLATFORM_PATHS = ("/collection/", "/data/foundation/")


def make_records(count: int) -> list[MappedRecord]:
    """~1.5 KB XDM charge events (the size of a mapped Stripe charge)."""
    return [
        MappedRecord("charges", f"ch_{n}", example_event(n, note="x" * 1200)) for n in range(count)
    ]


def run(kind: str, records: list[MappedRecord], latency: float, **settings) -> tuple[float, int]:
    with AepDouble() as aep:
        aep.register_dataset(EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID, EXAMPLE_SCHEMA)
        aep.validate_entities = False
        aep.latency = latency
        config = aep.config(destination=kind, batch_poll_interval_seconds=0.05, **settings)
        client = PlatformClient(TargetSettings.from_config(config))
        delivery = (StreamingDelivery if kind == "streaming" else BatchDelivery)(client)
        delivery.send(DATASET, records[:10])  # warm up: token, connections
        delivery.settle()  # batch: the run's batch completed (streaming: nothing to do)
        start = len(aep.requests)
        began = time.perf_counter()
        rejections = delivery.send(DATASET, records)
        delivery.settle()
        elapsed = time.perf_counter() - began
        delivery.close()
        assert not rejections, rejections[:1]
        received = (
            len(aep.dcs_entities[EXAMPLE_DATASET_ID])
            if kind == "streaming"
            else len(aep.batch_rows[EXAMPLE_DATASET_ID])
        )
        assert received == len(records) + 10, received
        requests = sum(
            1 for exchange in aep.requests[start:] if exchange.path.startswith(PLATFORM_PATHS)
        )
        return len(records) / elapsed, requests


def row(label: str, latency: float, rate: float, per_10k: float) -> str:
    return f"{label:<34}{latency * 1000:>7.0f}ms{rate:>12,.0f}{per_10k:>14.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    count = parser.parse_args().records
    records = make_records(count)
    print(f"{count} records of ~1.5 KB; requests are Platform calls (DCS/import/Catalog)")
    print(f"{'destination':<34}{'latency':>9}{'records/s':>12}{'requests/10k':>14}")
    for latency in (0.0, 0.05):
        for concurrency in (1, 4, 8):
            rate, requests = run("streaming", records, latency, streaming_concurrency=concurrency)
            label = f"streaming, concurrency {concurrency}"
            print(row(label, latency, rate, requests * 10_000 / count))
        rate, requests = run("batch", records, latency)
        print(row("batch (one batch, 1 file)", latency, rate, requests * 10_000 / count))


if __name__ == "__main__":
    main()
