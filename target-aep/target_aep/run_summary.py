"""What a run did, per stream: records received, delivered, dead-lettered, and where they went.

The SDK's METRIC lines are for machines; a person running the pipeline wants one table at the
end, and which tenant fields were dropped because the dataset's schema lacks them
(unknown_fields.py) or added to its field group (schema_evolution.py). The target logs it and
writes it as JSON (`<output_dir>/run_summary.json`) so wrappers such as `bin/run` can print it
too. It also says how long the records took, from the first one the target received to the end
of the last drain: the pipeline's throughput without the start-up of Meltano and the tap
(benchmarks/pipeline_benchmark.py reads it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class StreamTally:
    """Counters of one stream; each sink owns its tally, so no lock is needed per record."""

    received: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    skipped: int = 0  # records of an unmapped stream under on_unmapped_stream: skip
    destination: str = ""
    dropped_fields: dict[str, int] = field(default_factory=dict)
    """Tenant fields the dataset's schema lacks, dropped: records per dotted path."""
    added_fields: list[str] = field(default_factory=list)
    """Fields added to the stream's tenant field group (`schema_evolution: add_fields`)."""
    trimmed: int = 0
    """Records whose tenant lists were shortened to fit Profile's size limit (profile_size.py)."""

    def count_dropped(self, paths: Iterable[str]) -> list[str]:
        """Count one record's dropped fields (each path once); the paths seen for the first
        time, in order."""
        new = []
        for path in dict.fromkeys(paths):
            if path not in self.dropped_fields:
                new.append(path)
                self.dropped_fields[path] = 0
            self.dropped_fields[path] += 1
        return new


@dataclass(frozen=True)
class Timing:
    """Wall-clock span of the records: first one received -> last drain done (Unix seconds)."""

    first_record_at: float
    finished_at: float

    @property
    def seconds(self) -> float:
        """Time the records took."""
        return max(self.finished_at - self.first_record_at, 0.0)

    def as_dict(self, records: int) -> dict:
        """The JSON form, with ISO times and the resulting rate."""
        return {
            "first_record_at": _iso(self.first_record_at),
            "finished_at": _iso(self.finished_at),
            "seconds": round(self.seconds, 3),
            "records_per_second": round(records / self.seconds) if self.seconds else None,
        }


class RunSummary:
    """The run's tallies, one per stream (kept across sink replacements on schema changes), and
    when the first record arrived."""

    def __init__(self) -> None:
        self.tallies: dict[str, StreamTally] = {}
        self.first_record_at: float | None = None  # wall clock, set by the first batch's start

    def tally_for(self, stream: str) -> StreamTally:
        """The counters of `stream`."""
        return self.tallies.setdefault(stream, StreamTally())

    def note_batch_started(self) -> None:
        """A batch got its first record: the run's first one starts the clock."""
        if self.first_record_at is None:
            self.first_record_at = time.time()

    def timing(self) -> Timing | None:
        """First record -> now, once a record arrived."""
        if self.first_record_at is None:
            return None
        return Timing(self.first_record_at, time.time())


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.timezone.utc).isoformat(timespec="milliseconds")


def render_table(
    tallies: dict[str, StreamTally],
    dead_letter_path: Path,
    seconds: float | None = None,
) -> list[str]:
    """The summary as aligned text lines (and how long the records took, when known)."""
    header = ("stream", "read", "written", "dead-lettered", "destination")
    rows = [
        (name, f"{t.received:,}", f"{t.delivered:,}", f"{t.dead_lettered:,}", t.destination)
        for name, t in sorted(tallies.items())
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in [header, *rows]
    ]
    if any(t.dead_lettered for t in tallies.values()):
        lines.append(f"dead letters (with the reasons): {dead_letter_path}")
    for name, tally in sorted(tallies.items()):
        if tally.skipped:
            lines.append(
                f"{name}: {tally.skipped:,} records skipped (no XDM mapping; "
                "on_unmapped_stream: skip)"
            )
    lines += _dropped_lines(tallies)
    trimmed = [f"{name} {t.trimmed:,}" for name, t in sorted(tallies.items()) if t.trimmed]
    if trimmed:
        lines.append(
            "records trimmed to fit Profile's size limit (tenant lists shortened, their full "
            f"length kept as totalCount): {', '.join(trimmed)}"
        )
    if seconds:
        received = sum(t.received for t in tallies.values())
        lines.append(
            f"{received:,} records in {seconds:,.1f} s from the first one received "
            f"({received / seconds:,.0f} records/s)"
        )
    return lines


def _dropped_lines(tallies: dict[str, StreamTally]) -> list[str]:
    """Fields added to field groups; fields dropped because the dataset's schema lacks them,
    and what adds them."""
    lines = [
        f"fields added to the tenant field group of {name}: {', '.join(t.added_fields)}"
        for name, t in sorted(tallies.items())
        if t.added_fields
    ]
    dropped = {name: t.dropped_fields for name, t in sorted(tallies.items()) if t.dropped_fields}
    if not dropped:
        return lines
    lines.append(
        "fields dropped because the dataset's schema lacks them (records delivered without):"
    )
    for name, paths in dropped.items():
        counted = ", ".join(f"{path} ({n:,} records)" for path, n in sorted(paths.items()))
        lines.append(f"  {name}: {counted}")
    lines.append(
        "  to keep them: run target-aep-provision (it adds them to the stream's field group), "
        "or set schema_evolution to add_fields"
    )
    return lines


def write_summary(
    path: Path,
    tallies: dict[str, StreamTally],
    dead_letter_path: Path,
    timing: Timing | None = None,
) -> None:
    """Write the summary JSON atomically (a reader never sees half a file)."""
    document: dict = {
        "streams": {name: asdict(tally) for name, tally in sorted(tallies.items())},
        "dead_letter_path": str(dead_letter_path),
    }
    if timing is not None:
        document["timing"] = timing.as_dict(sum(t.received for t in tallies.values()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".run_summary.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=1)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    """Print a written summary as a table: `python -m target_aep.run_summary <path>`."""
    import sys

    path = Path((argv or sys.argv[1:] or ["output/run_summary.json"])[0])
    if not path.exists():
        print(f"no run summary at {path}", file=sys.stderr)
        return 1
    document = json.loads(path.read_text(encoding="utf-8"))
    tallies = {name: StreamTally(**tally) for name, tally in document["streams"].items()}
    seconds = (document.get("timing") or {}).get("seconds")
    for line in render_table(tallies, Path(document["dead_letter_path"]), seconds):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
