"""What a run did, per stream: records received, delivered, dead-lettered, and where they went.

The SDK's METRIC lines are for machines; a person running the pipeline wants one table at the
end. The target logs it and writes it as JSON (`<output_dir>/run_summary.json`) so wrappers
such as `bin/run` can print it too.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class StreamTally:
    """Counters of one stream; each sink owns its tally, so no lock is needed per record."""

    received: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    destination: str = ""


def render_table(tallies: dict[str, StreamTally], dead_letter_path: Path) -> list[str]:
    """The summary as aligned text lines."""
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
    return lines


def write_summary(path: Path, tallies: dict[str, StreamTally], dead_letter_path: Path) -> None:
    """Write the summary JSON atomically (a reader never sees half a file)."""
    document = {
        "streams": {name: asdict(tally) for name, tally in sorted(tallies.items())},
        "dead_letter_path": str(dead_letter_path),
    }
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
    for line in render_table(tallies, Path(document["dead_letter_path"])):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
