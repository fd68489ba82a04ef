"""The run object: what the streams of one tap run share, in one typed place per tap.

Streams never keep facts on the tap. What one stream learns for others (a list read
once, a session, a rate limiter) lives in the tap's run object, a subclass of
:class:`VendorRun` created by the tap and reached through ``VendorStream.run``.
Parent-to-child data travels in child contexts instead.
"""

from __future__ import annotations

import signal
import threading
import typing as t

from tap_common.failures import PartitionFailures

if t.TYPE_CHECKING:
    from singer_sdk import Stream


class VendorRun:
    """Run-wide facts of one tap run; taps subclass it with their own typed fields."""

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        self.config = config
        self.streams: t.Mapping[str, Stream] = {}
        #: Set by the first response from the API: from then on a failed connection is
        #: retried; before it, it means a wrong 'base_url' and stops the run at once.
        self.answered = threading.Event()
        #: The partitions that failed (tap_common/failures.py): the run goes on without them.
        self.failures = PartitionFailures()

    def is_selected(self, stream_name: str) -> bool:
        """Whether the catalog selects ``stream_name`` (its rows are written)."""
        return self.streams[stream_name].selected

    def close(self) -> None:
        """The run has ended, however it ended: stop workers, free files, log totals.

        Taps that extend it call it too: it logs each stream's summary.
        """
        for stream in self.streams.values():
            progress = getattr(stream, "progress", None)
            if progress is not None:
                progress.log_summary()


class RunInterrupted(BaseException):
    """SIGTERM or SIGINT stopped the run. A BaseException, like KeyboardInterrupt, so that
    no ``except Exception`` on the way mistakes it for an error to retry or skip."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signal_name = signal.Signals(signum).name
        #: The shell's convention for a process ended by a signal: 143, 130.
        self.exit_status = 128 + signum


#: A tap's own run class, for the typed ``run`` of its tap and streams.
RunT = t.TypeVar("RunT", bound=VendorRun)
