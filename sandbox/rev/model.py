"""A Rev webcast and the small rules the dataset draws its runs and attendees by."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..shared_people import SharedPerson
from .common import LIVE_STATUSES


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
    extra_comments: int = 0  # comments added by RevDataset.add_comments (main run)
    #: run number -> sessions added by RevDataset.add_sessions, served after the generated ones
    added_sessions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: people of sandbox.shared_people who comment (and, Public webcasts, register) here
    shared_commenters: list[SharedPerson] = field(default_factory=list)
    shared_askers: list[SharedPerson] = field(default_factory=list)  # who ask a question here

    @property
    def completed(self) -> bool:
        return self.status == "Completed"

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


def webcast_role(index: int, count: int) -> str:
    """The last three of five or more webcasts are live, scheduled and never ran."""
    if count >= 2 and index == count - 1:
        return "live"
    if count >= 4 and index == count - 2:
        return "scheduled"
    if count >= 5 and index == count - 3:
        return "never_ran"
    return "completed"


def add_runs(rng: random.Random, webcast: Webcast, sessions: int, big: int) -> None:
    """The runs of a completed webcast: the main event (``big`` sessions if given, else about
    ``sessions``) and, for every third webcast, a pre-production run."""
    count = max(1, round(sessions * rng.uniform(0.5, 1.5))) if sessions else 0
    if big:
        count = big
    webcast.runs[0] = count
    if webcast.index % 3 == 1:
        webcast.runs[1] = rng.randint(3, 25)  # a pre-production (dry) run


def attendee_type(user: int) -> str:
    if user == 0:
        return "Host"
    if user in (1, 2):
        return "Moderator"
    return "AccountAdmin" if user % 23 == 5 else "Attendee"


def duration_seconds(duration: str) -> int:
    days, _, clock = duration.rpartition(".") if "." in duration else ("", "", duration)
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return int(days or 0) * 86400 + hours * 3600 + minutes * 60 + seconds
