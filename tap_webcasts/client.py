"""Webcasts.com Reporting API v2.0: the run object and the base stream (session, envelopes,
report downloads)."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
import typing as t
import zoneinfo
from functools import cached_property
from pathlib import Path

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_common.answers import Answer, Body, Means, SessionEndedError
from tap_common.errors import VendorDataError, partition_label
from tap_common.prefetch import Prefetcher
from tap_common.records import parse_timestamp
from tap_common.run import VendorRun
from tap_common.stream import VendorStream
from tap_webcasts import parsers
from tap_webcasts.auth import WebcastsSession

if t.TYPE_CHECKING:
    import requests

# Path suffix per response_format: XML is the API's default.
FORMAT_SUFFIX = {"xml": "", "json": "/json", "csv": "/csv"}


class WebcastsRun(VendorRun):
    """What the streams of one tap-webcasts run share: the login, the report files and
    each event's report window."""

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        super().__init__(config)
        self.window_starts: dict[int, dt.datetime | None] = {}
        #: Events deleted after the event list was read: warned about once, then skipped.
        self.vanished_events: set[int] = set()
        #: Expired events whose reports were read after they expired (final_reports.py):
        #: emitted in ``events``, but no report is requested.
        self.final_events: set[int] = set()
        #: The report streams that read each event's report to the end in this run.
        self.reports_read: dict[int, set[str]] = {}

    @cached_property
    def authenticator(self) -> WebcastsSession:
        """The one login of this run, shared by every stream."""
        return WebcastsSession.from_config(self.config, self.answered)

    @cached_property
    def report_files(self) -> ReportFiles:
        return ReportFiles(max_concurrency=int(self.config.get("max_concurrency") or 1))

    def report_window_start(self, ei: int) -> dt.datetime | None:
        """Where this run's report for event ``ei`` starts, fixed on first use in the run.

        From the audience bookmark of the event (its day is read again: the API filters
        by whole days), else from date_range_start, else the whole history.
        """
        if ei not in self.window_starts:
            # Read the committed bookmark itself: the SDK's "starting value" exists only once
            # `audience` has begun this event, and it syncs after the other report streams.
            state = self.streams["audience"].get_context_state({"ei": ei})
            bookmark = state.get("replication_key_value")
            start: dt.datetime | None = None
            if bookmark:
                start = parse_timestamp(bookmark, field="audience bookmark")
            elif first := self.config.get("date_range_start"):
                day = dt.date.fromisoformat(str(first)[:10])
                tz = zoneinfo.ZoneInfo(self.config.get("tz") or "GMT")
                start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
            self.window_starts[ei] = start
        return self.window_starts[ei]

    @override
    def close(self) -> None:
        if "report_files" in self.__dict__:  # created only by a run that read reports
            self.report_files.close()
        super().close()


#: The hint when a call is refused again after a fresh login.
REFUSED_AFTER_LOGIN = (
    "Webcasts.com refused it again after a fresh login. Check the report settings and that "
    "the account may read this event."
)


class WebcastsStream(VendorStream[WebcastsRun]):
    """A Webcasts.com reporting endpoint. Calls carry si/ui from the run's session."""

    vendor_name = "Webcasts.com"
    _renewed = False  # whether the last failure already cost a fresh login
    meanings: t.ClassVar[tuple[Answer, ...]] = (
        # A session that ended mid-run may be answered by the web sign-in page.
        Answer(
            Means.LOG_IN_AGAIN,
            200,
            body=Body.SIGN_IN_PAGE,
            say="Webcasts.com answered its sign-in page again after a fresh login. Check "
            "that the 'username' account may use the Reporting API.",
        ),
    )

    @property
    @override
    def url_base(self) -> str:
        return str(self.config["base_url"]).rstrip("/")

    @property
    @override
    def authenticator(self) -> WebcastsSession:
        return self.run.authenticator

    @property
    def response_format(self) -> str:
        return str(self.config.get("response_format", "xml"))

    @override
    def get_new_paginator(self) -> None:
        return None  # the API has no paging: one response per request

    @override
    def parse_body(self, response: requests.Response) -> t.Any:
        """The envelope-checked body (``parse_content``), whose rows ``records_from_body``
        reads, as in every tap. A failure returnCode means LOG_IN_AGAIN:
        the API does not say which code means an ended session, so any refusal earns one
        new login and the call again (tap_common's request pipeline); a refusal after it
        is fatal.

        A body that is no envelope at all (a proxy's HTML page, a cut document) is retried
        like a 5xx, then fatal.
        """
        try:
            return self.parse_content(response.content)
        except parsers.ReportError as exc:
            message = f"{self.vendor_name} answered {self.path} with {exc}"
            raise SessionEndedError(message, response, REFUSED_AFTER_LOGIN) from None
        except VendorDataError as exc:
            msg = f"{self.vendor_name} answered {self.path} with an unreadable body: {exc}"
            raise RetriableAPIError(msg, response) from None

    def parse_content(self, content: bytes) -> t.Any:
        """A raw (XML or JSON) body, its envelope checked; raises ReportError on a failure
        returnCode, VendorDataError on a body that is no envelope."""
        raise NotImplementedError

    @override
    def log_in_again(self, request: requests.PreparedRequest) -> bool:
        return self.authenticator.renew_after_refusal()

    @override
    def session_accepted(self, request: requests.PreparedRequest) -> None:
        self.authenticator.accepted()

    def renew_session_once(
        self, exc: parsers.ReportError, used: tuple[str, str] | None = None
    ) -> None:
        """The API said the call failed: log in again once; a second failure is fatal.

        The API does not document which returnCode means an ended session, so any failure
        earns one new login and one retry; that bounds the cost of a real parameter error
        to one extra login and never loops. ``used``: the session the refused call carried
        (default: the current one); a session another call replaced already is not renewed.
        """
        if self._renewed:
            self._renewed = False
            msg = (
                f"Webcasts.com refused stream '{self.name}' ({partition_label(self.partition)}) "
                f"again after a fresh login: {exc}. Check the report settings and that the "
                "account may read this event."
            )
            raise FatalAPIError(msg)
        self.logger.warning(
            "%s: Webcasts.com answered %s for %s; logging in again and retrying once.",
            self.name,
            exc,
            partition_label(self.partition),
        )
        self._renewed = True
        self.authenticator.renew(stale=used or self.authenticator.current)


class ReportFiles:
    """The audience report of one event at a time, downloaded once and read by several streams.

    Registrants, their sessions, questions and survey answers all come from one report; the
    streams that emit them read it in turn from a temporary file instead of downloading it
    once per stream, and memory stays flat because the file is parsed as a stream.

    With ``max_concurrency`` above 1, the reports of the next events in ``upcoming`` (the
    event list, in the order the events stream emits it) are downloaded by worker threads
    while the current one is parsed: at most ``max_concurrency`` downloads at once, and as
    many finished reports waiting on disk.
    """

    def __init__(self, max_concurrency: int = 1) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="tap-webcasts-"))
        self._serial = itertools.count(1)  # a file per download: a retry never reuses a path
        self._ei: int | None = None
        self._path: Path | None = None
        self.max_concurrency = max_concurrency
        #: Events whose reports the report streams will read, in order.
        self.upcoming: list[int] = []
        #: The session (si, ui) each report file was downloaded with.
        self.sessions: dict[Path, tuple[str, str] | None] = {}
        #: Registrants a report file must hold, where its framing could not show a cut.
        self.expected: dict[Path, int] = {}
        self._prefetcher: Prefetcher[Path] | None = None

    def get(
        self,
        ei: int,
        download: t.Callable[[int, Path], None],
        prepare: t.Callable[[int], None],
        *,
        again: bool = False,
    ) -> Path:
        """The report of event ``ei``; ``prepare(ei)`` runs in this thread before its download.

        ``again``: the report read was refused; download it anew, in this thread (the
        reports fetched ahead for the next events are kept).
        """
        if again or self._ei != ei or self._path is None:
            self.forget()
            prefetcher = None if again else self._prefetcher_for(ei, download, prepare)
            if prefetcher is not None:
                (path,) = prefetcher.rows(ei)
            else:
                prepare(ei)
                path = self.new_path(ei)
                download(ei, path)
            self._ei, self._path = ei, path
        return self._path

    def new_path(self, ei: int) -> Path:
        return self._dir / f"report-{ei}-{next(self._serial)}"

    def _prefetcher_for(
        self, ei: int, download: t.Callable[[int, Path], None], prepare: t.Callable[[int], None]
    ) -> Prefetcher[Path] | None:
        if self._prefetcher is not None and self._prefetcher.expects(ei):
            return self._prefetcher
        if self.max_concurrency <= 1 or ei not in self.upcoming:
            return None
        if self._prefetcher is not None:
            self._prefetcher.close()

        def fetch(event: int) -> t.Iterator[Path]:
            path = self.new_path(event)
            download(event, path)
            yield path

        self._prefetcher = Prefetcher(
            self.upcoming[self.upcoming.index(ei) :],
            fetch,
            max_concurrency=self.max_concurrency,
            prepare=prepare,
            thread_name="report",
        )
        return self._prefetcher

    def forget(self) -> None:
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self.sessions.pop(self._path, None)
            self.expected.pop(self._path, None)
        self._ei = self._path = None

    def close(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.close()
        shutil.rmtree(self._dir, ignore_errors=True)
