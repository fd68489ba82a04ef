"""Webcasts.com responses (XML, JSON, CSV) -> plain Python values, streaming where it matters.

Only the login XML is published verbatim; the event list and audience report shapes are
modelled on the documented parameters and on the element names an older public client
reads (``convey_api/result/success/attendee_list/attendee/@email``, ``session/
live_sessions_list``...). Every vendor name lives in this module, so a real sample that
differs changes this file only.

XML is parsed with lxml and never expands entities, loads a DTD or touches the network; a
document that declares a DTD is refused outright (the API has no reason to send one). The
audience report is read element by element and each registrant is freed once mapped, so
memory stays flat however large the report. JSON reports are streamed with ijson. CSV rows
are grouped per registrant through a temporary SQLite table on disk, so the rows of one
registrant need not be adjacent and memory still stays flat.

A downloaded report is checked whole before any row is read from it (``incomplete_report``):
a cut document is downloaded again instead of being read as a shorter report.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import sqlite3
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

# ijson streams JSON reports (a million registrants is gigabytes of JSON): its yajl2 C backend
# has wheels for CPython 3.10 to 3.13 on Linux, macOS and Windows, parses at C speed (the
# whole report is checked in C before it is read, and attendees are built in C), keeps exact
# decimals (use_float=False), and has been maintained for over a decade. json-stream, the
# other maintained choice, hands items over lazily in Python and needs a second package
# (its Rust tokenizer) for speed.
import ijson
from lxml import etree

from tap_common.errors import VendorDataError
from tap_common.http import decode_json

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
#: How an HTML page (a proxy's or a login page) starts, whatever its Content-Type says.
_HTML = re.compile(rb"<(!DOCTYPE\s+html|html|head|body)[\s>]", re.IGNORECASE)
#: The first element of an XML document: its name (prefix included) ends the document.
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
#: Bytes read from each end of a report to recognise its format and whether it is whole.
HEAD_BYTES = TAIL_BYTES = 4096
#: The longest CSV line (header or row) the whole-report check reads.
CSV_LINE_BYTES = 1 << 20


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


class Shortfall(Exception):
    """A CSV report holds fewer (or more) registrants than the same report in XML."""

    def __init__(self, expected: int, read: int) -> None:
        super().__init__(f"{read} registrants in the CSV report, {expected} in the XML report")
        self.expected = expected
        self.read = read


@dataclass
class LoginResult:
    return_code: int
    message: str | None
    session_id: str
    user_id: str


def detect_format(head: bytes) -> str:
    """``xml``, ``json``, ``html`` or ``csv`` from the first bytes of a body: by content,
    never by label (the API's documented Content-Type is text/html for every format)."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.match(_skip_xml_prolog(head)):
        return "html"
    return {b"<": "xml", b"{": "json", b"[": "json"}.get(head[:1], "csv")


def _skip_xml_prolog(head: bytes) -> bytes:
    """``head`` after its XML declaration and comments, if any."""
    while head.startswith((b"<?", b"<!--")):
        end = head.find(b"?>" if head.startswith(b"<?") else b"-->")
        if end < 0:
            return b""
        head = head[end + 3 if head.startswith(b"<!--") else end + 2 :].lstrip()
    return head


def report_format(path: Path) -> str:
    """The format of a downloaded report, from its first bytes."""
    with path.open("rb") as file:
        return detect_format(file.read(HEAD_BYTES))


def incomplete_report(path: Path, *, framed: bool) -> str | None:
    """Why the downloaded report at ``path`` cannot be whole, or None when it may be.

    XML must end with its root element's end tag; JSON must parse to its end (checked by
    ijson in C, no value built). A CSV report may end without a line break (RFC 4180 makes
    the last one optional) only when its HTTP framing (``framed``: Content-Length or chunked)
    shows the body arrived whole, and then its last row must hold as many cells as the
    header. A CSV report cut exactly at a line end cannot be told from a whole one by its
    content: only the HTTP framing can tell (``AudienceReportStream.download_report``).
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")
        file.seek(max(0, size - TAIL_BYTES))
        tail = file.read()
    fmt = detect_format(head)
    if fmt == "html":
        return "an HTML page, not a report"
    if not tail.strip():
        return "an empty body"
    if fmt == "xml":
        refuse_dtd(head)  # refused at once: never retried
        return _xml_incomplete(head, tail)
    if fmt == "json":
        return _json_incomplete(path)
    if tail.endswith((b"\n", b"\r")):
        return None
    if not framed:
        return (
            "a CSV report that ends without a line break and came without Content-Length or "
            "chunked framing, so a cut inside its last row cannot be ruled out (set "
            "'response_format' to xml or json: their end shows a cut)"
        )
    return _csv_last_row_incomplete(path)


def _csv_last_row_incomplete(path: Path) -> str | None:
    """A CSV body that ends without a line break: is its last row shorter than the header?

    The last line is read alone, so a last row with a quoted line break inside it is taken
    as cut (the report is then downloaded again, and its partition fails if it stays so).
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        header_line = file.readline(CSV_LINE_BYTES)
        file.seek(max(0, size - CSV_LINE_BYTES))
        end = file.read()
    header = next(csv.reader([header_line.decode("utf-8-sig", "replace").rstrip("\r\n")]))
    # Only CR and LF end a CSV line (str.splitlines would also split at U+2028 in a cell).
    last_line = re.split(r"\r\n|\r|\n", end.decode("utf-8", "replace"))[-1]
    if last_line.count('"') % 2:
        return "a CSV report cut inside a quoted cell of its last row"
    cells = next(csv.reader([last_line]))
    if len(cells) != len(header):
        return f"a CSV report cut inside its last row ({len(cells)} of {len(header)} cells)"
    return None


def _xml_incomplete(head: bytes, tail: bytes) -> str | None:
    root = _ROOT.match(_skip_xml_prolog(head))
    if root is not None:
        end_tag = re.compile(rb"</\s*" + re.escape(root.group(1)) + rb"\s*>$")
        if end_tag.search(tail.rstrip(b" \t\r\n\x00")):
            return None
    return "an XML document cut short or malformed (it does not end with its root end tag)"


def _open_json(path: Path) -> t.BinaryIO:
    """A JSON report opened past a UTF-8 byte-order mark, if it has one (the XML and CSV
    readers skip it too; RFC 8259 lets a parser ignore it)."""
    file = path.open("rb")
    if file.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
        file.seek(0)
    return file


def _json_incomplete(path: Path) -> str | None:
    with _open_json(path) as file:
        try:
            for _ in ijson.items(file, "\x00"):  # a prefix no document has: parse, build nothing
                pass
        except ijson.JSONError as exc:
            return f"a JSON document cut short or malformed ({_short(exc)})"
    return None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def parse_envelope(content: bytes) -> Envelope:
    """The envelope of a small XML or JSON response (login, event list, an error)."""
    fmt = detect_format(content[:HEAD_BYTES])
    if fmt == "html":
        raise VendorDataError("the response is an HTML page, not an API answer")
    if fmt == "json":
        try:
            tree = decode_json(content)  # nested too deep: NestedTooDeepError, a VendorDataError
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
    if "event_list" not in success:  # never read as "no events"
        raise VendorDataError("the event list has no convey_api/result/success/event_list")
    listing = success["event_list"]
    # Wrapped ({event: [...]}, one event collapsed into an object), bare ([...]) or empty.
    events = as_list(dig(listing, "event") if isinstance(listing, dict) else listing)
    if not all(isinstance(event, dict) for event in events):
        raise VendorDataError("event_list/event items are not objects")
    return events


# --- audience report -----------------------------------------------------------------


@dataclass(frozen=True)
class DownloadedReport:
    """The audience report of event ``ei``, downloaded to ``path`` in format ``fmt``;
    ``expected``: the registrants a CSV report must hold (see ``iter_registrants``)."""

    ei: int
    path: Path
    fmt: str
    expected: int | None = None


def iter_registrants(path: Path, fmt: str, *, expected: int | None = None) -> t.Iterator[dict]:
    """Stream the registrants of a downloaded report, normalised to one shape for all formats.

    Each item: ``email`` and the REGISTRANT_FIELDS columns, ``registration_fields`` (the
    event's own registration form, label -> value), ``sessions``, ``questions``,
    ``survey_answers`` (lists of column dicts) and ``unmapped`` (anything else, or None).
    Times are the report's naive local times; the caller converts them. ``expected``: how
    many registrants a CSV report must hold (else Shortfall, before the first registrant).
    """
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    actual = detect_format(head)
    if actual != fmt and actual != "xml":  # errors come as XML whatever the format asked
        raise VendorDataError(f"expected a {fmt} report, got a {actual} body")
    if actual == "xml":
        yield from _xml_registrants(path)
    elif fmt == "json":
        yield from _json_registrants(path)
    else:
        yield from _csv_registrants(path, expected)


def count_registrants(path: Path) -> int:
    """The attendees of a downloaded XML report, counted without mapping them (a failure
    returnCode raises ReportError, as when reading it)."""
    return sum(1 for _ in _xml_attendees(path))


def _xml_registrants(path: Path) -> t.Iterator[dict]:
    for element in _xml_attendees(path):
        yield registrant_from_tree(element_to_value(element))


def _xml_attendees(path: Path) -> t.Iterator[etree._Element]:
    """Each attendee element of an XML report whose returnCode says success, freed once the
    caller moves on (a report may hold a million registrants). At the end, a failure
    returnCode or a report without its attendee list raises (``_check_report_envelope``)."""
    with path.open("rb") as file:
        refuse_dtd(file.read(65536))
    envelope: Envelope | None = None
    message: str | None = None
    has_list = False
    tags = ("{*}returnCode", "{*}message", "{*}attendee_list", "{*}attendee")
    try:
        for _, element in etree.iterparse(str(path), events=("end",), tag=tags, **SAFE_XML):
            tag = local_name(element)
            if tag == "returnCode":
                envelope = Envelope(parse_int(element.text, "returnCode"), None)
            elif tag == "message":
                message = (element.text or "").strip()
            elif tag == "attendee_list":
                has_list = True
            elif envelope is not None and envelope.return_code == 1:
                yield element
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise VendorDataError(f"the XML report is malformed ({exc.msg})") from None
    _check_report_envelope(envelope, message, has_list=has_list)


def _check_report_envelope(
    envelope: Envelope | None, message: str | None, *, has_list: bool
) -> None:
    """After a report: its failure returnCode, or a success without an attendee list (a
    report we do not understand is never read as an empty one)."""
    if envelope is None:
        raise VendorDataError("the report has no convey_api/result/returnCode")
    if envelope.return_code != 1:
        envelope.message = message
        raise ReportError(envelope)
    if not has_list:
        raise VendorDataError("the report has no convey_api/result/success/attendee_list")


#: The JSON report's envelope, below an optional ``convey_api`` root.
_JSON_RESULT = "result"
_JSON_LIST = "result.success.attendee_list"


def _json_registrants(path: Path) -> t.Iterator[dict]:
    """Attendees streamed with ijson: the envelope and the list's shape are read first (in
    Python, stopping at the list), then the attendees are built by ijson in C."""
    with _open_json(path) as file:
        envelope, message, items_at = _json_layout(file)
    _check_report_envelope(envelope, message, has_list=items_at is not None)
    if not items_at:  # an empty list
        return
    with _open_json(path) as file:
        for attendee in ijson.items(file, items_at, use_float=False):
            if not isinstance(attendee, dict):
                raise VendorDataError("attendee_list/attendee items are not objects")
            yield registrant_from_tree(attendee)


def _json_layout(file: t.BinaryIO) -> tuple[Envelope | None, str | None, str | None]:
    """(returnCode, error message, where the attendees are) of a JSON report.

    The attendee list comes wrapped (``attendee_list: {attendee: [...]}``), wrapped with one
    attendee collapsed into an object, bare (``attendee_list: [...]``) or empty (``""``,
    null, ``{}``). Where: the ijson prefix of the attendees, "" for an empty list, None when
    there is no list.
    """
    envelope: Envelope | None = None
    message: str | None = None
    items_at: str | None = None
    events = ijson.parse(file, use_float=False)
    try:
        for prefix, event, value in events:
            path = prefix.removeprefix("convey_api.")
            if path == f"{_JSON_RESULT}.returnCode" and event in ("number", "string"):
                envelope = Envelope(parse_int(value, "returnCode"), None)
            elif path in (f"{_JSON_RESULT}.error", f"{_JSON_RESULT}.error.message"):
                message = _text(value) if event in ("string", "number") else message
            elif path == _JSON_LIST and items_at is None:
                items_at = _json_list_items(prefix, event, value, events)
            if envelope is not None and items_at is not None:
                break
    except ijson.JSONError as exc:
        raise VendorDataError(f"the JSON report is malformed ({_short(exc)})") from None
    return envelope, message, items_at


def _json_list_items(prefix: str, event: str, value: t.Any, events: t.Iterator) -> str:
    """The ijson prefix of the attendees, from the first event at ``attendee_list``."""
    if event == "start_array":
        return f"{prefix}.item"
    if event == "null" or (event == "string" and not value.strip()):
        return ""
    if event != "start_map":
        raise VendorDataError(f"attendee_list holds {value!r}, not a list of attendees")
    for inner, kind, key in events:
        if inner == prefix and kind == "end_map":
            return ""  # {} or a wrapper without attendees
        if inner == prefix and kind == "map_key" and key == "attendee":
            _, kind, item = next(events)
            if kind == "start_array":
                return f"{prefix}.attendee.item"
            if kind == "start_map":
                return f"{prefix}.attendee"  # one attendee, collapsed into an object
            if kind == "null" or (kind == "string" and not item.strip()):
                return ""
            raise VendorDataError(f"attendee_list/attendee holds {item!r}, not attendees")
    raise VendorDataError("the JSON report ends inside attendee_list")


def _csv_registrants(path: Path, expected: int | None) -> t.Iterator[dict]:
    """Registrants of a CSV report: one row per registrant and viewing session, in any order.

    The rows go to a temporary SQLite table first (on disk: memory stays flat), then come
    back grouped per registrant, registrants in the order of their first row. Every row is
    read and checked before the first registrant is returned.
    """
    with (
        path.open(newline="", encoding="utf-8-sig") as file,
        tempfile.TemporaryDirectory(prefix="tap-webcasts-csv-") as folder,
    ):
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        missing = [c for c in (*CSV_REGISTRANT_COLUMNS, *CSV_SESSION_COLUMNS) if c not in header]
        if missing:
            raise VendorDataError(f"the CSV report lacks the columns {missing}")
        known = set(CSV_REGISTRANT_COLUMNS) | set(CSV_SESSION_COLUMNS)
        form_columns = [c for c in header if c not in known]
        db = sqlite3.connect(Path(folder) / "rows.sqlite")
        try:
            _load_csv_rows(db, reader)
            (count,) = db.execute("SELECT COUNT(*) FROM registrant").fetchone()
            if expected is not None and count != expected:
                raise Shortfall(expected, count)
            for email, rows in _grouped_csv_rows(db):
                yield _csv_registrant(email, rows, form_columns)
        finally:
            db.close()


def _load_csv_rows(db: sqlite3.Connection, reader: csv.DictReader) -> None:
    db.execute("CREATE TABLE row (email TEXT NOT NULL, line INTEGER NOT NULL, cells TEXT)")
    batch: list[tuple[str, int, str]] = []
    for line, row in enumerate(reader, start=2):
        if None in row:  # more cells than headers: a shifted row would land in wrong columns
            raise VendorDataError(f"CSV line {line} has more cells than the header")
        batch.append((row["Email"], line, json.dumps(row, ensure_ascii=False)))
        if len(batch) >= 10_000:
            db.executemany("INSERT INTO row VALUES (?, ?, ?)", batch)
            batch = []
    db.executemany("INSERT INTO row VALUES (?, ?, ?)", batch)
    db.execute("CREATE INDEX row_by_email ON row (email, line)")
    db.execute(
        "CREATE TABLE registrant AS SELECT email, MIN(line) AS first FROM row GROUP BY email"
    )


def _grouped_csv_rows(db: sqlite3.Connection) -> t.Iterator[tuple[str, list[tuple[int, dict]]]]:
    """(email, [(line, row)...]) per registrant, in the order of their first rows."""
    query = (
        "SELECT row.email, row.line, row.cells FROM registrant JOIN row USING (email) "
        "ORDER BY registrant.first, row.line"
    )
    email: str | None = None
    rows: list[tuple[int, dict]] = []
    for row_email, line, cells in db.execute(query):
        if row_email != email and email is not None:
            yield email, rows
            rows = []
        email = row_email
        rows.append((line, json.loads(cells)))
    if email is not None:
        yield email, rows


def _csv_registrant(email: str, rows: list[tuple[int, dict]], form_columns: list[str]) -> dict:
    first = rows[0][1]
    registrant = {
        **{column: first[name] for name, column in CSV_REGISTRANT_COLUMNS.items()},
        "registration_fields": {name: first[name] for name in form_columns},
        "sessions": [],
        "questions": [],
        "survey_answers": [],
        "unmapped": None,
    }
    for line, row in rows:
        if row["Session Type"]:
            session = {column: row[name] for name, column in CSV_SESSION_COLUMNS.items()}
            kind = CSV_SESSION_TYPES.get(session["session_type"])
            if kind is None:
                msg = f"CSV line {line}: unknown Session Type {session['session_type']!r}"
                raise VendorDataError(msg)
            registrant["sessions"].append({**session, "session_type": kind})
    return registrant


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
    children = [child for child in element if isinstance(child.tag, str)]  # no comments
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return element.text or ""
    value: dict[str, t.Any] = {f"@{k}": v for k, v in element.attrib.items()}
    for child in children:
        item = element_to_value(child)
        tag = local_name(child)
        if tag in value:
            existing = value[tag]
            value[tag] = [*existing, item] if isinstance(existing, list) else [existing, item]
        else:
            value[tag] = item
    if text:
        value["#text"] = element.text
    return value


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: a document with a default namespace reads the same."""
    return etree.QName(element).localname


def as_list(value: t.Any) -> list:
    """A repeated element: a list, one object (a list of one collapsed), or empty (None, or
    text that is only whitespace: an empty element a pretty-printing writer indented)."""
    if value is None or (isinstance(value, str) and not value.strip()):
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
