"""writer.py: records are buffered, every STATE is flushed together with the records before it."""

from __future__ import annotations

import io
import json
import sys

import pytest
from singer_sdk.singerlib.encoding.simple import RecordMessage, StateMessage
from tap_stripe_xdm.writer import BufferedMsgSpecWriter


class CountingBuffer(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))


class FakeStdout:
    def __init__(self) -> None:
        self.buffer = CountingBuffer()

    def flush(self) -> None:
        self.buffer.flush()


def test_flushes_at_state_not_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    out = FakeStdout()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedMsgSpecWriter()
    for n in range(3):
        writer.write_message(RecordMessage(stream="charges", record={"id": f"ch_{n}", "n": n}))
    assert out.buffer.flushed_at == []
    writer.write_message(StateMessage(value={"bookmarks": {"charges": {"x": 1}}}))
    assert out.buffer.flushed_at == [len(out.buffer.getvalue())]
    lines = [json.loads(line) for line in out.buffer.getvalue().splitlines()]
    assert [m["type"] for m in lines] == ["RECORD", "RECORD", "RECORD", "STATE"]
    assert lines[2]["record"] == {"id": "ch_2", "n": 2}


def test_large_output_is_written_in_chunks_before_any_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = FakeStdout()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedMsgSpecWriter()
    for n in range(2_000):
        writer.write_message(
            RecordMessage(stream="charges", record={"id": f"ch_{n}", "pad": "x" * 200})
        )
    written = len(out.buffer.getvalue())
    assert out.buffer.flushed_at == []
    writer.flush()
    total = out.buffer.getvalue()
    assert len(total.splitlines()) == 2_000
    assert 0 < written < len(total), "full chunks were written, the rest waited"
