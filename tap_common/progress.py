"""Progress a person can follow: one line per finished partition, one summary per stream.

``analytics_events: partition 3 of 100 done (cast_id=1940 generation_id=2024...
event_type=view): 412 rows, 3 requests, 0 retries, 1.2 s``

``analytics_events: done: 100 partitions, 41,200 rows, 300 requests, 2 retries, 35.2 s``

Requests and retries are counted in whichever thread makes them (partitions are fetched
ahead), rows in the main thread as they are written; a stream's totals include requests
made outside its partitions (Rev's webcast statuses). Seconds are wall time.
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


def amount(number: int, one: str, many: str) -> str:
    """``1 request``, ``2 requests``, ``1,200 rows``."""
    return f"{number:,} {one if number == 1 else many}"


def _key(context: Context | None) -> str:
    return partition_label(context)


class StreamProgress:
    """The counts of one stream's partitions, and the lines that report them."""

    def __init__(self, stream_name: str, logger: logging.Logger) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self._lock = threading.Lock()
        self._open: dict[str, Counts] = {}  # by partition, requests made ahead included
        self._running: set[str] = set()  # partitions begun and not finished
        self.total = Counts()
        self.partitions_done = 0
        self.first_started: float | None = None
        self.last_finished: float | None = None
        #: Partitions kept although the vendor's total disagrees with two reads that agree
        #: (tap_common/reconcile.py), listed in the summary.
        self.kept_despite_total: list[str] = []

    def _counts(self, context: Context | None) -> Counts:
        return self._open.setdefault(_key(context), Counts())

    def request(self, context: Context | None) -> None:
        with self._lock:
            self._counts(context).requests += 1
            self.total.requests += 1

    def retry(self, context: Context | None) -> None:
        with self._lock:
            self._counts(context).retries += 1
            self.total.retries += 1

    def row(self, context: Context | None) -> None:
        with self._lock:
            self._counts(context).rows += 1
            self.total.rows += 1

    @contextlib.contextmanager
    def partition(self, context: Context | None, of: int | None) -> t.Iterator[None]:
        """Count one partition while its rows are written; log its line when it ends."""
        with self._lock:
            counts = self._counts(context)
            counts.started = time.monotonic()  # wall time from its turn, not its prefetch
            self._running.add(_key(context))
        if self.first_started is None:
            self.first_started = counts.started
        yield
        with self._lock:
            counts = self._open.pop(_key(context))
            self._running.discard(_key(context))
        self.partitions_done += 1
        self.last_finished = time.monotonic()
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
        return ", ".join(
            (
                amount(counts.rows, "row", "rows"),
                amount(counts.requests, "request", "requests"),
                amount(counts.retries, "retry", "retries"),
            )
        )

    def log_summary(self) -> None:
        """The stream's totals, if it began; "stopped" when a partition did not finish."""
        if self.first_started is None:
            return
        unfinished = bool(self._running)  # a partition began and did not finish
        seconds = (time.monotonic() if unfinished else self.last_finished or 0.0) - (
            self.first_started
        )
        self.logger.info(
            "%s: %s: %s, %s, %.1f s",
            self.stream_name,
            "stopped" if unfinished else "done",
            amount(self.partitions_done, "partition", "partitions"),
            self.counts_text(self.total),
            seconds,
        )
        if self.kept_despite_total:
            self.logger.warning(
                "%s: %s kept although the vendor's total disagrees with two reads that agree: %s",
                self.stream_name,
                amount(len(self.kept_despite_total), "partition", "partitions"),
                "; ".join(self.kept_despite_total),
            )
