"""Client-side rate limits per endpoint family, and the clock every wait goes through.

Rev limits requests per minute and per account, by family of endpoints
(docs/vendor-notes.md, "Rev: rate-limit families").
The limiter spaces the requests of each family evenly, 60 / limit seconds apart (plus a 5%
margin), so no 60-second window, sliding or fixed, ever holds more than the limit. Even
spacing also keeps the gap between two pages of one scroll short (0.5 s for reports),
where a burst-then-wait limiter could stall a scroll for a minute and let it expire.

A 429 pauses its family: the next request of that family waits until the pause is over,
and the family's pace is halved for the rest of the run (the limit we were given was
evidently above what the account allows), down to one request a minute.
All sleeping goes through a :class:`Clock`, which tests replace with a fake one.

Threads share one limiter: each request reserves the next free slot of its family under a
lock and sleeps outside it, so no two requests get the same slot and the spacing holds
across threads.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_common.progress import amount

#: Added to every interval, so requests that reach the API a little faster than they were
#: sent (network jitter) still stay within the limit: 5% of a minute is 3 s per window.
SAFETY_MARGIN = 0.05


class Clock(t.Protocol):
    """Wall-clock time in epoch seconds, and a way to wait."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class FamilyStats:
    """What one family's limit cost in this run."""

    requests: int = 0
    waits: int = 0  # requests that had to wait for the spacing or a 429 pause
    #: Wall time during which at least one request of the family waited: waits of
    #: several threads at once count once, so it never exceeds the run's length.
    waited_seconds: float = 0.0
    throttled: int = 0  # 429s received
    waiting: int = 0  # requests waiting now
    waiting_since: float = 0.0


class RateLimiter:
    """Even spacing per family (requests per minute), and pauses after a 429. Thread-safe."""

    def __init__(
        self, per_minute: t.Mapping[str, float], clock: Clock, logger: logging.Logger
    ) -> None:
        self.intervals = {
            family: 60.0 / limit * (1 + SAFETY_MARGIN) for family, limit in per_minute.items()
        }
        self.clock = clock
        self.logger = logger
        self.stats = {family: FamilyStats() for family in per_minute}
        self._next_at: dict[str, float] = {}
        self._pauses = dict.fromkeys(per_minute, 0)  # 429 pauses so far, per family
        self._lock = threading.Lock()

    def acquire(self, family: str) -> None:
        """Wait until a request of ``family`` may be sent, and count it."""
        waited = False
        with self._lock:
            self.stats[family].requests += 1
            slot, pauses = self._reserve(family)
        while True:
            wait = slot - self.clock.now()
            if wait > 0:
                self.logger.debug("Rate limit: waiting %.2f s before a '%s' request.", wait, family)
                self._sleep(family, wait)
                waited = True
            with self._lock:
                if self._pauses[family] == pauses:
                    break
                # A 429 paused the family while this request waited for its slot: the pause
                # applies to it too.
                slot, pauses = self._reserve(family)
        if waited:
            with self._lock:
                self.stats[family].waits += 1

    def _sleep(self, family: str, seconds: float) -> None:
        """Sleep, adding to the family's wall time of waiting (not once per thread)."""
        stats = self.stats[family]
        with self._lock:
            if stats.waiting == 0:
                stats.waiting_since = self.clock.now()
            stats.waiting += 1
        try:
            self.clock.sleep(seconds)
        finally:
            with self._lock:
                stats.waiting -= 1
                if stats.waiting == 0:
                    stats.waited_seconds += self.clock.now() - stats.waiting_since

    def _reserve(self, family: str) -> tuple[float, int]:
        """The next free slot of ``family`` (taken), and the pause count it was taken under."""
        slot = max(self._next_at.get(family, 0.0), self.clock.now())
        self._next_at[family] = slot + self.intervals[family]
        return slot, self._pauses[family]

    def pause(self, family: str, seconds: float) -> None:
        """After a 429: no request of ``family`` before ``seconds`` from now, and half the
        pace from then on."""
        with self._lock:
            self.intervals[family] = min(60.0, self.intervals[family] * 2)
            self.stats[family].throttled += 1
            self._pauses[family] += 1
            self._next_at[family] = max(self._next_at.get(family, 0.0), self.clock.now() + seconds)

    def summary(self) -> str:
        """``reports: 130 requests, 12 waits (6.3 s of wall time), 0 throttled; ...``"""
        with self._lock:
            return "; ".join(
                f"{family}: {amount(s.requests, 'request', 'requests')}, "
                f"{amount(s.waits, 'wait', 'waits')} ({s.waited_seconds:.1f} s of wall time), "
                f"{s.throttled:,} throttled"
                for family, s in self.stats.items()
                if s.requests or s.throttled
            )
