"""Sliding-window counting over per-bucket counts (shared-memory counters on the SIP side).

An event increments the counter of its time bucket; the count over a window is
the sum of the bucket counters that cover it.  Buckets divide the window
exactly, so an event is counted while it is younger than the window and is
forgotten by the time it is one bucket older than that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_BUCKETS = 20
"""At most this many full buckets per window (each a counter read when counting)."""


@dataclass(frozen=True)
class SlidingWindow:
    """A window of ``seconds`` seen through buckets of ``bucket_seconds``."""

    seconds: int

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError(f"a window lasts at least 1 second, not {self.seconds}")

    @property
    def buckets(self) -> int:
        """Full buckets per window: the largest divisor of ``seconds`` up to ``MAX_BUCKETS``."""
        return max(n for n in range(1, min(self.seconds, MAX_BUCKETS) + 1) if self.seconds % n == 0)

    @property
    def bucket_seconds(self) -> int:
        """How long one bucket lasts."""
        return self.seconds // self.buckets

    @property
    def keep_seconds(self) -> int:
        """How long a bucket's counter must live: the window and the bucket being filled."""
        return self.seconds + self.bucket_seconds

    def bucket(self, moment: float) -> int:
        """The bucket a Unix time falls in."""
        return int(moment // self.bucket_seconds)

    def covering(self, moment: float) -> range:
        """The buckets counted at ``moment``: the current one and a window of full ones."""
        now = self.bucket(moment)
        return range(now - self.buckets, now + 1)

    def count(self, counts: Callable[[int], int], moment: float) -> int:
        """Events in the window ending at ``moment``, given each bucket's count."""
        return sum(counts(bucket) for bucket in self.covering(moment))
