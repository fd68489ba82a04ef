"""Constants, value pools and formats shared by the Rev dataset and routes."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "rev"

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
REGISTRATIONS_DEFAULT_SIZE = 10  # documented default of `size`
# ASSUMPTION: no maximum is documented for registrations; 500 as the other scrolls.
REGISTRATIONS_MAX_SIZE = 500

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
    "registrations",
    "poll_results",
    "poll_answers",
    "questions",
    "reactions",
)
REPORT_ENDPOINTS = ("post-event-report", "comments", "poll-results", "questions", "reactions")

TITLES = [
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
FIRST = [
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
LAST = ["Lovelace", "Hopper", "Turing", "Brontë", "Álvarez", "Madsen", "雷", "Văn An", "Wójcik"]
# Browser and device values observed in Vbrick's client code (vendor-apis.md 3.5, R1).
BROWSERS = ["Chrome", "Chrome mobile", "Microsoft Edge", "Safari mobile", "Firefox", "Unknown"]
DEVICES = [("PC", "Windows 10"), ("PC", "macOS"), ("Mobile Device", "iOS"), ("Unknown", "None")]
ZONES = ["DefaultZone", "HQ-London", "Remote-VPN"]
# ASSUMPTION: streamAccessed values are unpublished; these name the delivery paths Rev offers.
DELIVERY_PATHS = ["Public CDN", "eCDN", "Multicast"]
COMMENTS = [
    "Great session!",
    "Can you share the slides?",
    "Audio is a bit low",
    "👏👏👏",
    "Merci !",
]
QUESTIONS = ["Will the slides be shared?", "When does this roll out?", "¿Habrá grabación?"]
POLLS = [
    ("How useful was this session?", ["Very useful", "Somewhat useful", "Not useful"]),
    ("Which topic next?", ["Security", "Roadmap", "Benefits", "Q&A"]),
    ("Did the stream play smoothly?", ["Yes", "No"]),
]
TOKEN_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789_-"  # noqa: S105
EMOJIS = [("👍", "1f44d"), ("❤️", "2764"), ("👏", "1f44f"), ("😂", "1f602"), ("🎉", "1f389")]


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


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def shaped(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` in the fixture's key order; fixture keys we do not generate keep the
    sample's value, and generated keys missing from a replaced fixture are still served."""
    out = {
        key: values[key] if key in values else copy.deepcopy(value)
        for key, value in template.items()
    }
    for key, value in values.items():
        out.setdefault(key, value)
    return out
