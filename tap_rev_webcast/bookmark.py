"""The bookmark of incremental runs: the end time of completed webcasts whose reports were read.

Kept in the webcasts stream's state::

    {"reports_read_through": "2026-05-30T16:00:00+00:00",
     "report_streams": ["attendee_sessions", "comments", ...]}

Meaning: every completed webcast that ended at or before ``reports_read_through`` was listed
and every report stream named in ``report_streams`` was read for it to the end. A run then
lists webcasts that end after the bookmark, plus those that ended within the last
'report_lookback_days' before the run's start (late data arrives after a webcast ends; Rev's
list matches by end date), so older webcasts cost no request at all: a tenant whose last
webcast ended a year ago does not read that webcast's reports again on every run.

The bookmark moves only over a prefix: after the last report stream of a webcast has been
synced (the SDK syncs a record's children before it asks the parent for the next record),
it moves to the latest end time such that every completed webcast listed this run that
ended at or before it is done. It never reaches:

- a webcast that is running (its end date may pass before it completes): the bookmark stays
  below that end date;
- the run's own "now" (a webcast that completes early could end after a later one starts).

A webcast that is scheduled, never started and ended before the bookmark has no report yet;
if it is started later than 'report_lookback_days' after its scheduled end, incremental
runs do not see it (run with an empty state). The bookmark is ignored (everything since
'start_date' is read) when the catalog selects a report stream it does not cover.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

from tap_common.records import parse_timestamp

if t.TYPE_CHECKING:
    import logging

BOOKMARK = "reports_read_through"
COVERED = "report_streams"


@dataclass
class ListedWebcast:
    """What the bookmark needs to know of a listed webcast."""

    webcast_id: str
    end: dt.datetime
    completed: bool
    running: bool


@dataclass
class ReportBookmark:
    """The bookmark in the webcasts stream's ``state`` (updated in place)."""

    state: dict
    #: The report streams this run reads (selected, or parents of selected ones).
    report_streams: tuple[str, ...]
    logger: logging.Logger
    _todo: list[ListedWebcast] = field(default_factory=list)  # completed, by end time
    _done: set[str] = field(default_factory=set)
    _limit: dt.datetime | None = None  # the bookmark stays below this

    def previous(self) -> dt.datetime | None:
        """The bookmark this run may start from, or None (read from 'start_date')."""
        value = self.state.get(BOOKMARK)
        if not value:
            return None
        missing = set(self.report_streams) - set(self.state.get(COVERED) or [])
        if missing:
            self.logger.info(
                "webcasts: the bookmark %s does not cover the report stream(s) %s; reading "
                "every webcast since 'start_date'.",
                value,
                ", ".join(sorted(missing)),
            )
            del self.state[BOOKMARK]  # moved again from scratch by this run
            return None
        return parse_timestamp(value, field=BOOKMARK)

    def listing_start(
        self, start_date: dt.datetime, lookback_days: float, now: dt.datetime
    ) -> dt.datetime:
        """Where this run's webcast list starts: after the bookmark, or 'report_lookback_days'
        before the run's start (``now``) if that is earlier; never before 'start_date'."""
        previous = self.previous()
        if previous is None:
            return start_date
        start = max(start_date, min(previous, now - dt.timedelta(days=lookback_days)))
        self.logger.info(
            "webcasts: incremental run: reports were read through %s; listing webcasts that "
            "end after %s (the bookmark, or 'report_lookback_days' %s before now if earlier).",
            previous.isoformat(),
            start.isoformat(),
            lookback_days,
        )
        return start

    def track(self, webcasts: list[ListedWebcast], now: dt.datetime) -> None:
        """The webcasts this run emits, before the first is emitted."""
        self._todo = sorted((w for w in webcasts if w.completed), key=lambda w: w.end)
        running = [w.end for w in webcasts if w.running]
        self._limit = min([now, *running])

    def done(self, webcast_id: str) -> bool:
        """Every report stream of ``webcast_id`` was synced; True if the bookmark moved."""
        self._done.add(webcast_id)
        assert self._limit is not None  # track() comes first
        reached = None
        for webcast in self._todo:
            if webcast.webcast_id not in self._done:
                break
            if webcast.end >= self._limit:
                break
            reached = webcast.end
        previous = self.state.get(BOOKMARK)
        if reached is None or (previous and parse_timestamp(previous, field=BOOKMARK) >= reached):
            return False
        self.state[BOOKMARK] = reached.isoformat()
        self.state[COVERED] = sorted(self.report_streams)
        return True
