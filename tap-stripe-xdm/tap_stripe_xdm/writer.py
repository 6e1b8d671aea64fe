"""Singer output: msgspec encoding, flushed at STATE messages instead of after every record.

Flushing per record costs a system call per record. Output order is preserved, and every
STATE is flushed together with the records before it, so a reader never sees a STATE whose
records are missing; a crash loses only unflushed records that no printed STATE covers.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage


class BufferedMsgSpecWriter(MsgSpecWriter):
    def write_message(self, message: Message) -> None:
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            out.flush()
