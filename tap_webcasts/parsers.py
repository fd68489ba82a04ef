"""Webcasts.com responses (XML, JSON, CSV) -> plain Python values, streaming where it matters.

Only the login XML is published verbatim; the event list and audience report shapes are
modelled on the documented parameters and on the element names an older public client
reads (``convey_api/result/success/attendee_list/attendee/@email``, ``session/
live_sessions_list``...). Every vendor name lives in this module, so a real sample that
differs changes this file only.

XML is parsed with lxml and never expands entities, loads a DTD or touches the network; a
document that declares a DTD is refused outright (the API has no reason to send one). The
audience report is read element by element and each registrant is freed once mapped, so
memory stays flat however large the report. CSV is read row by row. JSON has no streaming
parser in our dependencies and is loaded whole: prefer xml or csv for very large events.
"""

from __future__ import annotations

import csv
import json
import re
import typing as t
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from tap_common.errors import VendorDataError

# --- vendor names --------------------------------------------------------------------

EVENT_FIELDS = {  # eventlist element -> column
    "ei": "ei",
    "title": "title",
    "sched_start": "sched_start",
    "sched_end": "sched_end",
    "timezone": "timezone",
    "expired": "expired",
}
REGISTRANT_FIELDS = {  # attendee child element -> column
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "registration_date": "registration_date",
    "sti": "source_tracking_id",
}
# (session type column value, list element, item element)
SESSION_KINDS = (
    ("live", "live_sessions_list", "live_session"),
    ("on_demand", "od_sessions_list", "od_session"),
    ("sim_live", "simlive_sessions_list", "simlive_session"),
)
SESSION_FIELDS = {"start": "session_start", "end": "session_end", "duration": "duration_seconds"}
QUESTION_FIELDS = {"asked_at": "asked_at", "text": "question", "answer": "answer"}
SURVEY_FIELDS = {
    "survey": "survey",
    "question": "question",
    "answer": "answer",
    "answered_at": "answered_at",
}
# CSV report: one row per registrant and viewing session (registrant columns repeated).
CSV_REGISTRANT_COLUMNS = {
    "Email": "email",
    "First Name": "first_name",
    "Last Name": "last_name",
    "Company": "company",
    "Registration Date": "registration_date",
    "Source Tracking ID": "source_tracking_id",
}
CSV_SESSION_COLUMNS = {
    "Session Type": "session_type",
    "Session Start": "session_start",
    "Session End": "session_end",
    "Session Duration": "duration_seconds",
}
CSV_SESSION_TYPES = {"Live": "live", "On-Demand": "on_demand", "Sim-Live": "sim_live"}

# lxml settings for everything this tap parses: no entities, no DTD, no network.
SAFE_XML = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


# --- envelopes -----------------------------------------------------------------------


@dataclass
class Envelope:
    """``convey_api/result``: returnCode 1 is success; anything else carries a message."""

    return_code: int
    message: str | None
    success: t.Any = None


class ReportError(Exception):
    """The API answered with a failure returnCode (bad session, bad parameter...)."""

    def __init__(self, envelope: Envelope) -> None:
        super().__init__(f"returnCode {envelope.return_code}: {envelope.message or 'no message'}")
        self.envelope = envelope


@dataclass
class LoginResult:
    return_code: int
    message: str | None
    session_id: str
    user_id: str


def detect_format(head: bytes) -> str:
    """``xml``, ``json`` or ``csv`` from the first bytes of a body."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return {b"<": "xml", b"{": "json"}.get(start, "csv")


def parse_envelope(content: bytes) -> Envelope:
    """The envelope of a small XML or JSON response (login, event list, an error)."""
    if detect_format(content[:64]) == "json":
        try:
            tree = json.loads(content)
        except ValueError:
            raise VendorDataError("the response is not valid JSON") from None
        root = tree.get("convey_api", tree) if isinstance(tree, dict) else {}
    else:
        root = element_to_value(parse_xml(content))
        root = root if isinstance(root, dict) else {}
    result = root.get("result") if isinstance(root, dict) else None
    if not isinstance(result, dict) or "returnCode" not in result:
        raise VendorDataError("the response has no convey_api/result/returnCode")
    return Envelope(
        return_code=parse_int(result["returnCode"], "returnCode"),
        message=_error_message(result),
        success=result.get("success"),
    )


def parse_login(content: bytes) -> LoginResult:
    envelope = parse_envelope(content)
    if envelope.return_code != 1:
        return LoginResult(envelope.return_code, envelope.message, "", "")
    success = envelope.success or {}
    try:
        return LoginResult(
            1, None, _text(success["sessionid"]["value"]), _text(success["userid"]["value"])
        )
    except (KeyError, TypeError):
        raise VendorDataError("the login response has no sessionid/userid values") from None


def parse_event_list(content: bytes) -> list[dict]:
    """Event list -> raw events (vendor names); raises ReportError on a failure returnCode."""
    envelope = parse_envelope(content)
    if envelope.return_code != 1:
        raise ReportError(envelope)
    success = envelope.success if isinstance(envelope.success, dict) else {}
    events = as_list(dig(success, "event_list", "event"))
    if not all(isinstance(event, dict) for event in events):
        raise VendorDataError("event_list/event items are not objects")
    return events


# --- audience report -----------------------------------------------------------------


def iter_registrants(path: Path, fmt: str) -> t.Iterator[dict]:
    """Stream the registrants of a downloaded report, normalised to one shape for all formats.

    Each item: ``email`` and the REGISTRANT_FIELDS columns, ``registration_fields`` (the
    event's own registration form, label -> value), ``sessions``, ``questions``,
    ``survey_answers`` (lists of column dicts) and ``unmapped`` (anything else, or None).
    Times are the report's naive local times; the caller converts them.
    """
    with path.open("rb") as file:
        head = file.read(1024)
    actual = detect_format(head)
    if actual != fmt and actual != "xml":
        raise VendorDataError(f"expected a {fmt} report, got a {actual} body")
    if actual == "xml":
        yield from _xml_registrants(path)
    elif fmt == "json":
        yield from _json_registrants(path)
    else:
        yield from _csv_registrants(path)


def _xml_registrants(path: Path) -> t.Iterator[dict]:
    with path.open("rb") as file:
        refuse_dtd(file.read(65536))
    envelope: Envelope | None = None
    error_parts: dict[str, str] = {}
    try:
        for _, element in etree.iterparse(
            str(path), events=("end",), tag=("returnCode", "message", "attendee"), **SAFE_XML
        ):
            if element.tag == "returnCode":
                envelope = Envelope(parse_int(element.text, "returnCode"), None)
            elif element.tag == "message":
                error_parts["message"] = (element.text or "").strip()
            elif envelope is not None and envelope.return_code == 1:
                yield registrant_from_tree(element_to_value(element))
                # Free what has been mapped: the report may hold a million registrants.
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise VendorDataError(f"the XML report is malformed ({exc.msg})") from None
    if envelope is None:
        raise VendorDataError("the report has no convey_api/result/returnCode")
    if envelope.return_code != 1:
        envelope.message = error_parts.get("message")
        raise ReportError(envelope)


def _json_registrants(path: Path) -> t.Iterator[dict]:
    envelope = parse_envelope(path.read_bytes())
    if envelope.return_code != 1:
        raise ReportError(envelope)
    success = envelope.success if isinstance(envelope.success, dict) else {}
    for attendee in as_list(dig(success, "attendee_list", "attendee")):
        if not isinstance(attendee, dict):
            raise VendorDataError("attendee_list/attendee items are not objects")
        yield registrant_from_tree(attendee)


def _csv_registrants(path: Path) -> t.Iterator[dict]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        missing = [c for c in (*CSV_REGISTRANT_COLUMNS, *CSV_SESSION_COLUMNS) if c not in header]
        if missing:
            raise VendorDataError(f"the CSV report lacks the columns {missing}")
        known = set(CSV_REGISTRANT_COLUMNS) | set(CSV_SESSION_COLUMNS)
        form_columns = [c for c in header if c not in known]
        current: dict | None = None
        for line, row in enumerate(reader, start=2):
            if None in row:  # more cells than headers: a shifted row would land in wrong columns
                raise VendorDataError(f"CSV line {line} has more cells than the header")
            email = row["Email"]
            if current is None or current["email"] != email:
                if current is not None:
                    yield current
                current = {
                    **{column: row[name] for name, column in CSV_REGISTRANT_COLUMNS.items()},
                    "registration_fields": {name: row[name] for name in form_columns},
                    "sessions": [],
                    "questions": [],
                    "survey_answers": [],
                    "unmapped": None,
                }
            if row["Session Type"]:
                session = {column: row[name] for name, column in CSV_SESSION_COLUMNS.items()}
                kind = CSV_SESSION_TYPES.get(session["session_type"])
                if kind is None:
                    msg = f"CSV line {line}: unknown Session Type {session['session_type']!r}"
                    raise VendorDataError(msg)
                current["sessions"].append({**session, "session_type": kind})
        if current is not None:
            yield current


def registrant_from_tree(node: dict) -> dict:
    """One ``attendee`` (XML turned into values, or JSON) -> the normalised registrant."""
    node = dict(node)
    email = node.pop("@email", None) or node.pop("email", None)
    if not email:
        raise VendorDataError("an attendee has no email")
    registrant: dict[str, t.Any] = {"email": _text(email)}
    for name, column in REGISTRANT_FIELDS.items():
        registrant[column] = _text(node.pop(name, None))
    registrant["registration_fields"] = {
        _text(field.get("@name")): _text(field.get("#text")) if isinstance(field, dict) else ""
        for field in as_list(dig(node.pop("registration_fields", None), "field"))
    }
    session_node = node.pop("session", None)
    registrant["sessions"] = [
        {"session_type": kind, **_columns(item, SESSION_FIELDS)}
        for kind, list_tag, item_tag in SESSION_KINDS
        for item in as_list(dig(session_node, list_tag, item_tag))
    ]
    registrant["questions"] = [
        _columns(q, QUESTION_FIELDS) for q in as_list(dig(node.pop("questions", None), "question"))
    ]
    registrant["survey_answers"] = [
        _columns(a, SURVEY_FIELDS)
        for a in as_list(dig(node.pop("surveys", None), "survey_response"))
    ]
    registrant["unmapped"] = node or None
    return registrant


# --- helpers -------------------------------------------------------------------------


def refuse_dtd(head: bytes) -> None:
    """A DTD can declare entities (billion laughs, external files): refuse any document with one."""
    if _DTD.search(head):
        raise VendorDataError(
            "the XML document declares a DTD or entities; refused for safety (entity "
            "expansion and external entities are never processed)"
        )


def parse_xml(content: bytes) -> etree._Element:
    refuse_dtd(content[:65536])
    try:
        return etree.fromstring(content, parser=etree.XMLParser(**SAFE_XML))
    except etree.XMLSyntaxError as exc:
        raise VendorDataError(f"the XML response is malformed ({exc.msg})") from None


def element_to_value(element: etree._Element) -> t.Any:
    """XML element -> the value a JSON conversion of it holds.

    Attributes become ``@name`` keys, text beside attributes or children ``#text``, repeated
    children a list; a leaf is its text. This matches the JSON variant of the API, so one
    mapping serves both formats.
    """
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return element.text or ""
    value: dict[str, t.Any] = {f"@{k}": v for k, v in element.attrib.items()}
    for child in children:
        item = element_to_value(child)
        if child.tag in value:
            existing = value[child.tag]
            value[child.tag] = [*existing, item] if isinstance(existing, list) else [existing, item]
        else:
            value[child.tag] = item
    if text:
        value["#text"] = element.text
    return value


def as_list(value: t.Any) -> list:
    """A repeated element: a list, one object (a list of one collapsed), or empty ("" / None)."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def dig(node: t.Any, *path: str) -> t.Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _columns(node: t.Any, names: dict[str, str]) -> dict:
    node = node if isinstance(node, dict) else {}
    return {column: _text(node.get(name)) for name, column in names.items()}


def _text(value: t.Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return _text(value.get("#text"))
    return str(value)


def parse_int(value: t.Any, field: str) -> int:
    """A whole number; an empty value is an error (see ``int_or_zero`` for counts)."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise VendorDataError(f"{field} holds {value!r}, not an integer") from None


def int_or_zero(value: t.Any, field: str) -> int:
    """A count or duration, where the report leaves an empty cell for 0."""
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        raise VendorDataError(f"field '{field}' holds {value!r}, not an integer") from None


def parse_bool(value: t.Any, field: str) -> bool:
    """true/false, 1/0, yes/no (any case); empty is false."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise VendorDataError(f"field '{field}' holds {value!r}, not a boolean")


def _error_message(result: dict) -> str | None:
    error = result.get("error")
    if isinstance(error, dict):
        return _text(error.get("message")) or None
    return _text(error) or None if error else None
