"""One reconciled read of a partition, the same in every tap.

A partition (a campaign's events, a webcast's report) is read in passes. Each page is
checked as it arrives, before its rows go on (``PartitionRead.page``):

- a page whose rows repeat a page already read in this pass means the page number or the
  cursor does not advance. Once the vendor's total is reached (or, where the stream says
  so, when the vendor gives no total) that is the end of the pass and the repeated rows are
  dropped; otherwise the read stops with one line, after as many requests as the pass had
  distinct pages plus one: reading on would only return the same rows;
- a total that changes between the pages of a pass means the list changed while it was
  read (rows deleted shift the rest to earlier pages, and a page boundary can skip them):
  the pass is not trusted, and the partition is read again once the pass ends.

When a pass ends (``PartitionRead.finish_pass``) the read is compared with the vendor's
total, and the policy is the same in every tap:

1. a stable pass (its total never moved) that read what the total says: done;
2. a pass whose total moved: read again (at most ``max_passes`` passes in all);
3. a stable, complete pass that disagrees with the total: read again. If two complete
   reads in a row agree with each other, the rows are kept: the total is the vendor's
   count, the reads are what it serves. A warning gives both numbers, and the stream's
   summary lists the partition. Only reads that disagree with each other, up to
   ``max_passes``, stop the run (IncompleteReadError): then rows really come and go.
   Where the total is itself a complete read of the same data (``trust_total``), a read
   that disagrees with it is never kept.

Rows emitted in an earlier pass are not emitted again: each stream deduplicates by its
primary key (or its surrogate key) in the thread that maps rows. Rows carry nothing of
this: the thread that maps them asks ``pass_of_next_row`` which pass the next row comes
from (passes are counted in the requesting thread, and rows are handed over in order).
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from typing_extensions import override

from tap_common.errors import IncompleteReadError, partition_label

if t.TYPE_CHECKING:
    from collections.abc import Hashable

    from tap_common.stream import VendorStream

#: Passes over one partition before reads that keep disagreeing stop the run.
MAX_PASSES = 3


class PagingStuckError(IncompleteReadError):
    """A page number or cursor that keeps answering rows already read: paging does not
    advance, so the partition cannot be read whole."""


@dataclass
class _Pass:
    """One pass over the partition."""

    rows: int = 0
    pages: int = 0
    first_total: int | None = None
    total: int | None = None  # the total on this pass's latest page that had one
    #: The first total of this pass that differed from the one before it, if any.
    moved_to: int | None = None
    fingerprints: set[int] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return self.moved_to is not None


@dataclass
class Disagreement:
    """A partition kept although the vendor's total disagrees with two reads that agree."""

    partition: str
    total: int
    read: int

    @override
    def __str__(self) -> str:
        return f"{self.partition} (total {self.total}, read {self.read} twice)"


class PartitionRead:
    """The passes over one partition and the verdict at the end of each (module docstring).

    ``page`` and ``finish_pass`` are called in the thread that requests the partition,
    ``pass_of_next_row`` in the thread that maps its rows, in the order they were handed on.
    """

    def __init__(
        self,
        *,
        stream: str,
        summary: list[str] | None = None,
        context: t.Mapping[str, t.Any] | None,
        logger: logging.Logger,
        vendor: str,
        unit: str,
        total_name: str,
        max_passes: int = MAX_PASSES,
        repeat_without_total_ends: bool = False,
        trust_total: bool = False,
    ) -> None:
        self.stream = stream
        self.context = dict(context) if context else None
        self.logger = logger
        self.vendor = vendor
        self.unit = unit
        self.total_name = total_name
        self.max_passes = max_passes
        #: A page repeated by a vendor that gives no total ends the pass (a server that
        #: ignores the page number and answers its whole list each time).
        self.repeat_without_total_ends = repeat_without_total_ends
        #: The total is a complete read of the same data: a disagreement is never kept.
        self.trust_total = trust_total
        #: Where a partition kept with a disagreeing total is listed (the stream's summary).
        self.summary = summary
        self.current = _Pass()
        self.passes = 1  # passes begun, restarts included
        self.verdicts = 0  # passes that ended with a verdict
        #: Rows of each complete, stable pass that ended with "read again", in order.
        self.reads: list[int] = []
        #: Set when the partition was kept with a total that disagrees (for the summary).
        self.disagreement: Disagreement | None = None
        # Rows handed on before each later pass began (appended by the requesting thread
        # before it hands on the new pass's rows, read by the mapping thread after).
        self._rows_handed = 0
        self._pass_starts: list[int] = []
        self._rows_mapped = 0  # mapping thread only

    @property
    def where(self) -> str:
        return f"stream '{self.stream}' {partition_label(self.context)}"

    # --- the requesting thread ------------------------------------------------------------

    def page(self, rows: t.Sequence[t.Any], total: int | None, *, where: str) -> bool:
        """Check one page before its rows go on; False: it repeats an earlier page of this
        pass and ends it (its rows must be dropped). Raises PagingStuckError when paging
        does not advance and rows are still missing. ``where``: "page 3", "scroll page 2"."""
        now = self.current
        if total is not None:
            if now.first_total is None:
                now.first_total = total
            elif total != now.total and now.moved_to is None:
                now.moved_to = total
            now.total = total
        fingerprint = _fingerprint(rows) if rows else None
        if fingerprint is not None and fingerprint in now.fingerprints:
            if self._repeat_ends_the_pass():
                return False
            raise self._stuck(where)
        now.pages += 1
        if fingerprint is not None:
            now.fingerprints.add(fingerprint)
        now.rows += len(rows)
        self._rows_handed += len(rows)
        return True

    def _repeat_ends_the_pass(self) -> bool:
        total = self.current.total
        if total is None:
            return self.repeat_without_total_ends
        return self.current.rows >= total

    def _stuck(self, where: str) -> PagingStuckError:
        now = self.current
        says = "" if now.total is None else f"; {self.vendor}'s {self.total_name} says {now.total}"
        return PagingStuckError(
            f"{self.where}: {self.vendor} answered {where} with the same {self.unit} as an "
            f"earlier page: paging does not advance ({now.rows} {self.unit} read in "
            f"{now.pages + 1} requests{says}). The read stopped there rather than emit "
            f"rows twice or run on; no bookmark passes the rows not read. Report it to "
            f"{self.vendor} if it persists."
        )

    def restart(self) -> None:
        """The pass ends unfinished (an expired scroll id, a lost page): a new one begins,
        without a verdict."""
        self._begin_pass()

    def finish_pass(self, *, complete: bool = True) -> bool:
        """The pass has ended; True when the partition must be read again (a new pass has
        begun). ``complete``: False when paging stopped early on purpose (at a bookmark)."""
        now = self.current
        self.verdicts += 1
        last_chance = self.verdicts >= self.max_passes
        if now.changed:
            if last_chance:
                raise IncompleteReadError(
                    f"{self.where}: {self.vendor}'s {self.total_name} changed while the "
                    f"partition was read, in each of {self.verdicts} reads (last from "
                    f"{now.first_total} to {now.moved_to}). The partition stops so that no "
                    "bookmark passes rows that moved between pages; run again later."
                )
            self.logger.warning(
                "%s: %s's %s went from %d to %d while %s was read: the list changed, and "
                "rows may have moved between pages; reading it again (rows already emitted "
                "are not emitted again).",
                self.stream,
                self.vendor,
                self.total_name,
                now.first_total,
                now.moved_to,
                partition_label(self.context),
            )
            return self._begin_pass()
        if not complete or now.total is None or now.rows == now.total:
            return False
        if self.reads and self.reads[-1] == now.rows and not self.trust_total:
            self.keep(now.total, now.rows)
            return False
        if last_chance:
            if self.trust_total:
                raise IncompleteReadError.shortfall(
                    self.stream,
                    self.context,
                    vendor=self.vendor,
                    says=f"{now.total} {self.unit} ({self.total_name})",
                    read=now.rows,
                    unit=self.unit,
                )
            raise IncompleteReadError(
                f"{self.where}: {self.vendor}'s {self.total_name} says {now.total} "
                f"{self.unit}; {self.verdicts} complete reads found "
                f"{self._reads_text(now.rows)}, no two in a row alike. The partition stops so that "
                "no bookmark passes rows that come and go; run again later, and report it "
                f"to {self.vendor} if it persists."
            )
        self.reads.append(now.rows)
        self.logger.warning(
            "%s: %s's %s says %d for %s, but the read found %d %s; reading it again "
            "(rows already emitted are not emitted again).",
            self.stream,
            self.vendor,
            self.total_name,
            now.total,
            partition_label(self.context),
            now.rows,
            self.unit,
        )
        return self._begin_pass()

    def whole_pass(self, rows: int, total: int | None) -> bool:
        """A pass counted whole before any of its rows went on (a report file checked
        first): ``finish_pass`` with its numbers."""
        self.current.rows, self.current.first_total, self.current.total = rows, total, total
        return self.finish_pass()

    def _reads_text(self, last: int) -> str:
        return ", then ".join(str(n) for n in [*self.reads, last])

    def keep(self, total: int, read: int) -> None:
        self.disagreement = Disagreement(partition_label(self.context), total, read)
        if self.summary is not None:
            self.summary.append(str(self.disagreement))
        self.logger.warning(
            "%s: %s's %s says %d for %s, but two complete reads found %d %s each; the rows "
            "are kept (the total disagrees with what %s serves; report it to %s if the "
            "numbers matter).",
            self.stream,
            self.vendor,
            self.total_name,
            total,
            partition_label(self.context),
            read,
            self.unit,
            self.vendor,
            self.vendor,
        )

    def _begin_pass(self) -> bool:
        self.current = _Pass()
        self.passes += 1
        self._pass_starts.append(self._rows_handed)
        return True

    # --- the mapping thread ---------------------------------------------------------------

    def pass_of_next_row(self) -> int:
        """The pass (0 for the first) the next row handed on comes from; call once per row,
        in order."""
        index = self._rows_mapped
        self._rows_mapped += 1
        return sum(1 for start in self._pass_starts if start <= index)


def _fingerprint(rows: t.Sequence[t.Any]) -> int:
    """What tells a page from the other pages of a pass: its length and its first, middle
    and last rows (a page served again is the same; hashing every row would cost a tenth
    of a fast stream's time)."""
    return hash((len(rows), repr(rows[0]), repr(rows[len(rows) // 2]), repr(rows[-1])))


def context_key(context: t.Mapping[str, t.Any] | None) -> Hashable:
    """A partition's key for per-partition bookkeeping."""
    return tuple((context or {}).items())


def partition_read(
    stream: VendorStream[t.Any],
    context: t.Mapping[str, t.Any] | None,
    *,
    unit: str,
    total_name: str,
    **options: t.Any,
) -> PartitionRead:
    """A PartitionRead that names ``stream`` and lists a kept disagreement in its summary."""
    return PartitionRead(
        stream=stream.name,
        summary=stream.progress.kept_despite_total,
        context=context,
        logger=stream.logger,
        vendor=stream.vendor_name,
        unit=unit,
        total_name=total_name,
        **options,
    )
