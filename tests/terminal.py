"""Run a command as a terminal runs it and press Ctrl-C (shared by the tap, target and
end-to-end tests).

The command gets a pseudo-terminal of its own (`pty.fork`: a new session whose controlling
terminal it is, the command its foreground process group); writing the terminal's interrupt
character (^C) makes the terminal driver send SIGINT to every process of that group, as a
person's Ctrl-C does (https://man7.org/linux/man-pages/man7/pty.7.html, termios(3) VINTR).
"""

from __future__ import annotations

import os
import pty
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CTRL_C = b"\x03"
# What none of the processes may print after a Ctrl-C.
NOISE = ("Traceback", "Exception ignored", "Future exception", "retry", "Connection refused")


@dataclass
class Interrupted:
    exit_code: int
    before: str
    """Everything the terminal showed before the Ctrl-C."""
    after: str
    """Everything it showed from the Ctrl-C on."""

    def noise(self) -> list[str]:
        """The lines after the Ctrl-C that carry any of `NOISE`."""
        return [line for line in self.after.splitlines() if any(n in line for n in NOISE)]


def ctrl_c_when(
    argv: list[str],
    ready: Callable[[str], bool],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float = 600,
) -> Interrupted:
    """Start `argv` in a terminal, press Ctrl-C once `ready(output so far)`, and wait for the
    end (at most `timeout` seconds, then it is killed and the test fails)."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: become the command
        try:
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    output = bytearray()
    pressed_at: int | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if pressed_at is None and ready(output.decode(errors="replace")):
                pressed_at = len(output)
                os.write(terminal, CTRL_C)
            readable, _, _ = select.select([terminal], [], [], 0.2)
            if not readable:
                continue
            try:
                chunk = os.read(terminal, 1 << 16)
            except OSError:  # EIO: every process holding the terminal has ended
                break
            if not chunk:
                break
            output += chunk
        else:
            os.kill(pid, 9)
            raise AssertionError(f"{argv} still running after {timeout} s:\n{output[-3000:]!r}")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(terminal)
    assert pressed_at is not None, f"{argv} ended before Ctrl-C:\n{output.decode()[-3000:]}"
    text = output.decode(errors="replace").replace("\r\n", "\n")
    cut = len(output[:pressed_at].decode(errors="replace").replace("\r\n", "\n"))
    return Interrupted(os.waitstatus_to_exitcode(status), text[:cut], text[cut:])
