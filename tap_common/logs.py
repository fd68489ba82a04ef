"""The SDK's log lines that this distribution replaces or corrects.

- "An unhandled error occurred while syncing 'x'" names every stream the error passes
  through, often not the one that failed (a child's error, or a campaign list read while
  planning another stream's partitions). Our errors name the stream and partition that
  failed, and the tap logs them as its last line (``VendorTap.invoke``); the SDK's line is
  kept only for unexpected errors, which have no such line.
- "Stream is assumed to be unsorted, progress is not resumable if interrupted": our
  unsorted streams commit a partition's bookmark only once the partition is complete, so
  an interrupted run resumes correctly; the warning says otherwise.
- "Beginning sync of ..." and "Starting incremental sync of ..." come once or twice per
  partition (twice for partitions requested ahead). The first "Beginning sync" of each
  stream stays, to say the stream has started; the others move to DEBUG, and our progress
  lines (tap_common/progress.py) say when each partition is done.
"""

from __future__ import annotations

import logging
import sys

from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from tap_common.sdk_internals import (
    SDK_INCREMENTAL_START,
    SDK_STREAM_START,
    SDK_SYNC_ERROR,
    SDK_UNSORTED,
)

_PER_PARTITION = (SDK_STREAM_START, SDK_INCREMENTAL_START)


class SdkLines(logging.Filter):
    """Drops or demotes the SDK lines described in this module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.started: set[str] = set()  # loggers (streams) whose first sync line was shown

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(SDK_SYNC_ERROR):
            return not isinstance(sys.exc_info()[1], FatalAPIError)
        if message.startswith(SDK_STREAM_START) and record.name not in self.started:
            self.started.add(record.name)
            return True
        if message.startswith(_PER_PARTITION) and record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return not message.startswith(SDK_UNSORTED)


SDK_LINES = SdkLines()  # one per process; VendorTap.sync_all forgets the streams started
