"""BATCH messages (https://sdk.meltano.com/en/latest/batch.html): the records of the files a
BATCH message names take the same path as RECORD messages, mapped, validated, dead-lettered or
written, so a tap writing batch files gives the same XDM as one printing records."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.doubles.stripe_api import StripeDouble
from tests.tap.tap_run import SEEDED_END, SEEDED_START, base_config, run_tap
from tests.target.examples import example, singer_schema
from tests.target.singer_run import run_cli, run_in_process

COUNTS = {"charges": 120, "customers": 40, "subscriptions": 15, "refunds": 20,
          "balance_transactions": 90, "prices": 10}  # fmt: skip


def tap_messages(double: StripeDouble, batch_folder: Path | None) -> list[dict[str, Any]]:
    """What tap-stripe-xdm prints for the double's data: RECORD messages, or with a batch
    folder, BATCH messages naming files of about 25 records there."""
    config = base_config(double.url)
    if batch_folder is not None:
        config["batch_config"] = {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": batch_folder.as_uri(), "prefix": "batch-"},
            "batch_size": 25,
        }
    return run_tap(config).messages


def written_lines(output: Path) -> dict[str, list[str]]:
    """Each stream folder's XDM lines, sorted (files split by drains differ, lines do not)."""
    return {
        folder.name: sorted(
            line for part in folder.glob("part-*.json") for line in part.read_text().splitlines()
        )
        for folder in output.iterdir()
        if folder.is_dir()
    }


def test_a_batch_run_writes_the_same_xdm_and_final_state_as_a_record_run(tmp_path, capsys):
    with StripeDouble() as double:
        double.seed(COUNTS, start=SEEDED_START, end=SEEDED_END, seed=11)
        records = tap_messages(double, None)
        batches = tap_messages(double, tmp_path / "batches")
    assert any(m["type"] == "BATCH" for m in batches)
    assert not any(m["type"] == "RECORD" for m in batches)

    outputs = {}
    finals = {}
    for name, messages in (("records", records), ("batches", batches)):
        config = {"tenant_id": "acme", "output_dir": str(tmp_path / name)}
        finals[name] = run_in_process(config, messages, capsys)[-1]
        outputs[name] = written_lines(tmp_path / name)

    assert set(outputs["records"]) == set(COUNTS)
    for stream, count in COUNTS.items():
        assert len(outputs["batches"][stream]) == len(outputs["records"][stream]) >= count
        assert outputs["batches"][stream] == outputs["records"][stream], stream
    assert finals["batches"]["bookmarks"].keys() == finals["records"]["bookmarks"].keys()
    assert not (tmp_path / "batches" / "dead_letter.jsonl").exists()


def batch_message(stream: str, urls: list[str], compression: str = "gzip",
                  format_: str = "jsonl") -> dict:  # fmt: skip
    encoding = {"format": format_, "compression": compression}
    return {"type": "BATCH", "stream": stream, "encoding": encoding, "manifest": urls}


def schema_message(stream: str) -> dict:
    return {"type": "SCHEMA", "stream": stream, "schema": singer_schema(stream),
            "key_properties": ["id"]}  # fmt: skip


def charges(count: int) -> list[dict]:
    base = example("charges")
    return [
        {**base, "id": f"ch_batch{n:04d}", "created": base["created"] + n} for n in range(count)
    ]


@pytest.mark.parametrize("declared", ["gzip", "none"])
def test_files_are_read_gzipped_or_plain_whatever_the_message_declares(tmp_path, capsys, declared):
    """singer-sdk 0.54's JSONL batcher gzips every file, also when its config says
    compression none; a file is read by what it holds."""
    gzipped, plain = tmp_path / "a.json.gz", tmp_path / "b.jsonl"
    with gzip.open(gzipped, "wt") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in charges(30)[:20])
    plain.write_text("".join(json.dumps(r) + "\n" for r in charges(30)[20:]) + "\n")
    messages = [
        schema_message("charges"),
        batch_message("charges", [gzipped.as_uri(), str(plain)], compression=declared),
        {"type": "STATE", "value": {"n": 30}},
    ]
    states = run_in_process({"tenant_id": "acme", "output_dir": str(tmp_path / "out")},
                            messages, capsys)  # fmt: skip
    assert states[-1] == {"n": 30}
    manifest = json.loads((tmp_path / "out" / "charges" / "manifest.json").read_text())
    assert manifest["total_records"] == 30


def test_a_record_of_a_batch_file_that_cannot_be_mapped_is_dead_lettered_with_its_field(
    tmp_path, capsys
):
    records = charges(3)
    records[1]["amount"] = "twelve"
    batch = tmp_path / "batch.json.gz"
    with gzip.open(batch, "wt") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    messages = [schema_message("charges"), batch_message("charges", [batch.as_uri()])]
    run_in_process({"tenant_id": "acme", "output_dir": str(tmp_path / "out")}, messages, capsys)
    manifest = json.loads((tmp_path / "out" / "charges" / "manifest.json").read_text())
    assert manifest["total_records"] == 2
    (dead,) = [json.loads(line) for line in (tmp_path / "out" / "dead_letter.jsonl").open()]
    assert dead["reason"].startswith("mapping failed")
    assert dead["source"]["id"] == "ch_batch0001"
    assert "/commerce/order/priceTotal" in {error["path"] for error in dead["errors"]}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (lambda p: batch_message("charges", [(p / "gone.json.gz").as_uri()]),
         "gone.json.gz cannot be read"),
        (lambda p: batch_message("charges", [(p / "x.parquet").as_uri()], format_="parquet"),
         "format 'parquet' cannot be read; target-aep reads JSON lines"),
    ],
)  # fmt: skip
def test_a_batch_the_target_cannot_read_stops_the_run_naming_the_file_or_format(
    tmp_path, message, expected
):
    messages = [schema_message("charges"), message(tmp_path), {"type": "STATE", "value": {}}]
    result = run_cli({"tenant_id": "acme", "output_dir": str(tmp_path / "out")}, messages,
                     tmp_path)  # fmt: skip
    assert result.returncode != 0
    assert expected in result.stderr
    assert result.stdout.strip() == "", "no STATE for a batch that was not read"
