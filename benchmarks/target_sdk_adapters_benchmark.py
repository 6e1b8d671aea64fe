"""SDK adapters benchmark: what each override in target_aep/sdk_adapters.py saves per record.

For the two per-record steps the target replaces, prints the CPU µs per charge record of the
SDK's own method and of the override, on the same records and sink (best of 15 passes over
2,000 charges; each pass gets fresh copies, since the SDK's step parses dates in place). The
SDK's date parse gets the records as its metadata step leaves them, as it does in a run.

Run: uv run python benchmarks/target_sdk_adapters_benchmark.py
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from importlib.metadata import version  # noqa: E402

from singer_sdk.sinks.core import Sink  # noqa: E402
from target_aep.target import TargetAep  # noqa: E402

from benchmarks.target_mapping_benchmark import charge_schema, charges  # noqa: E402

PASSES = 15


def cost(step: Callable[[dict], object], records: list[dict]) -> float:
    """Best CPU µs per record of `step` over fresh copies of `records`."""
    best = float("inf")
    for _ in range(PASSES):
        batch = [copy.deepcopy(record) for record in records]
        started = time.process_time()
        for record in batch:
            step(record)
        best = min(best, time.process_time() - started)
    return best / len(records) * 1e6


def main() -> None:
    records = charges(2_000)
    with tempfile.TemporaryDirectory(prefix="target-aep-bench-") as scratch:
        target = TargetAep(config={"tenant_id": "acme", "output_dir": scratch})
        sink = target.get_sink("charges", schema=charge_schema(records[0]), key_properties=["id"])
        message = {"type": "RECORD", "stream": "charges", "time_extracted": "2024-01-01T00:00:00Z"}
        context: dict = {}

        def sdk_metadata(record: dict) -> None:
            Sink._add_sdc_metadata_to_record(sink, record, message, context)

        def own_metadata(record: dict) -> None:
            sink._add_sdc_metadata_to_record(record, message, context)

        with_sdk_metadata = copy.deepcopy(records)
        for record in with_sdk_metadata:
            sdk_metadata(record)
        rows = [
            (
                "_add_sdc_metadata_to_record",
                cost(sdk_metadata, records),
                cost(own_metadata, records),
            ),
            (
                "_validate_and_parse",
                cost(lambda record: Sink._validate_and_parse(sink, record), with_sdk_metadata),
                cost(sink._validate_and_parse, records),
            ),
        ]
    print(f"singer-sdk {version('singer-sdk')}, {len(records):,} charge records, CPU µs per record")
    print(f"{'override':<30} {'SDK':>8} {'override':>9} {'saved':>8}")
    for name, sdk, own in rows:
        print(f"{name:<30} {sdk:>8.2f} {own:>9.2f} {sdk - own:>8.2f}")


if __name__ == "__main__":
    main()
