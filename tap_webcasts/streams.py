"""Webcasts.com streams: the event list, and four streams read from each audience report.

Report times are naive times in the report's ``tz`` (the API's default is GMT); the tap asks
for the configured ``tz`` and converts every time to UTC with an explicit offset. The event
list's times are read as GMT, as the API's older clients do.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from singer_sdk import typing as th
from typing_extensions import override

from tap_common.download import download
from tap_common.errors import VendorDataError
from tap_common.reconcile import partition_read
from tap_common.records import split_unmapped, surrogate_key, utc_iso
from tap_common.schema import unmapped_fields_property
from tap_webcasts import parsers
from tap_webcasts.client import FORMAT_SUFFIX, WebcastsStream
from tap_webcasts.final_reports import FinalReports
from tap_webcasts.parsers import int_or_zero, parse_bool

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

REPORT_PATH = "/api/reporting/audiencereports"
ON_OFF_FILTERS = (
    "dr_regs",
    "dr_sessions",
    "users_qa",
    "user_survey",
    "no_shows",
    "live_viewers",
    "od_viewers",
    "simlive_viewers",
)
LIST_FILTERS = ("sti_filter", "excl_domain", "incl_domain")  # pipe-joined on the wire

UNMAPPED = unmapped_fields_property()


class EventsStream(WebcastsStream):
    """GET /api/reporting/eventlist: every event the account can see, expired ones included."""

    name = "events"
    primary_keys = ("ei",)
    replication_key = None

    schema = th.PropertiesList(
        th.Property("ei", th.IntegerType(), required=True, description="7-digit event id."),
        th.Property("title", th.StringType()),
        th.Property("sched_start", th.DateTimeType(), description="Scheduled start (UTC)."),
        th.Property("sched_end", th.DateTimeType(), description="Scheduled end (UTC)."),
        th.Property("timezone", th.StringType(), description="The event's display time zone."),
        th.Property("expired", th.BooleanType()),
        UNMAPPED,
    ).to_dict()

    @property
    @override
    def path(self) -> str:  # type: ignore[override]
        return (
            "/api/reporting/eventlist"
            + FORMAT_SUFFIX["json" if self.response_format == "json" else "xml"]
        )

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        return {"ver": "2.0"}

    @override
    def parse_content(self, content: bytes) -> list[dict]:
        return parsers.parse_event_list(content)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        rows = list(self.listed_once(super().get_records(context)))
        events = self.mapped_events(rows)
        final = FinalReports(
            self.tap_state.get("bookmarks", {}).get(self.name, {}),
            lambda: self.stream_state,
            tuple(stream.name for stream in self.child_streams if stream.selected),
            self.logger,
            may_mark=not self.config.get("date_range_end"),
        )
        self.run.final_events = final.skipped({ei for ei, e in events.items() if e["expired"]})
        # Filled before the first event is emitted: the report workers fetch these ahead.
        self.run.report_files.upcoming = [
            ei for ei, e in events.items() if self.wanted(e) and ei not in self.run.final_events
        ]
        for row in rows:
            yield row
            # The SDK asks for the next row once this one's report streams are synced.
            ei = int_or_zero(row.get("ei"), "ei")
            if final.read(ei, self.run.reports_read.get(ei, ())):
                self.commit_state()
        if missing := set(self.config.get("event_ids") or ()) - set(events):
            self.logger.warning(
                "events: the event list of this account does not hold the configured "
                "event_ids %s; they are skipped. Check the ids and the account's access.",
                sorted(missing),
            )

    def listed_once(self, rows: t.Iterable[dict]) -> t.Iterator[dict]:
        """The rows of the event list, each event once (the first time it is listed)."""
        listed: set[int] = set()
        for row in rows:
            ei = int_or_zero(row.get("ei"), "ei")
            if ei in listed:
                # The list names an event twice: its reports are read once, for the first.
                self.logger.warning(
                    "events: the event list names event %s more than once; it is read once.",
                    ei,
                )
                continue
            listed.add(ei)
            yield row

    def mapped_events(self, rows: list[dict]) -> dict[int, dict]:
        """The records of the listed events by ei, in order, before the settings filter them.

        Stops at the first row that does not map: the run stops there too (when the SDK maps
        that row, naming the stream).
        """
        events = {}
        for row in rows:
            try:
                record = self.mapped(dict(row))
            except VendorDataError:
                break
            events[record["ei"]] = record
        return events

    def listed_now(self) -> set[int]:
        """The event ids the event list holds now (read again, to tell a deleted event)."""
        request = self.build_prepared_request(
            method="GET",
            url=self.get_url(None),
            params=self.get_url_params(None, None),
            headers=self.http_headers,
        )
        rows = self.parsed_body(self.send(request, None))
        return {int_or_zero(row.get("ei"), "ei") for row in rows}

    @override
    def to_record(self, row: dict, context: Context | None) -> dict | None:
        record = self.mapped(row)
        return record if self.wanted(record) else None

    def mapped(self, row: dict) -> dict:
        mapped, unmapped = split_unmapped(row, parsers.EVENT_FIELDS)
        record = {parsers.EVENT_FIELDS[k]: v for k, v in mapped.items()}
        record["ei"] = int_or_zero(record.get("ei"), "ei")
        record["expired"] = parse_bool(record.get("expired"), "expired")
        for name in ("sched_start", "sched_end"):
            record[name] = utc_iso(record.get(name), field=name)
        record["unmapped_fields"] = unmapped
        return record

    def wanted(self, record: dict) -> bool:
        """Whether the settings ('event_ids', 'include_expired_events') keep this event."""
        wanted = self.config.get("event_ids")
        if wanted and record["ei"] not in wanted:
            return False
        return not (record["expired"] and not self.config.get("include_expired_events", True))

    @override
    def generate_child_contexts(
        self, record: dict, context: Context | None
    ) -> t.Iterable[Context | None]:
        """No report streams for an event whose reports are final (final_reports.py)."""
        if record["ei"] not in self.run.final_events:
            yield from super().generate_child_contexts(record, context)

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"ei": record["ei"]}


class AudienceReportStream(WebcastsStream):
    """Base of the streams read from an event's audience report (one download per event)."""

    parent_stream_type = EventsStream
    path = REPORT_PATH
    reads_shared_by_siblings = True

    def rows_of(self, registrant: dict) -> t.Iterable[dict]:
        raise NotImplementedError

    @override
    def records_from_body(self, body: parsers.DownloadedReport) -> t.Iterable[dict]:
        """The rows of a downloaded report, parsed as a stream: memory stays flat."""
        registrants = parsers.iter_registrants(body.path, body.fmt, expected=body.expected)
        for registrant in registrants:
            for row in self.rows_of(registrant):
                yield {"ei": body.ei, "email": registrant["email"], **row}

    @cached_property
    def report_tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.get("tz") or "GMT")

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        with self.progress.partition(context, of=self.partition_count()):
            yield from self.read_report(context)

    @override
    def prefetch_contexts(self) -> list[dict]:
        """The events whose reports are read, in order (for progress: the report files
        fetch reports ahead themselves)."""
        return [{"ei": ei} for ei in self.run.report_files.upcoming]

    def read_report(self, context: Context | None) -> t.Iterable[dict]:
        """The rows of one event's audience report, read again after a session renewal or
        a shortfall."""
        assert context is not None
        self.partition = context
        ei = context["ei"]
        if ei in self.run.vanished_events:
            return
        reports = self.run.report_files
        self.share_session()  # its downloads may run in the report workers
        # The XML report's count is a complete read of the same report: a CSV read that
        # disagrees with it is read again, never kept (tap_common/reconcile.py).
        read = partition_read(
            self,
            context,
            unit="registrants",
            total_name="XML report's count",
            max_passes=self.backoff_max_tries(),
            trust_total=True,
        )
        again = False
        while True:
            try:
                path = reports.get(ei, self.download_event_report, self.prepare_report, again=again)
                # A failure returnCode or a shortfall precedes every registrant, so reading
                # the report again emits no repeats.
                yield from self.records_from_body(
                    parsers.DownloadedReport(
                        ei, path, self.response_format, expected=reports.expected.get(path)
                    )
                )
                self._renewed = False
                self.run.reports_read.setdefault(ei, set()).add(self.name)
                return
            except parsers.ReportError as exc:
                if self.skip_refused(ei, exc, used=reports.sessions.get(path)):
                    return
            except parsers.Shortfall as exc:
                read.whole_pass(exc.read, exc.expected)  # the last one raises
            except VendorDataError as exc:
                msg = f"the audience report of event {ei}: {exc}"
                raise VendorDataError(msg) from None
            reports.forget()
            again = True

    def skip_refused(self, ei: int, exc: parsers.ReportError, used: tuple | None) -> bool:
        """After a failure returnCode: True to skip a deleted event; else ready a new read.

        ``used``: the session the report was downloaded with. A report fetched ahead before
        the last login is read anew without another login; otherwise the session is renewed
        once, and a second refusal is fatal unless the event left the event list.
        """
        if used is not None and used != self.authenticator.current:
            return False
        if self._renewed and self.vanished(ei, exc):
            return True
        self.renew_session_once(exc, used)  # the second failure raises
        return False

    def vanished(self, ei: int, exc: parsers.ReportError) -> bool:
        """Whether event ``ei``, refused again after a fresh login, has left the event list:
        deleted after the list was read. It is warned about and skipped by every report
        stream; an event still listed is not skipped (the refusal is then fatal)."""
        events = t.cast("EventsStream", self.run.streams["events"])
        if ei in events.listed_now():
            return False
        self._renewed = False
        self.run.vanished_events.add(ei)
        self.logger.warning(
            "%s: Webcasts.com refused the audience report of event %s (%s) and the event "
            "list no longer holds it: it was deleted after the list was read. Skipping it.",
            self.name,
            ei,
            exc,
        )
        return True

    def prepare_report(self, ei: int) -> None:
        """Main thread, before a report's download: fix its window (it reads the state)."""
        self.run.report_window_start(ei)

    def download_event_report(self, ei: int, path: Path) -> None:
        self.partition = {"ei": ei}  # thread-local: messages of this download name the event
        self.download_report(self.partition, path)

    def download_report(self, context: Context, path: Path) -> None:
        """Stream the report to ``path``, with the usual retries; it may be very large.

        A cut report is downloaded again like a 5xx (``fetch_report``). A CSV report sent
        without Content-Length or chunked framing is reconciled with the same report in XML.
        """
        request = self.build_prepared_request(
            method="GET",
            url=f"{self.url_base}{REPORT_PATH}{FORMAT_SUFFIX[self.response_format]}",
            params=self.report_params(context),
            headers=self.http_headers,
        )
        framed = self.fetch_report(request, context, path)
        if not framed and parsers.report_format(path) == "csv":
            self.run.report_files.expected[path] = self.registrants_in_xml(context, path)

    def registrants_in_xml(self, context: Context, path: Path) -> int:
        """How many registrants the same report holds in XML, whose end shows a cut.

        For a CSV report that came without Content-Length or chunked framing: cut exactly at
        a line end, nothing in it would show that rows are missing.
        """
        request = self.build_prepared_request(
            method="GET",
            url=f"{self.url_base}{REPORT_PATH}",
            params=self.report_params(context),
            headers=self.http_headers,
        )
        xml = path.with_name(f"{path.name}-xml")
        try:
            self.fetch_report(request, context, xml)
            return parsers.count_registrants(xml)
        finally:
            xml.unlink(missing_ok=True)
            self.run.report_files.sessions.pop(xml, None)

    def fetch_report(self, request: requests.PreparedRequest, context: Context, path: Path) -> bool:
        """Download a report into ``path`` (tap_common/download.py): a cut or HTML body is
        downloaded again like a 5xx. True when the HTTP framing (Content-Length or chunked)
        would have shown bytes missing (requests raises then, and the attempt is retried)."""

        def signed(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
            prepared = self.authenticator(prepared)
            self.run.report_files.sessions[path] = self.authenticator.current  # it carries
            return prepared

        def whole(file: Path, framed: bool) -> str | None:
            problem = parsers.incomplete_report(file, framed=framed)
            if problem is None:
                return None
            ei = context["ei"]
            return f"{self.vendor_name} answered {REPORT_PATH} for event {ei} with {problem}"

        return download(self, request, context, path, whole=whole, signed=signed)

    def report_params(self, context: Context) -> dict[str, str]:
        params = {"ver": "2.0", "ei": str(context["ei"]), "tz": self.config.get("tz") or "GMT"}
        start = self.run.report_window_start(context["ei"])
        if start is not None:
            params["date_range_start"] = start.astimezone(self.report_tz).strftime("%m/%d/%Y")
        if end := self.config.get("date_range_end"):
            params["date_range_end"] = dt.date.fromisoformat(str(end)[:10]).strftime("%m/%d/%Y")
        for name in ON_OFF_FILTERS:
            if self.config.get(name) is not None:
                params[name] = "on" if self.config[name] else "off"
        for name in LIST_FILTERS:
            if self.config.get(name):
                params[name] = "|".join(self.config[name])
        return params

    def local_time(self, value: str, field: str) -> str | None:
        return utc_iso(value, field=field, naive_tz=self.report_tz)


class AudienceStream(AudienceReportStream):
    """One row per registrant of each event; the event's own form fields in an object."""

    name = "audience"
    primary_keys = ("ei", "email")
    replication_key = "last_activity_at"
    is_sorted = False

    schema = th.PropertiesList(
        th.Property("ei", th.IntegerType(), required=True),
        th.Property("email", th.StringType(), required=True),
        th.Property("first_name", th.StringType()),
        th.Property("last_name", th.StringType()),
        th.Property("company", th.StringType()),
        th.Property("registration_date", th.DateTimeType()),
        th.Property("source_tracking_id", th.StringType(), description="Vendor sti."),
        th.Property(
            "registration_fields",
            th.ObjectType(),
            description="The event's own registration form: label -> answer.",
        ),
        th.Property("session_count", th.IntegerType()),
        th.Property("viewing_seconds", th.IntegerType(), description="Sum of session durations."),
        th.Property(
            "last_activity_at",
            th.DateTimeType(),
            required=True,
            description="Latest of registration, session end, question and survey answer "
            "times: the bookmark of the report window.",
        ),
        UNMAPPED,
    ).to_dict()

    @override
    def rows_of(self, registrant: dict) -> t.Iterable[dict]:
        yield registrant

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        times = [self.local_time(row["registration_date"], "registration_date")]
        for session in row["sessions"]:
            times.append(self.local_time(session["session_end"], "session_end"))
        times += [self.local_time(q["asked_at"], "asked_at") for q in row["questions"]]
        times += [self.local_time(a["answered_at"], "answered_at") for a in row["survey_answers"]]
        known = [time for time in times if time]
        if not known:
            msg = f"registrant {row['email']} has no registration date or activity time"
            raise VendorDataError(msg)
        return {
            "ei": row["ei"],
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "company": row["company"],
            "registration_date": times[0],
            "source_tracking_id": row["source_tracking_id"],
            "registration_fields": row["registration_fields"],
            "session_count": len(row["sessions"]),
            "viewing_seconds": sum(
                int_or_zero(session["duration_seconds"], "duration") for session in row["sessions"]
            ),
            "last_activity_at": max(known),
            "unmapped_fields": row["unmapped"],
        }


class AudienceSessionsStream(AudienceReportStream):
    """Viewing sessions (live, on demand, sim-live) as rows linked to event and registrant."""

    name = "audience_sessions"
    primary_keys = ("ei", "email", "session_type", "session_start")
    replication_key = None
    state_partitioning_keys: t.ClassVar[list[str]] = []

    schema = th.PropertiesList(
        th.Property("ei", th.IntegerType(), required=True),
        th.Property("email", th.StringType(), required=True),
        th.Property(
            "session_type",
            th.StringType(),
            required=True,
            description="live, on_demand or sim_live.",
        ),
        th.Property("session_start", th.DateTimeType(), required=True),
        th.Property("session_end", th.DateTimeType()),
        th.Property("duration_seconds", th.IntegerType()),
    ).to_dict()

    @override
    def rows_of(self, registrant: dict) -> t.Iterable[dict]:
        return registrant["sessions"]

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        return {
            **row,
            "session_start": self.local_time(row["session_start"], "session_start"),
            "session_end": self.local_time(row["session_end"], "session_end"),
            "duration_seconds": int_or_zero(row["duration_seconds"], "duration"),
        }


class AudienceQuestionsStream(AudienceReportStream):
    """Q&A: questions registrants asked, with the answer, when the report carries them."""

    name = "audience_questions"
    primary_keys = ("question_key",)
    replication_key = None
    state_partitioning_keys: t.ClassVar[list[str]] = []

    schema = th.PropertiesList(
        th.Property(
            "question_key",
            th.StringType(),
            required=True,
            description="Surrogate key: hash of ei, email, asked_at and question.",
        ),
        th.Property("ei", th.IntegerType(), required=True),
        th.Property("email", th.StringType(), required=True),
        th.Property("asked_at", th.DateTimeType()),
        th.Property("question", th.StringType()),
        th.Property("answer", th.StringType()),
    ).to_dict()

    @override
    def rows_of(self, registrant: dict) -> t.Iterable[dict]:
        return registrant["questions"]

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        asked_at = self.local_time(row["asked_at"], "asked_at")
        return {
            **row,
            "asked_at": asked_at,
            "question_key": surrogate_key((row["ei"], row["email"], asked_at, row["question"])),
        }


class AudienceSurveyAnswersStream(AudienceReportStream):
    """Survey answers, one row per registrant, survey question and submission."""

    name = "audience_survey_answers"
    primary_keys = ("answer_key",)
    replication_key = None
    state_partitioning_keys: t.ClassVar[list[str]] = []

    schema = th.PropertiesList(
        th.Property(
            "answer_key",
            th.StringType(),
            required=True,
            description="Surrogate key: hash of ei, email, survey, question and answered_at.",
        ),
        th.Property("ei", th.IntegerType(), required=True),
        th.Property("email", th.StringType(), required=True),
        th.Property("survey", th.StringType()),
        th.Property("question", th.StringType()),
        th.Property("answer", th.StringType()),
        th.Property("answered_at", th.DateTimeType()),
    ).to_dict()

    @override
    def rows_of(self, registrant: dict) -> t.Iterable[dict]:
        return registrant["survey_answers"]

    @override
    def to_record(self, row: dict, context: Context | None) -> dict:
        answered_at = self.local_time(row["answered_at"], "answered_at")
        return {
            **row,
            "answered_at": answered_at,
            "answer_key": surrogate_key(
                (row["ei"], row["email"], row["survey"], row["question"], answered_at)
            ),
        }
