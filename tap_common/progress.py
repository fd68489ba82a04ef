"""Progress a person can follow: one line per finished partition, one summary per stream.

``analytics_events: partition 3 of 100 done (cast_id=1940 generation_id=2024...
event_type=view): 412 rows, 3 requests, 0 retries, 1.2 s``

``analytics_events: done: 100 partitions, 41,200 rows, 300 requests, 2 retries, 35.2 s``

Requests and retries are counted in whichever thread makes them (partitions are fetched
ahead), rows in the main thread as they are written. Seconds are wall time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field

from tap_common.errors import partition_label

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


@dataclass
class Counts:
    rows: int = 0
    requests: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)


def _key(context: Context | None) -> str:
    return partition_label(context)


class StreamProgress:
    """The counts of one stream's partitions, and the lines that report them."""

    def __init__(self, stream_name: str, logger: logging.Logger) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self._lock = threading.Lock()
        self._open: dict[str, Counts] = {}
        self.total = Counts()
        self.partitions_done = 0
        self.first_started: float | None = None
        self.last_finished: float | None = None

    def _counts(self, context: Context | None) -> Counts:
        return self._open.setdefault(_key(context), Counts())

    def request(self, context: Context | None) -> None:
        with self._lock:
            self._counts(context).requests += 1

    def retry(self, context: Context | None) -> None:
        with self._lock:
            self._counts(context).retries += 1

    def row(self, context: Context | None) -> None:
        self._counts(context).rows += 1  # main thread only; the dict entry exists by then

    @contextlib.contextmanager
    def partition(self, context: Context | None, of: int | None) -> t.Iterator[None]:
        """Count one partition while its rows are written; log its line when it ends."""
        with self._lock:
            counts = self._counts(context)
            counts.started = time.monotonic()  # wall time from its turn, not its prefetch
        if self.first_started is None:
            self.first_started = counts.started
        yield
        with self._lock:
            counts = self._open.pop(_key(context))
        self.partitions_done += 1
        self.last_finished = time.monotonic()
        for name in ("rows", "requests", "retries"):
            setattr(self.total, name, getattr(self.total, name) + getattr(counts, name))
        number = f"partition {self.partitions_done}" + (f" of {of}" if of else "")
        where = "" if context is None else f" ({partition_label(context)})"
        self.logger.info(
            "%s: %s done%s: %s, %.1f s",
            self.stream_name,
            number if context is not None else "whole stream",
            where,
            self.counts_text(counts),
            self.last_finished - counts.started,
        )

    @staticmethod
    def counts_text(counts: Counts) -> str:
        return f"{counts.rows:,} rows, {counts.requests:,} requests, {counts.retries:,} retries"

    def log_summary(self) -> None:
        """The stream's totals, if it read anything."""
        if self.first_started is None:
            return
        seconds = (self.last_finished or time.monotonic()) - self.first_started
        self.logger.info(
            "%s: done: %d partitions, %s, %.1f s",
            self.stream_name,
            self.partitions_done,
            self.counts_text(self.total),
            seconds,
        )
