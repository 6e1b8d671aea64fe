"""The dead-letter file: records that could not be mapped, validated or delivered, never lost.

JSON Lines, one object per rejected record: `stream`, `source_id` (the Stripe id), `reason`,
`errors` (each with its `path`), the mapped `record` (XDM) and, when mapping itself failed, the
`source` record. The sink flushes (fsync) it before STATE can move, so a record is either
delivered or here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO


def _with_non_finite_as_text(value: Any) -> Any:
    """`value` with each NaN or infinite float as its text ("nan", "inf", "-inf"): JSON has no
    such number (https://www.rfc-editor.org/rfc/rfc8259#section-6), and a dead letter must be
    readable by any JSON parser, also when it holds the record refused for one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {key: _with_non_finite_as_text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_with_non_finite_as_text(item) for item in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


class DeadLetterWriter:
    """Append-only, thread-safe JSON Lines writer; the file is created on the first letter."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self._lock = threading.Lock()
        self._file: TextIO | None = None

    def write(
        self,
        *,
        stream: str,
        source_id: str | None,
        reason: str,
        errors: Sequence[Mapping[str, Any]] = (),
        record: Mapping[str, Any] | None = None,
        source: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one dead letter (buffered; `flush` makes it durable)."""
        letter: dict[str, Any] = {
            "stream": stream,
            "source_id": source_id,
            "reason": reason,
            "errors": [dict(error) for error in errors],
            "record": record,
            "written_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        }
        if source is not None:
            letter["source"] = source
        try:
            text = json.dumps(letter, default=_json_default, separators=(",", ":"), allow_nan=False)
        except ValueError:  # a NaN or infinity, e.g. in the record refused for it
            text = json.dumps(
                _with_non_finite_as_text(letter), default=_json_default, separators=(",", ":")
            )
        line = text + "\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(line)
            self._file.flush()  # in the OS at once: survives a crash of this process
            self.count += 1

    def flush(self) -> None:
        """Make every letter written so far durable (before STATE moves)."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush and close the file."""
        self.flush()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
