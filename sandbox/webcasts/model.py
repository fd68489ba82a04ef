"""The records of the Webcasts.com dataset: events and registrants."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from .common import gmt
from .pools import FIELD_VALUES


class Persona(NamedTuple):
    """A profile registrants of one event are drawn from (see ``dataset.PERSONAS``)."""

    key: int
    local: str  # email local part without the registrant number
    domain: str
    first_name: str
    last_name: str
    company: str
    sti: str
    fields: tuple[str, ...]


class Event:
    """One webcast. Read-only after construction, except ``added`` (add_registrants)."""

    __slots__ = (
        "added",
        "created",
        "ei",
        "end",
        "expired",
        "field_pools",
        "index",
        "labels",
        "n_registrants",
        "personas",
        "simlive_windows",
        "start",
        "surveys",
        "timezone",
        "title",
    )

    def __init__(
        self,
        index: int,
        event_id: int,
        title: str,
        start: int,
        end: int,
        created: int,
        timezone: str,
        expired: bool,
        labels: list[str],
        surveys: list[tuple[str, list[tuple[str, list[str]]]]],
        n_registrants: int,
    ) -> None:
        self.index = index
        self.ei = event_id
        self.title = title
        self.start = start  # scheduled start, epoch seconds (GMT)
        self.end = end
        self.created = created  # registration opens
        self.timezone = timezone  # the event's display time zone (event list only)
        self.expired = expired
        self.labels = tuple(labels)
        self.field_pools = tuple(FIELD_VALUES[label] for label in labels)
        self.surveys = surveys
        self.n_registrants = n_registrants  # generated registrants (indices 0..n-1)
        self.added: list[Registrant] = []  # WebcastsDataset.add_registrants (indices n, n+1..)
        # Sim-Live replays of the live broadcast, 2 and 9 days later.
        self.simlive_windows = tuple((start + d * 86400, end + d * 86400) for d in (2, 9))
        self.personas: list[Persona] | None = None  # built on first use

    def truth(self) -> dict[str, Any]:
        return {
            "ei": self.ei,
            "title": self.title,
            "sched_start": gmt(self.start),
            "sched_end": gmt(self.end),
            "timezone": self.timezone,
            "expired": self.expired,
            "registration_fields": list(self.labels),
            "registrants": self.total_registrants,
        }

    @property
    def total_registrants(self) -> int:
        """Generated plus added registrants."""
        return self.n_registrants + len(self.added)


class Registrant:
    """One registrant of an event. Times are epoch seconds (GMT).

    ``sessions``: ``(type, start, end)`` in API order (grouped by type: live, od, simlive; by
    start within a type). ``questions``: ``(asked_at, text, answer)``. ``surveys``:
    ``(survey, question, answer, answered_at)``. ``fields``: values aligned with the event's labels.
    """

    __slots__ = (
        "company",
        "ei",
        "email",
        "fields",
        "first_name",
        "index",
        "last_name",
        "persona",
        "questions",
        "registered",
        "sessions",
        "sti",
        "surveys",
    )

    ei: int
    index: int
    persona: int  # key of the persona it was drawn from (render caches use it)
    email: str
    first_name: str
    last_name: str
    company: str
    registered: int
    sti: str
    fields: tuple[str, ...]
    sessions: tuple[tuple[str, int, int], ...]
    questions: tuple[tuple[int, str, str], ...]
    surveys: tuple[tuple[str, str, str, int], ...]

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def truth(self, labels: Iterable[str]) -> dict[str, Any]:
        return {
            "ei": self.ei,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
            "registration_date": gmt(self.registered),
            "sti": self.sti,
            "registration_fields": dict(zip(labels, self.fields, strict=True)),
            "sessions": [
                {"type": k, "start": gmt(s), "end": gmt(e), "duration": e - s}
                for k, s, e in self.sessions
            ],
            "questions": [
                {"asked_at": gmt(t), "text": q, "answer": a} for t, q, a in self.questions
            ],
            "surveys": [
                {"survey": sv, "question": q, "answer": a, "answered_at": gmt(t)}
                for sv, q, a, t in self.surveys
            ],
        }
