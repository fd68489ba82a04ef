"""One partition's failure does not cost the others.

A partition (a campaign and event type, an event, a webcast's report) that fails for good
(retries exhausted, a body that cannot be read, a read that does not add up) is logged,
its bookmark is put back where it was when the partition began, and the run goes on with
the next partitions and streams. When the run has read everything else, it stops with one
line per failed partition and a non-zero exit, so the next run reads those again. Airbyte's
CDK does the same for whole streams.

Some failures cannot be escaped by any other partition: a host that cannot be reached, a
certificate that cannot be verified, a redirect to another host, credentials refused (an
answer row with ``whole_run``), or an error raised as :class:`RunStoppingError`. They stop the
run at once, as do ``MAX_FAILED_IN_A_ROW`` failures with no success between them (rejected
credentials, or an API that is down, would otherwise fail every partition in turn).
"""

from __future__ import annotations

import copy
import threading
import typing as t
from dataclasses import dataclass

from singer_sdk.exceptions import FatalAPIError

from tap_common.errors import CertificateError, UnreachableError, partition_label
from tap_common.http import CrossHostRedirectError

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context

#: Failed partitions in a row, none read between them, after which the run stops.
MAX_FAILED_IN_A_ROW = 5


class RunStoppingError(FatalAPIError):
    """An error no other partition can escape: the run stops at once."""


class PartitionsFailedError(FatalAPIError):
    """Partitions failed (one line each); the message says whether the rest was read."""

    def __init__(self, headline: str, lines: list[str]) -> None:
        self.headline = headline
        self.lines = lines
        super().__init__("\n".join([headline, *lines]))


#: Failures that are about the settings or the host, not the partition.
STOPS_THE_RUN = (
    UnreachableError,
    CertificateError,
    CrossHostRedirectError,
    RunStoppingError,
    PartitionsFailedError,
)


def stops_the_run(exc: BaseException) -> bool:
    """Whether ``exc`` ends the run instead of only its partition (errors that are not
    API errors, bugs, are never caught in the first place)."""
    return isinstance(exc, STOPS_THE_RUN)


@dataclass
class Failure:
    stream: str
    context: Context | None
    error: FatalAPIError

    def line(self) -> str:
        """The error's own message when it names a stream, else prefixed with this one;
        one line, ending with a full stop."""
        message = " ".join(str(self.error).split())
        if not message.startswith("stream '") and f"'{self.stream}'" not in message:
            message = f"stream '{self.stream}' {partition_label(self.context)}: {message}"
        return message if message.endswith(".") else f"{message}."


class PartitionFailures:
    """The partitions of one run that failed, and the rule that stops the run early."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.in_a_row = 0
        self._lock = threading.Lock()

    def failed(
        self,
        stream: Stream,
        context: Context | None,
        error: FatalAPIError,
        *,
        counts: bool = True,
    ) -> None:
        """Log the failure; stop the run if it is the ``MAX_FAILED_IN_A_ROW``-th in a row
        (one that only follows from another, ``counts=False``, is not counted)."""
        failure = Failure(stream.name, context, error)
        with self._lock:
            self.failures.append(failure)
            self.in_a_row += counts
            in_a_row = self.in_a_row
        stream.logger.error(
            "%s The other partitions go on; this one's bookmark stays where it was.",
            failure.line(),
        )
        if counts and in_a_row >= MAX_FAILED_IN_A_ROW:
            raise PartitionsFailedError(
                f"{in_a_row} partitions failed in a row, none read between them: the run "
                "stops instead of trying the rest. The failed partitions' bookmarks stay "
                "where they were:",
                [f.line() for f in self.failures],
            )

    def succeeded(self) -> None:
        with self._lock:
            self.in_a_row = 0

    def of(self, context: Context) -> Failure | None:
        """The failure of another stream's partition with this very context, if any."""
        return next((f for f in self.failures if f.context == context), None)

    def touch(self, **ids: t.Any) -> bool:
        """Whether a failed partition's context holds all of ``ids`` (``webcast_id=...``)."""
        return any(
            f.context is not None and all(f.context.get(k) == v for k, v in ids.items())
            for f in self.failures
        )

    def error(self) -> PartitionsFailedError | None:
        """The error that ends a run in which partitions failed, or None."""
        if not self.failures:
            return None
        count = len(self.failures)
        return PartitionsFailedError(
            f"{count} partition{'s' if count > 1 else ''} failed; the run read everything "
            "else. Their bookmarks stay where they were, so the next run reads them again:",
            [f.line() for f in self.failures],
        )


def fail_alone(
    stream: Stream,
    failures: t.Callable[[], PartitionFailures],
    rows_of: t.Callable[[Context | None], t.Iterable[dict]],
    map_row: t.Callable[[dict, Context | None], dict | None],
) -> t.Callable[[Context | None], t.Iterable[dict]]:
    """``rows_of`` (a stream's get_records), mapped row by row, for one partition at a time;
    a failure is recorded and the partition's bookmark put back, instead of ending the run.

    It must wrap the outermost get_records: the failure unwinds through the stream's own
    code first, so nothing it does after a partition's rows (a bookmark commit) runs.
    """

    def rows(context: Context | None) -> t.Iterator[dict]:
        if context and getattr(stream, "reads_shared_by_siblings", False):
            earlier = failures().of(context)
            if earlier is not None:  # the same read, failed for a sibling: fail without it
                why = f"not read: the read it shares with stream '{earlier.stream}' failed"
                label = partition_label(context)
                error = FatalAPIError(f"stream '{stream.name}' {label}: {why}")
                failures().failed(stream, context, error, counts=False)
                return
        state = stream.get_context_state(context) if stream.replication_key else None
        before = copy.deepcopy(state)
        try:
            for row in rows_of(context):
                record = map_row(row, context)
                if record is not None:
                    yield record
        except FatalAPIError as exc:
            if stops_the_run(exc):
                raise
            if state is not None and before is not None:
                state.clear()
                state.update(before)
            failures().failed(stream, context, exc)
            return
        failures().succeeded()

    return rows
