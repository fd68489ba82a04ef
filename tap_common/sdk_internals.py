"""Every place that leans on singer-sdk beyond its public hooks, each for a reason below.

Private names: the per-record steps (the SDK offers no public hook for them, and they are
most of a fast stream's cost), the signal handlers and the write of a partition's starting
bookmark. Beside them, the other touch points: the wraps of ``sync_all`` and ``sync``
(final in the SDK) and the text of the SDK log lines the taps replace.
tests/common/test_sdk_internals.py fails loudly if the SDK renames or reshapes any of
them: upgrade the SDK only with that test.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import typing as t

from singer_sdk import RESTStream, Tap
from singer_sdk.exceptions import FatalAPIError

# Private 1: the SDK's per-record type conformance, called as the SDK itself calls it.
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.singerlib import RecordMessage, StateMessage
from typing_extensions import override

from tap_common.run import RunInterrupted

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.helpers.types import Context


class RecordMessagesWithoutMaskWalk(RESTStream[t.Any]):
    """RECORD messages without walking the selection mask for every row.

    The SDK pops deselected properties from each record, a walk of every field of every
    row even when nothing is deselected (the usual case). We skip that walk when nothing is
    deselected and otherwise defer to the SDK's own method.
    """

    # Private 2: the SDK's record-message hook. Public alternatives: none; `post_process`
    # runs before it and cannot skip the walk.
    @override
    def _generate_record_messages(self, record: dict) -> t.Generator[RecordMessage, None, None]:
        if not all(self.mask.values()):
            yield from super()._generate_record_messages(record)
            return
        record = conform_record_data_types(
            stream_name=self.name,
            record=record,
            schema=self.effective_schema,
            level=self.TYPE_CONFORMANCE_LEVEL,
            logger=self.logger,
        )
        for stream_map in self.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    # Private 3: the ACTIVATE_VERSION the SDK announced for this sync; no
                    # public reader exists.
                    version=self._stream_version,
                    time_extracted=dt.datetime.now(dt.timezone.utc),
                )


class WrappedSync(RESTStream[t.Any]):
    """A stream whose sync's API errors go to ``sync_failed`` instead of ending the run."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.whole_sync_failed = False

    # The SDK marks Stream.sync final; we wrap it, never change it. It is called once per
    # stream, and once per parent record for a child stream.
    @override  # type: ignore[misc]
    def sync(self, context: Context | None = None) -> None:
        try:
            super().sync(context)
        except FatalAPIError as exc:
            self.whole_sync_failed = context is None
            self.sync_failed(context, exc)

    # Tap.sync_all calls it after each top-level sync: a stream that failed as a whole
    # keeps its state as it was (finalizing would also plan its partitions again).
    @override
    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        if not self.whole_sync_failed:
            super().finalize_state_progress_markers(state)

    def sync_failed(self, context: Context | None, exc: FatalAPIError) -> None:
        """The sync of ``context`` failed with ``exc``; raise it to end the run."""
        raise exc


class BookmarkOncePerPartition(RESTStream[t.Any]):
    """An unsorted incremental stream whose bookmark is updated once per partition.

    The SDK updates the bookmark of an unsorted stream after every record, keeping the
    maximum until the partition ends; updating it once with the partition's newest record
    gives the same state for a tenth of the cost. Call ``commit_partition_bookmark`` when
    a partition's records are all written.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.newest_in_partition: dict | None = None

    # Private 4: the SDK's per-record bookmark hook. Public alternatives: none; the SDK
    # calls it for every record it writes.
    @override
    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        newest = self.newest_in_partition
        key = t.cast("str", self.replication_key)
        if newest is None or latest_record[key] > newest[key]:
            self.newest_in_partition = latest_record

    def commit_partition_bookmark(self, context: Context | None) -> None:
        """Move the partition's bookmark to its newest record (if it had any)."""
        if self.newest_in_partition is not None:
            super()._increment_stream_state(self.newest_in_partition, context=context)
        self.newest_in_partition = None


class WrappedRun(Tap):
    """A tap whose run ends in a non-zero exit when a signal stops it, and whose own steps
    run before and after the SDK's ``sync_all``."""

    # Private 5: where PluginBase.__init__ installs its SIGINT/SIGTERM handlers. The SDK's
    # handler writes STATE and exits 0, so an orchestrator records a run that did not
    # finish as a success. Public alternative: none that runs before the SDK installs its own.
    @override
    def _setup_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, stop_on_signal)
            signal.signal(signal.SIGTERM, stop_on_signal)

    # The SDK marks sync_all final; we wrap it, never change it.
    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        self.run_starting()
        try:
            super().sync_all()
            self.run_complete()
        except RunInterrupted:
            # The run's last message, even if unchanged since the last STATE: every
            # bookmark in it covers only rows already written.
            self.message_writer.write_message(StateMessage(value=self.state))
            raise
        finally:
            self.run_ended()

    def run_starting(self) -> None:
        """Before the SDK's sync_all."""

    def run_complete(self) -> None:
        """After the SDK's sync_all returned: raise here to end the run with an error."""

    def run_ended(self) -> None:
        """After the SDK's sync_all, however it ended."""


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """End the run where it is (a wait or a read included); a second signal ends the
    process at once."""
    signal.signal(signum, signal.SIG_DFL)
    raise RunInterrupted(signum)


# Private 6: the SDK's own step that writes a partition's starting bookmark, just before
# the partition's turn. A partition requested ahead (tap_common/prefetch.py) needs it
# earlier; calling the SDK's step keeps the two writes the same. Public alternative: none.
def write_starting_bookmark(stream: RESTStream[t.Any], context: Context | None) -> None:
    """Write ``context``'s starting bookmark as the SDK does before the partition's turn."""
    stream._write_starting_replication_value(context)


#: SDK log lines the taps replace or correct (tap_common/logs.py says why), by the text
#: they start with; tests/common/test_sdk_internals.py checks the SDK still logs each.
SDK_SYNC_ERROR = "An unhandled error occurred while syncing"
SDK_UNSORTED = "Stream is assumed to be unsorted"
SDK_STREAM_START = "Beginning sync of"
SDK_INCREMENTAL_START = "Starting incremental sync of"
