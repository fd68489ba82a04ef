"""The figures the engagement marts must hold, computed from the sandbox's ground truth in
plain Python: its own interval merge, sweep and parsing, nothing shared with the SQL."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import datetime

DEMO_SALT = "webinar-taps-public-demo-salt"  # the model's salt when none is set
STAFF = {"Host", "Moderator"}
LIVE_TYPES = {"live", "simlive"}  # the Webcasts.com API's session types watched live


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


def score(attention: float, offered: dict[str, bool], earned: dict[str, float]) -> float:
    """The documented formula: attention weighs as much as the offered components together."""
    m = sum(offered.values())
    if m == 0:
        return 100 * attention
    return 100 * (m * attention + sum(earned[c] for c, on in offered.items() if on)) / (2 * m)


def components(offered: dict[str, bool]) -> str:
    return ",".join(["A", *[code for code in "LQPSCKF" if offered.get(code)]])


class Scores:
    """scores[(source_system, source_event_id, person_key)] -> (score, score_components) for
    every attendee, from the sandbox truth."""

    def __init__(self, truth: dict[str, dict]) -> None:
        self.scores: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._webcasts(truth["webcasts"])
        self._rev(truth["rev"])
        self._cast(truth["cast"])

    def _put(self, system, event, email, attention, offered, earned) -> None:
        key = (system, event, person_key(email))
        self.scores[key] = (score(attention, offered, earned), components(offered))

    def _webcasts(self, truth: dict) -> None:
        for event in truth["events"]:
            duration = (moment(event["sched_end"]) - moment(event["sched_start"])).total_seconds()
            audience = [p for p in truth["audience"] if p["ei"] == event["ei"]]
            polls = {
                (a["survey"], a["question"]) for p in audience for a in p["surveys"]
                if a["survey"].startswith("Poll")
            }  # fmt: skip
            live = [p for p in audience if any(s["type"] in LIVE_TYPES for s in p["sessions"])]
            offered = {
                "L": bool(live),
                "Q": any(p["questions"] for p in audience),
                "P": bool(polls),
                "S": any(
                    not a["survey"].startswith("Poll") for p in audience for a in p["surveys"]
                ),
            }
            for p in audience:
                if not p["sessions"]:
                    continue
                viewed = seconds([(moment(s["start"]), moment(s["end"])) for s in p["sessions"]])
                answered = {
                    (a["survey"], a["question"])
                    for a in p["surveys"]
                    if a["survey"].startswith("Poll")
                }
                earned = {
                    "L": float(p in live),
                    "Q": float(bool(p["questions"])),
                    "P": len(answered) / len(polls) if polls else 0.0,
                    "S": float(any(not a["survey"].startswith("Poll") for a in p["surveys"])),
                }
                attention = min(1.0, viewed / duration)
                self._put("webcasts", str(event["ei"]), p["email"], attention, offered, earned)

    def _rev(self, truth: dict) -> None:
        emails = defaultdict(set)
        for s in truth["attendee_sessions"]:
            emails[s["username"].strip().lower()].add(s["email"].strip().lower())
        for a in truth["realtime_attendees"]:
            emails[a["Username"].strip().lower()].add(a["Email"].strip().lower())

        def who(username: str) -> str | None:
            found = emails.get(username.strip().lower(), set())
            return next(iter(found)) if len(found) == 1 else None

        for webcast in truth["webcasts"]:
            wid = webcast["id"]
            duration = (moment(webcast["endDate"]) - moment(webcast["startDate"])).total_seconds()
            sessions = [
                s for s in truth["attendee_sessions"]
                if s["webcast_id"] == wid and s["run_number"] == 0
            ]  # fmt: skip
            asked = [
                q for q in truth["questions"] if q["webcast_id"] == wid and q["run_number"] == 0
            ]
            said = [c for c in truth["comments"] if c["webcast_id"] == wid and c["run_number"] == 0]
            answers = defaultdict(set)  # email -> poll ids answered (any session of the run)
            for s in sessions:
                for poll in s.get("polls") or []:
                    answers[s["email"].strip().lower()].add(poll["pollId"])
            polls = set().union(*answers.values()) if answers else set()
            offered = {"Q": bool(asked), "P": bool(polls), "C": bool(said)}
            viewing = defaultdict(list)
            for s in sessions:
                if s["attendeeType"] not in STAFF:
                    viewing[s["email"].strip().lower()].append(
                        (moment(s["viewingStartTime"]), moment(s["exitedDate"]))
                    )
            for email, intervals in viewing.items():
                earned = {
                    "Q": float(any(who(q["userName"]) == email for q in asked)),
                    "P": len(answers[email]) / len(polls) if polls else 0.0,
                    "C": float(any(who(c["username"]) == email for c in said)),
                }
                attention = min(1.0, seconds(intervals) / duration)
                self._put("rev", wid, email, attention, offered, earned)

    def _cast(self, truth: dict) -> None:
        for campaign in truth["campaigns"]:
            gid = campaign["generate_group"]
            events = [e for e in truth["analytics_events"] if e["generation_id"] == gid]
            did = defaultdict(set)  # email -> event types
            for e in events:
                did[e["contact_email"].strip().lower()].add(e["event_type"])
            offered = {
                "K": any("action" in types for types in did.values()),
                "F": any("feedback" in types for types in did.values()),
            }
            for email, types in did.items():
                if "view" not in types:
                    continue
                attention = 1.0 if "play" in types else 0.5
                earned = {"K": float("action" in types), "F": float("feedback" in types)}
                self._put("cast", gid, email, attention, offered, earned)
