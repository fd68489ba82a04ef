"""Vbrick Rev webcast reports API simulator.

Seeded dataset (:class:`RevDataset`) and routing (:class:`RevAPI`).

Modelled on /work/shared/vendor-docs/rev-webcast-reports-api.txt, on Vbrick's official OpenAPI
subset (/work/shared/vendor-docs/rev-openapi-webcasts.json, Rev 8.1) and on section 3 of
/work/shared/research/vendor-apis.md. The served object shapes come from ``data/fixtures/rev``
(keys and key order are copied from them, see its README). Behaviour the documents do not
cover is marked ``ASSUMPTION`` where it is implemented.

Time: every expiry (tokens, scroll ids) and every rate-limit window is measured with
``RevAPI.clock`` (``time.time`` by default), so tests can share a fake clock with the tap
and cover minutes of API time in milliseconds.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import FaultConfig
from .server import SandboxRequest, SandboxResponse, SandboxServer, json_bytes

FIXTURES_DIR = Path(__file__).resolve().parent / "data" / "fixtures" / "rev"

# Made-up credentials the sandbox accepts unless told others.
DEFAULT_API_KEY = "sandbox-rev-api-key"
DEFAULT_SECRET = "sandbox-rev-secret"  # noqa: S105
DEFAULT_USERNAME = "report.reader"
DEFAULT_PASSWORD = "sandbox-rev-password"  # noqa: S105
# The dataset's "now": fixed, so a seed always yields the same data and ground truth.
DEFAULT_NOW = "2026-06-01T15:00:00Z"

REPORT_PAGE_SIZE = 500  # documented: "Used if more than 500 attendees are returned"
REALTIME_DEFAULT_COUNT, REALTIME_MAX_COUNT = 50, 500  # documented default and maximum
COMMENTS_DEFAULT_SIZE = 10000  # documented default of `size`

# Per-minute limits of the official clients (vendor-apis.md 3.7): "reports" is the
# viewReport bucket that V3 applies to post-event-report, "realtime" is attendeesRealtime.
DEFAULT_RATE_LIMITS = {"reports": 120, "realtime": 2, "get": 24000}
LAST_PAGE_VARIANTS = ("null", "absent", "empty_page", "count")

# Statuses (eventStatus enum) in which real-time attendees are served.
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
#: The tap's streams, the keys of RevDataset.ground_truth().
STREAMS = (
    "webcasts",
    "attendee_sessions",
    "webcast_attendance_summary",
    "realtime_attendees",
    "comments",
    "poll_results",
    "poll_answers",
    "questions",
    "reactions",
)
REPORT_ENDPOINTS = ("post-event-report", "comments", "poll-results", "questions", "reactions")

_TITLES = [
    "Q3 All Hands",
    "Town Hall — Product Roadmap",
    "Onboarding Week 👋",
    "Sales Kickoff 2026",
    "Security Awareness Training",
    "Café con el CEO",
    "日本チーム四半期レビュー",
    "Zürich Office Opening",
    "Engineering Demo Day 🚀",
    "Customer Success Summit",
    "Benefits Open Enrollment Q&A",
    "Ελληνικά: Ενημέρωση",
]
_FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Zoë",
    "José",
    "Søren",
    "李",
    "Nguyễn",
    "Łukasz",
    "Émilie",
    "Seán",
]
_LAST = ["Lovelace", "Hopper", "Turing", "Brontë", "Álvarez", "Madsen", "雷", "Văn An", "Wójcik"]
# Browser and device values observed in Vbrick's client code (vendor-apis.md 3.5, R1).
_BROWSERS = ["Chrome", "Chrome mobile", "Microsoft Edge", "Safari mobile", "Firefox", "Unknown"]
_DEVICES = [("PC", "Windows 10"), ("PC", "macOS"), ("Mobile Device", "iOS"), ("Unknown", "None")]
_ZONES = ["DefaultZone", "HQ-London", "Remote-VPN"]
# ASSUMPTION: streamAccessed values are unpublished; these name the delivery paths Rev offers.
_STREAMS = ["Public CDN", "eCDN", "Multicast"]
_COMMENTS = [
    "Great session!",
    "Can you share the slides?",
    "Audio is a bit low",
    "👏👏👏",
    "Merci !",
]
_QUESTIONS = ["Will the slides be shared?", "When does this roll out?", "¿Habrá grabación?"]
_POLLS = [
    ("How useful was this session?", ["Very useful", "Somewhat useful", "Not useful"]),
    ("Which topic next?", ["Security", "Roadmap", "Benefits", "Q&A"]),
    ("Did the stream play smoothly?", ["Yes", "No"]),
]
_TOKEN_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789_-"  # noqa: S105
_EMOJIS = [("👍", "1f44d"), ("❤️", "2764"), ("👏", "1f44f"), ("😂", "1f602"), ("🎉", "1f389")]


# ---------------------------------------------------------------------------------- helpers
def load_fixtures(fixtures_dir: str | Path | None = None) -> dict[str, Any]:
    folder = Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def iso(epoch: float) -> str:
    """Rev's date-time format: UTC with milliseconds and Z, e.g. 2020-08-11T12:47:45.950Z."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO 8601 date-time; one without offset is read as UTC."""
    value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def timespan(seconds: int) -> str:
    """A duration the way .NET writes a TimeSpan: HH:MM:SS, or d.HH:MM:SS from one day on.

    ASSUMPTION: the duration format is unpublished; the OpenAPI shows 04:00:00 and 1.06:00:00
    for preProduction.duration (vendor-apis.md 3.9, question 6).
    """
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}.{text}" if days else text


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _shaped(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` in the fixture's key order; fixture keys we do not generate keep the
    sample's value, and generated keys missing from a replaced fixture are still served."""
    out = {k: values[k] if k in values else copy.deepcopy(v) for k, v in template.items()}
    for k, v in values.items():
        out.setdefault(k, v)
    return out


# ---------------------------------------------------------------------------------- dataset
@dataclass
class Webcast:
    """One scheduled event and what its runs produced. Rows are generated on demand."""

    index: int
    id: str
    title: str
    start: float
    end: float
    status: str
    listing_type: str
    source: str
    #: run number -> number of viewing sessions in its post-event report (0 = never ran)
    runs: dict[int, int] = field(default_factory=dict)
    realtime_attendees: int = 0
    log_all_polls: bool = False  # userPollsResponse=LogAll: sessions carry their poll answers
    #: run number -> sessions added by RevDataset.add_sessions, served after the generated ones
    added_sessions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.status == "Completed"

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


class RevDataset:
    """Deterministic Rev webcasts and their reports, at any scale.

    With ``webcasts >= 5`` the last three webcasts are special: the newest is live
    (``InProgress``, served by real-time attendees only), the one before it was scheduled
    but never started (``Scheduled``), and the one before that is ``Completed`` but nobody
    attended (an empty report, and an empty poll-results body). Every third completed
    webcast also has a pre-production run (run number 1). ``big_webcast_sessions`` gives the
    first completed webcast that many viewing sessions (e.g. 200,000).

    Sessions and real-time attendees are generated page by page from the seed when asked
    for, so a 200,000-session report costs memory for one page, not for the report.
    """

    def __init__(
        self,
        seed: int = 7,
        webcasts: int = 8,
        sessions: int = 600,
        big_webcast_sessions: int = 0,
        realtime_attendees: int = 60,
        now: str = DEFAULT_NOW,
        api_key: str = DEFAULT_API_KEY,
        secret: str = DEFAULT_SECRET,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        fixtures_dir: str | Path | None = None,
    ) -> None:
        if min(webcasts, sessions, big_webcast_sessions, realtime_attendees) < 0:
            raise ValueError("webcasts, sessions and attendee counts must be >= 0")
        self.seed = seed
        self.now = parse_iso(now)
        self.api_key, self.secret = api_key, secret
        self.username, self.password = username, password
        self.fixtures = load_fixtures(fixtures_dir)
        self.webcasts: list[Webcast] = []
        self._by_id: dict[str, Webcast] = {}
        self._summaries: dict[tuple[str, int], dict[str, Any]] = {}
        self._first_polls: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._generate(webcasts, sessions, big_webcast_sessions, realtime_attendees)

    # ------------------------------------------------------------------ generation
    def _generate(self, n: int, sessions: int, big: int, realtime: int) -> None:
        rng = random.Random(self.seed)
        span = max(30, 4 * n) * 86400  # events spread over the days before "now"
        starts = sorted(self.now - rng.randint(86400, span) for _ in range(n))
        listing_types = ["AllUsers", "Public", "Private", "TrustedPublic"]
        sources = ["Rtmp", "PresentationProfile", "WebrtcSinglePresenter", "Zoom", "Producer"]
        big_given = False
        for k, start in enumerate(starts):
            role = "completed"
            if n >= 2 and k == n - 1:
                role = "live"
            elif n >= 4 and k == n - 2:
                role = "scheduled"
            elif n >= 5 and k == n - 3:
                role = "never_ran"
            start = float(int(start) // 900 * 900)  # events start on a quarter hour
            if role == "live":
                start = self.now - 20 * 60
            elif role == "scheduled":
                # ASSUMPTION: an event whose host never started it stays "Scheduled" after
                # its scheduled time (its reports are not available).
                start = self.now - 3 * 3600
            webcast = Webcast(
                index=k,
                id=_guid(rng),
                title=_TITLES[k % len(_TITLES)]
                + (f" #{k // len(_TITLES) + 1}" if k >= len(_TITLES) else ""),
                start=start,
                end=start + rng.choice((45, 60, 90)) * 60,
                status={"live": "InProgress", "scheduled": "Scheduled"}.get(role, "Completed"),
                listing_type=listing_types[k % len(listing_types)],
                source=sources[k % len(sources)],
                log_all_polls=k % 2 == 0,
            )
            if role == "completed":
                count = max(1, round(sessions * rng.uniform(0.5, 1.5))) if sessions else 0
                if big and not big_given:
                    count, big_given = big, True
                webcast.runs[0] = count
                if k % 3 == 1:
                    webcast.runs[1] = rng.randint(3, 25)  # a pre-production (dry) run
            elif role == "never_ran":
                # ASSUMPTION: a webcast nobody attended still completes, with a report of
                # zero sessions (and the empty poll-results body).
                webcast.runs[0] = 0
            elif role == "live":
                webcast.realtime_attendees = realtime
            self.webcasts.append(webcast)
            self._by_id[webcast.id] = webcast

    def webcast(self, webcast_id: str) -> Webcast | None:
        return self._by_id.get(webcast_id)

    # ------------------------------------------------------------------ webcast objects
    def listing(self, w: Webcast) -> dict[str, Any]:
        """The eventList object of GET /api/v2/scheduled-events."""
        rng = random.Random(f"{self.seed}:{w.id}:listing")
        pre = None
        if 1 in w.runs:
            pre = {"duration": "01:00:00", "userIds": [_guid(rng)], "groupIds": []}
        values: dict[str, Any] = {
            "id": w.id,
            "title": w.title,
            "description": f"{w.title}: live webcast for all employees.",
            "startDate": iso(w.start),
            "endDate": iso(w.end),
            "listingType": w.listing_type,
            "eventUrl": f"https://company.rev.vbrick.com/#/events/{w.id}",
            "backgroundImages": [
                {"url": f"https://company.rev.vbrick.com/img/{w.id}/bg.jpg", "scaleSize": "Large"}
            ]
            if w.index % 2
            else [],
            "categories": [
                {
                    "categoryId": _guid(rng),
                    "name": "Company News",
                    "fullPath": "Corporate/Company News",
                    "restricted": False,
                }
            ]
            if w.index % 3 == 0
            else [],
            "tags": ["all-hands", "2026"] if w.index % 2 == 0 else [],
            "unlisted": w.index % 7 == 6,
            "estimatedAttendees": max(10, w.runs.get(0, w.realtime_attendees)),
            "lobbyTimeMinutes": 15,
            "preProduction": pre,
            "shortcutName": f"webcast-{w.index}" if w.index % 4 == 0 else None,
            "videoSourceType": w.source,
            # A stream key and a Zoom password are credentials: the tap must not land them.
            "rtmp": {"url": "rtmp://ingest.example.com/live", "key": f"rtmp-key-{w.index}"}
            if w.source == "Rtmp"
            else None,
            "secondaryRtmp": None,
            "secondarySourceEnabled": False,
            "webcastType": "Rev",
            "webexTeam": None,
            "zoom": {"meetingId": f"8{w.index:09d}", "meetingPassword": f"zoom-pw-{w.index}"}
            if w.source == "Zoom"
            else None,
            "vodId": None,
            "presenterId": _guid(rng) if w.source == "WebrtcSinglePresenter" else None,
            "presenterIds": [_guid(rng), _guid(rng)] if w.source == "Producer" else [],
            "attendeeJoinMethod": "Registration" if w.listing_type == "Public" else None,
            "externalPresenters": [
                {"name": "Grace Hopper", "title": "Guest speaker", "email": "grace@example.org"}
            ]
            if w.source == "Producer"
            else [],
            "isFeatured": w.index % 5 == 0,
        }
        return _shaped(self.fixtures["scheduled_event"], values)

    def details(self, w: Webcast) -> dict[str, Any]:
        """The eventDetails object of GET /api/v2/scheduled-events/{eventId}: the listing's
        fields under the details' names (eventId, accessControl, webcastPreProduction)."""
        listing = self.listing(w)
        renamed = {"id": "eventId", "listingType": "accessControl"}
        renamed["preProduction"] = "webcastPreProduction"
        values = {renamed.get(k, k): v for k, v in listing.items()}
        values["htmlDescription"] = f"<p>{listing['description']}</p>"
        values["userPollsResponse"] = "LogAll" if w.log_all_polls else "Anonymous"
        values["password"] = f"webcast-pw-{w.index}" if w.listing_type == "Public" else None
        return _shaped(self.fixtures["scheduled_event_details"], values)

    def status(self, w: Webcast) -> dict[str, Any]:
        # ASSUMPTION: isPreProduction is true only while a dry run is live, so false here.
        values = {
            "title": w.title,
            "startDate": iso(w.start),
            "endDate": iso(w.end),
            "status": w.status,
            "isPreProduction": False,
        }
        return _shaped(self.fixtures["event_status"], values)

    # ------------------------------------------------------------------ post-event report
    def session_count(self, w: Webcast, run: int) -> int:
        return w.runs.get(run, 0) + len(w.added_sessions.get(run, ()))

    def session_page(self, w: Webcast, run: int, page: int) -> list[dict[str, Any]]:
        """Sessions ``[page * 500, (page + 1) * 500)`` of a report, generated from the seed
        (then those of :meth:`add_sessions`, stored, after the generated ones)."""
        n = w.runs.get(run, 0)  # generated sessions; added ones do not change them
        first = page * REPORT_PAGE_SIZE
        end = min(self.session_count(w, run), (page + 1) * REPORT_PAGE_SIZE)
        stop = min(n, end)
        rng = random.Random(f"{self.seed}:{w.id}:{run}:sessions:{page}")
        template = self.fixtures["post_event_report"]["sessions"][0]
        users = max(1, int(n * 0.7))
        step = max(0.001, (w.end - w.start) * 0.8 / max(1, n))
        rows: list[dict[str, Any]] = []
        for i in range(first, stop):
            user = rng.randrange(users)
            entered = round(w.start + i * step + rng.random() * step * 0.5, 3)
            values = self._session_values(rng, w, run, user, entered)
            if i == 2 and rows:
                # Two tabs opened in the same millisecond by the same person: rows that share
                # every identifying field do occur, and both must be kept. (ASSUMPTION)
                for name in ("name", "username", "email", "ipAddress", "browser", "deviceType"):
                    values[name] = rows[-1][name]
                values["enteredDate"] = rows[-1]["enteredDate"]
            rows.append(_shaped(template, values))
        added = w.added_sessions.get(run, [])
        rows += [copy.deepcopy(row) for row in added[max(first, n) - n : max(end, n) - n]]
        return rows

    def add_sessions(self, webcast_id: str, n: int, run_number: int = 0) -> list[dict[str, Any]]:
        """Append ``n`` new viewing sessions to a completed webcast's post-event report.

        The new sessions come after the generated ones (the last page grows, or new pages
        appear), from users no generated session of that report has (so usernames, emails and
        IP addresses are new), entered one second apart after 90% of the webcast, so every
        surrogate key a tap derives from them is new. ``totalSessions`` and the summary are
        recomputed; comments, polls, questions, reactions and the listing do not change
        (they depend on the generated count only). Returns copies of the new rows as served
        (vendor field names, without ``webcast_id``/``run_number``), which ground_truth()
        then includes. Deterministic: the same calls on the same seed add the same rows.
        ASSUMPTION: a report can grow after the event (late on-demand viewers of a completed
        webcast are counted in the same run's report).
        """
        w = self._by_id.get(webcast_id)
        if w is None:
            raise KeyError(webcast_id)
        if not w.completed or run_number not in w.runs:
            raise ValueError(f"webcast {webcast_id} has no completed run {run_number}")
        if n < 0:
            raise ValueError("n must be >= 0")
        template = self.fixtures["post_event_report"]["sessions"][0]
        generated = w.runs[run_number]
        added = w.added_sessions.setdefault(run_number, [])
        # Generated sessions use users [0, 0.7 * generated): start past every one of them.
        first_user = max(1, int(generated * 0.7)) + len(added)
        base = w.start + (w.end - w.start) * 0.9
        new = []
        for k in range(n):
            j = len(added) + k
            rng = random.Random(f"{self.seed}:{w.id}:{run_number}:added:{j}")
            values = self._session_values(rng, w, run_number, first_user + k, base + j + 0.25)
            new.append(_shaped(template, values))
        with self._lock:
            added.extend(new)
            self._summaries.pop((w.id, run_number), None)
        return copy.deepcopy(new)

    def _session_values(
        self, rng: random.Random, w: Webcast, run: int, user: int, entered: float
    ) -> dict[str, Any]:
        first, last = _FIRST[user % len(_FIRST)], _LAST[(user // len(_FIRST)) % len(_LAST)]
        device, os_name = _DEVICES[user % len(_DEVICES)]
        viewing = rng.randint(60, int(w.end - w.start))
        lead = rng.randint(0, 30)
        stream = _STREAMS[user % len(_STREAMS)]
        public_cdn = viewing if stream == "Public CDN" else 0
        rebuffers = rng.choice((0, 0, 0, 1, 2, 5))
        values: dict[str, Any] = {
            # ASSUMPTION: userType values are unpublished; "User" for a Rev account.
            "userType": "User",
            "name": f"{first} {last}",
            "username": f"user{user:06d}",
            "email": f"user{user:06d}@example.com",
            "ipAddress": f"10.{user // 65536 % 256}.{user // 256 % 256}.{user % 256}",
            "browser": _BROWSERS[(user + run) % len(_BROWSERS)],
            "deviceType": device,
            "zone": _ZONES[user % len(_ZONES)],
            "deviceAccessed": os_name,
            "streamAccessed": stream,
            "sessionTime": timespan(viewing + lead),
            "viewingTime": timespan(viewing),
            "publicCDNTime": timespan(public_cdn),
            "eCDNTime": timespan(viewing - public_cdn),
            "enteredDate": iso(entered),
            "exitedDate": iso(entered + viewing + lead),
            "viewingStartTime": iso(entered + lead),
            "experiencedErrors": rng.choice((0, 0, 0, 0, 1)),
            "multicastErrors": 1 if stream == "Multicast" and rng.random() < 0.1 else 0,
            "bufferEvents": rebuffers + rng.randint(0, 2),
            "rebufferEvents": rebuffers,
            "rebufferDuration": rebuffers * rng.randint(1, 4),
            "attendeeType": _attendee_type(user),
            "polls": [],
        }
        if w.log_all_polls and user % 3 == 0:
            for poll in self._first_poll(w, run):
                values["polls"].append(
                    {
                        "pollId": poll["id"],
                        "question": poll["question"],
                        "answers": poll["pollAnswers"][user % len(poll["pollAnswers"])]["answer"],
                        "when": iso(entered + lead + 60),
                    }
                )
        return values

    def _first_poll(self, w: Webcast, run: int) -> list[dict[str, Any]]:
        key = (w.id, run)
        if key not in self._first_polls:
            self._first_polls[key] = self.polls(w, run)[:1]
        return self._first_polls[key]

    def sessions(self, w: Webcast, run: int) -> Iterator[dict[str, Any]]:
        for page in range(math.ceil(self.session_count(w, run) / REPORT_PAGE_SIZE)):
            yield from self.session_page(w, run, page)

    def report_summary(self, w: Webcast, run: int) -> dict[str, Any]:
        """The summary keys of a report (every page carries them), computed once per report.

        ASSUMPTION: the counts are distinct users per attendee type and the ratios are
        rounded to integers, as the integer types of the OpenAPI suggest.
        """
        key = (w.id, run)
        with self._lock:
            if key in self._summaries:
                return self._summaries[key]
        n = self.session_count(w, run)
        users: dict[str, str] = {}
        public = ecdn = rebuffered = rebuffer_total = errors = multicast = 0
        for row in self.sessions(w, run):
            users[row["username"]] = row["attendeeType"]
            public += _seconds(row["publicCDNTime"])
            ecdn += _seconds(row["eCDNTime"])
            if row["rebufferEvents"]:
                rebuffered += 1
                rebuffer_total += row["rebufferDuration"]
            errors += row["experiencedErrors"]
            multicast += row["multicastErrors"]
        types = list(users.values())
        attendees = types.count("Attendee") + types.count("AccountAdmin")
        summary = {
            "totalSessions": n,
            "totalPublicCDNTime": timespan(public),
            "totalECDNTime": timespan(ecdn),
            "hostCount": types.count("Host"),
            "moderatorCount": types.count("Moderator"),
            "attendeeCount": attendees,
            "experiencedRebufferingPercentage": round(100 * rebuffered / n) if n else 0,
            "averageExperiencedRebufferDuration": round(rebuffer_total / rebuffered)
            if rebuffered
            else 0,
            "experiencedErrorsPerAttendees": round(errors / attendees) if attendees else 0,
            "multicastErrorsPerAttendees": round(multicast / attendees) if attendees else 0,
        }
        with self._lock:
            self._summaries[key] = summary
        return summary

    # ------------------------------------------------------------------ real-time attendees
    def realtime_attendee(self, w: Webcast, i: int) -> dict[str, Any]:
        """Attendee ``i`` of a live webcast, PascalCase as in the OpenAPI."""
        rng = random.Random(f"{self.seed}:{w.id}:realtime:{i}")
        template = self.fixtures["realtime_attendees"]["attendees"][0]
        device, os_name = _DEVICES[i % len(_DEVICES)]
        started = w.start + 60 + i * 7
        values = {
            "UserId": _guid(rng),
            "Username": f"user{i:06d}",
            "FullName": f"{_FIRST[i % len(_FIRST)]} {_LAST[i % len(_LAST)]}",
            "UserType": "User",
            "AttendeeType": _attendee_type(i),
            "Email": f"user{i:06d}@example.com",
            "StartTime": iso(started),
            "Status": "Offline" if i % 9 == 8 else "Online",
            "ExperiencedErrors": rng.choice((0, 0, 1)),
            "MulticastFailovers": 0,
            "ExperiencedBufferingDuration": round(rng.random() * 4, 2),
            "ExperiencedBufferingCount": rng.randint(0, 3),
            "AvgExperiencedBufferingDuration": round(rng.random(), 2),
            "AvgBitrateKbps": round(rng.uniform(800, 4500), 1),
            "AvgBandwidthMbps": round(rng.uniform(2, 80), 2),
            "ViewingStartTime": iso(started + 5),
            "ZoneName": _ZONES[i % len(_ZONES)],
            "IpAddress": f"10.1.{i // 256 % 256}.{i % 256}",
            "PlayerDevice": device,
            "Browser": _BROWSERS[i % len(_BROWSERS)],
            "OsName": os_name,
            "DeviceId": _guid(rng),
            "SessionId": _guid(rng),
        }
        return _shaped(template, values)

    # ------------------------------------------------------------------ other reports
    def comments(self, w: Webcast, run: int) -> list[dict[str, Any]]:
        # ASSUMPTION (here and in polls, questions, reactions): a run that did not take place,
        # or a webcast that has not completed, has an empty report rather than an error.
        if not w.completed or not w.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{w.id}:{run}:comments")
        rows = []
        for j in range(rng.randint(0, 12) if run == 0 else rng.randint(0, 3)):
            text = _COMMENTS[(w.index + j) % len(_COMMENTS)]
            user = rng.randrange(max(1, w.runs[run]))
            values = {
                "commentId": _guid(rng),
                "userId": _guid(rng),
                "username": f"user{user:06d}",
                "date": iso(w.start + 120 + j * 45),
                "comment": text,
                "htmlComment": f"<p>{text}</p>",
                "hidden": j % 6 == 5,
            }
            rows.append(_shaped(self.fixtures["comment"], values))
        return rows

    def polls(self, w: Webcast, run: int) -> list[dict[str, Any]]:
        if not w.completed or not w.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{w.id}:{run}:polls")
        template = self.fixtures["poll_results"]["polls"][0]
        rows = []
        for j in range((w.index + run) % 3 + 1):
            question, answers = _POLLS[(w.index + j) % len(_POLLS)]
            votes = [rng.randint(0, max(1, w.runs[run] // 3)) for _ in answers]
            values = {
                "id": _guid(rng),
                "question": question,
                "totalResponses": sum(votes),
                "totalNoResponses": rng.randint(0, 5),
                "allowMultipleAnswers": j == 1,
                "whenPollCreated": iso(w.start + 600 + j * 300),
                "pollAnswers": [
                    {"answer": a, "votes": v} for a, v in zip(answers, votes, strict=True)
                ],
            }
            rows.append(_shaped(template, values))
        return rows

    def questions(self, w: Webcast, run: int) -> list[dict[str, Any]]:
        if not w.completed or not w.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{w.id}:{run}:questions")
        rows = []
        for j in range(rng.randint(0, 5)):
            replied = j % 2 == 0
            asked = w.start + 300 + j * 240
            values = {
                "questionId": _guid(rng),
                "whenAsked": iso(asked),
                "question": _QUESTIONS[j % len(_QUESTIONS)],
                "userName": f"user{j:06d}",
                # V2 types these two as nullable: unanswered questions have none.
                "repliedUserName": "user000000" if replied else None,
                "askedBy": f"{_FIRST[j % len(_FIRST)]} {_LAST[j % len(_LAST)]}",
                "repliedBy": "Ada Lovelace" if replied else None,
                "whenReplied": iso(asked + 90) if replied else None,
                "lastAction": "Replied" if replied else "Asked",
                "reply": "Yes, after the event." if replied else None,
                "isPublic": j % 3 != 2,
            }
            rows.append(_shaped(self.fixtures["question"], values))
        return rows

    def reactions(self, w: Webcast, run: int) -> list[dict[str, Any]]:
        if not w.completed or not w.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{w.id}:{run}:reactions")
        rows = []
        # ASSUMPTION: one row per (minute, emoji) with a count, as reactionsSummary suggests.
        for minute in range(rng.randint(0, 4)):
            for emoji, code in rng.sample(_EMOJIS, 2):
                values = {
                    "webcastDate": iso(w.start + 300 + minute * 60),
                    "reaction": emoji,
                    "unicode": code,
                    "count": rng.randint(1, 40),
                }
                rows.append(_shaped(self.fixtures["reaction"], values))
        return rows

    # ------------------------------------------------------------------ ground truth
    def runs_of(self, w: Webcast) -> list[int]:
        """Runs with a post-event report: those of completed webcasts."""
        return sorted(w.runs) if w.completed else []

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """Every row each stream of a tap reading every run of every webcast should yield.

        Raw vendor objects (vendor field names), each report row with ``webcast_id`` and
        ``run_number`` added. ``webcasts`` rows carry the ``status`` of /status.
        Switches on RevAPI (casing, last-page variants) are not applied.
        """
        truth: dict[str, list[dict[str, Any]]] = {name: [] for name in STREAMS}
        for w in self.webcasts:
            truth["webcasts"].append({**self.listing(w), "status": w.status})
            for i in range(w.realtime_attendees):
                row = self.realtime_attendee(w, i)
                truth["realtime_attendees"].append({**row, "webcast_id": w.id, "run_number": 0})
            for run in self.runs_of(w):
                ids = {"webcast_id": w.id, "run_number": run}
                truth["attendee_sessions"] += [{**s, **ids} for s in self.sessions(w, run)]
                truth["webcast_attendance_summary"].append({**self.report_summary(w, run), **ids})
                truth["comments"] += [{**c, **ids} for c in self.comments(w, run)]
                for poll in self.polls(w, run):
                    truth["poll_results"].append({**poll, **ids})
                    truth["poll_answers"] += [
                        {**a, **ids, "poll_id": poll["id"]} for a in poll["pollAnswers"]
                    ]
                truth["questions"] += [{**q, **ids} for q in self.questions(w, run)]
                truth["reactions"] += [{**r, **ids} for r in self.reactions(w, run)]
        return truth

    def expected_counts(self) -> dict[str, int]:
        """Rows per stream, without generating sessions or attendees."""
        counts = dict.fromkeys(STREAMS, 0)
        for w in self.webcasts:
            counts["webcasts"] += 1
            counts["realtime_attendees"] += w.realtime_attendees
            for run in self.runs_of(w):
                counts["attendee_sessions"] += self.session_count(w, run)
                counts["webcast_attendance_summary"] += 1
                counts["comments"] += len(self.comments(w, run))
                polls = self.polls(w, run)
                counts["poll_results"] += len(polls)
                counts["poll_answers"] += sum(len(p["pollAnswers"]) for p in polls)
                counts["questions"] += len(self.questions(w, run))
                counts["reactions"] += len(self.reactions(w, run))
        return counts


def _attendee_type(user: int) -> str:
    if user == 0:
        return "Host"
    if user in (1, 2):
        return "Moderator"
    return "AccountAdmin" if user % 23 == 5 else "Attendee"


def _seconds(duration: str) -> int:
    days, _, clock = duration.rpartition(".") if "." in duration else ("", "", duration)
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return int(days or 0) * 86400 + hours * 3600 + minutes * 60 + seconds


# ---------------------------------------------------------------------------------- API
@dataclass
class ApiCall:
    """One request the simulator answered (injected server faults are not seen here)."""

    method: str
    path: str
    query: dict[str, list[str]]
    family: str | None  # rate-limit family: "reports", "realtime", "get" or None (auth)
    status: int
    at: float  # RevAPI.clock() on arrival
    throttled: bool = False  # a 429 served because the family's limit was reached


@dataclass
class _Scroll:
    kind: str  # "report" or "realtime"
    webcast_id: str
    run: int
    offset: int
    issued_at: float
    request: dict[str, Any] = field(default_factory=dict)  # realtime search parameters


class RevAPI:
    """Routes ``/api/v2/...`` requests to a :class:`RevDataset`.

    Check order: route (404) -> method (405) -> ``Authorization: VBrick <token>`` (401, no
    body) -> per-family rate limit (429) -> webcast lookup (404) -> parameters (400).

    Switches (plain attributes, read on every request):
      * ``token_lifetime``: seconds a token lives after login or extend-session.
      * ``scroll_ttl``: seconds a scroll id stays valid after it was issued.
      * ``last_page``: how the last page of a scroll says so: "null" (scrollId null),
        "absent" (no scrollId key), "empty_page" (a live scrollId whose next page is empty)
        or "count" (a scrollId that no longer works: only totalSessions/total tell).
      * ``attendee_casing``: "pascal" (the OpenAPI) or "camel" (Vbrick's TypeScript client).
      * ``rate_limits``: requests per minute per family; ``rate_limit_retry_after`` adds a
        Retry-After header to those 429s (the docs publish none).
      * ``accept_tokens``: False makes every authenticated call answer 401, even with a
        fresh token (a user whose API access was withdrawn mid-run).
    """

    def __init__(
        self, dataset: RevDataset | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.dataset = dataset if dataset is not None else RevDataset()
        self.clock: Callable[[], float] = clock or time.time
        self.token_lifetime = 600.0  # ASSUMPTION: set by each tenant's admin; V2 assumes 10 min
        self.scroll_ttl = 60.0  # ASSUMPTION: the video search docs state 60 s for scroll ids
        self.last_page = "null"
        self.attendee_casing = "pascal"
        self.rate_limits = dict(DEFAULT_RATE_LIMITS)
        self.rate_limit_retry_after = False
        self.accept_tokens = True
        self.calls: list[ApiCall] = []
        self.tokens: dict[str, float] = {}  # token -> expiry
        self.issued_tokens: list[str] = []  # every token ever issued (tests look for leaks)
        self._scrolls: dict[str, _Scroll] = {}
        self._windows: dict[str, deque[float]] = {}
        self._rng = random.Random(f"{self.dataset.seed}:tokens")
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ inspection
    def count(self, path_contains: str = "", status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for c in self.calls
                if path_contains in c.path and (status is None or c.status == status)
            )

    def throttled(self, family: str | None = None) -> int:
        """429s served because a client exceeded a family's limit."""
        with self._lock:
            return sum(1 for c in self.calls if c.throttled and family in (None, c.family))

    def max_per_minute(self, family: str) -> int:
        """The most accepted requests of ``family`` within any 60 s of API time."""
        with self._lock:
            times = [c.at for c in self.calls if c.family == family and not c.throttled]
        best, lo = 0, 0
        for hi, at in enumerate(times):
            while at - times[lo] >= 60:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def revoke_tokens(self) -> None:
        """Every issued token stops working (as after a server-side session reset)."""
        with self._lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ routing
    def handle(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            now = self.clock()
            response, family, throttled = self._route(request, now)
            self.calls.append(
                ApiCall(
                    request.method,
                    request.path,
                    request.query,
                    family,
                    response.status,
                    now,
                    throttled,
                )
            )
            return response

    def _route(
        self, request: SandboxRequest, now: float
    ) -> tuple[SandboxResponse, str | None, bool]:
        segs = request.path.split("/")[1:]  # "", "api", "v2", ...
        if segs[:2] != ["api", "v2"]:
            return _error(404, "NotFound", "Not found."), None, False
        rest = segs[2:]
        method = request.method
        auth_routes = {
            ("authenticate",): ("POST", self._authenticate),
            ("user", "login"): ("POST", self._user_login),
        }
        if tuple(rest) in auth_routes:
            expected, handler = auth_routes[tuple(rest)]
            if method != expected:
                # ASSUMPTION: a wrong method answers 405 with the {code, detail} body.
                return _error(405, "MethodNotAllowed", "Method not allowed."), None, False
            return handler(request, now), None, False

        route = self._match(rest)
        if route is None:
            # Includes the deprecated /api/v2/events/{id}/report and
            # /api/v2/scheduled-events/{id}/report: the tap must not use them.
            return _error(404, "NotFound", "Not found."), None, False
        name, expected, family, webcast_id = route
        if method != expected:
            return _error(405, "MethodNotAllowed", "Method not allowed."), family, False
        if not self._authorized(request, now):
            return SandboxResponse(401, b"", {}), family, False
        if family is not None:
            limited = self._admit(family, now)
            if limited is not None:
                return limited, family, True
        if name == "extend-session":
            return self._extend_session(request, now), family, False
        if name == "session":
            return SandboxResponse(200, b"", {}), family, False
        if name == "list":
            return self._list(request), family, False
        webcast = self.dataset.webcast(webcast_id or "")
        if webcast is None:
            # ASSUMPTION: an unknown webcast id answers 404 {code, detail} on every endpoint.
            return _error(404, "WebcastNotFound", "Webcast not found."), family, False
        handlers: dict[str, Callable[[SandboxRequest, Webcast, float], SandboxResponse]] = {
            "details": lambda r, w, t: SandboxResponse.json(200, self.dataset.details(w)),
            "status": lambda r, w, t: SandboxResponse.json(200, self.dataset.status(w)),
            "post-event-report": self._post_event_report,
            "real-time/attendees": self._realtime_attendees,
            "comments": self._comments,
            "poll-results": self._poll_results,
            "questions": self._questions,
            "reactions": self._reactions,
        }
        return handlers[name](request, webcast, now), family, False

    @staticmethod
    def _match(rest: list[str]) -> tuple[str, str, str | None, str | None] | None:
        """(route name, method, rate-limit family, webcast id) of an authenticated path.

        ASSUMPTION: each request counts toward exactly one family. Reports = the report
        endpoints (V3 puts post-event-report in its viewReport bucket; we put comments, polls,
        Q&A and reactions there too), realtime = real-time attendees, get = every other GET.
        Session calls (POST) are not limited.
        """
        if rest == ["user", "extend-session"]:
            return "extend-session", "POST", None, None
        if rest == ["user", "session"]:
            return "session", "GET", None, None
        if rest == ["scheduled-events"]:
            return "list", "GET", "get", None
        if len(rest) < 2 or rest[0] != "scheduled-events" or not rest[1]:
            return None
        webcast_id, tail = rest[1], "/".join(rest[2:])
        if tail == "":
            return "details", "GET", "get", webcast_id
        if tail == "status":
            return "status", "GET", "get", webcast_id
        if tail == "real-time/attendees":
            return tail, "POST", "realtime", webcast_id
        if tail in REPORT_ENDPOINTS:
            return tail, "GET", "reports", webcast_id
        return None

    # ------------------------------------------------------------------ auth
    def _issue_token(self, now: float) -> tuple[str, str]:
        token = "".join(self._rng.choice(_TOKEN_CHARS) for _ in range(40))
        self.tokens[token] = now + self.token_lifetime
        self.issued_tokens.append(token)
        return token, iso(now + self.token_lifetime)

    def _credentials(self, request: SandboxRequest) -> dict[str, Any] | None:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        # ASSUMPTION: keys match case-insensitively: the portal's example sends ApiKey/Secret,
        # the OpenAPI apiKey/secret (.NET model binding ignores case).
        return {str(k).lower(): v for k, v in body.items()}

    def _authenticate(self, request: SandboxRequest, now: float) -> SandboxResponse:
        body = self._credentials(request)
        if body is None:
            return _error(400, "BadRequest", "The request body must be a JSON object.")
        ds = self.dataset
        if body.get("apikey") != ds.api_key or body.get("secret") != ds.secret:
            return SandboxResponse(401, b"", {})  # documented: 401 without a body
        token, expiration = self._issue_token(now)
        values = {"token": token, "issuer": "VBrick", "expiration": expiration}
        return SandboxResponse.json(200, _shaped(ds.fixtures["authenticate_response"], values))

    def _user_login(self, request: SandboxRequest, now: float) -> SandboxResponse:
        body = self._credentials(request)
        if body is None:
            return _error(400, "BadRequest", "The request body must be a JSON object.")
        ds = self.dataset
        if body.get("username") != ds.username or body.get("password") != ds.password:
            return SandboxResponse(401, b"", {})
        token, expiration = self._issue_token(now)
        values = {"token": token, "issuer": "VBrick", "expiration": expiration}
        return SandboxResponse.json(200, _shaped(ds.fixtures["user_login_response"], values))

    def _authorized(self, request: SandboxRequest, now: float) -> bool:
        header = request.headers.get("Authorization") or ""
        # ASSUMPTION: the "VBrick " prefix is matched exactly (case and single space).
        if not header.startswith("VBrick ") or not self.accept_tokens:
            return False
        expiry = self.tokens.get(header[len("VBrick ") :])
        return expiry is not None and now < expiry

    def _extend_session(self, request: SandboxRequest, now: float) -> SandboxResponse:
        # ASSUMPTION: the token stays the same; only its expiry moves (the docs return just
        # the new expiration).
        token = (request.headers.get("Authorization") or "")[len("VBrick ") :]
        self.tokens[token] = now + self.token_lifetime
        values = {"expiration": iso(now + self.token_lifetime)}
        return SandboxResponse.json(
            200, _shaped(self.dataset.fixtures["extend_session_response"], values)
        )

    # ------------------------------------------------------------------ rate limits
    def _admit(self, family: str, now: float) -> SandboxResponse | None:
        """None if the request may proceed, else the 429 to send.

        ASSUMPTION: a sliding 60 s window per family and account (the strictest reading of
        "per minute"); throttled requests do not count. The body is the plain text V2's
        client falls back to for a non-JSON 429.
        """
        limit = self.rate_limits.get(family)
        if limit is None:
            return None
        window = self._windows.setdefault(family, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) < limit:
            window.append(now)
            return None
        headers = {"Content-Type": "text/plain"}
        if self.rate_limit_retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(window[0] + 60 - now)))
        return SandboxResponse(429, b"Too Many Requests", headers)

    # ------------------------------------------------------------------ listing
    def _list(self, request: SandboxRequest) -> SandboxResponse:
        q = request.query
        try:
            after = parse_iso(q["after"][-1]) if q.get("after") else None
            before = parse_iso(q["before"][-1]) if q.get("before") else None
        except ValueError:
            return _error(400, "InvalidDate", "after and before must be ISO 8601 date-times.")
        now = self.clock()
        year = 365 * 86400
        # Documented defaults: after = before - 12 months or now; before = after + 12 months
        # or now + 12 months.
        if after is None:
            after = before - year if before is not None else now
        if before is None:
            before = after + year if q.get("after") else now + year
        sort_field = (q.get("sortField") or ["startDate"])[-1]
        direction = (q.get("sortDirection") or ["asc"])[-1]
        if sort_field not in ("startDate", "title") or direction not in ("asc", "desc"):
            return _error(400, "InvalidSort", "sortField: startDate|title, sortDirection: asc|desc")
        featured = (q.get("isFeatured") or [""])[-1]
        rows = [
            self.dataset.listing(w)
            for w in self.dataset.webcasts
            if w.end > after and w.start <= before  # "end date after", "start date on or before"
        ]
        if featured in ("true", "false"):
            rows = [r for r in rows if r["isFeatured"] == (featured == "true")]
        rows.sort(key=lambda r: r[sort_field], reverse=direction == "desc")
        return SandboxResponse.json(200, rows)

    # ------------------------------------------------------------------ scrolls
    def _new_scroll(self, scroll: _Scroll) -> str:
        # ASSUMPTION: every page hands out a new scroll id, and each works once ("forward
        # only"); Elasticsearch-style APIs may repeat one id, which the tap also copes with.
        scroll_id = f"scr_{self._rng.getrandbits(96):024x}"
        self._scrolls[scroll_id] = scroll
        return scroll_id

    def _take_scroll(self, scroll_id: str, kind: str, webcast: Webcast, now: float) -> _Scroll:
        """The scroll a request continues; forward only, so each id works once.

        Raises LookupError for an unknown, used, expired or foreign scroll id.
        """
        scroll = self._scrolls.pop(scroll_id, None)
        if scroll is None or scroll.kind != kind or scroll.webcast_id != webcast.id:
            raise LookupError(scroll_id)
        if now - scroll.issued_at > self.scroll_ttl:
            raise LookupError(scroll_id)
        return scroll

    def _finish_page(
        self, body: dict[str, Any], scroll: _Scroll, served: int, total: int, now: float
    ) -> dict[str, Any]:
        """Set ``scrollId`` for the page that ends at ``scroll.offset + served``."""
        end = scroll.offset + served
        if end < total:
            scroll.offset, scroll.issued_at = end, now
            body["scrollId"] = self._new_scroll(scroll)
        elif self.last_page == "absent":
            body.pop("scrollId", None)
        elif self.last_page == "empty_page" and served:
            scroll.offset, scroll.issued_at = end, now
            body["scrollId"] = self._new_scroll(scroll)  # the next page is empty
        elif self.last_page == "count" and served:
            body["scrollId"] = f"scr_{self._rng.getrandbits(96):024x}"  # already dead
        else:
            body["scrollId"] = None
        return body

    # ------------------------------------------------------------------ reports
    def _post_event_report(
        self, request: SandboxRequest, w: Webcast, now: float
    ) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _bad_report("runNumber must be an integer.")
        scroll_id = (request.query.get("scrollId") or [""])[-1]
        if scroll_id:
            try:
                scroll = self._take_scroll(scroll_id, "report", w, now)
            except LookupError:
                # ASSUMPTION: an expired, used or unknown scrollId gets the documented 400
                # envelope (V2 models scroll expiry as its own error; the docs are silent).
                return _bad_report("The scrollId is invalid or has expired.")
            if scroll.run != run:
                return _bad_report("The scrollId belongs to another run.")
        else:
            if not w.completed:
                return _bad_report(f"Webcast is not completed (status {w.status}).")
            if run not in w.runs:
                return _bad_report(f"No report for run number {run} of this webcast.")
            scroll = _Scroll("report", w.id, run, 0, now)
        total = self.dataset.session_count(w, run)
        sessions = (
            self.dataset.session_page(w, run, scroll.offset // REPORT_PAGE_SIZE)
            if scroll.offset < total
            else []  # past the last page: the "empty_page" variant
        )
        body = {
            k: v
            for k, v in self.dataset.fixtures["post_event_report"].items()
            if k not in ("sessions", "scrollId")
        }
        body.update(self.dataset.report_summary(w, run))
        body["sessions"] = sessions
        body["scrollId"] = None
        return SandboxResponse(
            200, json_bytes(self._finish_page(body, scroll, len(sessions), total, now))
        )

    def _realtime_attendees(
        self, request: SandboxRequest, w: Webcast, now: float
    ) -> SandboxResponse:
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "BadRequest", "The request body must be JSON.")
        search = {str(k).lower(): v for k, v in (raw or {}).items()}
        scroll_id = search.get("scrollid")
        if scroll_id:
            try:
                scroll = self._take_scroll(str(scroll_id), "realtime", w, now)
            except LookupError:
                # ASSUMPTION: the general {code, detail} error with V2's ScrollExpired code.
                return _error(400, "ScrollExpired", "The scrollId is invalid or has expired.")
        else:
            if not w.live:
                # ASSUMPTION: real-time attendees exist only while a webcast runs.
                return _error(400, "WebcastNotRunning", f"Webcast status is {w.status}.")
            count = search.get("count", REALTIME_DEFAULT_COUNT)
            if not isinstance(count, int) or count < 1:
                return _error(400, "BadRequest", "count must be an integer from 1 to 500.")
            request_values = {
                # ASSUMPTION: a count above the documented maximum of 500 is clamped.
                "count": min(count, REALTIME_MAX_COUNT),
                "details": str(search.get("attendeedetails") or "Base"),
                "status": str(search.get("status") or "All"),
            }
            run = search.get("runnumber") or 0
            if not isinstance(run, int) or run < 0:
                return _error(400, "BadRequest", "runNumber must be an integer >= 0.")
            scroll = _Scroll("realtime", w.id, run, 0, now)
            scroll.request = request_values
        wanted = scroll.request
        # ASSUMPTION: the live run is the main event (0); other run numbers have no one.
        attendees = w.realtime_attendees if scroll.run == 0 else 0
        everyone = [self.dataset.realtime_attendee(w, i) for i in range(attendees)]
        if wanted["status"] in ("Online", "Offline"):
            everyone = [a for a in everyone if a["Status"] == wanted["status"]]
        page = everyone[scroll.offset : scroll.offset + wanted["count"]]
        if wanted["details"] == "Base":
            base = ("UserId", "Username", "Email", "StartTime", "SessionId", "FullName")
            page = [{k: a[k] for k in base if k in a} for a in page]
        elif wanted["details"] == "Counts":
            page = []  # ASSUMPTION: "Counts" answers the totals with an empty attendee list
        if self.attendee_casing == "camel":
            page = [{k[:1].lower() + k[1:]: v for k, v in a.items()} for a in page]
        types = [a["AttendeeType"] for a in everyone]
        values = {
            "total": len(everyone),
            "hostCount": types.count("Host"),
            "moderatorCount": types.count("Moderator"),
            "attendeeCount": types.count("Attendee") + types.count("AccountAdmin"),
            "attendees": page,
            "status": "Active",  # ASSUMPTION: aggregation is always running ("Initiated" never)
        }
        body = _shaped(self.dataset.fixtures["realtime_attendees"], values)
        served = len(page) if wanted["details"] != "Counts" else len(everyone)
        return SandboxResponse.json(
            200, self._finish_page(body, scroll, served, len(everyone), now)
        )

    def _comments(self, request: SandboxRequest, w: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        size_values = request.query.get("size") or [str(COMMENTS_DEFAULT_SIZE)]
        size = int(size_values[-1]) if size_values[-1].isdigit() else COMMENTS_DEFAULT_SIZE
        # ASSUMPTION: the docs mention a scrollId for more than `size` comments but not where
        # it is returned; the first `size` comments are served and scrollId is ignored.
        return SandboxResponse.json(200, self.dataset.comments(w, run)[:size])

    def _poll_results(self, request: SandboxRequest, w: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        if not w.completed or not w.runs.get(run):
            # A run that never happened answers 200 with an EMPTY body, not JSON (V2's
            # "workaround for event that never happened returning blank response").
            # ASSUMPTION: the same for runs that do not exist and webcasts not completed.
            return SandboxResponse(200, b"", {"Content-Type": "application/json"})
        return SandboxResponse.json(200, {"polls": self.dataset.polls(w, run)})

    def _questions(self, request: SandboxRequest, w: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        return SandboxResponse.json(200, self.dataset.questions(w, run))

    def _reactions(self, request: SandboxRequest, w: Webcast, now: float) -> SandboxResponse:
        run = _run_number(request.query)
        if run is None:
            return _error(400, "BadRequest", "runNumber must be an integer.")
        return SandboxResponse.json(200, self.dataset.reactions(w, run))


def _run_number(query: dict[str, list[str]]) -> int | None:
    """runNumber of a report request: documented default 0; None when not an integer."""
    raw = (query.get("runNumber") or ["0"])[-1]
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _error(status: int, code: str, detail: str) -> SandboxResponse:
    # The documented serverErrorResponse shape; ASSUMPTION: 4xx errors use it too.
    return SandboxResponse.json(status, {"code": code, "detail": detail})


def _bad_report(description: str) -> SandboxResponse:
    """The documented post-event-report 400 (postEventSessionsBadRequest)."""
    return SandboxResponse.json(
        400, {"sessions": [], "totalSessions": 0, "errorDescription": description}
    )


def start_rev_sandbox(
    dataset: RevDataset | None = None,
    faults: FaultConfig | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    clock: Callable[[], float] | None = None,
) -> tuple[SandboxServer, RevAPI]:
    """Start a Rev sandbox in-process (background thread); returns (server, api)."""
    api = RevAPI(dataset, clock=clock)
    server = SandboxServer(api, host=host, port=port, faults=faults).start()
    return server, api


# ---------------------------------------------------------------------------------- CLI
def add_rev_dataset_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("dataset")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--webcasts", type=int, default=8)
    g.add_argument("--sessions", type=int, default=600, help="mean sessions per report")
    g.add_argument(
        "--big-webcast-sessions",
        type=int,
        default=0,
        help="give the first completed webcast this many sessions (e.g. 200000)",
    )
    g.add_argument("--realtime-attendees", type=int, default=60)
    g.add_argument("--now", default=DEFAULT_NOW, help="the dataset's reference time")
    g.add_argument("--api-key", default=DEFAULT_API_KEY)
    g.add_argument("--secret", default=DEFAULT_SECRET)
    g.add_argument("--username", default=DEFAULT_USERNAME)
    g.add_argument("--password", default=DEFAULT_PASSWORD)


def add_rev_api_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rev api")
    g.add_argument("--token-lifetime", type=float, default=600.0, help="seconds")
    g.add_argument("--scroll-ttl", type=float, default=60.0, help="seconds")
    g.add_argument("--last-page", choices=LAST_PAGE_VARIANTS, default="null")
    g.add_argument("--attendee-casing", choices=("pascal", "camel"), default="pascal")
    for family, limit in DEFAULT_RATE_LIMITS.items():
        g.add_argument(f"--{family}-per-minute", type=int, default=limit)
    g.add_argument(
        "--rate-limit-retry-after",
        action="store_true",
        help="send Retry-After with rate-limit 429s (the docs publish none)",
    )


def rev_dataset_from_args(a: argparse.Namespace) -> RevDataset:
    return RevDataset(
        seed=a.seed,
        webcasts=a.webcasts,
        sessions=a.sessions,
        big_webcast_sessions=a.big_webcast_sessions,
        realtime_attendees=a.realtime_attendees,
        now=a.now,
        api_key=a.api_key,
        secret=a.secret,
        username=a.username,
        password=a.password,
    )


def rev_app_from_args(a: argparse.Namespace) -> RevAPI:
    api = RevAPI(rev_dataset_from_args(a))
    api.token_lifetime = a.token_lifetime
    api.scroll_ttl = a.scroll_ttl
    api.last_page = a.last_page
    api.attendee_casing = a.attendee_casing
    api.rate_limits = {f: getattr(a, f"{f}_per_minute") for f in DEFAULT_RATE_LIMITS}
    api.rate_limit_retry_after = a.rate_limit_retry_after
    return api


def add_rev_truth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--counts-only",
        action="store_true",
        help="only the rows per stream (cheap at any size)",
    )


def rev_truth_from_args(a: argparse.Namespace) -> dict:
    dataset = rev_dataset_from_args(a)
    return dataset.expected_counts() if a.counts_only else dataset.ground_truth()
