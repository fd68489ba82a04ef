"""The audience report's parameters: parsing, validation and the registrant filter."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .common import REPORT_FLAGS, TimeFormatter, WebcastsError
from .model import Event, Registrant

if TYPE_CHECKING:
    from .dataset import WebcastsDataset

_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

#: One parameter's value, stripped; "" when absent or blank.
Getter = Callable[[str], str]


def _split_pipes(value: str) -> list[str]:
    return [v.strip() for v in value.split("|") if v.strip()]


def _event(dataset: WebcastsDataset, get: Getter) -> Event:
    event_id = get("ei")
    if not event_id:
        raise WebcastsError("missing_parameter", name="ei")
    # ASSUMPTION: an id that is not an event of the account (or not a number) -> code 6.
    # Expired events are still reportable.
    if not (event_id.isascii() and event_id.isdigit()) or not dataset.has_event(event_id):
        raise WebcastsError("invalid_event", value=event_id)
    return dataset.event(event_id)


def _formatter(tz_name: str) -> TimeFormatter:
    # ASSUMPTION: tz takes IANA names (GMT and UTC included); anything else -> code 7.
    try:
        return TimeFormatter(tz_name)
    except Exception:
        raise WebcastsError("invalid_timezone", value=tz_name) from None


def _date(get: Getter, formatter: TimeFormatter, name: str, end: bool) -> int | None:
    raw = get(name)
    if not raw:
        return None
    # ASSUMPTION: 1- or 2-digit month/day, 4-digit year, a real calendar date; else code 8.
    match = _DATE_RE.match(raw)
    try:
        if match is None:
            raise ValueError(raw)
        month, day, year = (int(g) for g in match.groups())
        datetime(year, month, day)
    except ValueError:
        raise WebcastsError("invalid_date", name=name, value=raw) from None
    # Documented: the start is 12:00:00 AM of its day, the end 11:59:59 PM; ASSUMPTION:
    # in the report's tz.
    return (
        formatter.local_to_epoch(year, month, day, 23, 59, 59)
        if end
        else formatter.local_to_epoch(year, month, day, 0, 0, 0)
    )


def _flag(get: Getter, name: str, default: bool) -> bool:
    raw = get(name)
    if not raw:
        return default
    # ASSUMPTION: "on"/"off", case-insensitive; any other value -> code 11 (strict, so a
    # client sending "true"/"1" notices instead of silently getting unfiltered data).
    value = raw.lower()
    if value not in ("on", "off"):
        raise WebcastsError("invalid_flag", name=name, value=raw)
    return value == "on"


def _pipes(get: Getter, name: str, lower: bool) -> frozenset[str] | None:
    raw = get(name)
    if not raw:
        return None
    values = _split_pipes(raw)
    # ASSUMPTION: domains match the part after the email's last "@" exactly,
    # case-insensitively, a leading "@" tolerated (no subdomain matching). sti values
    # match exactly (case-sensitive).
    if lower:
        values = [v.lower().lstrip("@") for v in values]
    return frozenset(values)


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
    def parse(cls, dataset: WebcastsDataset, params: Mapping[str, str]) -> ReportQuery:
        """``params``: one value per parameter name. Blank values count as undefined."""

        def get(name: str) -> str:
            return (params.get(name) or "").strip()

        event = _event(dataset, get)
        tz_name = get("tz") or "GMT"
        formatter = _formatter(tz_name)
        range_lo = _date(get, formatter, "date_range_start", False)
        range_hi = _date(get, formatter, "date_range_end", True)
        # ASSUMPTION: start after end -> code 9; a single bound gives an open-ended range.
        if range_lo is not None and range_hi is not None and range_lo > range_hi:
            raise WebcastsError("invalid_date_range")
        dr_regs = _flag(get, "dr_regs", True)  # documented default: on
        dr_sessions = _flag(get, "dr_sessions", True)  # documented default: on
        flags = frozenset(name for name in REPORT_FLAGS if _flag(get, name, False))
        excl = _pipes(get, "excl_domain", True)
        incl = _pipes(get, "incl_domain", True)
        if excl is not None and incl is not None:
            raise WebcastsError("domain_conflict")  # documented: cannot be used together
        return cls(
            event=event,
            tz_name=tz_name,
            formatter=formatter,
            range_lo=range_lo,
            range_hi=range_hi,
            date_range=range_lo is not None or range_hi is not None,
            dr_regs=dr_regs,
            dr_sessions=dr_sessions,
            sti=_pipes(get, "sti_filter", False),
            incl=incl,
            excl=excl,
            flags=flags,
        )

    def matches(self, registrant: Registrant) -> bool:
        """The audience report's filter. Every given filter must hold (AND; ASSUMPTION)."""
        return (
            self._in_date_range(registrant)
            and self._matches_lists(registrant)
            and (not self.flags or self._matches_flags(registrant))
        )

    def _in_date_range(self, registrant: Registrant) -> bool:
        if not (self.date_range and (self.dr_regs or self.dr_sessions)):
            return True
        # ASSUMPTION: a registrant is in range if (dr_regs and registered in range) or
        # (dr_sessions and one viewing session overlaps the range); with both off the range
        # has no effect. The registrant's full data is served, not only in-range sessions.
        low = self.range_lo if self.range_lo is not None else -(2**62)
        high = self.range_hi if self.range_hi is not None else 2**62
        if self.dr_regs and low <= registrant.registered <= high:
            return True
        return self.dr_sessions and any(s <= high and e >= low for _, s, e in registrant.sessions)

    def _matches_lists(self, registrant: Registrant) -> bool:
        # ASSUMPTION: registrants without a source tracking id never match sti_filter.
        if self.sti is not None and registrant.sti not in self.sti:
            return False
        if self.incl is not None and registrant.domain.lower() not in self.incl:
            return False
        return not (self.excl is not None and registrant.domain.lower() in self.excl)

    def _matches_flags(self, registrant: Registrant) -> bool:
        flags = self.flags
        if "users_qa" in flags and not registrant.questions:
            return False
        if "user_survey" in flags and not registrant.surveys:
            return False
        if "no_shows" in flags and registrant.sessions:
            return False
        kinds = {s[0] for s in registrant.sessions}
        return all(
            f"{kind}_viewers" not in flags or kind in kinds for kind in ("live", "od", "simlive")
        )
