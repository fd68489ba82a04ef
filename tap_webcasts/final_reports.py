"""Expired events whose audience report was read after they expired: later runs skip them.

Kept in the events stream's state::

    {"expired_reports_read": [1087123, 1089456],
     "report_streams": ["audience", "audience_questions", ...]}

Meaning: the event list marked each of these events expired when every report stream named
in ``report_streams`` read its audience report to the end. An expired event's archive can no
longer be viewed (nor registered for), so its report no longer changes (docs/vendor-notes.md,
"Webcasts.com: event list"): later runs still emit it in ``events`` but request no report for
it, and daily runs cost the active events, not the history.

- A first run, or any run with an empty state (``meltano run --full-refresh``), reads every
  event.
- An event the list marks expired that is not in the set is read once more (from its
  ``audience`` bookmark), then added: only after every selected report stream finished its
  report (the SDK syncs a record's children before it asks the events stream for the next
  record), so a run stopped inside the event reads it again.
- An event the list no longer marks expired (or no longer lists) leaves the set; should it
  expire again, it is read once more.
- A run that selects a report stream the set does not cover ignores the set (every event is
  read) and builds it anew. A run with 'date_range_end' adds nothing: its reports stop there.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterable, Mapping

MARKED = "expired_reports_read"
COVERED = "report_streams"


@dataclass
class FinalReports:
    """The set in the events stream's state."""

    #: The events stream's state as the run found it (read only).
    saved: Mapping[str, t.Any]
    #: The events stream's writable state: created only once there is something to store,
    #: so a run with no expired event writes the same STATE as before this set existed.
    writable_state: Callable[[], dict]
    #: The report streams this run reads (the selected ones).
    report_streams: tuple[str, ...]
    logger: logging.Logger
    #: Whether this run's reports are whole (no 'date_range_end'), so they may be marked.
    may_mark: bool = True
    _expired: set[int] = field(default_factory=set)  # listed as expired this run
    _marked: set[int] = field(default_factory=set)

    def skipped(self, expired: set[int]) -> set[int]:
        """Of the events the list marks ``expired`` now, those whose reports are not requested.

        Call it once, before the first event is emitted.
        """
        self._expired = set(expired)
        self._marked = set(self.saved.get(MARKED) or ())
        covered = self.saved.get(COVERED) or []
        if self._marked - self._expired:  # no longer expired, or no longer listed
            self._store(self._marked & self._expired, covered)
        if not self._marked:
            return set()
        missing = set(self.report_streams) - set(covered)
        if missing:
            self.logger.info(
                "events: %s expired event(s) were read without the report stream(s) %s; "
                "reading every event's report again.",
                len(self._marked),
                ", ".join(sorted(missing)),
            )
            self._store(set(), [])
            return set()
        self.logger.info(
            "events: %s expired event(s) whose reports were read after they expired are not "
            "requested again (an empty state reads them again).",
            len(self._marked),
        )
        self.logger.debug("events: expired events not requested again: %s", sorted(self._marked))
        return set(self._marked)

    def read(self, ei: int, streams_read: Iterable[str]) -> bool:
        """Event ``ei`` was emitted and ``streams_read`` read its report to the end; True if
        it is now marked (its reports will not be requested again)."""
        if not (self.may_mark and self.report_streams and ei in self._expired):
            return False
        if ei in self._marked or not set(self.report_streams) <= set(streams_read):
            return False
        # Older marks cover at least this run's streams (else skipped() dropped them).
        self._store(self._marked | {ei}, self.report_streams)
        return True

    def _store(self, marked: set[int], covered: Iterable[str]) -> None:
        self._marked = marked
        state = self.writable_state()
        if marked:
            state[MARKED] = sorted(marked)
            state[COVERED] = sorted(covered)
        else:
            state.pop(MARKED, None)
            state.pop(COVERED, None)
