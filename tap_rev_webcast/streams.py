"""Vbrick Rev streams: the webcast list and one stream per report endpoint.

Vendor names become snake_case in client.snake_case (one place for every stream); the
schemas below name the resulting columns. Rev timestamps are UTC (``...Z``) and land as
ISO 8601 with ``+00:00``. Durations (``sessionTime``, ``totalPublicCDNTime``, ...) are kept
as Rev's strings (``HH:MM:SS``, or ``d.HH:MM:SS`` past a day).
"""

from __future__ import annotations

import datetime as dt
import functools
import typing as t
from http import HTTPStatus
from urllib.parse import quote

from singer_sdk import typing as th
from typing_extensions import override

from tap_common.answers import Answer, Means
from tap_common.errors import VendorDataError, partition_label
from tap_common.reconcile import partition_read
from tap_common.records import parse_timestamp
from tap_common.schema import (
    boolean_property,
    datetime_property,
    integer_property,
    number_property,
    text_property,
    unmapped_fields_property,
)
from tap_rev_webcast.bookmark import ListedWebcast, ReportBookmark
from tap_rev_webcast.client import (
    BAD_REQUEST_SKIPPED,
    EMPTY_BODY,
    NO_REPORT,
    SCROLL_EXPIRED,
    RevStream,
    ScrollPaginator,
    ScrollToken,
    WebcastState,
    snake_keys,
)
from tap_rev_webcast.reports import (
    COMPLETED,
    LIVE_STATUSES,
    ReportStream,
    ScrolledReportStream,
    SessionKeys,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: The streams whose reads the bookmark covers (real-time attendees are a live snapshot).
REPORT_STREAMS = (
    "attendee_sessions",
    "webcast_attendance_summary",
    "comments",
    "registrations",
    "poll_results",
    "poll_answers",
    "questions",
    "reactions",
)
#: Comments asked for per response (the documented default `size`).
COMMENTS_PER_RESPONSE = 10000
#: Registrations asked for per page (documented default 10; no maximum documented).
REGISTRATIONS_PER_PAGE = 500
PUBLIC = "Public"
#: Credentials inside webcast objects: never landed in the warehouse (column -> nested key;
#: None for the column itself).
WITHHELD = {"password": None, "rtmp": "key", "secondary_rtmp": "key", "zoom": "meeting_password"}
#: The key that carries a poll's answers from poll_results to poll_answers.
POLL_ANSWERS = "poll_answers"


UNMAPPED = unmapped_fields_property(
    "Fields Rev sent that this tap does not map yet (names in snake_case)."
)
STRINGS = th.ArrayType(th.StringType())
# A JSON array column: its items undeclared, so loaders make it one JSON column (jsonb in
# PostgreSQL; with declared items target-postgres makes jsonb[], an array of JSON values).
# The members each item carries are named in the column's description.
JSON_ARRAY = th.CustomType({"type": ["array"]})


REPORT_KEYS = (
    th.Property("webcast_id", th.StringType(), required=True, description="Webcast (event) id."),
    th.Property(
        "run_number",
        th.IntegerType(),
        required=True,
        description="0 for the main event, 1 and up for pre-production runs.",
    ),
)


def rev_datetime(moment: dt.datetime) -> str:
    """Rev's date-time format: 2026-06-01T15:00:00.000Z."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class RevWebcastsStream(RevStream):
    """GET /api/v2/scheduled-events in date windows (or each of 'webcast_ids'), plus status.

    Windows of 'window_days' run from 'start_date' (later runs: the bookmark, or
    'report_lookback_days' before now if earlier, see bookmark.py) to 'upcoming_days' ahead
    of now; a webcast is listed by every window it overlaps (end after ``after``, start on
    or before ``before``) and emitted once. Each webcast's GET .../status is carried as
    ``status``: the report streams read only Completed webcasts, real-time attendees only
    running ones.

    The whole list and every status are read (up to 'max_concurrency' requests at once)
    before the first webcast is emitted: the report streams then know every context they
    will be synced with, and fetch reports ahead.
    """

    name = "webcasts"
    path = "/api/v2/scheduled-events"
    primary_keys = ("id",)
    replication_key = None
    meanings = (
        # GET .../status of a webcast deleted after it was listed (request_webcast_status).
        Answer(
            Means.SKIP,
            HTTPStatus.NOT_FOUND,
            path_endswith="/status",
            say="{stream}: Rev answered 404 for the status of webcast {webcast_id}; it was "
            "probably deleted after the webcast list was read. Skipping it and its reports.",
        ),
        Answer(
            Means.STOP,
            HTTPStatus.NOT_FOUND,
            say="{error}: Rev does not know that webcast. Check 'webcast_ids' (the id is the "
            "GUID in the webcast's URL).",
        ),
        *RevStream.meanings,
    )
    # The details endpoint (for 'webcast_ids') names three fields differently.
    renames: t.ClassVar[dict[str, str]] = {
        "event_id": "id",
        "access_control": "listing_type",
        "webcast_pre_production": "pre_production",
    }

    schema = th.PropertiesList(
        th.Property("id", th.StringType(), required=True, description="Webcast (event) id."),
        text_property("title"),
        text_property("description"),
        datetime_property("start_date"),
        datetime_property("end_date"),
        text_property("listing_type", "Public, TrustedPublic, AllUsers or Private."),
        text_property("event_url"),
        th.Property(
            "background_images",
            JSON_ARRAY,
            description="Objects with url and scale_size.",
        ),
        th.Property(
            "categories",
            JSON_ARRAY,
            description="Objects with category_id, name, full_path and restricted (boolean).",
        ),
        th.Property("tags", STRINGS),
        boolean_property("unlisted"),
        integer_property("estimated_attendees"),
        integer_property("lobby_time_minutes"),
        th.Property(
            "pre_production",
            th.ObjectType(
                text_property("duration"),
                th.Property("user_ids", STRINGS),
                th.Property("group_ids", STRINGS),
            ),
            description="Pre-production settings; duration as HH:MM:SS or d.HH:MM:SS.",
        ),
        text_property("shortcut_name"),
        text_property("video_source_type"),
        th.Property(
            "rtmp",
            th.ObjectType(text_property("url")),
            description="RTMP source; the stream key is withheld.",
        ),
        th.Property(
            "secondary_rtmp",
            th.ObjectType(text_property("url")),
            description="The stream key is withheld.",
        ),
        boolean_property("secondary_source_enabled"),
        text_property("webcast_type", "Rev or WebexEvents."),
        th.Property("webex_team", th.ObjectType(text_property("room_id"), text_property("name"))),
        th.Property(
            "zoom",
            th.ObjectType(text_property("meeting_id")),
            description="The meeting password is withheld.",
        ),
        text_property("vod_id"),
        text_property("presenter_id"),
        th.Property("presenter_ids", STRINGS),
        text_property("attendee_join_method", "Anonymous or Registration."),
        th.Property(
            "external_presenters",
            JSON_ARRAY,
            description="Objects with name, title and email.",
        ),
        boolean_property("is_featured"),
        text_property(
            "status",
            "From GET .../status when read: Scheduled, InProgress, Completed, ... "
            "(the report streams read Completed webcasts only).",
        ),
        text_property("status_reason", "The status' reason, if Rev gives one."),
        boolean_property("is_pre_production", "From GET .../status: a pre-production run is live."),
        UNMAPPED,
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        explicit = self.config.get("webcast_ids")
        # 'webcast_ids' reads those webcasts in full every run: no bookmark read or moved.
        bookmark = None if explicit else self.report_bookmark()
        requests_to_make = (
            self.windows(bookmark)
            if bookmark is not None
            else [{"webcast_id": webcast_id} for webcast_id in dict.fromkeys(explicit or [])]
        )
        rows: dict[str, dict] = {}
        for listed in self.fetch_in_order(self.list_webcasts, requests_to_make):
            for row in listed:
                webcast_id = webcast_id_of(row)
                assert webcast_id is not None  # records_from_body checked it
                rows.setdefault(webcast_id, row)  # windows overlap: the first one wins
        statuses = self.fetch_in_order(self.request_webcast_status, list(rows))
        contexts = []
        for (webcast_id, row), status in zip(list(rows.items()), statuses, strict=True):
            if status is None:
                del rows[webcast_id]  # deleted after it was listed (warned)
                continue
            self.statuses[webcast_id] = status  # for prepare_fields, in this thread
            # Filled before any report is requested: report workers read it.
            self.run.webcasts[webcast_id] = WebcastState.of(status, row)
            contexts += [{"webcast_id": webcast_id, "run_number": n} for n in self.run_numbers]
        self.run.report_contexts = contexts
        if bookmark is not None:
            bookmark.track(
                [self.listed(webcast_id, row) for webcast_id, row in rows.items()], self.now()
            )
        for webcast_id, row in rows.items():
            yield row
            # The SDK asks for the next row once this one's report streams are synced; a
            # webcast whose report failed is not done, so the bookmark stays before it.
            if self.run.failures.touch(webcast_id=webcast_id):
                continue
            if bookmark is not None and bookmark.done(webcast_id):
                self.commit_state()

    @functools.cached_property
    def statuses(self) -> dict[str, dict]:
        """Each listed webcast's GET .../status answer, by id, until its row is mapped."""
        return {}

    def report_bookmark(self) -> ReportBookmark:
        """The bookmark in this stream's state, for the report streams this run reads."""
        names = tuple(name for name in REPORT_STREAMS if self.run.is_selected(name))
        return ReportBookmark(self.stream_state, names, self.logger)

    def listed(self, webcast_id: str, row: dict) -> ListedWebcast:
        state = self.run.webcasts[webcast_id]
        end = row.get("endDate")
        if not isinstance(end, str):
            msg = f"webcast {webcast_id} has no endDate; the bookmark cannot place it"
            raise VendorDataError(msg)
        return ListedWebcast(
            webcast_id,
            parse_timestamp(end, field="endDate"),
            completed=state.status == COMPLETED,
            running=state.status in LIVE_STATUSES,
        )

    @property
    def run_numbers(self) -> list[int]:
        return list(self.config["run_numbers"])

    def list_webcasts(self, request_context: dict) -> list[dict]:
        """The rows of one window (or one webcast's details)."""
        return list(self.request_records(request_context))

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.run.clock.now(), tz=dt.timezone.utc)

    def windows(self, bookmark: ReportBookmark) -> list[dict]:
        """(after, before] windows of 'window_days', from 'start_date' (or where the
        bookmark says, see ``ReportBookmark.listing_start``) to 'upcoming_days' ahead of now."""
        start_date = parse_timestamp(self.config["start_date"], field="start_date")
        now = self.now()
        lookback = float(self.config["report_lookback_days"])
        start = bookmark.listing_start(start_date, lookback, now)
        until = now + dt.timedelta(days=self.config["upcoming_days"])
        step = dt.timedelta(days=self.config["window_days"])
        windows = []
        while start < until:
            end = min(start + step, until)
            windows.append({"after": rev_datetime(start), "before": rev_datetime(end)})
            start = end
        if not windows:
            self.logger.warning("webcasts: 'start_date' is in the future; nothing to list.")
        return windows

    @override
    def get_url(self, context: Context | None) -> str:
        url = super().get_url(context)
        if context and "webcast_id" in context:
            url += "/" + quote(str(context["webcast_id"]), safe="")
        return url

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        if context and "after" in context:
            return {"after": context["after"], "before": context["before"]}
        return {}

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        details = bool(self.partition and "webcast_id" in self.partition)
        rows = [body] if details and isinstance(body, dict) else super().records_from_body(body)
        for row in rows:
            if not webcast_id_of(row):
                msg = f"a webcast without an id: keys {sorted(row)[:8]}"
                raise VendorDataError(msg)
        return rows

    @override
    def prepare_fields(self, fields: dict, context: Context | None) -> dict:
        status = snake_keys(self.statuses.pop(fields["id"]))
        for column, nested in WITHHELD.items():
            if nested is None:
                fields.pop(column, None)
            elif isinstance(fields.get(column), dict):
                fields[column] = {k: v for k, v in fields[column].items() if k != nested}
        if isinstance(fields.get("categories"), list):
            # Vbrick's JS client types spell it fullpath; the OpenAPI fullPath.
            fields["categories"] = [
                {("full_path" if k == "fullpath" else k): v for k, v in c.items()}
                if isinstance(c, dict)
                else c
                for c in fields["categories"]
            ]
        fields["status"] = status.get("status")
        fields["status_reason"] = status.get("reason")
        fields["is_pre_production"] = status.get("is_pre_production")
        return fields

    @override
    def generate_child_contexts(
        self, record: dict, context: Context | None
    ) -> t.Iterable[Context | None]:
        """One context per configured run (as in ``report_contexts``); the report streams
        look the status up by id."""
        status = record["status"]
        if status != COMPLETED:
            self.logger.info(
                "webcasts: webcast %s is %s, not %s: the post-event report streams skip it%s.",
                record["id"],
                status,
                COMPLETED,
                " (real-time attendees are read while it runs)" if status in LIVE_STATUSES else "",
            )
        for run_number in self.run_numbers:
            yield {"webcast_id": record["id"], "run_number": run_number}


def webcast_id_of(row: dict) -> str | None:
    """The id of a listed webcast (``id``) or of a webcast's details (``eventId``)."""
    webcast_id = row.get("id") or row.get("eventId")
    return webcast_id if isinstance(webcast_id, str) and webcast_id else None


SESSION_SCHEMA = th.PropertiesList(
    th.Property(
        "session_key",
        th.StringType(),
        required=True,
        description="Surrogate key (Rev has no session id): SHA-256 of webcast_id, run_number, "
        "username, email, ip_address, device_type, browser, entered_date, plus an ordinal "
        "when several sessions share all of them.",
    ),
    *REPORT_KEYS,
    text_property("user_type"),
    text_property("attendee_type", "Host, Moderator, AccountAdmin or Attendee."),
    text_property("name"),
    text_property("username"),
    text_property("email"),
    text_property("ip_address"),
    text_property("browser"),
    text_property("device_type"),
    text_property("zone", "Rev zone name."),
    text_property("device_accessed"),
    text_property("stream_accessed"),
    text_property("session_time", "Duration, HH:MM:SS."),
    text_property("viewing_time", "Duration, HH:MM:SS."),
    text_property("public_cdn_time", "Duration, HH:MM:SS."),
    text_property("ecdn_time", "Duration, HH:MM:SS (vendor eCDNTime)."),
    datetime_property("entered_date"),
    datetime_property("exited_date"),
    datetime_property("viewing_start_time"),
    integer_property("experienced_errors"),
    integer_property("multicast_errors"),
    integer_property("buffer_events"),
    integer_property("rebuffer_events"),
    integer_property("rebuffer_duration"),
    th.Property(
        "polls",
        JSON_ARRAY,
        description="This attendee's poll answers (webcasts with userPollsResponse=LogAll): "
        "objects with poll_id, question, answers and when (date-time).",
    ),
    UNMAPPED,
).to_dict()


def summary_of(body: dict) -> dict:
    """The per-report summary keys of a post-event-report page."""
    return {k: v for k, v in body.items() if k not in ("sessions", "scrollId")}


class AttendeeSessionsStream(ScrolledReportStream):
    """GET .../post-event-report per webcast and run, following scrollId (500 per page).

    One row per viewing session. The summary keys of the first page are handed to
    webcast_attendance_summary, which then needs no request of its own.
    """

    name = "attendee_sessions"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/post-event-report"
    primary_keys = ("session_key",)
    records_key = "sessions"
    total_key = "totalSessions"
    rate_family = "reports"  # Vbrick's PowerShell client: viewReport, 120 a minute
    meanings = (SCROLL_EXPIRED, NO_REPORT, *ScrolledReportStream.meanings)
    schema = SESSION_SCHEMA
    # Vbrick's JS client types name the sessions' multicastErrors this way.
    renames: t.ClassVar[dict[str, str]] = {"multicast_errors_per_attendees": "multicast_errors"}

    keys: SessionKeys

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        # Keys are made in the main thread, in order; rows say which pass they belong to.
        self.keys = SessionKeys()
        yield from super().get_records(context)
        if context is not None and self.run.is_selected("webcast_attendance_summary"):
            # No first page (no report, or a deleted webcast): no summary either.
            key = (context["webcast_id"], context["run_number"])
            self.run.report_summaries.setdefault(key, None)

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        sessions = super().records_from_body(body)
        if self.scroll.current_value.scroll_id is None:  # a first page carries the summary
            self.hand_over_summary(summary_of(body))
        return sessions

    def hand_over_summary(self, summary: dict | None) -> None:
        if self.run.is_selected("webcast_attendance_summary") and self.partition:
            key = (self.partition["webcast_id"], self.partition["run_number"])
            self.run.report_summaries[key] = summary

    @override
    def first_read(self, record: dict, scan_pass: int) -> dict | None:
        key = self.keys.key(record, scan_pass)
        if key is None:
            return None  # emitted before the scroll id expired and the report restarted
        record["session_key"] = key
        return record


class AttendanceSummaryStream(ReportStream):
    """The summary of each post-event report: one row per webcast and run.

    Taken from attendee_sessions' first page when that stream is selected; otherwise this
    stream reads the first page itself.
    """

    name = "webcast_attendance_summary"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/post-event-report"
    rate_family = "reports"
    primary_keys = ("webcast_id", "run_number")
    meanings = (NO_REPORT, *ReportStream.meanings)

    schema = th.PropertiesList(
        *REPORT_KEYS,
        integer_property("total_sessions"),
        text_property("total_public_cdn_time", "Duration, HH:MM:SS or d.HH:MM:SS."),
        text_property("total_ecdn_time", "Duration, HH:MM:SS or d.HH:MM:SS."),
        integer_property("host_count"),
        integer_property("moderator_count"),
        integer_property("attendee_count", "Attendees plus account admins."),
        number_property(
            "experienced_rebuffering_percentage", "Percent of sessions that rebuffered."
        ),
        number_property("average_experienced_rebuffer_duration"),
        number_property("experienced_errors_per_attendees"),
        number_property("multicast_errors_per_attendees"),
        UNMAPPED,
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        key = (context["webcast_id"], context["run_number"])
        if key in self.run.report_summaries:
            summary = self.run.report_summaries.pop(key)
            if summary is not None:
                yield summary
            return
        yield from super().get_records(context)

    @override
    def prefetch_contexts(self) -> t.Sequence[Context] | None:
        if self.run.is_selected("attendee_sessions"):
            return None  # the summaries come from attendee_sessions: nothing to fetch ahead
        return super().prefetch_contexts()

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        if not isinstance(body, dict):
            msg = f"expected a post-event report object, got {type(body).__name__}"
            raise VendorDataError(msg)
        return [summary_of(body)]


class RealtimeAttendeesStream(ReportStream):
    """POST .../real-time/attendees (attendeeDetails All, 500 per page) for running webcasts.

    Opt-in ('include_realtime_attendees'): the data exists only while a webcast runs, and
    Rev allows 2 of these requests per minute. Only the live run is asked: the main event,
    or the configured pre-production runs while /status says one is live. A snapshot per
    run; the key is the session.
    """

    name = "realtime_attendees"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/real-time/attendees"
    http_method = "POST"
    rate_family = "realtime"
    primary_keys = ("webcast_id", "run_number", "session_id")
    records_key = "attendees"
    total_key = "total"
    envelope_names = ("scrollId", "status")  # status "Initiated": aggregation has just begun
    meanings = (SCROLL_EXPIRED, BAD_REQUEST_SKIPPED, *ReportStream.meanings)
    # At 2 requests a minute, fetching ahead would gain nothing.
    prefetch_partitions = False
    _said_off = False

    schema = th.PropertiesList(
        *REPORT_KEYS,
        th.Property("session_id", th.StringType(), required=True),
        text_property("user_id"),
        text_property("username"),
        text_property("full_name"),
        text_property("user_type"),
        text_property("attendee_type", "Host, Moderator, AccountAdmin or Attendee."),
        text_property("email"),
        datetime_property("start_time"),
        text_property("status", "Online or Offline."),
        integer_property("experienced_errors"),
        integer_property("multicast_failovers"),
        number_property("experienced_buffering_duration"),
        integer_property("experienced_buffering_count"),
        number_property("avg_experienced_buffering_duration"),
        number_property("avg_bitrate_kbps"),
        number_property("avg_bandwidth_mbps"),
        datetime_property("viewing_start_time"),
        text_property("zone_id"),
        text_property("zone_name"),
        text_property("ip_address"),
        text_property("stream_device"),
        text_property("stream_accessed"),
        text_property("player_device"),
        text_property("browser"),
        text_property("video_player"),
        text_property("video_format"),
        text_property("user_agent"),
        text_property("os_name"),
        text_property("os_family"),
        text_property("device_id"),
        boolean_property("rev_connect"),
        text_property("stream_type"),
        text_property("profile_image_url"),
        UNMAPPED,
    ).to_dict()

    @override
    def wanted(self, context: Context) -> bool:
        if not self.config.get("include_realtime_attendees"):
            if not self._said_off:
                self._said_off = True
                self.logger.info(
                    "realtime_attendees: off; set 'include_realtime_attendees' to read the "
                    "attendees of running webcasts."
                )
            return False
        # The run that is live: a pre-production run (1 and up) if /status says one is,
        # else the main event (0). Other runs have no one watching.
        state = self.webcast_state(context)
        live_run = (context["run_number"] > 0) == state.is_pre_production
        return state.status in LIVE_STATUSES and live_run

    scroll: ScrollPaginator | None = None  # the current scroll (never fetched ahead)

    @override
    def get_new_paginator(self) -> ScrollPaginator:
        # A live snapshot: its pages are checked (a scroll that does not advance stops), its
        # rows never reconciled with the total (attendees come and go while it is read).
        read = partition_read(self, self.partition, unit="attendees", total_name=self.total_key)
        self.scroll = ScrollPaginator(
            self, "attendees", self.total_key, restart_on_expiry=False, partition_read=read
        )
        return self.scroll

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        return {}  # everything goes in the body

    @override
    def prepare_request_payload(
        self, context: Context | None, next_page_token: t.Any
    ) -> dict | None:
        assert context is not None
        payload = {
            "attendeeDetails": "All",
            "status": "All",
            "count": 500,  # the documented maximum
            "runNumber": context["run_number"],
        }
        if isinstance(next_page_token, ScrollToken) and next_page_token.scroll_id:
            payload["scrollId"] = next_page_token.scroll_id
        return payload

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        if isinstance(body, dict) and body.get("status") == "Initiated":
            self.logger.info(
                "realtime_attendees: Rev has only started aggregating %s; the snapshot may be "
                "incomplete.",
                partition_label(self.partition),
            )
        rows = list(super().records_from_body(body))
        scroll = self.scroll
        return rows if scroll is None or scroll.check_page(body, rows) else []


class CommentsStream(ScrolledReportStream):
    """GET .../comments?size=10000: the chat log of a webcast run.

    Rev's spec pages comments with ``size`` and a forward-only ``scrollId`` ("if
    totalComments > size, provide the scrollId returned from the first request"), yet
    documents a bare array as the answer. Both are read: a bare array is the whole log
    (warned about with numbers when it fills ``size``, since no scroll id can follow it); an
    object ``{"comments": [...], "scrollId", "totalComments"}`` is scrolled to its end and
    reconciled with ``totalComments`` like the post-event report.
    """

    name = "comments"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/comments"
    primary_keys = ("comment_id",)
    records_key = "comments"
    total_key = "totalComments"
    meanings = (
        SCROLL_EXPIRED,
        Answer(
            Means.STOP,
            HTTPStatus.BAD_REQUEST,
            say="{error} on the first page of the comments ({reason})",
        ),
        *ScrolledReportStream.meanings,
    )

    schema = th.PropertiesList(
        th.Property("comment_id", th.StringType(), required=True),
        *REPORT_KEYS,
        text_property("user_id"),
        text_property("username"),
        datetime_property("date"),
        text_property("comment"),
        text_property("html_comment"),
        boolean_property("hidden"),
        UNMAPPED,
    ).to_dict()

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        return {**super().get_url_params(context, next_page_token), "size": COMMENTS_PER_RESPONSE}

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        rows = list(super().records_from_body(body))
        if isinstance(body, list) and len(rows) >= COMMENTS_PER_RESPONSE:
            self.logger.warning(
                "comments: %s answered %d comments, the 'size' asked for, as a bare list "
                "without a scroll id; Rev offers no way to read further comments, so some "
                "may be missing.",
                partition_label(self.partition),
                len(rows),
            )
        return rows


class RegistrationsStream(ScrolledReportStream):
    """GET .../registrations: the guests registered for a Public webcast, one row each.

    Pages of ``size`` with a forward-only ``scrollId`` and no total: the end is a missing
    scroll id or an empty page (the last page may still carry a scroll id). Registrations
    belong to the webcast, not to a run: read once per webcast, in the context of the first
    of 'run_numbers', for completed webcasts (as the other reports, so the bookmark covers
    them).

    Rev documents the endpoint for Public webcasts only; other webcasts are not requested.
    ASSUMPTION: should a webcast the list calls Public answer 400, 403 or 404 (it changed
    since), that is warned about and skipped, never a failed run.
    """

    name = "registrations"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/registrations"
    primary_keys = ("webcast_id", "registration_id")
    records_key = "guestUsers"
    context_columns = ("webcast_id",)
    meanings = (
        SCROLL_EXPIRED,
        Answer(
            Means.SKIP,
            (HTTPStatus.BAD_REQUEST, HTTPStatus.FORBIDDEN),
            say="{stream}: Rev answered HTTP {status} for the registrations of webcast "
            "{webcast_id} ({reason}); Rev serves them for Public webcasts only. Skipping "
            "them and continuing.",
        ),
        *ScrolledReportStream.meanings,
    )

    schema = th.PropertiesList(
        th.Property("webcast_id", th.StringType(), required=True, description="Webcast id."),
        th.Property("registration_id", th.StringType(), required=True),
        text_property("name"),
        text_property("email"),
        th.Property(
            "registration_fields_answers",
            JSON_ARRAY,
            description="The registration form's answers: objects with id, name and value.",
        ),
        UNMAPPED,
    ).to_dict()

    @override
    def wanted(self, context: Context) -> bool:
        state = self.webcast_state(context)
        public = state.listing_type in (None, PUBLIC)  # None: not given, ask
        first_run = context["run_number"] == self.config["run_numbers"][0]
        return first_run and public and super().wanted(context)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        params: dict[str, t.Any] = {"size": REGISTRATIONS_PER_PAGE}
        if isinstance(next_page_token, ScrollToken) and next_page_token.scroll_id:
            params["scrollId"] = next_page_token.scroll_id
        return params

    @override
    def prepare_fields(self, fields: dict, context: Context | None) -> dict:
        if not fields.get("registration_id"):
            msg = "a registration without a registrationId"
            raise VendorDataError(msg)
        return fields


class PollResultsStream(ReportStream):
    """GET .../poll-results: one row per poll; its answers go to poll_answers.

    A run that never took place answers 200 with an empty body: no rows.
    """

    name = "poll_results"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/poll-results"
    primary_keys = ("webcast_id", "run_number", "poll_id")
    records_key = "polls"
    meanings = (EMPTY_BODY, *ReportStream.meanings)
    renames: t.ClassVar[dict[str, str]] = {"id": "poll_id"}

    schema = th.PropertiesList(
        *REPORT_KEYS,
        th.Property("poll_id", th.StringType(), required=True),
        text_property("question"),
        integer_property("total_responses"),
        integer_property("total_no_responses"),
        boolean_property("allow_multiple_answers"),
        datetime_property("when_poll_created"),
        UNMAPPED,
    ).to_dict()

    @override
    def prepare_fields(self, fields: dict, context: Context | None) -> dict:
        assert context is not None
        answers = fields.pop("poll_answers", None) or []
        if isinstance(answers, dict):
            answers = [answers]  # Rev's older docs page shows a single object
        if not fields.get("poll_id"):
            msg = "a poll without an id"
            raise VendorDataError(msg)
        fields[POLL_ANSWERS] = answers
        return fields

    @functools.cached_property
    @override
    def vendor_columns(self) -> frozenset[str]:
        # The answers ride in the record only as far as get_child_context.
        return super().vendor_columns | {POLL_ANSWERS}

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        # The SDK syncs a record's children before it writes the record: the answers leave
        # the record here and travel in the child context (poll_answers takes them out of
        # its frozen context).
        return {
            "webcast_id": record["webcast_id"],
            "run_number": record["run_number"],
            "poll_id": record["poll_id"],
            POLL_ANSWERS: record.pop(POLL_ANSWERS),
        }


class PollAnswersStream(RevStream):
    """The answers of each poll, from the same poll-results response (no extra request)."""

    name = "poll_answers"
    path = "/api/v2/scheduled-events/{webcast_id}/poll-results"
    parent_stream_type = PollResultsStream
    state_partitioning_keys: t.ClassVar[list[str]] = []
    replication_key = None
    primary_keys = ("webcast_id", "run_number", "poll_id", "answer")
    context_columns = ("webcast_id", "run_number", "poll_id")

    schema = th.PropertiesList(
        *REPORT_KEYS,
        th.Property("poll_id", th.StringType(), required=True),
        th.Property("answer", th.StringType(), required=True),
        integer_property("votes"),
        UNMAPPED,
    ).to_dict()

    answers: list[dict] | None = None

    @override
    def preprocess_context(self, context: Context) -> Context:
        """Take the poll's answers out of the context: it should hold ids only."""
        ids = dict(context)
        self.answers = ids.pop(POLL_ANSWERS, None)
        return ids

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        answers, self.answers = self.answers, None
        yield from answers or []


class QuestionsStream(ReportStream):
    """GET .../questions: the Q&A report of a webcast run."""

    name = "questions"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/questions"
    primary_keys = ("question_id",)

    schema = th.PropertiesList(
        th.Property("question_id", th.StringType(), required=True),
        *REPORT_KEYS,
        datetime_property("when_asked"),
        text_property("question"),
        text_property("user_name"),
        text_property("replied_user_name"),
        text_property("asked_by"),
        text_property("replied_by"),
        datetime_property("when_replied"),
        text_property("last_action"),
        text_property("reply"),
        boolean_property("is_public"),
        UNMAPPED,
    ).to_dict()


class ReactionsStream(ReportStream):
    """GET .../reactions: emoji reaction counts of a webcast run."""

    name = "reactions"
    parent_stream_type = RevWebcastsStream
    path = "/api/v2/scheduled-events/{webcast_id}/reactions"
    primary_keys = ("webcast_id", "run_number", "webcast_date", "reaction")

    schema = th.PropertiesList(
        *REPORT_KEYS,
        th.Property("webcast_date", th.DateTimeType(), required=True),
        th.Property("reaction", th.StringType(), required=True, description="The emoji."),
        text_property("unicode", "The emoji's code point(s)."),
        integer_property("count"),
        UNMAPPED,
    ).to_dict()
