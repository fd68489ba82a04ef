"""The figures the engagement marts must hold, computed from the sandbox's ground truth in
plain Python: its own interval merge, sweep and parsing, nothing shared with the SQL."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import datetime

DEMO_SALT = "webinar-taps-public-demo-salt"  # the model's salt when none is set
STAFF = {"Host", "Moderator"}


def person_key(email: str, salt: str = DEMO_SALT) -> str:
    return hashlib.sha256((salt + email.strip().lower()).encode()).hexdigest()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "").replace(" ", "T"))


def timespan_seconds(text: str) -> float:
    """Rev's '[d.]hh:mm:ss[.fffffff]'."""
    days, hours, minutes, seconds = re.fullmatch(
        r"(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)", text
    ).groups()  # type: ignore[union-attr]
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    islands: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if islands and start <= islands[-1][1]:
            islands[-1][1] = max(islands[-1][1], end)
        else:
            islands.append([start, end])
    return [(start, end) for start, end in islands]


def peak(people: dict[str, list[tuple[datetime, datetime]]]) -> int:
    """Most people watching at once; one leaving as another arrives is not an overlap."""
    changes = sorted(
        (moment_, delta)
        for intervals in people.values()
        for start, end in merged(intervals)
        for moment_, delta in ((start, 1), (end, -1))
    )
    watching = best = 0
    for _, delta in changes:
        watching += delta
        best = max(best, watching)
    return best


def seconds(intervals: list[tuple[datetime, datetime]]) -> float:
    return sum((end - start).total_seconds() for start, end in merged(intervals))


class Expected:
    """event_metrics[(source_system, source_event_id)] -> figures;
    minutes[(source_system, source_event_id, person_key)] -> union minutes."""

    def __init__(self, truth: dict[str, dict]) -> None:
        self.event_metrics: dict[tuple[str, str], dict] = {}
        self.minutes: dict[tuple[str, str, str], float] = {}
        self._cast(truth["cast"])
        self._webcasts(truth["webcasts"])
        self._rev(truth["rev"])
        self.username_resolution = self._usernames(truth["rev"])

    def _viewing(self, system: str, event: str, people: dict, vendor_seconds: float) -> dict:
        for email, intervals in people.items():
            self.minutes[(system, event, person_key(email))] = seconds(intervals) / 60
        return {
            "attendees": len(people),
            "total_minutes_viewed": sum(seconds(i) for i in people.values()) / 60,
            "peak_concurrent_viewers": peak(people),
            "vendor_minutes_viewed": vendor_seconds / 60,
        }

    def _cast(self, truth: dict) -> None:
        recipients, viewers = defaultdict(set), defaultdict(set)
        for event in truth["analytics_events"]:
            email = event["contact_email"].strip().lower()
            recipients[event["generation_id"]].add(email)
            if event["event_type"] == "view":
                viewers[event["generation_id"]].add(email)
        for campaign in truth["campaigns"]:
            key = campaign["generate_group"]
            self.event_metrics[("cast", key)] = {
                "registrants": len(recipients[key]),
                "attendees": len(viewers[key]),
                "total_minutes_viewed": None,
                "peak_concurrent_viewers": None,
                "vendor_minutes_viewed": None,
            }

    def _webcasts(self, truth: dict) -> None:
        for event in truth["events"]:
            audience = [p for p in truth["audience"] if p["ei"] == event["ei"]]
            people = {
                p["email"].strip().lower(): [
                    (moment(s["start"]), moment(s["end"])) for s in p["sessions"]
                ]
                for p in audience
                if p["sessions"]
            }
            vendor = sum(s["duration"] for p in audience for s in p["sessions"])
            self.event_metrics[("webcasts", str(event["ei"]))] = {
                "registrants": len(audience),
                **self._viewing("webcasts", str(event["ei"]), people, vendor),
            }

    def _rev(self, truth: dict) -> None:
        for webcast in truth["webcasts"]:
            sessions = [
                s for s in truth["attendee_sessions"]
                if s["webcast_id"] == webcast["id"] and s["run_number"] == 0
            ]  # fmt: skip
            people: dict[str, list] = defaultdict(list)
            for s in sessions:
                if s["attendeeType"] not in STAFF:
                    people[s["email"].strip().lower()].append(
                        (moment(s["viewingStartTime"]), moment(s["exitedDate"]))
                    )
            registrants = {
                r["email"].strip().lower()
                for r in truth["registrations"]
                if r["webcast_id"] == webcast["id"]
            }
            vendor = sum(timespan_seconds(s["viewingTime"]) for s in sessions)
            self.event_metrics[("rev", webcast["id"])] = {
                "registrants": len(registrants) if webcast["listingType"] == "Public" else None,
                **self._viewing("rev", webcast["id"], people, vendor),
            }
            if not sessions:  # no durations reported: the vendor's sum is absent, ours 0
                self.event_metrics[("rev", webcast["id"])]["vendor_minutes_viewed"] = None

    @staticmethod
    def _usernames(truth: dict) -> dict[str, tuple[int, int]]:
        """Per interaction type: (resolved, unresolved) Rev comments and questions, a
        username resolving when Rev's sessions show it with exactly one email."""
        emails = defaultdict(set)
        for s in truth["attendee_sessions"]:
            emails[s["username"].strip().lower()].add(s["email"].strip().lower())
        for a in truth["realtime_attendees"]:
            emails[a["Username"].strip().lower()].add(a["Email"].strip().lower())
        counts = {}
        for kind, rows, field in (("comment", truth["comments"], "username"),
                                  ("question", truth["questions"], "userName")):  # fmt: skip
            resolved = sum(len(emails.get(r[field].strip().lower(), ())) == 1 for r in rows)
            counts[kind] = (resolved, len(rows) - resolved)
        return counts
