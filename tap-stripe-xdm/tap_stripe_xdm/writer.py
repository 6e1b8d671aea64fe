"""Singer output: msgspec encoding, flushed at STATE messages instead of after every record.

Flushing per record costs a system call per record. Output order is preserved, and every
STATE is flushed together with the records before it, so a reader never sees a STATE whose
records are missing; a crash loses only unflushed records that no printed STATE covers.
"""

from __future__ import annotations

import atexit
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

CHUNK_BYTES = 256 * 1024


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Collect encoded messages and write them in large chunks; flush at every other message."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        # A run that stops on an error still hands over the records it read (no STATE
        # covers them, so a rerun reads them again: at-least-once either way).
        atexit.register(self.flush)

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if not isinstance(message, RecordMessage):
            self.flush()
        elif len(self._pending) >= CHUNK_BYTES:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()

    def flush(self) -> None:
        """Write everything collected so far and flush stdout."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()
        sys.stdout.flush()
