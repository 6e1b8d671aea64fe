"""`destination: files`: AEP batch-ingestion-ready JSON Lines on disk, no credentials needed.

Layout under `output_dir`: one folder per dataset (its `dataset_id`, else the stream name)
holding `part-<run>-<seq>.json` files (one XDM record per line: what batch ingestion reads as
`inputFormat.format: json` with `isMultiLineJson: false`) and `manifest.json` listing every file
with its record count. Files are rotated by record count and size (a single batch-ingestion upload
takes files up to 256 MB: https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/batch/api-overview).

Durability, which is what lets STATE move: a file is written under a temporary dot-name in the
same folder, fsynced, then renamed; the folder is fsynced; the manifest is replaced the same
way. `send` returns only after that, so no reader ever sees a partial file and a file listed in
the manifest is complete. A crash leaves at most a stray temporary file, removed on next start.

One tenant per folder: each manifest names the tenant whose records it lists (`tenant_id`),
and a run of another tenant is refused before it writes there, naming TARGET_AEP_OUTPUT_DIR,
so uploading a folder never sends one tenant's records (or the demo's) into another's datasets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from target_aep.delivery.base import Dataset, Delivery, MappedRecord, Rejection
from target_aep.errors import DeliveryError, SettingError
from target_aep.settings import TargetSettings

MANIFEST_NAME = "manifest.json"
# Lines are 1-6 KB: a 1 MiB buffer makes one write(2) per ~300 records instead of one per 1-3.
WRITE_BUFFER_BYTES = 1 << 20
_TEMP_PREFIX = ".tmp-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def fsync_directory(folder: Path) -> None:
    """Persist a rename: the directory entry itself must reach the disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `path` so readers see the old content or the new, never a part (temp+fsync+rename)."""
    temp = path.with_name(f"{_TEMP_PREFIX}{path.name}.{secrets.token_hex(4)}")
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_directory(path.parent)


@dataclass(frozen=True)
class FileEntry:
    """One finished data file, as the manifest lists it."""

    name: str
    records: int
    bytes: int
    created_at: str


def write_rotated_files(
    folder: Path,
    lines: Iterable[bytes],
    name_for: Callable[[], str],
    *,
    max_records: int,
    max_bytes: int,
) -> list[FileEntry]:
    """Write encoded lines into atomically published files of bounded records and bytes.

    `name_for()` gives the next file name.
    """
    entries: list[FileEntry] = []
    handle = None
    temp = final = None
    count = size = 0

    def publish() -> None:
        assert handle is not None
        assert temp is not None
        assert final is not None
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(temp, final)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries.append(FileEntry(final.name, count, size, stamp))

    try:
        for line in lines:
            if handle is not None and (count >= max_records or size + len(line) > max_bytes):
                publish()
                handle = None
            if handle is None:
                final = folder / name_for()
                temp = folder / f"{_TEMP_PREFIX}{final.name}"
                handle = temp.open("wb", buffering=WRITE_BUFFER_BYTES)
                count = size = 0
            handle.write(line)
            count += 1
            size += len(line)
        if handle is not None:
            publish()
            handle = None
    finally:
        if handle is not None:  # failed mid-file: nothing partial stays visible
            handle.close()
            if temp is not None:
                temp.unlink(missing_ok=True)
    if entries:
        fsync_directory(folder)
    return entries


class _DatasetFolder:
    """One dataset's folder: its manifest and the sequence of its files in this run."""

    def __init__(
        self, folder: Path, dataset: Dataset, run_id: str, tenant_id: str | None = None
    ) -> None:
        self.folder = folder
        self.dataset = dataset
        self.run_id = run_id
        self.sequence = 0
        self.lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        for stray in folder.glob(f"{_TEMP_PREFIX}*"):  # left by a run killed mid-write
            stray.unlink(missing_ok=True)
        self.manifest = self._read_manifest()
        if tenant_id is not None:
            check_tenant(folder, self.manifest, tenant_id)
            # a manifest written before manifests named their tenant is taken as this one's
            self.manifest["tenant_id"] = tenant_id

    def _read_manifest(self) -> dict:
        path = self.folder / MANIFEST_NAME
        if path.exists():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise DeliveryError(f"{path} is not valid JSON; fix or move it: {exc}") from exc
        return {
            "stream": self.dataset.stream,
            "dataset_id": self.dataset.dataset_id,
            "schema_id": self.dataset.schema_id,
            "format": "json",
            "isMultiLineJson": False,
            "files": [],
            "total_records": 0,
        }

    def next_name(self) -> str:
        self.sequence += 1
        return f"part-{self.run_id}-{self.sequence:05d}.json"

    def record_files(self, entries: Sequence[FileEntry]) -> None:
        self.manifest["files"].extend(asdict(entry) for entry in entries)
        self.manifest["total_records"] = sum(f["records"] for f in self.manifest["files"])
        data = json.dumps(self.manifest, indent=1).encode("utf-8") + b"\n"
        atomic_write_bytes(self.folder / MANIFEST_NAME, data)


def other_tenant(folder: Path, manifest: dict, tenant_id: str) -> str | None:
    """Why `tenant_id`'s records must not be added to `manifest` (None: they may)."""
    listed = manifest.get("tenant_id")
    if listed is None or listed == tenant_id:
        return None
    return (
        f"setting 'output_dir': {folder} holds records of tenant {listed!r} (its "
        f"{MANIFEST_NAME}), not of this run's tenant {tenant_id!r} (TARGET_AEP_TENANT_ID); "
        f"one folder never mixes tenants: set it to a folder of this tenant's own, e.g. "
        f"output/{tenant_id}, or move {folder.parent} aside "
        "(environment variable TARGET_AEP_OUTPUT_DIR)"
    )


def tenant_problems(output_dir: Path, tenant_id: str) -> list[str]:
    """Every dataset folder under `output_dir` whose manifest lists another tenant's records
    (checked before a run reads any input; unreadable manifests are left to the run)."""
    problems = []
    for path in sorted(output_dir.glob(f"*/{MANIFEST_NAME}")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        problem = (
            other_tenant(path.parent, manifest, tenant_id) if isinstance(manifest, dict) else None
        )
        if problem:
            problems.append(problem)
    return problems


def check_tenant(folder: Path, manifest: dict, tenant_id: str) -> None:
    """Refuse to add `tenant_id`'s records to a manifest that lists another tenant's."""
    problem = other_tenant(folder, manifest, tenant_id)
    if problem:
        raise DeliveryError(problem)


class FilesDelivery(Delivery):
    """Writes each drained batch of a dataset as rotated, atomically published files."""

    def __init__(
        self,
        output_dir: str | Path,
        *,
        max_records_per_file: int = TargetSettings.file_max_records,
        max_bytes_per_file: int = TargetSettings.file_max_bytes,
        tenant_id: str | None = None,
    ) -> None:
        """Files under `output_dir`, rotated at the limits (defaults: the settings' defaults);
        with `tenant_id`, in folders of that tenant only (`check_tenant`)."""
        self.output_dir = Path(output_dir)
        self.tenant_id = tenant_id
        if tenant_id is not None:  # before any input is read: one clear error, no traceback
            problems = tenant_problems(self.output_dir, tenant_id)
            if problems:
                raise SettingError(problems)
        self.max_records = max_records_per_file
        self.max_bytes = max_bytes_per_file
        # Sortable: file names sort in the order runs wrote them.
        now = dt.datetime.now(dt.timezone.utc)
        self.run_id = now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)
        self._folders: dict[str, _DatasetFolder] = {}
        self._lock = threading.Lock()

    def folder_for(self, dataset: Dataset) -> Path:
        """The dataset's folder: its dataset id, else its stream name (made path-safe)."""
        return self.output_dir / _UNSAFE.sub("_", dataset.dataset_id or dataset.stream)

    def describe(self, dataset: Dataset) -> str:
        """The dataset's folder (files + manifest.json)."""
        return str(self.folder_for(dataset))

    def _dataset_folder(self, dataset: Dataset) -> _DatasetFolder:
        folder = self.folder_for(dataset)
        with self._lock:
            state = self._folders.get(str(folder))
            if state is None:
                try:
                    state = _DatasetFolder(folder, dataset, self.run_id, self.tenant_id)
                except OSError as exc:
                    raise DeliveryError(f"output_dir: cannot use {folder}: {exc}") from exc
                self._folders[str(folder)] = state
            return state

    def send(self, dataset: Dataset, records: Sequence[MappedRecord]) -> list[Rejection]:
        """Write `records` to new files; returns after they are renamed into place and listed."""
        if not records:
            return []
        state = self._dataset_folder(dataset)
        with state.lock:
            try:
                entries = write_rotated_files(
                    state.folder,
                    (record.json_line() for record in records),
                    state.next_name,
                    max_records=self.max_records,
                    max_bytes=self.max_bytes,
                )
                state.record_files(entries)
            except OSError as exc:
                raise DeliveryError(f"cannot write files under {state.folder}: {exc}") from exc
        return []
