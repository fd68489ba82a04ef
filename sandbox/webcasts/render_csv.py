"""CSV rendering of the audience report (the CSV endpoint answers its errors as XML)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator

from .common import CHUNK
from .model import Event, Registrant
from .query import ReportQuery
from .shapes import Shapes


def csv_header(shapes: Shapes, event: Event) -> list[str]:
    columns = shapes.csv
    return [
        *columns["registrant_columns"].values(),
        *event.labels,
        *columns["session_columns"].values(),
    ]


def csv_report(
    shapes: Shapes,
    query: ReportQuery,
    registrants: Iterable[Registrant],
    *,
    bom: bool = False,
    interleaved: bool = False,
    final_line_break: bool = True,
) -> Iterator[str]:
    """The audience report in pieces of about :data:`CHUNK` characters.

    ``interleaved``: a registrant's rows are not adjacent (see :func:`_interleave`).
    ``final_line_break`` False: the last row ends without CRLF (RFC 4180 allows it).
    """
    pieces = _csv_pieces(shapes, query, registrants, bom=bom, interleaved=interleaved)
    return pieces if final_line_break else _without_final_line_break(pieces)


def _without_final_line_break(pieces: Iterator[str]) -> Iterator[str]:
    last = ""
    for piece in pieces:
        if piece:
            if last:
                yield last
            last = piece
    yield last.removesuffix("\r\n")


def _csv_pieces(
    shapes: Shapes,
    query: ReportQuery,
    registrants: Iterable[Registrant],
    *,
    bom: bool,
    interleaved: bool,
) -> Iterator[str]:
    items: Iterable[Registrant | _OneRow] = _interleave(registrants) if interleaved else registrants
    # ASSUMPTION (no public sample): header row; one row per (registrant x viewing session),
    # sessions in API order (live, od, simlive); a registrant without sessions gets one row
    # with empty session columns; a registrant's rows are contiguous; no Q&A / survey data;
    # RFC 4180 quoting, CRLF line ends.
    fmt = query.formatter
    columns = shapes.csv
    registrant_columns = list(columns["registrant_columns"])
    session_columns = list(columns["session_columns"])
    types = columns["session_types"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(csv_header(shapes, query.event))
    empty = [""] * len(session_columns)
    for registrant in items:
        if isinstance(registrant, _OneRow):
            writer.writerow(registrant.row(registrant_columns, session_columns, types, fmt))
            continue
        values = {
            "email": registrant.email,
            "first_name": registrant.first_name,
            "last_name": registrant.last_name,
            "company": registrant.company,
            "registration_date": fmt(registrant.registered),
            "sti": registrant.sti,
        }
        row = [values[k] for k in registrant_columns]
        row.extend(registrant.fields)
        if not registrant.sessions:
            writer.writerow(row + empty)
        for kind, start, end in registrant.sessions:
            session = {
                "type": types[kind],
                "start": fmt(start),
                "end": fmt(end),
                "duration": end - start,
            }
            writer.writerow(row + [session[k] for k in session_columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class _OneRow:
    """One CSV row of a registrant: its viewing session ``kind, start, end``, or none."""

    def __init__(self, registrant: Registrant, session: tuple[str, int, int] | None) -> None:
        self.registrant = registrant
        self.session = session

    def row(
        self,
        registrant_columns: list[str],
        session_columns: list[str],
        types: dict[str, str],
        fmt: Callable[[int], str],
    ) -> list[str | int]:
        registrant = self.registrant
        values = {
            "email": registrant.email,
            "first_name": registrant.first_name,
            "last_name": registrant.last_name,
            "company": registrant.company,
            "registration_date": fmt(registrant.registered),
            "sti": registrant.sti,
        }
        row: list[str | int] = [values[k] for k in registrant_columns]
        row.extend(registrant.fields)
        if self.session is None:
            return row + [""] * len(session_columns)
        kind, start, end = self.session
        session: dict[str, str | int] = {
            "type": types[kind],
            "start": fmt(start),
            "end": fmt(end),
            "duration": end - start,
        }
        return row + [session[k] for k in session_columns]


def _interleave(registrants: Iterable[Registrant]) -> Iterator[_OneRow]:
    """Every registrant's first row, then every second row, and so on: a registrant with
    several sessions has its rows apart (WebcastsAPI.csv_rows_interleaved).

    ASSUMPTION: nothing published says the rows of one registrant are adjacent; a report
    sorted by session time, as an export may well be, scatters them like this. Holds the
    report in memory: for tests, not for the large-report benchmarks.
    """
    rows = [
        [_OneRow(r, session) for session in r.sessions] or [_OneRow(r, None)] for r in registrants
    ]
    for depth in range(max((len(each) for each in rows), default=0)):
        for each in rows:
            if depth < len(each):
                yield each[depth]
