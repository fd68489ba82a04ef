"""The seeded Webcasts.com dataset: events, registrants generated on demand, ground truth.

Registrants are never stored: registrant ``index`` of event ``ei`` is generated on demand from
``(seed, ei, index)`` (one RNG seeding per block of :data:`BLOCK` registrants), so an event of a
million registrants costs no memory and its reports are streamed. The only exception are the
few registrants a test adds with :meth:`WebcastsDataset.add_registrants`: those are stored and
served after the generated ones.
"""

from __future__ import annotations

import random
import re
import time
from calendar import timegm
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..shared_people import SharedPerson
from ..shared_people import shared_people as shared_people_list
from .common import BLOCK, DEFAULT_PASSWORD, DEFAULT_USERNAME, REPORT_PARAMS, SESSION_TYPES, gmt
from .model import Event, Persona, Registrant
from .pools import (
    ANSWERS,
    COMPANIES,
    DOMAINS,
    EVENT_FIELDS,
    EVENT_TZS,
    FIELD_VALUES,
    FIRST_NAMES,
    LAST_NAMES,
    QUESTIONS,
    STIS,
    SURVEYS,
    TITLES,
)
from .query import ReportQuery

assert sorted(SESSION_TYPES) == list(SESSION_TYPES)  # a plain tuple sort gives the API order

#: Profiles (name, company, sti, registration answers, email pattern) per event; registrant i
#: draws one and adds its own email number, dates, sessions, questions and survey answers.
PERSONAS = 2048

#: One draw in [0, 1) of a seeded generator.
Draw = Callable[[], float]


def _make_persona(rng: random.Random, event: Event, key: int) -> Persona:
    rnd = rng.random
    first, first_slug = FIRST_NAMES[int(rnd() * len(FIRST_NAMES))]
    last, last_slug = LAST_NAMES[int(rnd() * len(LAST_NAMES))]
    draw = rnd()
    if last_slug and draw < 0.5:
        local = f"{first_slug}.{last_slug}"
    elif last_slug and draw < 0.8:
        local = f"{first_slug[0]}{last_slug}"
    else:
        local = first_slug
    return Persona(
        key,
        local,
        DOMAINS[int(rnd() * len(DOMAINS))],
        first,
        last,
        COMPANIES[int(rnd() * len(COMPANIES))],
        STIS[int(rnd() * len(STIS))],
        tuple(pool[int(rnd() * len(pool))] for pool in event.field_pools),
    )


# Emails are served unescaped in the XML attribute: their parts must stay plain.
assert all(re.fullmatch(r"[a-z.]*", slug) for _, slug in FIRST_NAMES + LAST_NAMES)
assert all(re.fullmatch(r"[a-z0-9.-]+", d) for d in DOMAINS)


def _from_persona(event: Event, index: int, persona: Persona) -> Registrant:
    """A registrant with the persona's profile; dates and activity are left to the caller."""
    registrant = Registrant()
    registrant.ei = event.ei
    registrant.index = index
    registrant.persona = persona.key
    registrant.email = f"{persona.local}{index}@{persona.domain}"
    registrant.first_name = persona.first_name
    registrant.last_name = persona.last_name
    registrant.company = persona.company
    registrant.sti = persona.sti
    registrant.fields = persona.fields
    return registrant


def _registration_time(rnd: Draw, event: Event) -> int:
    """Most register before the event, some during it, the rest afterwards (on demand)."""
    start, end = event.start, event.end
    draw = rnd()
    if draw < 0.62:
        return event.created + int(rnd() * (start - event.created))
    if draw < 0.70:
        return start + int(rnd() * (end - start))
    return end + 60 + int(rnd() * 45 * 86400)


def _viewing_session(rnd: Draw, event: Event, registered: int) -> tuple[str, int, int]:
    """One viewing session: live, a Sim-Live replay or on demand, never before registering."""
    end = event.end
    live_from = event.start if event.start > registered else registered
    draw = rnd()
    if draw < 0.5 and end - live_from >= 300:
        begin = live_from + int(rnd() * (end - live_from - 120))
        return ("live", begin, begin + 60 + int(rnd() * (end - begin - 60)))
    window_start, window_end = event.simlive_windows[0 if draw < 0.6 else 1]
    if draw < 0.7 and window_end - max(registered, window_start) >= 300:
        window_start = max(registered, window_start)
        begin = window_start + int(rnd() * (window_end - window_start - 120))
        return ("simlive", begin, begin + 60 + int(rnd() * (window_end - begin - 60)))
    begin = max(registered, end + 1800) + int(rnd() * 40 * 86400)
    return ("od", begin, begin + 30 + int(rnd() * 3600))


def _viewing_sessions(rnd: Draw, event: Event, registered: int) -> list[tuple[str, int, int]]:
    sessions = [_viewing_session(rnd, event, registered) for _ in range(1 + int(rnd() * rnd() * 4))]
    sessions.sort()  # by type (live < od < simlive, the API order), then start
    for position in range(1, len(sessions)):  # (type, start) is unique within a registrant
        if sessions[position][:2] <= sessions[position - 1][:2]:
            kind, begin, finish = sessions[position]
            bump = sessions[position - 1][1] + 1 - begin
            sessions[position] = (kind, begin + bump, finish + bump)
    return sessions


def _questions(rnd: Draw, sessions: list[tuple[str, int, int]]) -> list[tuple[int, str, str]]:
    """Q&A questions, asked during live or Sim-Live sessions (30% of viewers ask)."""
    questions: list[tuple[int, str, str]] = []
    if rnd() >= 0.3:
        return questions
    interactive = [x for x in sessions if x[0] != "od"]
    if not interactive:
        return questions
    for _ in range(1 + int(rnd() * 2)):
        _, begin, finish = interactive[int(rnd() * len(interactive))]
        questions.append(
            (
                begin + int(rnd() * (finish - begin)),
                QUESTIONS[int(rnd() * len(QUESTIONS))],
                ANSWERS[int(rnd() * len(ANSWERS))],
            )
        )
    questions.sort()
    if len(questions) == 2 and questions[1][0] <= questions[0][0]:
        _, text, answer = questions[1]  # asked_at is unique within a registrant
        questions[1] = (questions[0][0] + 1, text, answer)
    return questions


def _survey_answers(
    rnd: Draw, event: Event, sessions: list[tuple[str, int, int]]
) -> list[tuple[str, str, str, int]]:
    """Survey answers, given during one viewing session (30% of viewers answer)."""
    answers: list[tuple[str, str, str, int]] = []
    if rnd() >= 0.3:
        return answers
    _, begin, finish = sessions[int(rnd() * len(sessions))]
    answered_at = begin + int(rnd() * (finish - begin))
    for survey, survey_questions in event.surveys:
        for question, choices in survey_questions:
            if rnd() < 0.7:
                answers.append((survey, question, choices[int(rnd() * len(choices))], answered_at))
                answered_at += 1 + int(rnd() * 20)
    return answers


class WebcastsDataset:
    """Deterministic Webcasts.com data: events and their registrants.

    Events get 7-digit ids in ascending order of their schedule; the ``expired_events`` oldest are
    expired (still listed, reports still served). Registrants are generated lazily from
    ``(seed, ei, index)``; ``registrants_overrides`` sets the size of single events, keyed by ei or
    by 0-based event index (keys < 1,000,000), e.g. ``{0: 1_000_000}``.
    """

    def __init__(
        self,
        seed: int = 7,
        events: int = 4,
        registrants_per_event: int = 50,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        expired_events: int = 1,
        registrants_overrides: Mapping[int, int] | None = None,
        shared_people: int = 0,
    ) -> None:
        if events < 0 or registrants_per_event < 0:
            raise ValueError("events and registrants_per_event must be >= 0")
        if not 0 <= expired_events <= events:
            raise ValueError("expired_events must be within [0, events]")
        self.seed = seed
        self.username = username
        self.password = password
        self.events: list[Event] = []
        self._by_ei: dict[int, Event] = {}
        self._generate_events(events, registrants_per_event, expired_events)
        for key, count in (registrants_overrides or {}).items():
            self._override_registrants(key, count)
        self._add_shared_people(shared_people_list(shared_people))

    # ------------------------------------------------------------------ generation
    def _generate_events(self, events: int, registrants_per_event: int, expired: int) -> None:
        rng = random.Random(f"webcasts:{self.seed}")
        event_id = 1_087_000 + rng.randint(0, 999)
        day = timegm((2024, 2, 20, 0, 0, 0)) + rng.randint(0, 10) * 86400
        for index in range(events):
            event_id += rng.randint(1, 2500)
            if event_id > 9_999_999:
                raise ValueError("too many events for 7-digit event ids")
            day += rng.randint(9, 23) * 86400
            start = day + rng.randint(13, 18) * 3600 + rng.choice((0, 1800))
            end = start + rng.choice((45, 60, 90)) * 60
            created = start - rng.randint(14, 40) * 86400
            title = TITLES[index % len(TITLES)]
            if index >= len(TITLES):
                title = f"{title} #{index // len(TITLES) + 1}"
            labels = (
                list(EVENT_FIELDS[index])
                if index < len(EVENT_FIELDS)
                else rng.sample(sorted(FIELD_VALUES), rng.randint(1, 4))
            )
            surveys = SURVEYS if index % 2 == 0 else SURVEYS[:1]
            event = Event(
                index,
                event_id,
                title,
                start,
                end,
                created,
                EVENT_TZS[index % len(EVENT_TZS)],
                index < expired,
                labels,
                surveys,
                registrants_per_event,
            )
            self.events.append(event)
            self._by_ei[event_id] = event

    def _override_registrants(self, event_key: int, count: int) -> None:
        """``registrants_overrides``: an event id or (below 1,000,000) an event index."""
        if count < 0:
            raise ValueError("registrant counts must be >= 0")
        key = int(event_key)
        if key < 1_000_000:
            if key >= len(self.events):
                raise ValueError(f"registrants_overrides: no event index {key}")
            self.events[key].n_registrants = count
        elif key in self._by_ei:
            self._by_ei[key].n_registrants = count
        else:
            raise ValueError(f"registrants_overrides: unknown event id {key}")

    def _add_shared_people(self, people: list[SharedPerson]) -> None:
        """Each person (see sandbox.shared_people) registers for two events that are not
        expired (the tap skips expired ones) three days ahead and watches 28 minutes live;
        every other one also watches 20 minutes on demand a day later, every third asks a
        question. They are served after the generated registrants, like added ones, and from
        a generator of their own, so the default rows do not change."""
        events = [event for event in self.events if not event.expired]
        for person in people:
            if not events:
                return
            chosen = {events[person.number % len(events)].ei}
            chosen.add(events[(person.number + 1) % len(events)].ei)
            for ei in sorted(chosen):
                event = self._by_ei[ei]
                rng = random.Random(f"{self.seed}:{ei}:shared:{person.number}")
                local, _, domain = person.email.partition("@")
                fields = tuple(pool[int(rng.random() * len(pool))] for pool in event.field_pools)
                # A persona key no generated registrant has: renderers cache by persona key.
                persona = Persona(
                    PERSONAS + person.number,
                    local,
                    domain,
                    person.first_name,
                    person.last_name,
                    COMPANIES[person.number % len(COMPANIES)],
                    "",
                    fields,
                )
                registrant = _from_persona(event, event.total_registrants, persona)
                registrant.email = person.email_at("webcasts")
                registrant.registered = event.start - 3 * 86400 + 60 * person.number
                live = ("live", event.start + 120, event.start + 1800)
                on_demand = ("od", event.end + 86400, event.end + 86400 + 1200)
                registrant.sessions = (live, on_demand) if person.number % 2 else (live,)
                registrant.questions = (
                    ((event.start + 600, QUESTIONS[0], ANSWERS[2]),)
                    if person.number % 3 == 0
                    else ()
                )
                registrant.surveys = ()
                event.added.append(registrant)

    # ------------------------------------------------------------------ lookups
    @property
    def event_ids(self) -> list[int]:
        return [e.ei for e in self.events]

    def event(self, event_id: int | str) -> Event:
        """KeyError for an unknown id."""
        return self._by_ei[int(event_id)]

    def has_event(self, event_id: int | str) -> bool:
        try:
            return int(event_id) in self._by_ei
        except ValueError:
            return False

    # ------------------------------------------------------------------ registrants
    def registrants(
        self, event_id: int | str, start: int = 0, stop: int | None = None
    ) -> Iterator[Registrant]:
        """Registrants ``start..stop-1`` of an event, in API order (lazily generated; the
        added ones, stored, come last)."""
        event = self.event(event_id)
        total = event.total_registrants if stop is None else min(stop, event.total_registrants)
        generated = min(total, event.n_registrants)
        position = max(0, start)
        rng = random.Random()
        personas = self._personas(event)
        while position < generated:
            block = position // BLOCK
            rng.seed(f"{self.seed}:{event.ei}:{block}")
            first = block * BLOCK
            last = min(first + BLOCK, generated)
            for index in range(first, last):
                registrant = self._make(rng, event, personas, index)
                if index >= position:
                    yield registrant
            position = last
        added_from = max(0, start - event.n_registrants)
        yield from event.added[added_from : max(0, total - event.n_registrants)]

    def registrant(self, event_id: int | str, index: int) -> Registrant:
        event = self.event(event_id)
        if not 0 <= index < event.total_registrants:
            raise IndexError(index)
        return next(self.registrants(event_id, index, index + 1))

    def _personas(self, event: Event) -> list[Persona]:
        """The event's persona table (built once, deterministic from (seed, ei))."""
        table = event.personas
        if table is None:
            rng = random.Random(f"{self.seed}:{event.ei}:personas")
            table = event.personas = [_make_persona(rng, event, k) for k in range(PERSONAS)]
        return table

    @staticmethod
    def _make(rng: random.Random, event: Event, personas: list[Persona], index: int) -> Registrant:
        rnd = rng.random
        registrant = _from_persona(event, index, personas[int(rnd() * PERSONAS)])
        registered = registrant.registered = _registration_time(rnd, event)
        if rnd() < (0.35 if registered < event.end else 0.5):  # a no-show
            registrant.sessions = registrant.questions = registrant.surveys = ()
            return registrant
        sessions = _viewing_sessions(rnd, event, registered)
        registrant.sessions = tuple(sessions)
        questions = _questions(rnd, sessions)
        registrant.questions = tuple(questions)
        registrant.surveys = tuple(_survey_answers(rnd, event, sessions))
        return registrant

    def set_expired(self, event_id: int | str, expired: bool = True) -> None:
        """Mark event ``event_id`` expired (its archive can no longer be viewed), or no longer
        expired (an archive extended again). The event list shows it from the next request;
        its report is still served either way.

        ASSUMPTION: the docs only say the list notes the expired status; a status that can
        change back is the most permissive model.
        """
        self.event(event_id).expired = expired

    def add_registrants(
        self, event_id: int | str, count: int, sessions: bool = True, now: float | None = None
    ) -> list[dict[str, Any]]:
        """Add ``count`` registrants to event ``event_id`` who register "now"; returns their truth
        dicts (the shape of ``ground_truth()["audience"]`` items).

        "Now" is one hour after the latest activity of the event (registration, session end,
        question or survey answer of any registrant, added ones included), so they are newer
        than every bookmark a client took before; the k-th new registrant registers k seconds
        later. They are served after the generated registrants, by every report format, and
        count in select()/count()/ground_truth()/expected_counts() and the date filters like
        any registrant. Each gets the next registrant index ``i``, whose number makes its email
        unique (``<persona slug><i>@<domain>``, as generated ones), and a persona drawn from
        ``(seed, ei, i)``; with ``sessions`` one on-demand viewing session each, starting 10
        minutes after registering (no questions or survey answers).

        ASSUMPTION: the dataset has no clock of its own; "now" must not be later than ``now``
        (epoch seconds, default: the wall clock), else ValueError. O(event size) per call.
        """
        if count < 0:
            raise ValueError("count must be >= 0")
        event = self.event(event_id)
        first_registered = self._latest_activity(event) + 3600
        limit = time.time() if now is None else now
        if first_registered + count + (2460 if sessions else 0) > limit:  # the last session end
            raise ValueError(f"registering at {gmt(first_registered)} would be in the future")
        personas = self._personas(event)
        new: list[Registrant] = []
        for offset in range(count):
            index = event.total_registrants + offset
            rng = random.Random(f"{self.seed}:{event.ei}:added:{index}")
            registrant = _from_persona(event, index, personas[int(rng.random() * PERSONAS)])
            registrant.registered = first_registered + offset
            start = registrant.registered + 600
            registrant.sessions = (
                (("od", start, start + 60 + int(rng.random() * 1800)),) if sessions else ()
            )
            registrant.questions = registrant.surveys = ()
            new.append(registrant)
        event.added.extend(new)
        return [r.truth(event.labels) for r in new]

    def _latest_activity(self, event: Event) -> int:
        """The latest registration, session end, question or survey answer of an event."""
        latest = event.created
        for registrant in self.registrants(event.ei):
            latest = max(
                latest,
                registrant.registered,
                *(e for _, _, e in registrant.sessions),
                *(t for t, _, _ in registrant.questions),
                *(t for *_, t in registrant.surveys),
            )
        return latest

    # ------------------------------------------------------------------ filters & truth
    def query(self, event_id: int | str, **report_params: str) -> ReportQuery:
        """Parse audience report parameters exactly like the API (strings, as on the wire).

        Raises :class:`WebcastsError` for what the API answers with a failure returnCode.
        """
        unknown = set(report_params) - set(REPORT_PARAMS) - {"ver", "si", "ui"}
        if unknown:
            raise TypeError(f"unknown report parameter(s): {', '.join(sorted(unknown))}")
        params = {k: str(v) for k, v in report_params.items() if v is not None}
        params["ei"] = str(event_id)
        return ReportQuery.parse(self, params)

    def iter_selected(self, event_id: int | str, **report_params: str) -> Iterator[Registrant]:
        query = self.query(event_id, **report_params)
        match = query.matches
        return (r for r in self.registrants(query.event.ei) if match(r))

    def select(self, event_id: int | str, **report_params: str) -> list[dict[str, Any]]:
        """Truth dicts (GMT times) of the registrants the audience report returns for these
        parameters, in API order. Same filter code as the API."""
        labels = self.event(event_id).labels
        return [r.truth(labels) for r in self.iter_selected(event_id, **report_params)]

    def count(self, event_id: int | str, **report_params: str) -> int:
        """Number of registrants the report returns (flat memory, O(event size))."""
        return sum(1 for _ in self.iter_selected(event_id, **report_params))

    def expected_counts(self) -> dict[str, Any]:
        """Cheap for any size."""
        per = {e.ei: e.total_registrants for e in self.events}
        return {
            "events": len(self.events),
            "expired_events": sum(1 for e in self.events if e.expired),
            "registrants_per_event": per,
            "total_registrants": sum(per.values()),
        }

    def ground_truth(self, max_registrants: int = 200_000) -> dict[str, Any]:
        """Everything the API serves (unfiltered, GMT). Refuses datasets larger than
        ``max_registrants`` registrants: use :meth:`expected_counts` / :meth:`count` for those."""
        total = sum(e.total_registrants for e in self.events)
        if total > max_registrants:
            raise ValueError(
                f"{total} registrants: too many for ground_truth(); use expected_counts()"
            )
        audience = [r.truth(e.labels) for e in self.events for r in self.registrants(e.ei)]
        return {"events": [e.truth() for e in self.events], "audience": audience}
