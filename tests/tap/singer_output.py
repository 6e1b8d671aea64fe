"""Checks of a tap run's Singer output shared by the tap tests: every STATE covers only objects
already out (in RECORD messages, or in the files of earlier BATCH messages), for every stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tests.tap.tap_run import TapRun

# A message's stream and the ids of the objects it puts out, or None for any other message.
OutputIds = Callable[[dict[str, Any]], "tuple[str, Iterable[str]] | None"]


def bookmark(state: dict[str, Any], stream: str) -> int | None:
    entry = state.get("bookmarks", {}).get(stream)
    return entry.get("replication_key_value") if entry else None


def record_ids(message: dict[str, Any]) -> tuple[str, Iterable[str]] | None:
    if message["type"] != "RECORD":
        return None
    return message["stream"], (message["record"]["id"],)


def assert_states_behind_output(
    run: TapRun,
    objects: dict[str, dict[str, int]],
    output_ids: OutputIds = record_ids,
) -> tuple[int, dict[str, set[str]]]:
    """Every STATE's bookmark of each stream in `objects` (id -> created) is behind objects
    already out; returns the number of bookmarks checked and the ids put out per stream."""
    out: dict[str, set[str]] = {stream: set() for stream in objects}
    checked = 0
    for message in run.messages:
        found = output_ids(message)
        if found is not None:
            stream, ids = found
            out[stream].update(ids)
        elif message["type"] == "STATE":
            for stream, created_by_id in objects.items():
                mark = bookmark(message["value"], stream)
                if mark is None:
                    continue
                checked += 1
                behind = {i for i, created in created_by_id.items() if created < mark}
                missing = behind - out[stream]
                assert not missing, f"STATE puts {stream} at {mark} ahead of {len(missing)} records"
    return checked, out
