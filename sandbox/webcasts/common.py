"""Constants, errors and text helpers shared by the Webcasts.com dataset, renderers and routes."""

from __future__ import annotations

import json
import time
from calendar import timegm
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

API_VERSION = "2.0"
DEFAULT_USERNAME = "reports@example.com"
DEFAULT_PASSWORD = "s3cret-Pass!"  # noqa: S105 - sandbox credentials
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "webcasts"

#: Registrants generated from one RNG seeding (random access to registrant i costs < BLOCK
#: generations).
BLOCK = 64

# Paths (documented). ASSUMPTION: exact match, case-sensitive, no trailing slash (anything else
# is an HTTP 404 HTML page, as a Java servlet container would answer).
LOGIN_PATHS = {"/api/login": "xml", "/api/login/json": "json"}
EVENTLIST_PATHS = {"/api/reporting/eventlist": "xml", "/api/reporting/eventlist/json": "json"}
REPORT_PATHS = {
    "/api/reporting/audiencereports": "xml",
    "/api/reporting/audiencereports/json": "json",
    "/api/reporting/audiencereports/csv": "csv",
}

# ASSUMPTION: the doc lists "text/xml, text/json, text/csv" as response formats; served as is.
CONTENT_TYPES = {
    "xml": "text/xml;charset=UTF-8",
    "json": "text/json;charset=UTF-8",
    "csv": "text/csv;charset=UTF-8",
}

RC_SUCCESS = 1
#: Every failure the simulator answers, as kind -> (returnCode, message template).
#: ASSUMPTION: the vendor's table is unpublished (only "1 = success, anything else = error").
#: Failures are HTTP 200 with ``result/returnCode`` = the code and
#: ``result/error/{code,message}``; the CSV endpoint answers its errors as XML (see
#: :meth:`WebcastsAPI._error`).
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_credentials": (2, "Invalid username or password."),
    "invalid_version": (3, 'Unsupported API version: ver must be "2.0".'),
    "invalid_session": (4, "Session is no longer valid."),
    "missing_parameter": (5, "Missing required parameter: {name}."),
    "invalid_event": (6, "Invalid event id: {value}."),
    "invalid_timezone": (7, "Invalid time zone: {value}."),
    "invalid_date": (8, "Invalid {name}: {value} (expected mm/dd/yyyy)."),
    "invalid_date_range": (9, "date_range_start is after date_range_end."),
    "domain_conflict": (10, "excl_domain and incl_domain cannot be used together."),
    "invalid_flag": (11, 'Invalid value for {name}: {value} (expected "on" or "off").'),
}

SESSION_TYPES: tuple[str, ...] = ("live", "od", "simlive")
#: on/off filter flags of the audience report that default to "off".
REPORT_FLAGS: tuple[str, ...] = (
    "users_qa",
    "user_survey",
    "no_shows",
    "live_viewers",
    "od_viewers",
    "simlive_viewers",
)
#: Every parameter the audience report understands (besides ver/si/ui).
REPORT_PARAMS: tuple[str, ...] = (
    "ei",
    "tz",
    "date_range_start",
    "date_range_end",
    "dr_regs",
    "dr_sessions",
    "sti_filter",
    "excl_domain",
    "incl_domain",
    *REPORT_FLAGS,
)

#: Characters per streamed piece of a report.
CHUNK = 64 * 1024


def load_fixtures(fixtures_dir: str | Path | None = None) -> dict[str, Any]:
    folder = Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR
    out: dict[str, Any] = {"login.xml": (folder / "login.xml").read_text(encoding="utf-8")}
    for name in ("login", "envelope", "eventlist", "audiencereport", "audiencereport_csv"):
        out[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return out


def gmt(epoch: int) -> str:
    """Naive ``YYYY-MM-DD HH:MM:SS`` in GMT (the format of every time the API serves)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def parse_gmt(text: str) -> int:
    """Inverse of :func:`gmt`."""
    return timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


_MMSS = [f"{m:02d}:{sec:02d}" for m in range(60) for sec in range(60)]


class TimeFormatter:
    """Renders epoch seconds as naive ``YYYY-MM-DD HH:MM:SS`` in one time zone, fast (UTC offsets
    are cached per 15 minutes, ``YYYY-MM-DD HH:`` prefixes per hour)."""

    __slots__ = ("_hours", "_offsets", "tz", "tz_name")

    def __init__(self, tz_name: str = "GMT") -> None:
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self._offsets: dict[int, int] = {}
        self._hours: dict[int, str] = {}

    def _offset_at(self, epoch: int) -> int:
        offset = datetime.fromtimestamp(epoch, self.tz).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def offset(self, epoch: int) -> int:
        quarter = epoch // 900
        offset = self._offsets.get(quarter)
        if offset is None:
            first = self._offset_at(quarter * 900)
            last = self._offset_at(quarter * 900 + 899)
            if first != last:  # a transition inside this quarter hour: no caching
                return self._offset_at(epoch)
            offset = self._offsets[quarter] = first
        return offset

    def __call__(self, epoch: int) -> str:
        offset = self._offsets.get(epoch // 900)
        local = epoch + (offset if offset is not None else self.offset(epoch))
        hour, rest = divmod(local, 3600)
        hour_text = self._hours.get(hour)
        if hour_text is None:
            hour_text = self._hours[hour] = time.strftime("%Y-%m-%d %H:", time.gmtime(hour * 3600))
        return hour_text + _MMSS[rest]

    def local_to_epoch(
        self, year: int, month: int, day: int, hour: int, minute: int, second: int
    ) -> int:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=self.tz)
        return int(moment.timestamp())


_ESCAPED: dict[str, str] = {}


def xml_text(text: str) -> str:
    """XML-escaped text (memoised: most values come from small pools)."""
    escaped = _ESCAPED.get(text)
    if escaped is None:
        escaped = escape(text)
        if len(_ESCAPED) < 100_000:
            _ESCAPED[text] = escaped
    return escaped


def xml_attribute(text: str) -> str:
    """XML-escaped attribute value (for double quotes)."""
    return escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


class WebcastsError(ValueError):
    """A request the API answers with a failure returnCode (also raised by dataset.select)."""

    def __init__(self, kind: str, **fmt: Any) -> None:
        code, template = ERROR_CODES[kind]
        self.kind = kind
        self.code = code
        self.message = template.format(**fmt)
        super().__init__(f"returnCode {code}: {self.message}")
