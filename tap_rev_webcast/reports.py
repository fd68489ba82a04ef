"""The base of Rev's per-webcast report streams: which webcasts a report is read for, reports
fetched ahead, and forward-only scrolls that restart without emitting a row twice.

Each report stream in streams.py names its parent (the webcasts stream) and its endpoint.
"""

from __future__ import annotations

import threading
import typing as t
from http import HTTPStatus

from typing_extensions import override

from tap_common.errors import describe_exception
from tap_common.reconcile import PartitionRead, context_key, partition_read
from tap_common.records import surrogate_key
from tap_common.stream import RETRIED_ERRORS
from tap_rev_webcast.client import (
    LostPage,
    RevStream,
    ScrollPageLost,
    ScrollPaginator,
    ScrollToken,
    WebcastState,
)

if t.TYPE_CHECKING:
    from collections.abc import Hashable

    import requests
    from singer_sdk.helpers.types import Context

COMPLETED = "Completed"
#: eventStatus values of a webcast that is running: real-time attendees are read for these.
LIVE_STATUSES = frozenset(
    {
        "Starting",
        "InProgress",
        "Broadcasting",
        "Recording",
        "RecordingStarting",
        "RecordingStopping",
        "VideoSourceStarting",
        "WaitingForStream",
    }
)
#: What identifies a viewing session; the surrogate key hashes these (see SessionKeys).
SESSION_KEY_FIELDS = (
    "webcast_id",
    "run_number",
    "username",
    "email",
    "ip_address",
    "device_type",
    "browser",
    "entered_date",
)


class ReportStream(RevStream):
    """A report of one webcast run: ``?runNumber=`` on ``.../scheduled-events/{webcast_id}``.

    The reports of the next webcast runs are fetched ahead in worker threads
    ('max_concurrency'), within the rate limit, and emitted in order.
    """

    prefetch_partitions = True
    state_partitioning_keys: t.ClassVar[list[str]] = []  # full table: no state per webcast
    replication_key = None
    # Vbrick's JS client sends every report GET in its 'get' family (24,000 a minute); only
    # the post-event report has evidence of a stricter one (docs/vendor-notes.md).
    rate_family = "get"
    context_columns: tuple[str, ...] = ("webcast_id", "run_number")
    vanished_parent = "webcast"

    def webcast_state(self, context: Context) -> WebcastState:
        return self.run.webcasts[context["webcast_id"]]

    def wanted(self, context: Context) -> bool:
        """Post-event reports exist once a webcast has completed."""
        return self.webcast_state(context).status == COMPLETED

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        if self.wanted(context):
            yield from super().get_records(context)

    @override
    def prefetch_contexts(self) -> t.Sequence[Context] | None:
        """The contexts ``get_records`` will fetch, in order: the wanted ones of the webcasts
        stream's list (the SDK syncs this stream once per webcast and run, in that order)."""
        contexts = self.run.report_contexts
        return None if contexts is None else [c for c in contexts if self.wanted(c)]

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        if context is not None and not self.wanted(context):
            return  # a worker never requests a report get_records skips
        yield from super().request_records(context)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        assert context is not None
        return {"runNumber": context["run_number"]}


class SessionKeys:
    """Surrogate keys of one report's sessions, and which of them this run emitted.

    A key hashes SESSION_KEY_FIELDS; the n-th repeat of the same fields within one pass
    over the report gets n in its hash too, so identical rows stay distinct. After a restart
    (expired scroll id) the pass count starts again and keys emitted before are skipped.
    """

    def __init__(self) -> None:
        self.emitted: set[str] = set()
        self.seen_in_pass: dict[str, int] = {}
        self.scan_pass = 0

    def key(self, record: dict, scan_pass: int = 0) -> str | None:
        """The record's key, or None when this run already emitted that session.

        ``scan_pass`` counts the restarts of the report before the record was read.
        """
        if scan_pass != self.scan_pass:
            self.scan_pass = scan_pass
            self.seen_in_pass.clear()
        identity = surrogate_key([record.get(name) for name in SESSION_KEY_FIELDS])
        repeat = self.seen_in_pass.get(identity, 0)
        self.seen_in_pass[identity] = repeat + 1
        key = identity if repeat == 0 else surrogate_key([identity, repeat])
        if key in self.emitted:
            return None
        self.emitted.add(key)
        return key


class ScrolledReportStream(ReportStream):
    """A report read with a forward-only ``scrollId`` (ScrollPaginator, restart_on_expiry).

    Each worker thread scrolls its own report, and each report is one reconciled read
    (tap_common/reconcile.py). A report read again from its first page (expired scroll id,
    lost page, a total that moved or disagrees) is deduplicated by the stream's
    ``to_record``, which asks the read which pass each row comes from.
    """

    #: Key of the rows and of the total in a page; the total may be absent.
    total_key: str = "total"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._scrolls = threading.local()  # each worker thread scrolls its own report
        #: The reads of the reports prepared and not yet written, by context.
        self.reads: dict[Hashable, PartitionRead] = {}

    @override
    def prepare_partition(self, context: Context | None) -> None:
        # Main thread, before the report's first request (possibly ahead of its turn).
        assert self.records_key is not None
        self.reads[context_key(context)] = partition_read(
            self, context, unit=self.records_key, total_name=self.total_key
        )

    @override
    def get_new_paginator(self) -> ScrollPaginator:
        assert self.records_key is not None
        self._scrolls.current = ScrollPaginator(
            self,
            self.records_key,
            self.total_key,
            restart_on_expiry=True,
            partition_read=self.reads[context_key(self.partition)],
            lost_page_restarts=int(self.config.get("max_retries", 5)),
        )
        return self.scroll

    @override
    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Pages after the first are never retried with their scroll id.

        Scroll ids are forward only: after a timeout, a 5xx or a cut body, Rev may already
        have moved the scroll past the page, and the same id would return the next one.
        Such a page becomes a LostPage, and the paginator reads the report again (rows
        already emitted are skipped). A 429 is retried in place: Rev refused the request
        before serving it.
        """

        def forward_only(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            try:
                return func(prepared, context)
            except RETRIED_ERRORS as exc:
                response = getattr(exc, "response", None)
                throttled = getattr(response, "status_code", None) == HTTPStatus.TOO_MANY_REQUESTS
                if self.scroll.current_value.scroll_id is None or throttled:
                    raise
                raise ScrollPageLost(describe_exception(exc)) from None

        retried = super().request_decorator(forward_only)

        def page(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            try:
                return retried(prepared, context)
            except ScrollPageLost as lost:
                return LostPage(prepared, lost.cause)

        return page

    @property
    def scroll(self) -> ScrollPaginator:
        """This thread's scroll."""
        return t.cast("ScrollPaginator", self._scrolls.current)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        params = super().get_url_params(context, next_page_token)
        if isinstance(next_page_token, ScrollToken) and next_page_token.scroll_id:
            params["scrollId"] = next_page_token.scroll_id
        return params

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        self.emitted: set[tuple] = set()  # main thread, one report at a time
        yield from super().get_records(context)
        self.reads.pop(context_key(context), None)

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        rows = list(super().records_from_body(body))
        return rows if self.scroll.check_page(body, rows) else []

    @override
    def to_record(self, row: dict, context: Context | None) -> dict | None:
        scan_pass = self.reads[context_key(context)].pass_of_next_row()
        record = super().to_record(row, context)
        assert record is not None
        return self.first_read(record, scan_pass)

    def first_read(self, record: dict, scan_pass: int) -> dict | None:
        """``record``, or None when this run already emitted it (before a restart)."""
        key = tuple(record.get(name) for name in self.primary_keys)
        if key in self.emitted:
            return None
        self.emitted.add(key)
        return record
