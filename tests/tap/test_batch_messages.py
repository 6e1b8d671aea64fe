"""With the SDK's `batch_config` the tap writes records to batch files and prints a BATCH
message per file (https://sdk.meltano.com/en/latest/batch.html): every STATE still covers only
records already out, here in files named by earlier BATCH messages, for every stream, while
all streams are read at the same time."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.doubles.stripe_api import StripeDouble
from tests.tap.singer_output import assert_states_behind_output, bookmark
from tests.tap.tap_run import TapRun, base_config, run_tap
from tests.tap.test_concurrent_streams import STREAMS, created_by_id, seeded


def batch_config(folder: Path, batch_size: int) -> dict[str, Any]:
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": folder.as_uri(), "prefix": "batch-"},
        "batch_size": batch_size,
    }


def file_ids(url: str) -> list[str]:
    with gzip.open(urlparse(url).path) as lines:
        return [json.loads(line)["id"] for line in lines]


def batch_ids(message: dict[str, Any]) -> tuple[str, list[str]] | None:
    """A BATCH message's stream and the ids in its files."""
    assert message["type"] != "RECORD", "a RECORD message in batch mode"
    if message["type"] != "BATCH":
        return None
    return message["stream"], [i for url in message["manifest"] for i in file_ids(url)]


def assert_every_state_behind_batched_records(run: TapRun, objects: dict) -> int:
    """Each STATE's bookmarks cover only objects in files of earlier BATCH messages; the
    number of bookmarks checked."""
    checked, out = assert_states_behind_output(run, objects, batch_ids)
    for stream in STREAMS:
        assert out[stream] == set(objects[stream]), stream
    return checked


def test_batch_files_hold_every_record_and_each_state_follows_the_batch_it_covers(
    tmp_path: Path,
) -> None:
    with seeded(StripeDouble(latency=0.01)) as double:
        # small files and windows: many BATCH messages, bookmarks moving while files fill
        config = base_config(double.url, max_concurrency=2, window_size_days=20,
                             batch_config=batch_config(tmp_path, batch_size=97))  # fmt: skip
        run = run_tap(config)
        objects = created_by_id(double)
    batches = [m for m in run.messages if m["type"] == "BATCH"]
    assert len(batches) > 2 * len(STREAMS)
    checked = assert_every_state_behind_batched_records(run, objects)
    assert checked > len(STREAMS), "bookmarks should move during the run, not only at its end"
    final = run.final_state
    for stream in STREAMS:  # the run's end is bookmarked, whatever the last file held
        assert bookmark(final, stream) is not None, stream


def test_a_stream_whose_records_fill_its_last_file_exactly_still_moves_its_bookmark(
    tmp_path: Path,
) -> None:
    with StripeDouble() as double:
        double.seed({"refunds": 60}, start=1_704_067_200, end=1_706_745_600, seed=5)
        config = base_config(double.url, batch_config=batch_config(tmp_path, batch_size=30))
        run = run_tap(config, streams={"refunds"})
    batches = [m for m in run.messages if m["type"] == "BATCH"]
    assert sum(len(file_ids(url)) for m in batches for url in m["manifest"]) == 60
    assert bookmark(run.final_state, "refunds") is not None
    assert run.messages[-1]["type"] == "STATE"
