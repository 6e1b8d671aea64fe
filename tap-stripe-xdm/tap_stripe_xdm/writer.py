"""Singer output: msgspec encoding, flushed at STATE messages instead of after every record.

Flushing per record costs a system call per record. Output order is preserved, and every
STATE is flushed together with the records before it, so a reader never sees a STATE whose
records are missing; a crash loses only unflushed records that no printed STATE covers.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

CHUNK_BYTES = 256 * 1024


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Collect encoded messages and write them in large chunks; flush at every other message."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if len(self._pending) >= CHUNK_BYTES or not isinstance(message, RecordMessage):
            out = sys.stdout.buffer
            out.write(self._pending)
            self._pending.clear()
            if not isinstance(message, RecordMessage):
                out.flush()
