"""The seeded Rev dataset: webcasts, their runs and reports (made page by page), ground truth."""

from __future__ import annotations

import copy
import math
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..shared_people import SharedPerson
from ..shared_people import shared_people as shared_people_list
from .common import (
    BROWSERS,
    COMMENTS,
    DEFAULT_API_KEY,
    DEFAULT_NOW,
    DEFAULT_PASSWORD,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    DELIVERY_PATHS,
    DEVICES,
    EMOJIS,
    FIRST,
    LAST,
    POLLS,
    QUESTIONS,
    REPORT_PAGE_SIZE,
    STREAMS,
    TITLES,
    ZONES,
    guid,
    iso,
    load_fixtures,
    parse_iso,
    shaped,
    timespan,
)
from .model import Webcast, add_runs, attendee_type, duration_seconds, webcast_role


class RevDataset:
    """Deterministic Rev webcasts and their reports, at any scale.

    With ``webcasts >= 5`` the last three webcasts are special: the newest is live
    (``InProgress``, served by real-time attendees only), the one before it was scheduled
    but never started (``Scheduled``), and the one before that is ``Completed`` but nobody
    attended (an empty report, and an empty poll-results body). Every third completed
    webcast also has a pre-production run (run number 1). ``big_webcast_sessions`` gives the
    first completed webcast that many viewing sessions (e.g. 200,000).
    ``upcoming_webcasts`` adds that many webcasts scheduled on the days after "now" (status
    Scheduled, no reports yet); they come last and leave the other webcasts unchanged.
    Public webcasts that completed have guest registrations.

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
        upcoming_webcasts: int = 0,
        now: str = DEFAULT_NOW,
        api_key: str = DEFAULT_API_KEY,
        secret: str = DEFAULT_SECRET,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        fixtures_dir: str | Path | None = None,
        shared_people: int = 0,
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
        self._generate_upcoming(upcoming_webcasts)
        self._add_shared_people(shared_people_list(shared_people))

    # ------------------------------------------------------------------ generation
    def _generate(self, count: int, sessions: int, big: int, realtime: int) -> None:
        rng = random.Random(self.seed)
        span = max(30, 4 * count) * 86400  # events spread over the days before "now"
        starts = sorted(self.now - rng.randint(86400, span) for _ in range(count))
        listing_types = ["AllUsers", "Public", "Private", "TrustedPublic"]
        sources = ["Rtmp", "PresentationProfile", "WebrtcSinglePresenter", "Zoom", "Producer"]
        big_given = False
        for index, scheduled in enumerate(starts):
            role = webcast_role(index, count)
            start = self._start(role, scheduled)
            webcast = Webcast(
                index=index,
                id=guid(rng),
                title=TITLES[index % len(TITLES)]
                + (f" #{index // len(TITLES) + 1}" if index >= len(TITLES) else ""),
                start=start,
                end=start + rng.choice((45, 60, 90)) * 60,
                status={"live": "InProgress", "scheduled": "Scheduled"}.get(role, "Completed"),
                listing_type=listing_types[index % len(listing_types)],
                source=sources[index % len(sources)],
                log_all_polls=index % 2 == 0,
            )
            if role == "completed":
                big_session_count = 0 if big_given else big
                big_given = big_given or bool(big)
                add_runs(rng, webcast, sessions, big_session_count)
            elif role == "never_ran":
                # ASSUMPTION: a webcast nobody attended still completes, with a report of
                # zero sessions (and the empty poll-results body).
                webcast.runs[0] = 0
            elif role == "live":
                webcast.realtime_attendees = realtime
            self.webcasts.append(webcast)
            self._by_id[webcast.id] = webcast

    def _generate_upcoming(self, count: int) -> None:
        """Webcasts scheduled 1..count days ahead, from their own seed."""
        rng = random.Random(f"{self.seed}:upcoming")
        listing_types = ["Public", "AllUsers"]
        for offset in range(count):
            index = len(self.webcasts)
            start = float(int(self.now) // 900 * 900 + (offset + 1) * 86400)
            webcast = Webcast(
                index=index,
                id=guid(rng),
                title=f"Upcoming: {TITLES[index % len(TITLES)]}",
                start=start,
                end=start + 3600,
                status="Scheduled",
                listing_type=listing_types[offset % len(listing_types)],
                source="Rtmp",
            )
            self.webcasts.append(webcast)
            self._by_id[webcast.id] = webcast

    def _add_shared_people(self, people: list[SharedPerson]) -> None:
        """Each person (see sandbox.shared_people) watches two webcasts that took place: two
        overlapping sessions (a second device 5 minutes later) in the first, one in the
        second. In the first they also comment and, when it is Public, register; in the
        second they ask a question. Comments and questions carry the username only. Their
        sessions are served after the generated ones (as added sessions) and come from a
        generator of their own, so the default rows do not change; the summary counts them."""
        held = [w for w in self.webcasts if w.completed and w.runs.get(0)]
        # A Public webcast first where there is one, so a registration meets its attendance.
        public = [w for w in held if w.listing_type == "Public"] or held
        for person in people:
            if not held:
                return
            first = public[person.number % len(public)]
            second = held[(held.index(first) + 1 + person.number) % len(held)]
            visits = [(first, 0.0), (first, 300.0)] + ([(second, 0.0)] * (second is not first))
            for webcast, later in visits:
                rng = random.Random(f"{self.seed}:{webcast.id}:shared:{person.number}:{later}")
                # A user number no generated session has (they stay below 0.7 * sessions).
                user = 10_000_000 + person.number
                entered = webcast.start + 300 + 7 * person.number + later
                values = self._session_values(rng, webcast, 0, user, entered)
                values["name"] = person.name
                values["username"] = person.rev_username
                values["email"] = person.email_at("rev")
                template = self.fixtures["post_event_report"]["sessions"][0]
                webcast.added_sessions.setdefault(0, []).append(shaped(template, values))
            first.shared_commenters.append(person)
            second.shared_askers.append(person)

    def complete_webcast(self, webcast_id: str, sessions: int) -> Webcast:
        """The webcast (live or scheduled) has ended: Completed, with a main-event report of
        ``sessions`` sessions and its other reports generated as for any completed webcast."""
        webcast = self._by_id[webcast_id]
        with self._lock:
            webcast.status = "Completed"
            webcast.realtime_attendees = 0
            webcast.runs = {0: sessions}
            self._summaries.pop((webcast.id, 0), None)
        return webcast

    def add_comments(self, webcast_id: str, count: int) -> None:
        """``count`` more comments in the main run's chat log of a completed webcast."""
        self._by_id[webcast_id].extra_comments += count

    def _start(self, role: str, scheduled: float) -> float:
        if role == "live":
            return self.now - 20 * 60
        if role == "scheduled":
            # ASSUMPTION: an event whose host never started it stays "Scheduled" after
            # its scheduled time (its reports are not available).
            return self.now - 3 * 3600
        return float(int(scheduled) // 900 * 900)  # events start on a quarter hour

    def webcast(self, webcast_id: str) -> Webcast | None:
        return self._by_id.get(webcast_id)

    def rename_webcast(self, webcast: Webcast, new_id: str) -> None:
        """Give ``webcast`` another id (one with reserved URL characters, say) before it is
        served; its rows are generated from the new id."""
        with self._lock:
            del self._by_id[webcast.id]
            webcast.id = new_id
            self._by_id[new_id] = webcast

    # ------------------------------------------------------------------ webcast objects
    def listing(self, webcast: Webcast) -> dict[str, Any]:
        """The eventList object of GET /api/v2/scheduled-events."""
        rng = random.Random(f"{self.seed}:{webcast.id}:listing")
        pre = None
        if 1 in webcast.runs:
            pre = {"duration": "01:00:00", "userIds": [guid(rng)], "groupIds": []}
        values: dict[str, Any] = {
            "id": webcast.id,
            "title": webcast.title,
            "description": f"{webcast.title}: live webcast for all employees.",
            "startDate": iso(webcast.start),
            "endDate": iso(webcast.end),
            "listingType": webcast.listing_type,
            "eventUrl": f"https://company.rev.vbrick.com/#/events/{webcast.id}",
            "backgroundImages": [
                {
                    "url": f"https://company.rev.vbrick.com/img/{webcast.id}/bg.jpg",
                    "scaleSize": "Large",
                }
            ]
            if webcast.index % 2
            else [],
            "categories": [
                {
                    "categoryId": guid(rng),
                    "name": "Company News",
                    "fullPath": "Corporate/Company News",
                    "restricted": False,
                }
            ]
            if webcast.index % 3 == 0
            else [],
            "tags": ["all-hands", "2026"] if webcast.index % 2 == 0 else [],
            "unlisted": webcast.index % 7 == 6,
            "estimatedAttendees": max(10, webcast.runs.get(0, webcast.realtime_attendees)),
            "lobbyTimeMinutes": 15,
            "preProduction": pre,
            "shortcutName": f"webcast-{webcast.index}" if webcast.index % 4 == 0 else None,
            "videoSourceType": webcast.source,
            # A stream key and a Zoom password are credentials: the tap must not land them.
            "rtmp": {"url": "rtmp://ingest.example.com/live", "key": f"rtmp-key-{webcast.index}"}
            if webcast.source == "Rtmp"
            else None,
            "secondaryRtmp": None,
            "secondarySourceEnabled": False,
            "webcastType": "Rev",
            "webexTeam": None,
            "zoom": {
                "meetingId": f"8{webcast.index:09d}",
                "meetingPassword": f"zoom-pw-{webcast.index}",
            }
            if webcast.source == "Zoom"
            else None,
            "vodId": None,
            "presenterId": guid(rng) if webcast.source == "WebrtcSinglePresenter" else None,
            "presenterIds": [guid(rng), guid(rng)] if webcast.source == "Producer" else [],
            "attendeeJoinMethod": "Registration" if webcast.listing_type == "Public" else None,
            "externalPresenters": [
                {"name": "Grace Hopper", "title": "Guest speaker", "email": "grace@example.org"}
            ]
            if webcast.source == "Producer"
            else [],
            "isFeatured": webcast.index % 5 == 0,
        }
        return shaped(self.fixtures["scheduled_event"], values)

    def details(self, webcast: Webcast) -> dict[str, Any]:
        """The eventDetails object of GET /api/v2/scheduled-events/{eventId}: the listing's
        fields under the details' names (eventId, accessControl, webcastPreProduction)."""
        listing = self.listing(webcast)
        renamed = {"id": "eventId", "listingType": "accessControl"}
        renamed["preProduction"] = "webcastPreProduction"
        values = {renamed.get(k, k): v for k, v in listing.items()}
        values["htmlDescription"] = f"<p>{listing['description']}</p>"
        values["userPollsResponse"] = "LogAll" if webcast.log_all_polls else "Anonymous"
        values["password"] = (
            f"webcast-pw-{webcast.index}" if webcast.listing_type == "Public" else None
        )
        return shaped(self.fixtures["scheduled_event_details"], values)

    def status(self, webcast: Webcast) -> dict[str, Any]:
        # ASSUMPTION: isPreProduction is true only while a dry run is live, so false here.
        values = {
            "title": webcast.title,
            "startDate": iso(webcast.start),
            "endDate": iso(webcast.end),
            "status": webcast.status,
            "isPreProduction": False,
        }
        return shaped(self.fixtures["event_status"], values)

    # ------------------------------------------------------------------ post-event report
    def session_count(self, webcast: Webcast, run: int) -> int:
        return webcast.runs.get(run, 0) + len(webcast.added_sessions.get(run, ()))

    def session_page(self, webcast: Webcast, run: int, page: int) -> list[dict[str, Any]]:
        """Sessions ``[page * 500, (page + 1) * 500)`` of a report, generated from the seed
        (then those of :meth:`add_sessions`, stored, after the generated ones)."""
        generated = webcast.runs.get(run, 0)  # generated sessions; added ones do not change them
        first = page * REPORT_PAGE_SIZE
        end = min(self.session_count(webcast, run), (page + 1) * REPORT_PAGE_SIZE)
        stop = min(generated, end)
        rng = random.Random(f"{self.seed}:{webcast.id}:{run}:sessions:{page}")
        template = self.fixtures["post_event_report"]["sessions"][0]
        users = max(1, int(generated * 0.7))
        step = max(0.001, (webcast.end - webcast.start) * 0.8 / max(1, generated))
        rows: list[dict[str, Any]] = []
        for index in range(first, stop):
            user = rng.randrange(users)
            entered = round(webcast.start + index * step + rng.random() * step * 0.5, 3)
            values = self._session_values(rng, webcast, run, user, entered)
            if index == 2 and rows:
                # Two tabs opened in the same millisecond by the same person: rows that share
                # every identifying field do occur, and both must be kept. (ASSUMPTION)
                for name in ("name", "username", "email", "ipAddress", "browser", "deviceType"):
                    values[name] = rows[-1][name]
                values["enteredDate"] = rows[-1]["enteredDate"]
            rows.append(shaped(template, values))
        added = webcast.added_sessions.get(run, [])
        rows += [
            copy.deepcopy(row)
            for row in added[max(first, generated) - generated : max(end, generated) - generated]
        ]
        return rows

    def add_sessions(
        self, webcast_id: str, count: int, run_number: int = 0
    ) -> list[dict[str, Any]]:
        """Append ``count`` new viewing sessions to a completed webcast's post-event report.

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
        webcast = self._by_id.get(webcast_id)
        if webcast is None:
            raise KeyError(webcast_id)
        if not webcast.completed or run_number not in webcast.runs:
            raise ValueError(f"webcast {webcast_id} has no completed run {run_number}")
        if count < 0:
            raise ValueError("count must be >= 0")
        template = self.fixtures["post_event_report"]["sessions"][0]
        generated = webcast.runs[run_number]
        added = webcast.added_sessions.setdefault(run_number, [])
        # Generated sessions use users [0, 0.7 * generated): start past every one of them.
        first_user = max(1, int(generated * 0.7)) + len(added)
        base = webcast.start + (webcast.end - webcast.start) * 0.9
        new = []
        for offset in range(count):
            position = len(added) + offset
            rng = random.Random(f"{self.seed}:{webcast.id}:{run_number}:added:{position}")
            values = self._session_values(
                rng, webcast, run_number, first_user + offset, base + position + 0.25
            )
            new.append(shaped(template, values))
        with self._lock:
            added.extend(new)
            self._summaries.pop((webcast.id, run_number), None)
        return copy.deepcopy(new)

    def _session_values(
        self, rng: random.Random, webcast: Webcast, run: int, user: int, entered: float
    ) -> dict[str, Any]:
        first, last = FIRST[user % len(FIRST)], LAST[(user // len(FIRST)) % len(LAST)]
        device, os_name = DEVICES[user % len(DEVICES)]
        viewing = rng.randint(60, int(webcast.end - webcast.start))
        lead = rng.randint(0, 30)
        stream = DELIVERY_PATHS[user % len(DELIVERY_PATHS)]
        public_cdn = viewing if stream == "Public CDN" else 0
        rebuffers = rng.choice((0, 0, 0, 1, 2, 5))
        values: dict[str, Any] = {
            # ASSUMPTION: userType values are unpublished; "User" for a Rev account.
            "userType": "User",
            "name": f"{first} {last}",
            "username": f"user{user:06d}",
            "email": f"user{user:06d}@example.com",
            "ipAddress": f"10.{user // 65536 % 256}.{user // 256 % 256}.{user % 256}",
            "browser": BROWSERS[(user + run) % len(BROWSERS)],
            "deviceType": device,
            "zone": ZONES[user % len(ZONES)],
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
            "attendeeType": attendee_type(user),
            "polls": [],
        }
        if webcast.log_all_polls and user % 3 == 0:
            for poll in self._first_poll(webcast, run):
                values["polls"].append(
                    {
                        "pollId": poll["id"],
                        "question": poll["question"],
                        "answers": poll["pollAnswers"][user % len(poll["pollAnswers"])]["answer"],
                        "when": iso(entered + lead + 60),
                    }
                )
        return values

    def _first_poll(self, webcast: Webcast, run: int) -> list[dict[str, Any]]:
        key = (webcast.id, run)
        if key not in self._first_polls:
            self._first_polls[key] = self.polls(webcast, run)[:1]
        return self._first_polls[key]

    def sessions(self, webcast: Webcast, run: int) -> Iterator[dict[str, Any]]:
        for page in range(math.ceil(self.session_count(webcast, run) / REPORT_PAGE_SIZE)):
            yield from self.session_page(webcast, run, page)

    def report_summary(self, webcast: Webcast, run: int) -> dict[str, Any]:
        """The summary keys of a report (every page carries them), computed once per report.

        ASSUMPTION: the counts are distinct users per attendee type and the ratios are
        rounded to integers, as the integer types of the OpenAPI suggest.
        """
        key = (webcast.id, run)
        with self._lock:
            if key in self._summaries:
                return self._summaries[key]
        total = self.session_count(webcast, run)
        users: dict[str, str] = {}
        public = ecdn = rebuffered = rebuffer_total = errors = multicast = 0
        for row in self.sessions(webcast, run):
            users[row["username"]] = row["attendeeType"]
            public += duration_seconds(row["publicCDNTime"])
            ecdn += duration_seconds(row["eCDNTime"])
            if row["rebufferEvents"]:
                rebuffered += 1
                rebuffer_total += row["rebufferDuration"]
            errors += row["experiencedErrors"]
            multicast += row["multicastErrors"]
        types = list(users.values())
        attendees = types.count("Attendee") + types.count("AccountAdmin")
        summary = {
            "totalSessions": total,
            "totalPublicCDNTime": timespan(public),
            "totalECDNTime": timespan(ecdn),
            "hostCount": types.count("Host"),
            "moderatorCount": types.count("Moderator"),
            "attendeeCount": attendees,
            "experiencedRebufferingPercentage": round(100 * rebuffered / total) if total else 0,
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
    def realtime_attendee(self, webcast: Webcast, index: int) -> dict[str, Any]:
        """Attendee ``index`` of a live webcast, PascalCase as in the OpenAPI."""
        rng = random.Random(f"{self.seed}:{webcast.id}:realtime:{index}")
        template = self.fixtures["realtime_attendees"]["attendees"][0]
        device, os_name = DEVICES[index % len(DEVICES)]
        started = webcast.start + 60 + index * 7
        values = {
            "UserId": guid(rng),
            "Username": f"user{index:06d}",
            "FullName": f"{FIRST[index % len(FIRST)]} {LAST[index % len(LAST)]}",
            "UserType": "User",
            "AttendeeType": attendee_type(index),
            "Email": f"user{index:06d}@example.com",
            "StartTime": iso(started),
            "Status": "Offline" if index % 9 == 8 else "Online",
            "ExperiencedErrors": rng.choice((0, 0, 1)),
            "MulticastFailovers": 0,
            "ExperiencedBufferingDuration": round(rng.random() * 4, 2),
            "ExperiencedBufferingCount": rng.randint(0, 3),
            "AvgExperiencedBufferingDuration": round(rng.random(), 2),
            "AvgBitrateKbps": round(rng.uniform(800, 4500), 1),
            "AvgBandwidthMbps": round(rng.uniform(2, 80), 2),
            "ViewingStartTime": iso(started + 5),
            "ZoneName": ZONES[index % len(ZONES)],
            "IpAddress": f"10.1.{index // 256 % 256}.{index % 256}",
            "PlayerDevice": device,
            "Browser": BROWSERS[index % len(BROWSERS)],
            "OsName": os_name,
            "DeviceId": guid(rng),
            "SessionId": guid(rng),
        }
        return shaped(template, values)

    # ------------------------------------------------------------------ other reports
    def comments(self, webcast: Webcast, run: int) -> list[dict[str, Any]]:
        # ASSUMPTION (here and in polls, questions, reactions): a run that did not take place,
        # or a webcast that has not completed, has an empty report rather than an error.
        if not webcast.completed or not webcast.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{webcast.id}:{run}:comments")
        rows = []
        count = rng.randint(0, 12) if run == 0 else rng.randint(0, 3)
        for position in range(count + (webcast.extra_comments if run == 0 else 0)):
            text = COMMENTS[(webcast.index + position) % len(COMMENTS)]
            user = rng.randrange(max(1, webcast.runs[run]))
            values = {
                "commentId": guid(rng),
                "userId": guid(rng),
                "username": f"user{user:06d}",
                "date": iso(webcast.start + 120 + position * 45),
                "comment": text,
                "htmlComment": f"<p>{text}</p>",
                "hidden": position % 6 == 5,
            }
            rows.append(shaped(self.fixtures["comment"], values))
        for person in webcast.shared_commenters if run == 0 else ():
            values = {
                "commentId": guid(rng),
                "userId": guid(rng),
                "username": person.rev_username,
                "date": iso(webcast.start + 120 + len(rows) * 45),  # after the others
                "comment": COMMENTS[person.number % len(COMMENTS)],
                "htmlComment": f"<p>{COMMENTS[person.number % len(COMMENTS)]}</p>",
                "hidden": False,
            }
            rows.append(shaped(self.fixtures["comment"], values))
        return rows

    def registrations(self, webcast: Webcast) -> list[dict[str, Any]]:
        """The guests registered for a webcast, in registration order.

        ASSUMPTION: only Public webcasts take guest registrations (the endpoint is documented
        for them); answers are to one form field, "Company", and one of "Department".
        """
        if webcast.listing_type != "Public":
            return []
        rng = random.Random(f"{self.seed}:{webcast.id}:registrations")
        company_id, department_id = guid(rng), guid(rng)
        rows = []
        for position in range(rng.randint(3, 40)):
            first, last = FIRST[position % len(FIRST)], LAST[(position // 3) % len(LAST)]
            answers = [{"id": company_id, "name": "Company", "value": f"Company {position % 7}"}]
            if position % 2:
                answers.append({"id": department_id, "name": "Department", "value": "Sales"})
            values = {
                "name": f"{first} {last}",
                "email": f"guest{position:05d}@example.org",
                "registrationId": guid(rng),
                "registrationFieldsAnswers": answers,
            }
            rows.append(shaped(self.fixtures["guest_user"], values))
        for person in webcast.shared_commenters:
            values = {
                "name": person.name,
                "email": person.email_at("rev"),
                "registrationId": guid(rng),
                "registrationFieldsAnswers": [
                    {"id": company_id, "name": "Company", "value": "Shared Example"}
                ],
            }
            rows.append(shaped(self.fixtures["guest_user"], values))
        return rows

    def polls(self, webcast: Webcast, run: int) -> list[dict[str, Any]]:
        if not webcast.completed or not webcast.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{webcast.id}:{run}:polls")
        template = self.fixtures["poll_results"]["polls"][0]
        rows = []
        for position in range((webcast.index + run) % 3 + 1):
            question, answers = POLLS[(webcast.index + position) % len(POLLS)]
            votes = [rng.randint(0, max(1, webcast.runs[run] // 3)) for _ in answers]
            values = {
                "id": guid(rng),
                "question": question,
                "totalResponses": sum(votes),
                "totalNoResponses": rng.randint(0, 5),
                "allowMultipleAnswers": position == 1,
                "whenPollCreated": iso(webcast.start + 600 + position * 300),
                "pollAnswers": [
                    {"answer": a, "votes": v} for a, v in zip(answers, votes, strict=True)
                ],
            }
            rows.append(shaped(template, values))
        return rows

    def questions(self, webcast: Webcast, run: int) -> list[dict[str, Any]]:
        if not webcast.completed or not webcast.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{webcast.id}:{run}:questions")
        rows = []
        for position in range(rng.randint(0, 5)):
            replied = position % 2 == 0
            asked = webcast.start + 300 + position * 240
            values = {
                "questionId": guid(rng),
                "whenAsked": iso(asked),
                "question": QUESTIONS[position % len(QUESTIONS)],
                "userName": f"user{position:06d}",
                # V2 types these two as nullable: unanswered questions have none.
                "repliedUserName": "user000000" if replied else None,
                "askedBy": f"{FIRST[position % len(FIRST)]} {LAST[position % len(LAST)]}",
                "repliedBy": "Ada Lovelace" if replied else None,
                "whenReplied": iso(asked + 90) if replied else None,
                "lastAction": "Replied" if replied else "Asked",
                "reply": "Yes, after the event." if replied else None,
                "isPublic": position % 3 != 2,
            }
            rows.append(shaped(self.fixtures["question"], values))
        for person in webcast.shared_askers if run == 0 else ():
            values = {
                "questionId": guid(rng),
                "whenAsked": iso(webcast.start + 300 + len(rows) * 240),  # after the others
                "question": QUESTIONS[person.number % len(QUESTIONS)],
                "userName": person.rev_username,
                "repliedUserName": None,
                "askedBy": person.name,
                "repliedBy": None,
                "whenReplied": None,
                "lastAction": "Asked",
                "reply": None,
                "isPublic": True,
            }
            rows.append(shaped(self.fixtures["question"], values))
        return rows

    def reactions(self, webcast: Webcast, run: int) -> list[dict[str, Any]]:
        if not webcast.completed or not webcast.runs.get(run):
            return []
        rng = random.Random(f"{self.seed}:{webcast.id}:{run}:reactions")
        rows = []
        # ASSUMPTION: one row per (minute, emoji) with a count, as reactionsSummary suggests.
        for minute in range(rng.randint(0, 4)):
            for emoji, code in rng.sample(EMOJIS, 2):
                values = {
                    "webcastDate": iso(webcast.start + 300 + minute * 60),
                    "reaction": emoji,
                    "unicode": code,
                    "count": rng.randint(1, 40),
                }
                rows.append(shaped(self.fixtures["reaction"], values))
        return rows

    # ------------------------------------------------------------------ ground truth
    def runs_of(self, webcast: Webcast) -> list[int]:
        """Runs with a post-event report: those of completed webcasts."""
        return sorted(webcast.runs) if webcast.completed else []

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """Every row each stream of a tap reading every run of every webcast should yield.

        Raw vendor objects (vendor field names), each report row with ``webcast_id`` and
        ``run_number`` added. ``webcasts`` rows carry the ``status`` of /status.
        Switches on RevAPI (casing, last-page variants) are not applied.
        """
        truth: dict[str, list[dict[str, Any]]] = {name: [] for name in STREAMS}
        for webcast in self.webcasts:
            truth["webcasts"].append({**self.listing(webcast), "status": webcast.status})
            for index in range(webcast.realtime_attendees):
                row = self.realtime_attendee(webcast, index)
                truth["realtime_attendees"].append(
                    {**row, "webcast_id": webcast.id, "run_number": 0}
                )
            if webcast.completed:
                truth["registrations"] += [
                    {**r, "webcast_id": webcast.id} for r in self.registrations(webcast)
                ]
            for run in self.runs_of(webcast):
                ids = {"webcast_id": webcast.id, "run_number": run}
                truth["attendee_sessions"] += [{**s, **ids} for s in self.sessions(webcast, run)]
                truth["webcast_attendance_summary"].append(
                    {**self.report_summary(webcast, run), **ids}
                )
                truth["comments"] += [{**c, **ids} for c in self.comments(webcast, run)]
                for poll in self.polls(webcast, run):
                    truth["poll_results"].append({**poll, **ids})
                    truth["poll_answers"] += [
                        {**a, **ids, "poll_id": poll["id"]} for a in poll["pollAnswers"]
                    ]
                truth["questions"] += [{**q, **ids} for q in self.questions(webcast, run)]
                truth["reactions"] += [{**r, **ids} for r in self.reactions(webcast, run)]
        return truth

    def expected_counts(self) -> dict[str, int]:
        """Rows per stream, without generating sessions or attendees."""
        counts = dict.fromkeys(STREAMS, 0)
        for webcast in self.webcasts:
            counts["webcasts"] += 1
            counts["realtime_attendees"] += webcast.realtime_attendees
            if webcast.completed:
                counts["registrations"] += len(self.registrations(webcast))
            for run in self.runs_of(webcast):
                counts["attendee_sessions"] += self.session_count(webcast, run)
                counts["webcast_attendance_summary"] += 1
                counts["comments"] += len(self.comments(webcast, run))
                polls = self.polls(webcast, run)
                counts["poll_results"] += len(polls)
                counts["poll_answers"] += sum(len(p["pollAnswers"]) for p in polls)
                counts["questions"] += len(self.questions(webcast, run))
                counts["reactions"] += len(self.reactions(webcast, run))
        return counts
