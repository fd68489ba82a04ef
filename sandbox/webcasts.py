"""Webcasts.com Reporting API (v2.0) simulator.

Seeded dataset (:class:`WebcastsDataset`) and routing (:class:`WebcastsAPI`).

Modelled on the vendor's "Reporting API" documentation (help.webcasts.com; our copy is
OCR-mangled: the "audience reports" path is ``audiencereports``, ``users_ga`` is ``users_qa``,
``Si`` is ``si``) and on the older public Reporting API guide and client code. Only the login
sample is public; every other
shape is an assumption kept in ``data/fixtures/webcasts`` (element names, CSV headers), so a real
sample can replace it without code changes. Behaviour the docs do not cover is marked
``ASSUMPTION`` where it is implemented.

Registrants are never stored: registrant ``i`` of event ``ei`` is generated on demand from
``(seed, ei, i)`` (one RNG seeding per block of :data:`BLOCK` registrants), so an event of a
million registrants costs no memory and its reports are streamed. The only exception are the
few registrants a test adds with :meth:`WebcastsDataset.add_registrants`: those are stored and
served after the generated ones.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import random
import re
import secrets
import threading
import time
from calendar import timegm
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from .faults import FaultConfig
from .server import SandboxRequest, SandboxResponse, SandboxServer, json_text

API_VERSION = "2.0"
DEFAULT_USERNAME = "reports@example.com"
DEFAULT_PASSWORD = "s3cret-Pass!"  # noqa: S105 - sandbox credentials
FIXTURES_DIR = Path(__file__).resolve().parent / "data" / "fixtures" / "webcasts"

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

# ----------------------------------------------------------------------------- data pools
# (display, email slug). Slugs never contain digits: the registrant index appended to them keeps
# emails unique within an event.
_FIRST_NAMES: list[tuple[str, str]] = [
    ("Anna", "anna"),
    ("James", "james"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Søren", "soren"),
    ("李", "li"),
    ("Łukasz", "lukasz"),
    ("Émilie", "emilie"),
    ("Seán", "sean"),
    ("Aylin", "aylin"),
    ("Priya", "priya"),
    ("太郎", "taro"),
    ("Chloé 🌸", "chloe"),
    ("Ahmed", "ahmed"),
    ("Björn", "bjorn"),
    ('Robert "Bobby"', "robert"),
    ("Ana María", "ana.maria"),
    ("Mike", "mike"),
    ("Sarah", "sarah"),
    ("David", "david"),
    ("Emma", "emma"),
    ("Rocket 🚀", "rocket"),
    ("Νίκος", "nikos"),
    ("Olúwa", "oluwa"),
]
_LAST_NAMES: list[tuple[str, str]] = [
    ("Smith", "smith"),
    ("O'Brien", "obrien"),
    ("Müller", "mueller"),
    ("García", "garcia"),
    ("山田", "yamada"),
    ("Wójcik", "wojcik"),
    ("Nguyễn", "nguyen"),
    ("Ågren", "agren"),
    ("Dubois", "dubois"),
    ("Al-Farsi", "alfarsi"),
    ("van der Berg", "vanderberg"),
    ("Lee", "lee"),
    ("Johnson", "johnson"),
    ("Brontë", "bronte"),
    ("Šulc", "sulc"),
    ("Иванов", "ivanov"),
    ("Raghunathan", "raghunathan"),
    ("", ""),  # the last name is optional on some registration forms
]
# Weighted: example.com is common; sub.example.com checks exact (not suffix) domain matching.
_DOMAINS: list[str] = [
    "example.com",
    "example.com",
    "example.com",
    "acme.io",
    "acme.io",
    "globex.co.jp",
    "initech.de",
    "sub.example.com",
    "gmail.com",
    "gmail.com",
    "umbrella-corp.com",
    "xn--bcher-kva.example",
]
_COMPANIES: list[str] = [
    "Acme Corp",
    "",
    "",
    "Globex",
    "Initech GmbH",
    "Müller & Söhne KG",
    "Smith, Jones & Co.",
    "株式会社テスト",
    "<Umbrella> Labs",
    "O'Reilly Media",
    "Ωmega Ltd",
    "Café 🚀 Startups",
]
_STIS: list[str] = ["", "", "", "", "newsletter", "linkedin", "partner_acme", "email-0424", "tw"]
_TITLES: list[str] = [
    "Q1 Product Update & Roadmap",
    "Webinar: Zürich <Live> Q&A",
    "日本市場セミナー 2024",
    "Cloud Security 101 🔒",
    'Year-end "Ask Me Anything", part 2',
    "Data Summit — Keynote",
]
_EVENT_TZS: list[str] = [
    "America/New_York",
    "Europe/London",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Europe/Berlin",
]
# Registration field label -> values ("" = left empty by the registrant).
_FIELD_VALUES: dict[str, list[str]] = {
    "Job Title": ["CTO", "Marketing Manager", "Ingénieur", "", "VP, Sales", "開発者"],
    "Country": ["Japan", "United States", "Deutschland", "Côte d'Ivoire", "", "España"],
    "City, State": ["Austin, TX", "São Paulo, SP", "", "Portland, OR"],
    "Company Size": ["1-10", "11-50", "51-200", "201-1000", "1000+", ""],
    "職種 (Job Function)": ["エンジニア", "営業", "マーケティング", ""],
    "How did you hear about us?": [
        "LinkedIn",
        'Search "webinar"',
        "Colleague,\nthen a newsletter",
        "",
        "Other",
    ],
    "Industry": ["Finance", "Healthcare", "Retail & CPG", "Software", ""],
    "Pays / Région": ["France", "Belgique", "Québec", "Suisse", ""],
    "Phone": ["+1 512-555-0100", "+81 3-5555-0101", "", "+49 30 5555 0102"],
    "Zip/Postal Code": ["78701", "100-0001", "SW1A 1AA", "", "01234"],
    "Consent 🔒": ["Yes", "No", ""],
}
# Field sets of the first events (they differ on purpose; event 3 has no custom field at all);
# later events draw 1-4 labels at random.
_EVENT_FIELDS: list[list[str]] = [
    ["Job Title", "Country", "City, State"],
    ["Job Title", "Company Size", "職種 (Job Function)", "How did you hear about us?"],
    ["Industry", "Pays / Région", "Phone", "Consent 🔒"],
    [],
]
_SURVEYS: list[tuple[str, list[tuple[str, list[str]]]]] = [
    (
        "Post-event survey",
        [
            ("How would you rate this webcast?", ["Excellent", "Good", "Fair", "Poor"]),
            ("Would you recommend it?", ["Yes", "No", "Maybe"]),
            (
                "Comments",
                [
                    "Great talk!",
                    "Audio was choppy, <fix> please",
                    "Très bien 👍",
                    "Slides, please\nand the recording",
                ],
            ),
        ],
    ),
    ("Poll 1", [("Which topic next?", ["Security", "AI & ML", "Pricing"])]),
]
_QUESTIONS: list[str] = [
    "Will the slides be shared?",
    "How does pricing work for teams > 50?",
    "¿Habrá grabación?",
    "Can you repeat the part about SSO & SAML?",
    "録画はありますか？",  # noqa: RUF001
    "What's the roadmap for <API> v3?",
    "Great session 👏 — any case studies?",
]
_ANSWERS: list[str] = [
    "",  # unanswered
    "",
    "Yes, a recording follows by email.",
    "Please see the FAQ at https://example.com/faq?a=1&b=2",
    "We'll follow up offline.",
    "はい、後日お送りします。",
]

# ----------------------------------------------------------------------------- helpers


def load_fixtures(fixtures_dir: str | Path | None = None) -> dict[str, Any]:
    d = Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR
    out: dict[str, Any] = {"login.xml": (d / "login.xml").read_text(encoding="utf-8")}
    for name in ("login", "envelope", "eventlist", "audiencereport", "audiencereport_csv"):
        out[name] = json.loads((d / f"{name}.json").read_text(encoding="utf-8"))
    return out


def gmt(epoch: int) -> str:
    """Naive ``YYYY-MM-DD HH:MM:SS`` in GMT (the format of every time the API serves)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def parse_gmt(s: str) -> int:
    """Inverse of :func:`gmt`."""
    return timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S"))


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

    def _offset_at(self, ts: int) -> int:
        off = datetime.fromtimestamp(ts, self.tz).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    def offset(self, ts: int) -> int:
        b = ts // 900
        off = self._offsets.get(b)
        if off is None:
            first, last = self._offset_at(b * 900), self._offset_at(b * 900 + 899)
            if first != last:  # a transition inside this quarter hour: no caching
                return self._offset_at(ts)
            off = self._offsets[b] = first
        return off

    def __call__(self, ts: int) -> str:
        off = self._offsets.get(ts // 900)
        loc = ts + (off if off is not None else self.offset(ts))
        hour, rest = divmod(loc, 3600)
        hs = self._hours.get(hour)
        if hs is None:
            hs = self._hours[hour] = time.strftime("%Y-%m-%d %H:", time.gmtime(hour * 3600))
        return hs + _MMSS[rest]

    def local_to_epoch(self, y: int, m: int, d: int, hh: int, mm: int, ss: int) -> int:
        return int(datetime(y, m, d, hh, mm, ss, tzinfo=self.tz).timestamp())


_ESC: dict[str, str] = {}


def _x(s: str) -> str:
    """XML-escaped text (memoised: most values come from small pools)."""
    v = _ESC.get(s)
    if v is None:
        v = escape(s)
        if len(_ESC) < 100_000:
            _ESC[s] = v
    return v


def _xa(s: str) -> str:
    """XML-escaped attribute value (for double quotes)."""
    return escape(s, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


class WebcastsError(ValueError):
    """A request the API answers with a failure returnCode (also raised by dataset.select)."""

    def __init__(self, kind: str, **fmt: Any) -> None:
        code, template = ERROR_CODES[kind]
        self.kind = kind
        self.code = code
        self.message = template.format(**fmt)
        super().__init__(f"returnCode {code}: {self.message}")


# ----------------------------------------------------------------------------- dataset


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
        ei: int,
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
        self.ei = ei
        self.title = title
        self.start = start  # scheduled start, epoch seconds (GMT)
        self.end = end
        self.created = created  # registration opens
        self.timezone = timezone  # the event's display time zone (event list only)
        self.expired = expired
        self.labels = tuple(labels)
        self.field_pools = tuple(_FIELD_VALUES[label] for label in labels)
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


assert sorted(SESSION_TYPES) == list(SESSION_TYPES)  # a plain tuple sort gives the API order

#: Profiles (name, company, sti, registration answers, email pattern) per event; registrant i
#: draws one and adds its own email number, dates, sessions, questions and survey answers.
PERSONAS = 2048


class Persona(NamedTuple):
    key: int
    local: str  # email local part without the registrant number
    domain: str
    first_name: str
    last_name: str
    company: str
    sti: str
    fields: tuple[str, ...]


def _make_persona(rng: random.Random, ev: Event, key: int) -> Persona:
    rnd = rng.random
    first, fslug = _FIRST_NAMES[int(rnd() * len(_FIRST_NAMES))]
    last, lslug = _LAST_NAMES[int(rnd() * len(_LAST_NAMES))]
    p = rnd()
    if lslug and p < 0.5:
        local = f"{fslug}.{lslug}"
    elif lslug and p < 0.8:
        local = f"{fslug[0]}{lslug}"
    else:
        local = fslug
    return Persona(
        key,
        local,
        _DOMAINS[int(rnd() * len(_DOMAINS))],
        first,
        last,
        _COMPANIES[int(rnd() * len(_COMPANIES))],
        _STIS[int(rnd() * len(_STIS))],
        tuple(pool[int(rnd() * len(pool))] for pool in ev.field_pools),
    )


# Emails are served unescaped in the XML attribute: their parts must stay plain.
assert all(re.fullmatch(r"[a-z.]*", slug) for _, slug in _FIRST_NAMES + _LAST_NAMES)
assert all(re.fullmatch(r"[a-z0-9.-]+", d) for d in _DOMAINS)


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
        rng = random.Random(f"webcasts:{seed}")
        ei = 1_087_000 + rng.randint(0, 999)
        t = timegm((2024, 2, 20, 0, 0, 0)) + rng.randint(0, 10) * 86400
        for i in range(events):
            ei += rng.randint(1, 2500)
            if ei > 9_999_999:
                raise ValueError("too many events for 7-digit event ids")
            t += rng.randint(9, 23) * 86400
            start = t + rng.randint(13, 18) * 3600 + rng.choice((0, 1800))
            end = start + rng.choice((45, 60, 90)) * 60
            created = start - rng.randint(14, 40) * 86400
            title = _TITLES[i % len(_TITLES)]
            if i >= len(_TITLES):
                title = f"{title} #{i // len(_TITLES) + 1}"
            labels = (
                list(_EVENT_FIELDS[i])
                if i < len(_EVENT_FIELDS)
                else rng.sample(sorted(_FIELD_VALUES), rng.randint(1, 4))
            )
            surveys = _SURVEYS if i % 2 == 0 else _SURVEYS[:1]
            ev = Event(
                i,
                ei,
                title,
                start,
                end,
                created,
                _EVENT_TZS[i % len(_EVENT_TZS)],
                i < expired_events,
                labels,
                surveys,
                registrants_per_event,
            )
            self.events.append(ev)
            self._by_ei[ei] = ev
        for key, n in (registrants_overrides or {}).items():
            if n < 0:
                raise ValueError("registrant counts must be >= 0")
            key = int(key)
            if key < 1_000_000:
                if key >= len(self.events):
                    raise ValueError(f"registrants_overrides: no event index {key}")
                self.events[key].n_registrants = n
            elif key in self._by_ei:
                self._by_ei[key].n_registrants = n
            else:
                raise ValueError(f"registrants_overrides: unknown event id {key}")

    # ------------------------------------------------------------------ lookups
    @property
    def event_ids(self) -> list[int]:
        return [e.ei for e in self.events]

    def event(self, ei: int | str) -> Event:
        """KeyError for an unknown id."""
        return self._by_ei[int(ei)]

    def has_event(self, ei: int | str) -> bool:
        try:
            return int(ei) in self._by_ei
        except ValueError:
            return False

    # ------------------------------------------------------------------ registrants
    def registrants(
        self, ei: int | str, start: int = 0, stop: int | None = None
    ) -> Iterator[Registrant]:
        """Registrants ``start..stop-1`` of an event, in API order (lazily generated; the
        added ones, stored, come last)."""
        ev = self.event(ei)
        total = ev.total_registrants if stop is None else min(stop, ev.total_registrants)
        n = min(total, ev.n_registrants)
        i = max(0, start)
        rng = random.Random()
        personas = self._personas(ev)
        while i < n:
            block = i // BLOCK
            rng.seed(f"{self.seed}:{ev.ei}:{block}")
            first = block * BLOCK
            last = min(first + BLOCK, n)
            for j in range(first, last):
                reg = self._make(rng, ev, personas, j)
                if j >= i:
                    yield reg
            i = last
        yield from ev.added[max(0, start - ev.n_registrants) : max(0, total - ev.n_registrants)]

    def registrant(self, ei: int | str, index: int) -> Registrant:
        ev = self.event(ei)
        if not 0 <= index < ev.total_registrants:
            raise IndexError(index)
        return next(self.registrants(ei, index, index + 1))

    def _personas(self, ev: Event) -> list[Persona]:
        """The event's persona table (built once, deterministic from (seed, ei))."""
        table = ev.personas
        if table is None:
            rng = random.Random(f"{self.seed}:{ev.ei}:personas")
            table = ev.personas = [_make_persona(rng, ev, k) for k in range(PERSONAS)]
        return table

    @staticmethod
    def _make(rng: random.Random, ev: Event, personas: list[Persona], i: int) -> Registrant:
        rnd = rng.random
        r = Registrant()
        r.ei = ev.ei
        r.index = i
        pe = personas[int(rnd() * PERSONAS)]
        r.persona = pe.key
        r.email = f"{pe.local}{i}@{pe.domain}"
        r.first_name = pe.first_name
        r.last_name = pe.last_name
        r.company = pe.company
        r.sti = pe.sti
        r.fields = pe.fields
        s0, e0 = ev.start, ev.end
        p = rnd()
        if p < 0.62:
            reg = ev.created + int(rnd() * (s0 - ev.created))
        elif p < 0.70:
            reg = s0 + int(rnd() * (e0 - s0))
        else:
            reg = e0 + 60 + int(rnd() * 45 * 86400)
        r.registered = reg
        if rnd() < (0.35 if reg < e0 else 0.5):  # a no-show
            r.sessions = r.questions = r.surveys = ()
            return r
        sessions: list[tuple[str, int, int]] = []
        ls = s0 if s0 > reg else reg
        for _ in range(1 + int(rnd() * rnd() * 4)):
            p = rnd()
            if p < 0.5 and e0 - ls >= 300:
                st = ls + int(rnd() * (e0 - ls - 120))
                sessions.append(("live", st, st + 60 + int(rnd() * (e0 - st - 60))))
                continue
            w0, w1 = ev.simlive_windows[0 if p < 0.6 else 1]
            if p < 0.7 and w1 - max(reg, w0) >= 300:
                w0 = max(reg, w0)
                st = w0 + int(rnd() * (w1 - w0 - 120))
                sessions.append(("simlive", st, st + 60 + int(rnd() * (w1 - st - 60))))
                continue
            st = max(reg, e0 + 1800) + int(rnd() * 40 * 86400)
            sessions.append(("od", st, st + 30 + int(rnd() * 3600)))
        sessions.sort()  # by type (live < od < simlive, the API order), then start
        for k in range(1, len(sessions)):  # (type, start) is unique within a registrant
            if sessions[k][:2] <= sessions[k - 1][:2]:
                kind, st, en = sessions[k]
                bump = sessions[k - 1][1] + 1 - st
                sessions[k] = (kind, st + bump, en + bump)
        r.sessions = tuple(sessions)
        questions: list[tuple[int, str, str]] = []
        surveys: list[tuple[str, str, str, int]] = []
        if rnd() < 0.3:
            interactive = [x for x in sessions if x[0] != "od"]
            if interactive:
                for _ in range(1 + int(rnd() * 2)):
                    _, st, en = interactive[int(rnd() * len(interactive))]
                    questions.append(
                        (
                            st + int(rnd() * (en - st)),
                            _QUESTIONS[int(rnd() * len(_QUESTIONS))],
                            _ANSWERS[int(rnd() * len(_ANSWERS))],
                        )
                    )
                questions.sort()
                if len(questions) == 2 and questions[1][0] <= questions[0][0]:
                    _, q1, a1 = questions[1]  # asked_at is unique within a registrant
                    questions[1] = (questions[0][0] + 1, q1, a1)
        if rnd() < 0.3:
            _, st, en = sessions[int(rnd() * len(sessions))]
            t = st + int(rnd() * (en - st))
            for name, qs in ev.surveys:
                for q, answers in qs:
                    if rnd() < 0.7:
                        surveys.append((name, q, answers[int(rnd() * len(answers))], t))
                        t += 1 + int(rnd() * 20)
        r.questions = tuple(questions)
        r.surveys = tuple(surveys)
        return r

    def add_registrants(
        self, ei: int | str, n: int, sessions: bool = True, now: float | None = None
    ) -> list[dict[str, Any]]:
        """Add ``n`` registrants to event ``ei`` who register "now"; returns their truth dicts
        (the shape of ``ground_truth()["audience"]`` items).

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
        if n < 0:
            raise ValueError("n must be >= 0")
        ev = self.event(ei)
        latest = ev.created
        for r in self.registrants(ev.ei):
            latest = max(
                latest,
                r.registered,
                *(e for _, _, e in r.sessions),
                *(t for t, _, _ in r.questions),
                *(t for *_, t in r.surveys),
            )
        reg0 = latest + 3600
        limit = time.time() if now is None else now
        if reg0 + n + (2460 if sessions else 0) > limit:  # the last session end, at most
            raise ValueError(f"registering at {gmt(reg0)} would be in the future")
        personas = self._personas(ev)
        new: list[Registrant] = []
        for k in range(n):
            i = ev.total_registrants + k
            rng = random.Random(f"{self.seed}:{ev.ei}:added:{i}")
            pe = personas[int(rng.random() * PERSONAS)]
            r = Registrant()
            r.ei, r.index, r.persona = ev.ei, i, pe.key
            r.email = f"{pe.local}{i}@{pe.domain}"
            r.first_name, r.last_name, r.company = pe.first_name, pe.last_name, pe.company
            r.sti, r.fields = pe.sti, pe.fields
            r.registered = reg0 + k
            start = r.registered + 600
            r.sessions = (("od", start, start + 60 + int(rng.random() * 1800)),) if sessions else ()
            r.questions = r.surveys = ()
            new.append(r)
        ev.added.extend(new)
        return [r.truth(ev.labels) for r in new]

    # ------------------------------------------------------------------ filters & truth
    def query(self, ei: int | str, **report_params: str) -> ReportQuery:
        """Parse audience report parameters exactly like the API (strings, as on the wire).

        Raises :class:`WebcastsError` for what the API answers with a failure returnCode.
        """
        unknown = set(report_params) - set(REPORT_PARAMS) - {"ver", "si", "ui"}
        if unknown:
            raise TypeError(f"unknown report parameter(s): {', '.join(sorted(unknown))}")
        params = {k: str(v) for k, v in report_params.items() if v is not None}
        params["ei"] = str(ei)
        return ReportQuery.parse(self, params)

    def iter_selected(self, ei: int | str, **report_params: str) -> Iterator[Registrant]:
        q = self.query(ei, **report_params)
        match = q.matches
        return (r for r in self.registrants(q.event.ei) if match(r))

    def select(self, ei: int | str, **report_params: str) -> list[dict[str, Any]]:
        """Truth dicts (GMT times) of the registrants the audience report returns for these
        parameters, in API order. Same filter code as the API."""
        labels = self.event(ei).labels
        return [r.truth(labels) for r in self.iter_selected(ei, **report_params)]

    def count(self, ei: int | str, **report_params: str) -> int:
        """Number of registrants the report returns (flat memory, O(event size))."""
        return sum(1 for _ in self.iter_selected(ei, **report_params))

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


_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _split_pipes(value: str) -> list[str]:
    return [v.strip() for v in value.split("|") if v.strip()]


@dataclass
class ReportQuery:
    """Parsed, validated audience report parameters (filter semantics live in :meth:`matches`)."""

    event: Event
    tz_name: str
    formatter: TimeFormatter
    range_lo: int | None  # epoch seconds, inclusive; None = open
    range_hi: int | None
    date_range: bool  # a date range was given
    dr_regs: bool
    dr_sessions: bool
    sti: frozenset[str] | None
    incl: frozenset[str] | None
    excl: frozenset[str] | None
    flags: frozenset[str]

    @classmethod
    def parse(cls, ds: WebcastsDataset, p: Mapping[str, str]) -> ReportQuery:
        """``p``: one value per parameter name. Blank values count as undefined."""

        def get(name: str) -> str:
            return (p.get(name) or "").strip()

        ei_s = get("ei")
        if not ei_s:
            raise WebcastsError("missing_parameter", name="ei")
        # ASSUMPTION: an id that is not an event of the account (or not a number) -> code 6.
        # Expired events are still reportable.
        if not (ei_s.isascii() and ei_s.isdigit()) or not ds.has_event(ei_s):
            raise WebcastsError("invalid_event", value=ei_s)
        ev = ds.event(ei_s)
        # ASSUMPTION: tz takes IANA names (GMT and UTC included); anything else -> code 7.
        tz_name = get("tz") or "GMT"
        try:
            fmt = TimeFormatter(tz_name)
        except Exception:
            raise WebcastsError("invalid_timezone", value=tz_name) from None

        def date(name: str, end: bool) -> int | None:
            raw = get(name)
            if not raw:
                return None
            # ASSUMPTION: 1- or 2-digit month/day, 4-digit year, a real calendar date; else code 8.
            m = _DATE_RE.match(raw)
            try:
                if m is None:
                    raise ValueError(raw)
                mo, d, y = (int(g) for g in m.groups())
                datetime(y, mo, d)
            except ValueError:
                raise WebcastsError("invalid_date", name=name, value=raw) from None
            # Documented: the start is 12:00:00 AM of its day, the end 11:59:59 PM; ASSUMPTION:
            # in the report's tz.
            return (
                fmt.local_to_epoch(y, mo, d, 23, 59, 59)
                if end
                else fmt.local_to_epoch(y, mo, d, 0, 0, 0)
            )

        lo = date("date_range_start", False)
        hi = date("date_range_end", True)
        # ASSUMPTION: start after end -> code 9; a single bound gives an open-ended range.
        if lo is not None and hi is not None and lo > hi:
            raise WebcastsError("invalid_date_range")

        def flag(name: str, default: bool) -> bool:
            raw = get(name)
            if not raw:
                return default
            # ASSUMPTION: "on"/"off", case-insensitive; any other value -> code 11 (strict, so a
            # client sending "true"/"1" notices instead of silently getting unfiltered data).
            v = raw.lower()
            if v not in ("on", "off"):
                raise WebcastsError("invalid_flag", name=name, value=raw)
            return v == "on"

        dr_regs = flag("dr_regs", True)  # documented default: on
        dr_sessions = flag("dr_sessions", True)  # documented default: on
        flags = frozenset(name for name in REPORT_FLAGS if flag(name, False))

        def pipes(name: str, lower: bool) -> frozenset[str] | None:
            raw = get(name)
            if not raw:
                return None
            vals = _split_pipes(raw)
            # ASSUMPTION: domains match the part after the email's last "@" exactly,
            # case-insensitively, a leading "@" tolerated (no subdomain matching). sti values
            # match exactly (case-sensitive).
            if lower:
                vals = [v.lower().lstrip("@") for v in vals]
            return frozenset(vals)

        excl = pipes("excl_domain", True)
        incl = pipes("incl_domain", True)
        if excl is not None and incl is not None:
            raise WebcastsError("domain_conflict")  # documented: cannot be used together
        return cls(
            event=ev,
            tz_name=tz_name,
            formatter=fmt,
            range_lo=lo,
            range_hi=hi,
            date_range=lo is not None or hi is not None,
            dr_regs=dr_regs,
            dr_sessions=dr_sessions,
            sti=pipes("sti_filter", False),
            incl=incl,
            excl=excl,
            flags=flags,
        )

    def matches(self, r: Registrant) -> bool:
        """The audience report's filter. Every given filter must hold (AND; ASSUMPTION)."""
        if self.date_range and (self.dr_regs or self.dr_sessions):
            # ASSUMPTION: a registrant is in range if (dr_regs and registered in range) or
            # (dr_sessions and one viewing session overlaps the range); with both off the range
            # has no effect. The registrant's full data is served, not only in-range sessions.
            lo = self.range_lo if self.range_lo is not None else -(2**62)
            hi = self.range_hi if self.range_hi is not None else 2**62
            ok = self.dr_regs and lo <= r.registered <= hi
            if not ok and self.dr_sessions:
                ok = any(s <= hi and e >= lo for _, s, e in r.sessions)
            if not ok:
                return False
        # ASSUMPTION: registrants without a source tracking id never match sti_filter.
        if self.sti is not None and r.sti not in self.sti:
            return False
        if self.incl is not None and r.domain.lower() not in self.incl:
            return False
        if self.excl is not None and r.domain.lower() in self.excl:
            return False
        flags = self.flags
        if flags:
            if "users_qa" in flags and not r.questions:
                return False
            if "user_survey" in flags and not r.surveys:
                return False
            if "no_shows" in flags and r.sessions:
                return False
            kinds = {s[0] for s in r.sessions}
            if "live_viewers" in flags and "live" not in kinds:
                return False
            if "od_viewers" in flags and "od" not in kinds:
                return False
            if "simlive_viewers" in flags and "simlive" not in kinds:
                return False
        return True


# ----------------------------------------------------------------------------- API


@dataclass
class _Session:
    ui: str
    created: float
    calls: int = 0


_NOT_FOUND_HTML = (
    b"<!doctype html><html><head><title>HTTP Status 404 - Not Found</title></head>"
    b"<body><h1>HTTP Status 404 - Not Found</h1></body></html>"
)
_METHOD_HTML = (
    b"<!doctype html><html><head><title>HTTP Status 405 - Method Not Allowed</title></head>"
    b"<body><h1>HTTP Status 405 - Method Not Allowed</h1></body></html>"
)
_CHUNK = 64 * 1024  # characters per streamed piece

# Entity attack variants (api.entity_expansion_for / api.external_entity_for).
_LAUGHS = "".join(
    ['  <!ENTITY lol0 "lol">\n']
    + [f'  <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10)]
)
_LAUGHS_REF = "&lol9;"
_XXE = '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
_XXE_REF = "&xxe;"


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
        self.clock: Callable[[], float] = time.monotonic  # session ages
        self.wall_clock: Callable[[], float] = time.time  # currentDateTime
        self.login_count = 0
        self.login_attempts = 0
        self.invalid_session_count = 0
        self.report_calls = 0
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._issued: list[str] = []
        self._load_shapes(load_fixtures(fixtures_dir))

    # ------------------------------------------------------------------ fixtures -> templates
    def _load_shapes(self, fx: dict[str, Any]) -> None:
        self.fixtures = fx
        sample: str = fx["login.xml"]
        m_rc = re.search(r"<returnCode>\s*1\s*</returnCode>", sample)
        s_open = sample.find("<success>")
        s_close = sample.rfind("</success>")
        if m_rc is None or s_open < 0 or s_close < 0:
            raise ValueError("login.xml: expected result/returnCode 1 and result/success")
        head = sample[: m_rc.start()]
        self._xml_between = sample[m_rc.end() : s_open]  # whitespace between returnCode/success
        self._xml_tail = sample[s_close + len("</success>") :]
        head = re.sub(r"(<currentDateTime>)[^<]*", "\\1\x00DT\x00", head, count=1)
        head = re.sub(r"(<currentTimeZone>)[^<]*", "\\1\x00TZ\x00", head, count=1)
        self._xml_head = head
        root = re.search(r"<([A-Za-z_][\w.-]*)[\s>]", re.sub(r"<\?.*?\?>", "", head, count=1))
        self._xml_root = root.group(1) if root else "convey_api"
        self._login_success = sample[s_open : s_close + len("</success>")]

        login = fx["login"]
        (self._json_root,) = login.keys()
        self._json_env: dict[str, Any] = login[self._json_root]

        env = fx["envelope"]
        self._err = env["error"]
        self._attr = env["json"]["attribute_prefix"]
        self._text = env["json"]["text_key"]
        self._ev_shape = fx["eventlist"]
        self._rep = fx["audiencereport"]
        self._csv = fx["audiencereport_csv"]

        # Precomputed XML pieces of the attendee element.
        rep = self._rep
        self._t_item = rep["item"]
        self._t_fields = [(k, f"<{n}>", f"</{n}>") for k, n in rep["fields"].items()]
        rf = rep["registration_fields"]
        self._t_rf = (rf["list"], rf["item"], rf["label_attribute"])
        ss = rep["sessions"]
        self._t_sess = (
            ss["container"],
            [(k, ss["types"][k]["list"], ss["types"][k]["item"]) for k in ss["types"]],
            ss["fields"],
        )
        qs, sv = rep["questions"], rep["surveys"]
        self._t_q = (qs["list"], qs["item"], qs["fields"])
        self._t_s = (sv["list"], sv["item"], sv["fields"])

    # ------------------------------------------------------------------ sessions
    def expire_sessions(self) -> int:
        """Invalidate every current session (returns how many there were)."""
        with self._lock:
            n = len(self._sessions)
            self._sessions.clear()
            return n

    @property
    def active_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def issued_session_values(self) -> list[str]:
        """Every si and ui value ever issued by this API (tests check none leaks into logs)."""
        with self._lock:
            return list(self._issued)

    def _login(self, username: str, password: str) -> tuple[str, str]:
        si, ui = secrets.token_hex(20), secrets.token_hex(20)
        with self._lock:
            self._issued.extend((si, ui))
            if self.single_session:
                self._sessions.clear()
            self._sessions[si] = _Session(ui, self.clock())
            self.login_count += 1
        return si, ui

    def _check_session(self, si: str, ui: str) -> None:
        with self._lock:
            s = self._sessions.get(si)
            ok = s is not None and secrets.compare_digest(s.ui, ui)
            if s is not None and ok:
                if self.clock() - s.created >= self.session_ttl_seconds or (
                    self.session_max_calls is not None and s.calls >= self.session_max_calls
                ):
                    del self._sessions[si]
                    ok = False
                else:
                    s.calls += 1
            if not ok:
                self.invalid_session_count += 1
                raise WebcastsError("invalid_session")

    # ------------------------------------------------------------------ envelopes
    def _now(self, fmt: TimeFormatter | None = None) -> str:
        t = int(self.wall_clock())
        return fmt(t) if fmt is not None else gmt(t)

    def _xml_open(self, tz: str, now: str, doctype: str = "") -> str:
        head = self._xml_head.replace("\x00DT\x00", _x(now)).replace("\x00TZ\x00", _x(tz))
        if doctype:
            i = head.find(f"<{self._xml_root}")
            head = f"{head[:i]}<!DOCTYPE {self._xml_root} [\n{doctype}]>\n{head[i:]}"
        return f"{head}<returnCode>{RC_SUCCESS}</returnCode>{self._xml_between}<success>"

    def _xml_close(self) -> str:
        return f"</success>{self._xml_tail}"

    def _json_env_parts(self, tz: str, now: str, code: int, payload_key: str) -> tuple[str, str]:
        """(before, after) the payload of ``result/<payload_key>``, from login.json's envelope."""
        env = dict(self._json_env)
        env["currentDateTime"] = now
        env["currentTimeZone"] = tz
        result = {k: v for k, v in env.get("result", {}).items() if k != "success"}
        result["returnCode"] = code
        result[payload_key] = "\x00PAYLOAD\x00"
        env["result"] = result
        text = json_text({self._json_root: env})
        before, _, after = text.partition('"\\u0000PAYLOAD\\u0000"')
        return before, after

    def _num(self, n: int) -> int | str:
        return str(n) if self.json_numbers_as_strings else n

    def _jlist(self, item: str, items: list[Any]) -> Any:
        if self.json_collapse_single_lists:
            if not items:
                return ""
            if len(items) == 1:
                return {item: items[0]}
        return {item: items}

    def _error(self, fmt_kind: str, err: WebcastsError) -> SandboxResponse:
        """A failure envelope. ASSUMPTION: HTTP 200; the CSV endpoint answers errors as XML."""
        now = self._now()
        e = self._err
        if fmt_kind == "json":
            before, after = self._json_env_parts("GMT", now, err.code, e["element"])
            payload = {e["code"]: self._num(err.code), e["message"]: err.message}
            body = (before + json_text(payload) + after).encode()
            return SandboxResponse(200, body, {"Content-Type": CONTENT_TYPES["json"]})
        head = self._xml_head.replace("\x00DT\x00", now).replace("\x00TZ\x00", "GMT")
        el = e["element"]
        xml = (
            f"{head}<returnCode>{err.code}</returnCode>{self._xml_between}<{el}>"
            f"<{e['code']}>{err.code}</{e['code']}><{e['message']}>{_x(err.message)}"
            f"</{e['message']}></{el}>{self._xml_tail}"
        )
        return SandboxResponse(200, xml.encode(), {"Content-Type": CONTENT_TYPES["xml"]})

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
        except WebcastsError as err:
            return self._error(fmt, err)

    @staticmethod
    def _params(request: SandboxRequest) -> dict[str, str]:
        """One value per name. ASSUMPTION (Java servlet getParameter): query string values come
        before form-body values and the first value wins; the body is read only for
        ``application/x-www-form-urlencoded`` posts."""
        merged: dict[str, list[str]] = {k: list(v) for k, v in request.query.items()}
        ctype = (request.headers.get("Content-Type") or "").lower()
        if request.body and ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            for k, v in form.items():
                merged.setdefault(k, []).extend(v)
        return {k: v[0] for k, v in merged.items() if v}

    def _check_reporting(self, p: dict[str, str], version_required: bool) -> None:
        # Check order: ver -> si/ui present -> session valid (counts the call) -> endpoint params.
        ver = p.get("ver", "")
        # ASSUMPTION: ver is required on login and audiencereports (documented) but optional on
        # eventlist (its parameter table lists only si and ui); when given it must be "2.0".
        if (version_required or ver) and ver != API_VERSION:
            if not ver:
                raise WebcastsError("missing_parameter", name="ver")
            raise WebcastsError("invalid_version")
        for name in ("si", "ui"):
            if not p.get(name):
                raise WebcastsError("missing_parameter", name=name)
        self._check_session(p["si"], p["ui"])

    # ------------------------------------------------------------------ login
    def _handle_login(self, p: dict[str, str], fmt: str) -> SandboxResponse:
        with self._lock:
            self.login_attempts += 1
        ver = p.get("ver", "")
        if not ver:
            raise WebcastsError("missing_parameter", name="ver")
        if ver != API_VERSION:
            raise WebcastsError("invalid_version")
        for name in ("username", "password"):
            if not p.get(name):
                raise WebcastsError("missing_parameter", name=name)
        ds = self.dataset
        # ASSUMPTION: the username (an email) is case-insensitive, the password exact.
        if p["username"].lower() != ds.username.lower() or not secrets.compare_digest(
            p["password"].encode(), ds.password.encode()
        ):
            raise WebcastsError("invalid_credentials")
        si, ui = self._login(p["username"], p["password"])
        now = self._now()
        if fmt == "json":
            env = copy.deepcopy(self._json_env)
            env["currentDateTime"] = now
            env["currentTimeZone"] = "GMT"
            success = env["result"]["success"]
            success["sessionid"]["value"] = si
            success["userid"]["value"] = ui
            body = json_text({self._json_root: env}).encode()
            return SandboxResponse(200, body, {"Content-Type": CONTENT_TYPES["json"]})
        xml = self.fixtures["login.xml"]
        xml = re.sub(r"(<currentDateTime>)[^<]*", lambda m: m.group(1) + now, xml, count=1)
        xml = re.sub(
            r"(<sessionid>.*?<value>)[^<]*", lambda m: m.group(1) + si, xml, count=1, flags=re.S
        )
        xml = re.sub(
            r"(<userid>.*?<value>)[^<]*", lambda m: m.group(1) + ui, xml, count=1, flags=re.S
        )
        return SandboxResponse(200, xml.encode(), {"Content-Type": CONTENT_TYPES["xml"]})

    # ------------------------------------------------------------------ event list
    def _handle_eventlist(self, fmt: str) -> SandboxResponse:
        # ASSUMPTION: every event of the account, expired ones included (documented), by
        # ascending ei; times GMT; no parameters besides ver/si/ui.
        shape = self._ev_shape
        names: dict[str, str] = shape["fields"]
        exp_vals = shape["expired_values"]
        now = self._now()
        rows = []
        for e in self.dataset.events:
            vals: dict[str, Any] = {
                "ei": e.ei,
                "title": e.title,
                "sched_start": gmt(e.start),
                "sched_end": gmt(e.end),
                "timezone": e.timezone,
                "expired": exp_vals["true" if e.expired else "false"],
            }
            rows.append({names[k]: vals[k] for k in names})
        if fmt == "json":
            before, after = self._json_env_parts("GMT", now, RC_SUCCESS, "success")
            items = [
                {k: self._num(v) if isinstance(v, int) else v for k, v in r.items()} for r in rows
            ]
            payload = {shape["list"]: self._jlist(shape["item"], items)}
            body = (before + json_text(payload) + after).encode()
            return SandboxResponse(200, body, {"Content-Type": CONTENT_TYPES["json"]})
        item = shape["item"]
        parts = [self._xml_open("GMT", now), f"<{shape['list']}>"]
        for r in rows:
            parts.append(f"<{item}>")
            parts.extend(f"<{k}>{_x(str(v))}</{k}>" for k, v in r.items())
            parts.append(f"</{item}>")
        parts.append(f"</{shape['list']}>")
        parts.append(self._xml_close())
        return SandboxResponse(200, "".join(parts).encode(), {"Content-Type": CONTENT_TYPES["xml"]})

    # ------------------------------------------------------------------ audience report
    def _handle_report(self, p: dict[str, str], fmt: str) -> SandboxResponse:
        q = ReportQuery.parse(self.dataset, {k: p[k] for k in REPORT_PARAMS if k in p})
        with self._lock:
            self.report_calls += 1
        now = self._now(q.formatter)
        gen: Iterator[str]
        headers = {"Content-Type": CONTENT_TYPES[fmt]}
        if fmt == "xml":
            gen = self._xml_report(q, now)
        elif fmt == "json":
            gen = self._json_report(q, now)
        else:
            gen = self._csv_report(q)
            headers["Content-Disposition"] = (
                f'attachment; filename="audience_report_{q.event.ei}.csv"'
            )
        body = _encode_chunks(gen)
        if not self.stream_responses:
            return SandboxResponse(200, b"".join(body), headers)
        return SandboxResponse(200, body, headers)

    def _selected(self, q: ReportQuery) -> Iterator[Registrant]:
        match = q.matches
        for r in self.dataset.registrants(q.event.ei):
            if match(r):
                yield r

    def _xml_report(self, q: ReportQuery, now: str) -> Iterator[str]:
        ev = q.event
        rep = self._rep
        doctype, title = "", _x(ev.title)
        if ev.ei in self.entity_expansion_for:
            doctype, title = _LAUGHS, _LAUGHS_REF
        elif ev.ei in self.external_entity_for:
            doctype, title = _XXE, _XXE_REF
        malformed = ev.ei in self.malformed_xml_for
        cut_at = max(1, ev.n_registrants // 2)  # malformed: cut inside the attendee at this index
        lst = rep["list"]
        parts = [
            self._xml_open(q.tz_name, now, doctype),
            f"<{rep['ei']}>{ev.ei}</{rep['ei']}><{rep['title']}>{title}</{rep['title']}><{lst}>",
        ]
        size = 0
        render = self._xml_renderer(ev, q.formatter)
        for r in self._selected(q):
            s = render(r)
            if malformed and r.index >= cut_at - 1:
                parts.append(s[: len(s) // 2])
                yield "".join(parts)
                return  # truncated mid-document (the HTTP response itself completes normally)
            parts.append(s)
            size += len(s)
            if size >= _CHUNK:
                yield "".join(parts)
                parts = []
                size = 0
        tail = f"</{lst}>{self._xml_close()}"
        if malformed:
            tail = tail[: len(tail) // 2]
        parts.append(tail)
        yield "".join(parts)

    def _xml_renderer(self, ev: Event, fmt: TimeFormatter) -> Callable[[Registrant], str]:
        """A fast renderer of the XML attendee element for one event and time zone (the element
        names come from the audiencereport fixture; pool values are escaped once)."""
        rep = self._rep
        esc = _x
        item = rep["item"]
        open_item = f'<{item} {rep["email_attribute"]}="'
        core_fmt = ('">' + "".join(f"<{n}>{{{k}}}</{n}>" for k, n in rep["fields"].items())).format
        rl, ri, ra = self._t_rf
        rf_maps = [
            {v: f'<{ri} {ra}="{_xa(label)}">{esc(v)}</{ri}>' for v in pool}
            for label, pool in zip(ev.labels, ev.field_pools, strict=True)
        ]
        rf_open, rf_close = f"<{rl}>", f"</{rl}>"
        container, types, sf = self._t_sess
        st_n, en_n, du_n = sf["start"], sf["end"], sf["duration"]
        sess_t = {
            kind: (
                f"<{sl}>",
                f"</{sl}>",
                f"<{si}><{st_n}>{{}}</{st_n}><{en_n}>{{}}</{en_n}><{du_n}>{{}}</{du_n}></{si}>".format,
            )
            for kind, sl, si in types
        }
        kinds = [k for k, _, _ in types]
        c_open, c_close = f"<{container}>", f"</{container}>"
        no_sessions = c_open + "".join(f"<{sl}></{sl}>" for _, sl, _ in types) + c_close
        ql, qi, qf = self._t_q
        q_open, q_close = f"<{ql}>", f"</{ql}>"
        a_n, t_n, an_n = qf["asked_at"], qf["text"], qf["answer"]
        q_fmt = f"<{qi}><{a_n}>{{}}</{a_n}><{t_n}>{{}}</{t_n}><{an_n}>{{}}</{an_n}></{qi}>".format
        svl, svi, svf = self._t_s
        s_open, s_close = f"<{svl}>", f"</{svl}>"
        sv_n, sq_n, sa_n, st2_n = (
            svf["survey"],
            svf["question"],
            svf["answer"],
            svf["answered_at"],
        )
        s_fmt = (
            f"<{svi}><{sv_n}>{{}}</{sv_n}><{sq_n}>{{}}</{sq_n}><{sa_n}>{{}}</{sa_n}>"
            f"<{st2_n}>{{}}</{st2_n}></{svi}>"
        ).format
        end_item = f"{s_close}</{item}>\n"

        has_date = "registration_date" in rep["fields"]
        # Per persona: the element text before and after registration_date (escaped once).
        cache: dict[int, tuple[str, str]] = {}

        def persona_parts(r: Registrant) -> tuple[str, str]:
            core = core_fmt(
                first_name=esc(r.first_name),
                last_name=esc(r.last_name),
                company=esc(r.company),
                registration_date="\x00",
                sti=esc(r.sti),
            )
            pre, _, post = core.partition("\x00")
            rf = "".join([m[v] for m, v in zip(rf_maps, r.fields, strict=True)])
            parts = cache[r.persona] = (pre, f"{post}{rf_open}{rf}{rf_close}")
            return parts

        def render(r: Registrant) -> str:
            pre, post = cache.get(r.persona) or persona_parts(r)
            # Emails are built from pools of [a-z.] slugs and plain domains (checked at import):
            # nothing to escape.
            out = [open_item, r.email, pre, fmt(r.registered) if has_date else "", post]
            sessions = r.sessions
            if not sessions:
                out.append(no_sessions)
            else:
                out.append(c_open)
                for kind in kinds:
                    lo, lc, sfmt = sess_t[kind]
                    out.append(lo)
                    out += [sfmt(fmt(a), fmt(b), b - a) for k, a, b in sessions if k == kind]
                    out.append(lc)
                out.append(c_close)
            out.append(q_open)
            if r.questions:
                out += [q_fmt(fmt(t), esc(tx), esc(an)) for t, tx, an in r.questions]
            out.append(q_close)
            out.append(s_open)
            if r.surveys:
                out += [s_fmt(esc(a), esc(b), esc(c), fmt(t)) for a, b, c, t in r.surveys]
            out.append(end_item)
            return "".join(out)

        return render

    def attendee_json(self, r: Registrant, fmt: TimeFormatter | None = None) -> dict[str, Any]:
        """The JSON object of one attendee (same tree as the XML element)."""
        fmt = fmt or TimeFormatter("GMT")
        rep, a, tx = self._rep, self._attr, self._text
        labels = self.dataset.event(r.ei).labels
        vals = {
            "first_name": r.first_name,
            "last_name": r.last_name,
            "company": r.company,
            "registration_date": fmt(r.registered),
            "sti": r.sti,
        }
        obj: dict[str, Any] = {a + rep["email_attribute"]: r.email}
        for k, n in rep["fields"].items():
            obj[n] = vals[k]
        rl, ri, ra = self._t_rf
        pairs = zip(labels, r.fields, strict=True)
        obj[rl] = self._jlist(ri, [{a + ra: lb, tx: v} for lb, v in pairs])
        container, types, sf = self._t_sess
        sess: dict[str, Any] = {}
        for kind, sl, si in types:
            sess[sl] = self._jlist(
                si,
                [
                    {sf["start"]: fmt(s), sf["end"]: fmt(e), sf["duration"]: self._num(e - s)}
                    for k, s, e in r.sessions
                    if k == kind
                ],
            )
        obj[container] = sess
        ql, qi, qf = self._t_q
        obj[ql] = self._jlist(
            qi,
            [
                {qf["asked_at"]: fmt(t), qf["text"]: text, qf["answer"]: ans}
                for t, text, ans in r.questions
            ],
        )
        svl, svi, svf = self._t_s
        obj[svl] = self._jlist(
            svi,
            [
                {
                    svf["survey"]: sv,
                    svf["question"]: qu,
                    svf["answer"]: an,
                    svf["answered_at"]: fmt(t),
                }
                for sv, qu, an, t in r.surveys
            ],
        )
        return obj

    def _json_renderer(self, ev: Event, fmt: TimeFormatter) -> Callable[[Registrant], str]:
        """Fast JSON text of one attendee: the same text as ``json_text(self.attendee_json(r))``
        (the reference implementation), with per-persona parts serialised once."""
        rep, a = self._rep, self._attr
        collapse = self.json_collapse_single_lists
        num = self._num
        jcache: dict[str, str] = {}

        def js(v: str) -> str:
            out = jcache.get(v)
            if out is None:
                out = jcache[v] = json_text(v)
            return out

        def jlist(item: str, elems: list[str]) -> str:
            if collapse:
                if not elems:
                    return '""'
                if len(elems) == 1:
                    return f"{{{item}:{elems[0]}}}"
            return f"{{{item}:[{','.join(elems)}]}}"

        def tmpl(pairs: list[tuple[str, str]]) -> str:
            """A str.format template of one JSON object; values are inserted already encoded."""
            body = ",".join(f"{json_text(k)}:{v}" for k, v in pairs)
            return "{{" + body.replace("{", "{{").replace("}", "}}").replace("\x00", "{}") + "}}"

        email_key = json_text(a + rep["email_attribute"])
        container, types, sf = self._t_sess
        sess_t = [
            (
                kind,
                json_text(sl),
                json_text(si),
                tmpl([(sf["start"], '"\x00"'), (sf["end"], '"\x00"'), (sf["duration"], "\x00")]),
            )
            for kind, sl, si in types
        ]
        as_str = isinstance(num(0), str)
        ql, qi, qf = self._t_q
        q_t = tmpl([(qf["asked_at"], '"\x00"'), (qf["text"], "\x00"), (qf["answer"], "\x00")])
        svl, svi, svf = self._t_s
        s_t = tmpl(
            [
                (svf["survey"], "\x00"),
                (svf["question"], "\x00"),
                (svf["answer"], "\x00"),
                (svf["answered_at"], '"\x00"'),
            ]
        )
        k_container, k_q, k_s = json_text(container), json_text(ql), json_text(svl)
        j_qi, j_svi = json_text(qi), json_text(svi)
        cache: dict[int, tuple[str, str]] = {}
        date_key = rep["fields"].get("registration_date")

        def persona_parts(r: Registrant) -> tuple[str, str]:
            obj = self.attendee_json(r, fmt)
            del obj[a + rep["email_attribute"]]
            for k in (container, ql, svl):
                del obj[k]
            if date_key is not None:
                obj[date_key] = "\x00"
            text = json_text(obj)[1:-1]  # the members, without braces
            pre, _, post = text.partition('"\\u0000"')
            parts = cache[r.persona] = (pre, post)
            return parts

        def render(r: Registrant) -> str:
            pre, post = cache.get(r.persona) or persona_parts(r)
            date = f'"{fmt(r.registered)}"' if date_key is not None else ""
            out = [f'{{{email_key}:"{r.email}",{pre}{date}{post},{k_container}:{{']
            sessions = r.sessions
            sep = ""
            for kind, jl, ji, t in sess_t:
                items = [
                    t.format(fmt(b), fmt(e), f'"{e - b}"' if as_str else e - b)
                    for k, b, e in sessions
                    if k == kind
                ]
                out.append(f"{sep}{jl}:{jlist(ji, items)}")
                sep = ","
            out.append("},")
            qs = [q_t.format(fmt(t), js(tx), js(an)) for t, tx, an in r.questions]
            out.append(f"{k_q}:{jlist(j_qi, qs)},")
            ss = [s_t.format(js(x), js(y), js(z), fmt(t)) for x, y, z, t in r.surveys]
            out.append(f"{k_s}:{jlist(j_svi, ss)}}}")
            return "".join(out)

        return render

    def _json_report(self, q: ReportQuery, now: str) -> Iterator[str]:
        ev = q.event
        rep = self._rep
        before, after = self._json_env_parts(q.tz_name, now, RC_SUCCESS, "success")
        head = json_text({rep["ei"]: self._num(ev.ei), rep["title"]: ev.title})[:-1]
        it = self._selected(q)
        fmt = q.formatter
        render = self._json_renderer(ev, fmt)
        first = list(islice(it, 2))  # look ahead: 0/1 items may collapse
        item = json_text(rep["item"])
        prefix = f"{before}{head},{json_text(rep['list'])}:"
        if self.json_collapse_single_lists and len(first) < 2:
            if not first:
                yield f'{prefix}""}}{after}'
            else:
                yield f"{prefix}{{{item}:{render(first[0])}}}}}{after}"
            return
        parts = [f"{prefix}{{{item}:["]
        size = 0
        sep = ""
        for r in _chain(first, it):
            s = render(r)
            parts.append(sep)
            parts.append(s)
            sep = ","
            size += len(s)
            if size >= _CHUNK:
                yield "".join(parts)
                parts = []
                size = 0
        parts.append(f"]}}}}{after}")
        yield "".join(parts)

    def csv_header(self, ev: Event) -> list[str]:
        c = self._csv
        return [
            *c["registrant_columns"].values(),
            *ev.labels,
            *c["session_columns"].values(),
        ]

    def _csv_report(self, q: ReportQuery) -> Iterator[str]:
        # ASSUMPTION (no public sample): header row; one row per (registrant x viewing session),
        # sessions in API order (live, od, simlive); a registrant without sessions gets one row
        # with empty session columns; a registrant's rows are contiguous; no Q&A / survey data;
        # RFC 4180 quoting, CRLF line ends.
        ev = q.event
        fmt = q.formatter
        c = self._csv
        reg_cols = list(c["registrant_columns"])
        sess_cols = list(c["session_columns"])
        types = c["session_types"]
        buf = io.StringIO()
        w = csv.writer(buf)
        if self.csv_bom:
            buf.write("\ufeff")
        w.writerow(self.csv_header(ev))
        empty = [""] * len(sess_cols)
        for r in self._selected(q):
            vals = {
                "email": r.email,
                "first_name": r.first_name,
                "last_name": r.last_name,
                "company": r.company,
                "registration_date": fmt(r.registered),
                "sti": r.sti,
            }
            base = [vals[k] for k in reg_cols]
            base.extend(r.fields)
            if not r.sessions:
                w.writerow(base + empty)
            for kind, st, en in r.sessions:
                sv = {"type": types[kind], "start": fmt(st), "end": fmt(en), "duration": en - st}
                w.writerow(base + [sv[k] for k in sess_cols])
            if buf.tell() >= _CHUNK:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()


def _chain(first: list[Registrant], rest: Iterator[Registrant]) -> Iterator[Registrant]:
    yield from first
    yield from rest


def _encode_chunks(gen: Iterator[str]) -> Iterator[bytes]:
    try:
        for s in gen:
            if s:
                yield s.encode("utf-8")
    finally:
        close = getattr(gen, "close", None)
        if close is not None:
            close()


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
