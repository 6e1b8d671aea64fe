"""Exponential backoff with full jitter, bounded: the one retry pacing for every Adobe call.

Full jitter (a random wait in [0, base * 2**attempt], capped) spreads retries of concurrent
requests so they do not hit a throttled endpoint in lockstep. A server's `Retry-After` is honoured
as a lower bound, still capped, so a bad header cannot stall the run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """How often and how long to wait between attempts of one call."""

    max_retries: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        ceiling = min(self.max_seconds, self.base_seconds * (2**attempt))
        wait = random.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_seconds))
        return wait

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        """Sleep before retry number `attempt`."""
        self.sleep(self.delay(attempt, retry_after))


def retry_after_seconds(header: str | None) -> float | None:
    """The `Retry-After` header in seconds, when it is a plain number (the form DCS documents)."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None
