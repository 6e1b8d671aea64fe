"""The files destination: AEP-ready JSON Lines, rotated, published atomically, with a manifest."""

from __future__ import annotations

import json
import os
import threading

import pytest
from target_aep.delivery.base import Dataset, MappedRecord
from target_aep.delivery.files import MANIFEST_NAME, FilesDelivery
from target_aep.errors import DeliveryError, SettingError

from tests.target.delivery.records import mapped
from tests.target.examples import example, singer_schema
from tests.target.singer_run import record_messages, run_cli


def records(count: int, stream: str = "charges", start: int = 0) -> list[MappedRecord]:
    return [
        mapped(stream, f"ch_{i}", {"_id": f"id-{i}", "timestamp": "2023-03-17T22:02:19Z"})
        for i in range(start, start + count)
    ]


def data_files(folder) -> list:
    return sorted(p for p in folder.iterdir() if p.name.startswith("part-"))


def read_manifest(folder) -> dict:
    return json.loads((folder / MANIFEST_NAME).read_text())


def test_records_land_as_json_lines_in_the_dataset_folder_with_a_manifest(tmp_path):
    delivery = FilesDelivery(tmp_path)
    dataset = Dataset(
        "charges", dataset_id="ds_123", schema_id="https://ns.adobe.com/acme/schemas/x"
    )
    assert delivery.send(dataset, records(3)) == []
    folder = tmp_path / "ds_123"
    (only,) = data_files(folder)
    lines = only.read_text().splitlines()
    assert [json.loads(line)["_id"] for line in lines] == ["id-0", "id-1", "id-2"]
    manifest = read_manifest(folder)
    assert manifest["dataset_id"] == "ds_123"
    assert manifest["isMultiLineJson"] is False
    assert manifest["files"] == [
        {
            "name": only.name,
            "records": 3,
            "bytes": only.stat().st_size,
            "created_at": manifest["files"][0]["created_at"],
        }
    ]
    assert manifest["total_records"] == 3


def test_without_dataset_id_the_folder_is_the_stream_name(tmp_path):
    FilesDelivery(tmp_path).send(Dataset("balance_transactions"), records(1))
    assert (tmp_path / "balance_transactions" / MANIFEST_NAME).exists()


def test_files_rotate_by_record_count(tmp_path):
    FilesDelivery(tmp_path, max_records_per_file=4).send(Dataset("charges"), records(10))
    folder = tmp_path / "charges"
    counts = [len(p.read_text().splitlines()) for p in data_files(folder)]
    assert counts == [4, 4, 2]
    assert [f["records"] for f in read_manifest(folder)["files"]] == [4, 4, 2]


def test_files_rotate_by_size(tmp_path):
    line_size = len(json.dumps(records(1)[0].xdm, separators=(",", ":"))) + 1
    FilesDelivery(tmp_path, max_bytes_per_file=line_size * 3).send(Dataset("charges"), records(7))
    files = data_files(tmp_path / "charges")
    assert [p.stat().st_size for p in files] == [line_size * 3, line_size * 3, line_size]


def test_manifest_lists_every_file_across_sends_and_runs(tmp_path):
    FilesDelivery(tmp_path).send(Dataset("charges"), records(2))
    second_run = FilesDelivery(tmp_path)
    second_run.send(Dataset("charges"), records(3, start=2))
    second_run.send(Dataset("charges"), records(1, start=5))
    folder = tmp_path / "charges"
    manifest = read_manifest(folder)
    assert [f["name"] for f in manifest["files"]] == [p.name for p in data_files(folder)]
    assert manifest["total_records"] == 6
    all_ids = [
        json.loads(line)["_id"] for p in data_files(folder) for line in p.read_text().splitlines()
    ]
    assert sorted(all_ids) == [f"id-{i}" for i in range(6)]


def test_no_partial_file_is_ever_visible_under_its_final_name(tmp_path, monkeypatch):
    """Watch the folder while writing: a final name only appears once its file is complete."""
    delivery = FilesDelivery(tmp_path, max_records_per_file=50)
    folder = tmp_path / "charges"
    seen_incomplete: list[str] = []
    real_replace = os.replace

    def checking_replace(source, destination):
        # Just before each publish: every already-visible data file must be whole.
        for path in data_files(folder):
            if len(path.read_text().splitlines()) != 50:
                seen_incomplete.append(path.name)
        assert not os.path.exists(destination)
        real_replace(source, destination)

    monkeypatch.setattr("target_aep.delivery.files.os.replace", checking_replace)
    delivery.send(Dataset("charges"), records(200))
    assert seen_incomplete == []
    assert len(data_files(folder)) == 4


def test_a_failure_mid_write_leaves_no_partial_file_and_no_manifest_entry(tmp_path, monkeypatch):
    delivery = FilesDelivery(tmp_path)
    delivery.send(Dataset("charges"), records(2))
    folder = tmp_path / "charges"
    before = read_manifest(folder)

    def broken_fsync(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("target_aep.delivery.files.os.fsync", broken_fsync)
    with pytest.raises(DeliveryError, match="cannot write files"):
        delivery.send(Dataset("charges"), records(3, start=2))
    monkeypatch.undo()
    assert [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")] == []
    assert len(data_files(folder)) == 1
    assert read_manifest(folder) == before


def test_a_stray_temporary_file_from_a_killed_run_is_removed_and_never_listed(tmp_path):
    folder = tmp_path / "charges"
    folder.mkdir()
    (folder / ".tmp-part-old-00001.json").write_text('{"_id": "half')
    FilesDelivery(tmp_path).send(Dataset("charges"), records(1))
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("part-")) == [
        MANIFEST_NAME
    ]


def test_concurrent_sends_to_one_dataset_keep_the_manifest_consistent(tmp_path):
    delivery = FilesDelivery(tmp_path)
    threads = [
        threading.Thread(target=delivery.send, args=(Dataset("charges"), records(25, start=25 * n)))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    folder = tmp_path / "charges"
    manifest = read_manifest(folder)
    assert manifest["total_records"] == 100
    assert sorted(f["name"] for f in manifest["files"]) == [p.name for p in data_files(folder)]


def test_a_corrupt_manifest_stops_the_run_with_a_clear_message(tmp_path):
    folder = tmp_path / "charges"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(DeliveryError, match=r"manifest\.json is not valid JSON"):
        FilesDelivery(tmp_path).send(Dataset("charges"), records(1))


def test_each_manifest_names_its_tenant_and_another_tenants_records_are_refused(tmp_path):
    FilesDelivery(tmp_path, tenant_id="acme").send(Dataset("charges"), records(2))
    assert read_manifest(tmp_path / "charges")["tenant_id"] == "acme"
    FilesDelivery(tmp_path, tenant_id="acme").send(Dataset("charges"), records(1, start=2))

    with pytest.raises(SettingError) as refused:  # at the start of the run
        FilesDelivery(tmp_path, tenant_id="demo")

    (message,) = refused.value.errors
    assert "tenant 'acme'" in message
    assert "tenant 'demo'" in message
    assert "TARGET_AEP_OUTPUT_DIR" in message
    assert "TARGET_AEP_TENANT_ID" in message
    assert read_manifest(tmp_path / "charges")["total_records"] == 3


def test_a_folder_another_tenant_starts_during_the_run_is_refused_before_writing(tmp_path):
    later = FilesDelivery(tmp_path, tenant_id="demo")  # started while the folder was empty
    FilesDelivery(tmp_path, tenant_id="acme").send(Dataset("charges"), records(2))

    with pytest.raises(DeliveryError, match="holds records of tenant 'acme'"):
        later.send(Dataset("charges"), records(3))

    assert read_manifest(tmp_path / "charges")["total_records"] == 2
    assert len(data_files(tmp_path / "charges")) == 1


def test_a_manifest_from_before_tenants_were_recorded_is_taken_as_the_runs_tenants(tmp_path):
    FilesDelivery(tmp_path).send(Dataset("charges"), records(2))
    assert "tenant_id" not in read_manifest(tmp_path / "charges")
    FilesDelivery(tmp_path, tenant_id="acme").send(Dataset("charges"), records(1, start=2))
    assert read_manifest(tmp_path / "charges")["tenant_id"] == "acme"


def test_a_run_of_another_tenant_into_the_same_output_dir_stops_before_reading_with_one_error(
    tmp_path,
):
    messages = record_messages("charges", singer_schema("charges"), [example("charges")], {"n": 1})
    out = tmp_path / "out"
    first = run_cli({"tenant_id": "acme", "output_dir": str(out)}, messages, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]

    other = run_cli({"tenant_id": "demo", "output_dir": str(out)}, messages, tmp_path)

    assert other.returncode != 0
    assert other.stdout == ""  # no STATE
    assert "Traceback" not in other.stderr
    (error,) = [line for line in other.stderr.splitlines() if "holds records of tenant" in line]
    assert "'acme'" in error
    assert "'demo'" in error
    assert "TARGET_AEP_OUTPUT_DIR" in error
    assert read_manifest(out / "charges")["total_records"] == 1
    assert read_manifest(out / "charges")["tenant_id"] == "acme"
