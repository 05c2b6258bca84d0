"""Sign-in throttling (pure): how long a key is refused after a number of failed sign-ins.

Each account and each client address has a key. The first failures of a key are answered at once; from
then on every failure refuses the key for a delay that doubles (1 s, 2 s, 4 s, …) up to a ceiling. A
refused key is answered with HTTP 429 and ``Retry-After`` without checking the password, so no worker
sleeps and guessing stays slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ThrottlePolicy"]


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Free failures before delays start, the delay ceiling, and how long failures are remembered."""

    free_failures: int
    max_delay_s: int
    window: timedelta

    def delay_s(self, failures: int) -> int:
        """Seconds a key is refused after its ``failures``-th failure (0 while failures are free).

        Examples
        --------
        >>> policy = ThrottlePolicy(free_failures=5, max_delay_s=900, window=timedelta(minutes=15))
        >>> [policy.delay_s(n) for n in (1, 4, 5, 6, 7, 10, 30)]
        [0, 0, 1, 2, 4, 32, 900]
        """
        if failures < self.free_failures:
            return 0
        return int(min(2 ** min(failures - self.free_failures, 30), self.max_delay_s))

    def failures_now(self, failures: int, last_failure_at: datetime | None, now: datetime) -> int:
        """The failure count that still counts at ``now`` (forgotten after the window without failures)."""
        if last_failure_at is None or now - last_failure_at > self.window + timedelta(
            seconds=self.max_delay_s
        ):
            return 0
        return failures
