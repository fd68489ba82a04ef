"""CSV rendering of the audience report (the CSV endpoint answers its errors as XML)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

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
    shapes: Shapes, query: ReportQuery, registrants: Iterable[Registrant], *, bom: bool = False
) -> Iterator[str]:
    """The audience report in pieces of about :data:`CHUNK` characters."""
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
    for registrant in registrants:
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
