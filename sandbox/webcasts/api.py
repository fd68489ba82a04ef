"""Routes of the Webcasts.com Reporting API: sessions, parameters, errors and the reports."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ..faults import FaultConfig
from ..server import SandboxRequest, SandboxResponse, SandboxServer
from .common import (
    API_VERSION,
    CONTENT_TYPES,
    EVENTLIST_PATHS,
    LOGIN_PATHS,
    REPORT_PARAMS,
    REPORT_PATHS,
    TimeFormatter,
    WebcastsError,
    gmt,
    load_fixtures,
    xml_attribute,
)
from .dataset import WebcastsDataset
from .model import Event, Registrant
from .query import ReportQuery
from .render_csv import csv_header, csv_report
from .render_json import (
    JsonStyle,
    attendee_json,
    json_error,
    json_eventlist,
    json_login,
    json_report,
)
from .render_xml import xml_error, xml_eventlist, xml_login, xml_report
from .shapes import Shapes


@dataclass
class _Session:
    user_id: str  # the ui issued with the session's si
    created: float
    calls: int = 0


_NOT_FOUND_HTML = (
    b"<!doctype html><html><head><title>HTTP Status 404 - Not Found</title></head>"
    b"<body><h1>HTTP Status 404 - Not Found</h1></body></html>"
)
_SIGN_IN_HTML = (
    b"<!DOCTYPE html><html><head><title>Sign in - Webcasts.com</title></head><body>"
    b'<form method="post" action="/login"><input type="text" name="username">'
    b'<input type="password" name="password"><button type="submit">Sign in</button>'
    b"</form></body></html>"
)
_METHOD_HTML = (
    b"<!doctype html><html><head><title>HTTP Status 405 - Method Not Allowed</title></head>"
    b"<body><h1>HTTP Status 405 - Method Not Allowed</h1></body></html>"
)


class WebcastsAPI:
    """Serves the Reporting API v2.0 over a :class:`WebcastsDataset`.

    Runtime switches (plain attributes, read on every request):
      * ``session_ttl_seconds`` (7200) / ``session_max_calls`` (None): a login's si/ui pair stops
        working after that age or that many reporting calls (ASSUMPTION: the real limits are
        unpublished; 2 h matches the sibling Event Management API's token lifetime). Every
        reporting call that passes the session check counts, whatever its outcome.
      * ``single_session`` (False): a new login invalidates the user's earlier sessions
        (ASSUMPTION: by default concurrent logins coexist; the docs are silent).
      * ``json_collapse_single_lists`` (True): the JSON variant serves a one-element list as a
        single object and an empty list as "" (ASSUMPTION, flagged risk of XML-to-JSON
        conversions); False serves arrays always (empty ones included).
      * ``json_numbers_as_strings`` (True): numeric leaves (ei, duration, error code) are JSON
        strings, as converted from XML text (ASSUMPTION); ``returnCode`` is a number either way
        (as in the inferred login JSON).
      * ``stream_responses`` (True): reports are streamed (chunked); False joins them into bytes
        first (Content-Length), e.g. for hooks that edit bodies.
      * ``csv_bom`` (False): prefix the CSV report with a UTF-8 BOM.
      * ``malformed_xml_for`` / ``entity_expansion_for`` / ``external_entity_for``: sets of ei
        whose XML audience report is cut mid-document / carries a billion-laughs DOCTYPE / carries
        an external entity (``file:///etc/passwd``), used in ``eventtitle``.

    Switches for how real servers plausibly behave beyond the documented API (all off by
    default, so the default sandbox is the documented API):
      * ``listed_twice``: set of ei the event list names twice (the second time at its end).
        ASSUMPTION: a listing built from a join can repeat a row; nothing says ids are unique.
      * ``vanish_after_listing``: set of ei deleted between the event list and their report:
        the report request answers like an unknown ei (HTTP 200, returnCode 6 "Invalid event
        id") and later event lists leave them out. ASSUMPTION: no error table is published;
        a deleted event is answered as one that never existed.
      * ``report_content_type``: the Content-Type reports are served with instead of
        text/xml, text/json or text/csv (the doc's method table lists ``text/html``).
      * ``csv_rows_interleaved``: the rows of a registrant are not adjacent in the CSV report.
      * ``csv_final_line_break`` (True): False ends the CSV report's last row without CRLF.
        ASSUMPTION: RFC 4180 makes the last line break optional and exporters differ.
      * ``json_attendee_list_unwrapped``: the JSON report's ``attendee_list`` is the bare array
        of attendees, without its ``attendee`` wrapper.
      * ``xml_namespace``: every XML response's root declares this default namespace.
      * ``echo_secrets_in_errors``: failure messages repeat the request's si, ui and password,
        as careless servers do ("Session abc... is no longer valid").
      * ``eventlist_drip_seconds``: the event list is sent one byte at a time, this many
        seconds apart (a server that holds a connection open with a slow drip).
      * ``whitespace_in_empty_lists``: an event list without events holds a line break and
        indentation in its list element (XML), or that text as its value (JSON), as
        pretty-printing writers leave it. ASSUMPTION: the docs show no empty list.
      * ``login_page_for_ended_sessions``: a reporting call whose session has ended is
        answered HTTP 200 with the web sign-in page (text/html, a form with a password
        field) instead of the returnCode 4 envelope. ASSUMPTION: the docs are silent on how
        an ended session is answered; a front end that sends unauthenticated callers to its
        sign-in page is the most common way web applications do it.
    Counters: ``login_count`` (successful logins), ``login_attempts``, ``invalid_session_count``
    (reporting calls answered with returnCode 4), ``report_calls`` (audience reports served).
    """

    def __init__(
        self,
        dataset: WebcastsDataset | None = None,
        *,
        session_ttl_seconds: float = 7200,
        session_max_calls: int | None = None,
        fixtures_dir: str | Path | None = None,
    ) -> None:
        self.dataset = dataset if dataset is not None else WebcastsDataset()
        self.session_ttl_seconds = session_ttl_seconds
        self.session_max_calls = session_max_calls
        self.single_session = False
        self.json_collapse_single_lists = True
        self.json_numbers_as_strings = True
        self.stream_responses = True
        self.csv_bom = False
        self.malformed_xml_for: set[int] = set()
        self.entity_expansion_for: set[int] = set()
        self.external_entity_for: set[int] = set()
        self.listed_twice: set[int] = set()
        self.vanish_after_listing: set[int] = set()
        self.vanished: set[int] = set()  # events of vanish_after_listing already deleted
        self.report_content_type: str | None = None
        self.csv_rows_interleaved = False
        self.csv_final_line_break = True
        self.json_attendee_list_unwrapped = False
        self.xml_namespace: str | None = None
        self.echo_secrets_in_errors = False
        self.eventlist_drip_seconds = 0.0
        self.login_page_for_ended_sessions = False
        self.whitespace_in_empty_lists = False
        self.clock: Callable[[], float] = time.monotonic  # session ages
        self.wall_clock: Callable[[], float] = time.time  # currentDateTime
        self.login_count = 0
        self.login_attempts = 0
        self.invalid_session_count = 0
        self.report_calls = 0
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._issued: list[str] = []
        self.shapes = Shapes(load_fixtures(fixtures_dir))
        self.fixtures = self.shapes.fixtures

    @property
    def json_style(self) -> JsonStyle:
        """The JSON switches as they are now."""
        return JsonStyle(self.json_collapse_single_lists, self.json_numbers_as_strings)

    # ------------------------------------------------------------------ sessions
    def expire_sessions(self) -> int:
        """Invalidate every current session (returns how many there were)."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    @property
    def active_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def issued_session_values(self) -> list[str]:
        """Every si and ui value ever issued by this API (tests check none leaks into logs)."""
        with self._lock:
            return list(self._issued)

    def _login(self) -> tuple[str, str]:
        session_id, user_id = secrets.token_hex(20), secrets.token_hex(20)
        with self._lock:
            self._issued.extend((session_id, user_id))
            if self.single_session:
                self._sessions.clear()
            self._sessions[session_id] = _Session(user_id, self.clock())
            self.login_count += 1
        return session_id, user_id

    def _check_session(self, session_id: str, user_id: str) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            valid = session is not None and secrets.compare_digest(session.user_id, user_id)
            if session is not None and valid:
                if self.clock() - session.created >= self.session_ttl_seconds or (
                    self.session_max_calls is not None and session.calls >= self.session_max_calls
                ):
                    del self._sessions[session_id]
                    valid = False
                else:
                    session.calls += 1
            if not valid:
                self.invalid_session_count += 1
                raise WebcastsError("invalid_session")

    # ------------------------------------------------------------------ responses
    def _now(self, fmt: TimeFormatter | None = None) -> str:
        moment = int(self.wall_clock())
        return fmt(moment) if fmt is not None else gmt(moment)

    def _text(self, body: str, fmt: str) -> SandboxResponse:
        if fmt == "xml":
            body = self._namespaced(body)
        return SandboxResponse(200, body.encode(), {"Content-Type": CONTENT_TYPES[fmt]})

    def _namespaced(self, xml: str) -> str:
        """``xml`` with its root declaring the ``xml_namespace`` switch (unchanged when off)."""
        if not self.xml_namespace:
            return xml
        root = f"<{self.shapes.xml_root}"
        return xml.replace(root, f'{root} xmlns="{xml_attribute(self.xml_namespace)}"', 1)

    def _error(self, fmt: str, error: WebcastsError) -> SandboxResponse:
        """A failure envelope. ASSUMPTION: HTTP 200; the CSV endpoint answers errors as XML."""
        now = self._now()
        if fmt == "json":
            return self._text(json_error(self.shapes, self.json_style, error, now), "json")
        return self._text(xml_error(self.shapes, error, now), "xml")

    # ------------------------------------------------------------------ routing
    def handle(self, request: SandboxRequest) -> SandboxResponse:
        path = request.path
        if path in LOGIN_PATHS:
            kind, fmt = "login", LOGIN_PATHS[path]
        elif path in EVENTLIST_PATHS:
            kind, fmt = "eventlist", EVENTLIST_PATHS[path]
        elif path in REPORT_PATHS:
            kind, fmt = "report", REPORT_PATHS[path]
        else:
            return SandboxResponse(404, _NOT_FOUND_HTML, {"Content-Type": "text/html"})
        # Documented: login is GET; the reporting calls are "GET or POST".
        allowed = ("GET", "HEAD") if kind == "login" else ("GET", "HEAD", "POST")
        if request.method not in allowed:
            return SandboxResponse(
                405, _METHOD_HTML, {"Content-Type": "text/html", "Allow": ", ".join(allowed)}
            )
        params = self._params(request)
        try:
            if kind == "login":
                return self._handle_login(params, fmt)
            self._check_reporting(params, version_required=kind == "report")
            if kind == "eventlist":
                return self._handle_eventlist(fmt)
            return self._handle_report(params, fmt)
        except WebcastsError as error:
            if error.kind == "invalid_session" and self.login_page_for_ended_sessions:
                return SandboxResponse(200, _SIGN_IN_HTML, {"Content-Type": "text/html"})
            if self.echo_secrets_in_errors:
                echoed = ", ".join(
                    f"{k}={params[k]}" for k in ("si", "ui", "password") if k in params
                )
                error.message = f"{error.message} (request: {echoed})"
            return self._error(fmt, error)

    @staticmethod
    def _params(request: SandboxRequest) -> dict[str, str]:
        """One value per name. ASSUMPTION (Java servlet getParameter): query string values come
        before form-body values and the first value wins; the body is read only for
        ``application/x-www-form-urlencoded`` posts."""
        merged: dict[str, list[str]] = {k: list(v) for k, v in request.query.items()}
        content_type = (request.headers.get("Content-Type") or "").lower()
        if request.body and content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            for name, values in form.items():
                merged.setdefault(name, []).extend(values)
        return {k: v[0] for k, v in merged.items() if v}

    def _check_reporting(self, params: dict[str, str], version_required: bool) -> None:
        # Check order: ver -> si/ui present -> session valid (counts the call) -> endpoint params.
        version = params.get("ver", "")
        # ASSUMPTION: ver is required on login and audiencereports (documented) but optional on
        # eventlist (its parameter table lists only si and ui); when given it must be "2.0".
        if (version_required or version) and version != API_VERSION:
            if not version:
                raise WebcastsError("missing_parameter", name="ver")
            raise WebcastsError("invalid_version")
        for name in ("si", "ui"):
            if not params.get(name):
                raise WebcastsError("missing_parameter", name=name)
        self._check_session(params["si"], params["ui"])

    # ------------------------------------------------------------------ login
    def _handle_login(self, params: dict[str, str], fmt: str) -> SandboxResponse:
        with self._lock:
            self.login_attempts += 1
        version = params.get("ver", "")
        if not version:
            raise WebcastsError("missing_parameter", name="ver")
        if version != API_VERSION:
            raise WebcastsError("invalid_version")
        for name in ("username", "password"):
            if not params.get(name):
                raise WebcastsError("missing_parameter", name=name)
        dataset = self.dataset
        # ASSUMPTION: the username (an email) is case-insensitive, the password exact.
        if params["username"].lower() != dataset.username.lower() or not secrets.compare_digest(
            params["password"].encode(), dataset.password.encode()
        ):
            raise WebcastsError("invalid_credentials")
        session_id, user_id = self._login()
        now = self._now()
        if fmt == "json":
            return self._text(json_login(self.shapes, now, session_id, user_id), "json")
        return self._text(xml_login(self.fixtures["login.xml"], now, session_id, user_id), "xml")

    # ------------------------------------------------------------------ event list
    def _handle_eventlist(self, fmt: str) -> SandboxResponse:
        # ASSUMPTION: every event of the account, expired ones included (documented), by
        # ascending ei; times GMT; no parameters besides ver/si/ui.
        shape = self.shapes.eventlist
        names: dict[str, str] = shape["fields"]
        expired_values = shape["expired_values"]
        now = self._now()
        rows = []
        for event in self.dataset.events:
            if event.ei in self.vanished:
                continue
            values: dict[str, Any] = {
                "ei": event.ei,
                "title": event.title,
                "sched_start": gmt(event.start),
                "sched_end": gmt(event.end),
                "timezone": event.timezone,
                "expired": expired_values["true" if event.expired else "false"],
            }
            rows.append({names[k]: values[k] for k in names})
        rows += [row for row in rows if int(row[names["ei"]]) in self.listed_twice]
        if fmt == "json":
            response = self._text(json_eventlist(self.shapes, self.json_style, rows, now), "json")
        else:
            response = self._text(xml_eventlist(self.shapes, rows, now), "xml")
        if self.whitespace_in_empty_lists and not rows and isinstance(response.body, bytes):
            name = shape["list"].encode()
            response.body = response.body.replace(
                b"<%s></%s>" % (name, name), b"<%s>\n    </%s>" % (name, name)
            ).replace(b'"%s": ""' % name, b'"%s": "\n    "' % name)
        if self.eventlist_drip_seconds and isinstance(response.body, bytes):
            response.body = _drip(response.body, self.eventlist_drip_seconds)
        return response

    # ------------------------------------------------------------------ audience report
    def _handle_report(self, params: dict[str, str], fmt: str) -> SandboxResponse:
        ei = params.get("ei", "")
        if ei.isdigit() and int(ei) in self.vanish_after_listing:
            self.vanished.add(int(ei))
            raise WebcastsError("invalid_event", value=ei)
        query = ReportQuery.parse(
            self.dataset, {k: params[k] for k in REPORT_PARAMS if k in params}
        )
        with self._lock:
            self.report_calls += 1
        now = self._now(query.formatter)
        headers = {"Content-Type": self.report_content_type or CONTENT_TYPES[fmt]}
        registrants = self._selected(query)
        pieces: Iterator[str]
        if fmt == "xml":
            pieces = xml_report(
                self.shapes,
                query,
                now,
                registrants,
                attack=self._entity_attack(query.event),
                malformed=query.event.ei in self.malformed_xml_for,
            )
        elif fmt == "json":
            pieces = json_report(
                self.shapes,
                self.json_style,
                query,
                now,
                registrants,
                unwrapped=self.json_attendee_list_unwrapped,
            )
        else:
            pieces = csv_report(
                self.shapes,
                query,
                registrants,
                bom=self.csv_bom,
                interleaved=self.csv_rows_interleaved,
                final_line_break=self.csv_final_line_break,
            )
            headers["Content-Disposition"] = (
                f'attachment; filename="audience_report_{query.event.ei}.csv"'
            )
        if fmt == "xml" and self.xml_namespace:
            pieces = _namespaced_first(pieces, self._namespaced)
        body = _encode_chunks(pieces)
        if not self.stream_responses:
            return SandboxResponse(200, b"".join(body), headers)
        return SandboxResponse(200, body, headers)

    def _entity_attack(self, event: Event) -> str | None:
        if event.ei in self.entity_expansion_for:
            return "expansion"
        if event.ei in self.external_entity_for:
            return "external"
        return None

    def _selected(self, query: ReportQuery) -> Iterator[Registrant]:
        match = query.matches
        for registrant in self.dataset.registrants(query.event.ei):
            if match(registrant):
                yield registrant

    def attendee_json(
        self, registrant: Registrant, fmt: TimeFormatter | None = None
    ) -> dict[str, Any]:
        """The JSON object of one attendee (same tree as the XML element)."""
        labels = self.dataset.event(registrant.ei).labels
        return attendee_json(
            self.shapes, self.json_style, labels, registrant, fmt or TimeFormatter("GMT")
        )

    def csv_header(self, event: Event) -> list[str]:
        return csv_header(self.shapes, event)


def _encode_chunks(pieces: Iterator[str]) -> Iterator[bytes]:
    try:
        for text in pieces:
            if text:
                yield text.encode("utf-8")
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def _namespaced_first(pieces: Iterator[str], namespaced: Callable[[str], str]) -> Iterator[str]:
    """The report's pieces, the root element (in the first piece) with its namespace."""
    first = True
    for text in pieces:
        yield namespaced(text) if first else text
        first = False


def _drip(body: bytes, seconds: float) -> Iterator[bytes]:
    for index in range(len(body)):
        if index:
            time.sleep(seconds)
        yield body[index : index + 1]


def start_webcasts_sandbox(
    dataset: WebcastsDataset | None = None,
    faults: FaultConfig | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    **api_options: Any,
) -> tuple[SandboxServer, WebcastsAPI]:
    """Start a Webcasts.com sandbox in-process (background thread).

    ``api_options`` go to :class:`WebcastsAPI` (session_ttl_seconds, session_max_calls).
    Returns (server, api); call server.stop() (or use the server as a context manager).
    """
    api = WebcastsAPI(dataset, **api_options)
    server = SandboxServer(api, host=host, port=port, faults=faults).start()
    return server, api
