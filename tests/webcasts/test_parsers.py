"""Webcasts.com responses, parsed without HTTP: login, event list and the audience report in
XML, JSON and CSV, including failure returnCodes and documents that declare a DTD."""

from __future__ import annotations

import json

import pytest

from tap_common.errors import VendorDataError
from tap_webcasts.parsers import (
    LoginResult,
    ReportError,
    incomplete_report,
    iter_registrants,
    parse_event_list,
    parse_login,
)

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def xml_envelope(result: str) -> bytes:
    """A convey_api document around ``result`` (the inside of ``<result>``)."""
    return (
        f'{XML_HEAD}<convey_api version="2.0">\n'
        "  <currentDateTime>2019-05-15 14:39:09</currentDateTime>\n"
        "  <currentTimeZone>GMT</currentTimeZone >\n"
        f"  <result>\n    {result}\n  </result>\n</convey_api>\n"
    ).encode()


def xml_success(inside: str) -> bytes:
    return xml_envelope(f"<returnCode>1</returnCode>\n    <success>{inside}</success>")


def xml_failure(code: int, message: str) -> bytes:
    return xml_envelope(
        f"<returnCode>{code}</returnCode>\n"
        f"    <error><code>{code}</code><message>{message}</message></error>"
    )


def json_envelope(result: dict) -> bytes:
    return json.dumps(
        {"convey_api": {"version": "2.0", "currentTimeZone": "GMT", "result": result}}
    ).encode()


BILLION_LAUGHS = (
    XML_HEAD + '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    "<convey_api><result><returnCode>1</returnCode><success>&lol2;</success></result>"
    "</convey_api>"
).encode()
EXTERNAL_ENTITY = (
    XML_HEAD + '<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    "<convey_api><result><returnCode>1</returnCode><success>&secret;</success></result>"
    "</convey_api>"
).encode()


# --- login ---------------------------------------------------------------------------------

# The documented sample, verbatim (including the stray space in </currentTimeZone >).
LOGIN_XML = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<convey_api version="2.0">
  <currentDateTime>2019-05-15 14:39:09</currentDateTime>
  <currentTimeZone>GMT</currentTimeZone >
  <result>
    <returnCode>1</returnCode>
    <success>
      <sessionid><description>Authenticated session ID.</description>
                 <value>00e60096592bdead6feb1cf3112c2f68d988d5ec</value></sessionid>
      <userid><description>Authenticated user ID.</description>
              <value>9b21cf03885a7677bdf835d7aa857075dcbf753c</value></userid>
    </success>
  </result>
</convey_api>
"""
SESSION_ID = "00e60096592bdead6feb1cf3112c2f68d988d5ec"
USER_ID = "9b21cf03885a7677bdf835d7aa857075dcbf753c"


def test_login_xml_gives_session_and_user_ids():
    assert parse_login(LOGIN_XML) == LoginResult(1, None, SESSION_ID, USER_ID)


def test_login_json_gives_session_and_user_ids():
    content = json_envelope(
        {
            "returnCode": 1,
            "success": {
                "sessionid": {"description": "Authenticated session ID.", "value": SESSION_ID},
                "userid": {"description": "Authenticated user ID.", "value": USER_ID},
            },
        }
    )
    assert parse_login(content) == LoginResult(1, None, SESSION_ID, USER_ID)


def test_a_refused_login_returns_its_code_and_message():
    result = parse_login(xml_failure(2, "Invalid username or password."))
    assert result == LoginResult(2, "Invalid username or password.", "", "")


def test_a_refused_json_login_returns_its_code_and_message():
    content = json_envelope({"returnCode": 2, "error": {"code": 2, "message": "Locked."}})
    assert parse_login(content) == LoginResult(2, "Locked.", "", "")


def test_a_successful_login_without_ids_is_an_error():
    with pytest.raises(VendorDataError, match="no sessionid/userid"):
        parse_login(xml_success("<userid><value>u</value></userid>"))


@pytest.mark.parametrize(
    "content",
    [b"<html><body>Maintenance</body>", b"{not json", b"<convey_api><result/></convey_api>"],
    ids=["malformed XML", "malformed JSON", "no returnCode"],
)
def test_a_login_body_that_is_not_an_envelope_is_an_error(content):
    with pytest.raises(VendorDataError):
        parse_login(content)


@pytest.mark.parametrize("content", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_a_login_document_with_a_dtd_is_refused(content):
    with pytest.raises(VendorDataError, match="declares a DTD or entities; refused"):
        parse_login(content)


# --- event list ----------------------------------------------------------------------------


def event_xml(ei: int, title: str, expired: str = "false") -> str:
    return (
        f"<event><ei>{ei}</ei><title>{title}</title>"
        "<sched_start>2024-03-14 18:30:00</sched_start><sched_end>2024-03-14 20:00:00</sched_end>"
        f"<timezone>America/New_York</timezone><expired>{expired}</expired></event>"
    )


def test_event_list_xml_gives_every_event_with_vendor_names():
    inside = event_xml(1089868, "Q1 Update &amp; Roadmap", "true") + event_xml(1089869, "Q2")
    events = parse_event_list(xml_success(f"<event_list>{inside}</event_list>"))
    assert events == [
        {
            "ei": "1089868",
            "title": "Q1 Update & Roadmap",
            "sched_start": "2024-03-14 18:30:00",
            "sched_end": "2024-03-14 20:00:00",
            "timezone": "America/New_York",
            "expired": "true",
        },
        {
            "ei": "1089869",
            "title": "Q2",
            "sched_start": "2024-03-14 18:30:00",
            "sched_end": "2024-03-14 20:00:00",
            "timezone": "America/New_York",
            "expired": "false",
        },
    ]


def test_an_event_list_of_one_is_still_a_list():
    events = parse_event_list(xml_success(f"<event_list>{event_xml(7, 'Only')}</event_list>"))
    assert [event["ei"] for event in events] == ["7"]


def test_an_empty_event_list_has_no_events():
    assert parse_event_list(xml_success("<event_list></event_list>")) == []


def test_an_absent_event_list_is_not_read_as_no_events():
    with pytest.raises(VendorDataError, match="no convey_api/result/success/event_list"):
        parse_event_list(xml_success(""))


def test_event_list_json_gives_the_same_events():
    event = {"ei": "7", "title": "Only", "expired": "false"}
    content = json_envelope({"returnCode": 1, "success": {"event_list": {"event": [event]}}})
    assert parse_event_list(content) == [event]


def test_an_event_list_failure_raises_with_code_and_message():
    with pytest.raises(ReportError) as err:
        parse_event_list(xml_failure(4, "Invalid or expired session."))
    assert err.value.envelope.return_code == 4
    assert err.value.envelope.message == "Invalid or expired session."
    assert "returnCode 4: Invalid or expired session." in str(err.value)


def test_event_list_items_that_are_not_objects_are_an_error():
    content = json_envelope({"returnCode": 1, "success": {"event_list": {"event": ["x"]}}})
    with pytest.raises(VendorDataError, match="not objects"):
        parse_event_list(content)


def test_an_event_list_with_a_dtd_is_refused():
    with pytest.raises(VendorDataError, match="refused"):
        parse_event_list(BILLION_LAUGHS)


# --- audience report -----------------------------------------------------------------------

ALICE = {
    "email": "alice@example.com",
    "first_name": "Alice 🚀",
    "last_name": "Müller",
    "company": "Müller & Söhne KG",
    "registration_date": "2024-03-19 12:04:41",
    "source_tracking_id": "tw",
    "registration_fields": {"Job Title": "開発者", "Country": ""},
    "sessions": [
        {
            "session_type": "live",
            "session_start": "2024-03-20 15:00:00",
            "session_end": "2024-03-20 15:30:00",
            "duration_seconds": "1800",
        },
        {
            "session_type": "on_demand",
            "session_start": "2024-04-03 19:44:23",
            "session_end": "2024-04-03 20:34:22",
            "duration_seconds": "2999",
        },
    ],
    "questions": [
        {"asked_at": "2024-03-20 15:10:00", "question": "Slides?", "answer": "Yes, by email."}
    ],
    "survey_answers": [
        {
            "survey": "Feedback",
            "question": "Useful?",
            "answer": "Very",
            "answered_at": "2024-03-20 15:31:00",
        }
    ],
    "unmapped": None,
}
BOB = {
    "email": "bob@example.org",
    "first_name": "Bob",
    "last_name": "Smith",
    "company": "",
    "registration_date": "2024-03-11 07:06:45",
    "source_tracking_id": "email-0424",
    "registration_fields": {"Job Title": "VP, Sales", "Country": "Côte d'Ivoire"},
    "sessions": [],
    "questions": [],
    "survey_answers": [],
    "unmapped": None,
}

REPORT_XML = xml_success(
    "<ei>1089868</ei><eventtitle>Q1</eventtitle><attendee_list>"
    '<attendee email="alice@example.com"><first_name>Alice 🚀</first_name>'
    "<last_name>Müller</last_name><company>Müller &amp; Söhne KG</company>"
    "<registration_date>2024-03-19 12:04:41</registration_date><sti>tw</sti>"
    '<registration_fields><field name="Job Title">開発者</field><field name="Country"></field>'
    "</registration_fields><session>"
    "<live_sessions_list><live_session><start>2024-03-20 15:00:00</start>"
    "<end>2024-03-20 15:30:00</end><duration>1800</duration></live_session></live_sessions_list>"
    "<od_sessions_list><od_session><start>2024-04-03 19:44:23</start>"
    "<end>2024-04-03 20:34:22</end><duration>2999</duration></od_session></od_sessions_list>"
    "<simlive_sessions_list></simlive_sessions_list></session>"
    "<questions><question><asked_at>2024-03-20 15:10:00</asked_at><text>Slides?</text>"
    "<answer>Yes, by email.</answer></question></questions>"
    "<surveys><survey_response><survey>Feedback</survey><question>Useful?</question>"
    "<answer>Very</answer><answered_at>2024-03-20 15:31:00</answered_at></survey_response>"
    "</surveys></attendee>\n"
    '<attendee email="bob@example.org"><first_name>Bob</first_name><last_name>Smith</last_name>'
    "<company></company><registration_date>2024-03-11 07:06:45</registration_date>"
    '<sti>email-0424</sti><registration_fields><field name="Job Title">VP, Sales</field>'
    '<field name="Country">Côte d\'Ivoire</field></registration_fields><session>'
    "<live_sessions_list></live_sessions_list><od_sessions_list></od_sessions_list>"
    "<simlive_sessions_list></simlive_sessions_list></session><questions></questions>"
    "<surveys></surveys></attendee>\n"
    "</attendee_list>"
)

REPORT_JSON = json_envelope(
    {
        "returnCode": 1,
        "success": {
            "ei": "1089868",
            "attendee_list": {
                "attendee": [
                    {
                        "@email": "alice@example.com",
                        "first_name": "Alice 🚀",
                        "last_name": "Müller",
                        "company": "Müller & Söhne KG",
                        "registration_date": "2024-03-19 12:04:41",
                        "sti": "tw",
                        "registration_fields": {
                            "field": [
                                {"@name": "Job Title", "#text": "開発者"},
                                {"@name": "Country", "#text": ""},
                            ]
                        },
                        "session": {
                            "live_sessions_list": {
                                "live_session": {
                                    "start": "2024-03-20 15:00:00",
                                    "end": "2024-03-20 15:30:00",
                                    "duration": "1800",
                                }
                            },
                            "od_sessions_list": {
                                "od_session": [
                                    {
                                        "start": "2024-04-03 19:44:23",
                                        "end": "2024-04-03 20:34:22",
                                        "duration": "2999",
                                    }
                                ]
                            },
                            "simlive_sessions_list": "",
                        },
                        "questions": {
                            "question": {
                                "asked_at": "2024-03-20 15:10:00",
                                "text": "Slides?",
                                "answer": "Yes, by email.",
                            }
                        },
                        "surveys": {
                            "survey_response": {
                                "survey": "Feedback",
                                "question": "Useful?",
                                "answer": "Very",
                                "answered_at": "2024-03-20 15:31:00",
                            }
                        },
                    },
                    {
                        "@email": "bob@example.org",
                        "first_name": "Bob",
                        "last_name": "Smith",
                        "company": "",
                        "registration_date": "2024-03-11 07:06:45",
                        "sti": "email-0424",
                        "registration_fields": {
                            "field": [
                                {"@name": "Job Title", "#text": "VP, Sales"},
                                {"@name": "Country", "#text": "Côte d'Ivoire"},
                            ]
                        },
                        "session": {
                            "live_sessions_list": "",
                            "od_sessions_list": "",
                            "simlive_sessions_list": "",
                        },
                        "questions": "",
                        "surveys": "",
                    },
                ]
            },
        },
    }
)

CSV_HEADER = (
    "Email,First Name,Last Name,Company,Registration Date,Source Tracking ID,Job Title,Country,"
    "Session Type,Session Start,Session End,Session Duration"
)
# One row per registrant and viewing session; a registrant without sessions has one row.
CSV_ROWS = [
    "alice@example.com,Alice 🚀,Müller,Müller & Söhne KG,2024-03-19 12:04:41,tw,開発者,,"
    "Live,2024-03-20 15:00:00,2024-03-20 15:30:00,1800",
    "alice@example.com,Alice 🚀,Müller,Müller & Söhne KG,2024-03-19 12:04:41,tw,開発者,,"
    "On-Demand,2024-04-03 19:44:23,2024-04-03 20:34:22,2999",
    'bob@example.org,Bob,Smith,,2024-03-11 07:06:45,email-0424,"VP, Sales",Côte d\'Ivoire,,,,',
]


def csv_report(header: str = CSV_HEADER, rows: list[str] = CSV_ROWS) -> bytes:
    return "\r\n".join([header, *rows, ""]).encode("utf-8")


def registrants(tmp_path, content: bytes, fmt: str) -> list[dict]:
    """Every registrant of ``content``, written to a report file as the tap downloads it."""
    path = tmp_path / f"report.{fmt}"
    path.write_bytes(content)
    return list(iter_registrants(path, fmt))


def test_an_xml_report_gives_each_registrant_with_sessions_questions_and_surveys(tmp_path):
    assert registrants(tmp_path, REPORT_XML, "xml") == [ALICE, BOB]


def test_a_json_report_gives_the_same_registrants_as_xml(tmp_path):
    assert registrants(tmp_path, REPORT_JSON, "json") == [ALICE, BOB]


def test_a_csv_report_groups_the_rows_of_each_registrant(tmp_path):
    no_qa = {"questions": [], "survey_answers": []}  # the CSV report carries no Q&A or surveys
    assert registrants(tmp_path, csv_report(), "csv") == [{**ALICE, **no_qa}, BOB]


def test_a_csv_report_with_a_byte_order_mark_reads_the_same(tmp_path):
    assert registrants(tmp_path, b"\xef\xbb\xbf" + csv_report(), "csv")[1] == BOB


def test_an_empty_csv_report_has_no_registrants(tmp_path):
    assert registrants(tmp_path, csv_report(rows=[]), "csv") == []


def test_unknown_attendee_elements_are_kept_as_unmapped(tmp_path):
    content = xml_success(
        '<attendee_list><attendee email="c@example.com"><first_name>C</first_name>'
        "<badge_color>teal</badge_color></attendee></attendee_list>"
    )
    (carol,) = registrants(tmp_path, content, "xml")
    assert carol["unmapped"] == {"badge_color": "teal"}
    assert carol["sessions"] == []


def test_an_attendee_without_an_email_is_an_error(tmp_path):
    content = xml_success(
        "<attendee_list><attendee><first_name>C</first_name></attendee></attendee_list>"
    )
    with pytest.raises(VendorDataError, match="no email"):
        registrants(tmp_path, content, "xml")


def test_a_report_with_no_attendees_has_no_registrants(tmp_path):
    assert registrants(tmp_path, xml_success("<attendee_list></attendee_list>"), "xml") == []
    content = json_envelope({"returnCode": 1, "success": {"attendee_list": ""}})
    assert registrants(tmp_path, content, "json") == []


@pytest.mark.parametrize("fmt", ["xml", "csv", "json"])
def test_an_xml_failure_returncode_raises_whatever_the_format_asked(tmp_path, fmt):
    # The API answers errors in XML even on the /csv and /json report paths.
    with pytest.raises(ReportError) as err:
        registrants(tmp_path, xml_failure(6, "Invalid event id: 1."), fmt)
    assert err.value.envelope.return_code == 6
    assert err.value.envelope.message == "Invalid event id: 1."


def test_a_json_failure_returncode_raises(tmp_path):
    content = json_envelope({"returnCode": 4, "error": {"code": 4, "message": "Expired."}})
    with pytest.raises(ReportError) as err:
        registrants(tmp_path, content, "json")
    assert err.value.envelope.return_code == 4


def test_a_report_body_in_another_format_is_an_error(tmp_path):
    with pytest.raises(VendorDataError, match="expected a csv report, got a json body"):
        registrants(tmp_path, REPORT_JSON, "csv")


@pytest.mark.parametrize("content", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_an_xml_report_with_a_dtd_is_refused_before_any_registrant(tmp_path, content):
    with pytest.raises(VendorDataError, match="declares a DTD or entities; refused"):
        registrants(tmp_path, content, "xml")


def test_a_malformed_xml_report_is_an_error(tmp_path):
    with pytest.raises(VendorDataError, match="malformed"):
        registrants(tmp_path, REPORT_XML[:-40], "xml")


def test_an_xml_report_without_a_returncode_is_an_error(tmp_path):
    with pytest.raises(VendorDataError, match="no convey_api/result/returnCode"):
        registrants(tmp_path, f"{XML_HEAD}<convey_api><result/></convey_api>".encode(), "xml")


def test_a_csv_report_missing_a_column_names_it(tmp_path):
    header = CSV_HEADER.replace("Company,", "")
    rows = [
        row.replace(",Müller & Söhne KG,", ",").replace("Smith,,", "Smith,") for row in CSV_ROWS
    ]
    with pytest.raises(VendorDataError, match=r"lacks the columns \['Company'\]"):
        registrants(tmp_path, csv_report(header, rows), "csv")


def test_a_csv_row_with_more_cells_than_the_header_is_an_error(tmp_path):
    rows = [CSV_ROWS[0], CSV_ROWS[1] + ",surplus", CSV_ROWS[2]]
    with pytest.raises(VendorDataError, match="CSV line 3 has more cells than the header"):
        registrants(tmp_path, csv_report(rows=rows), "csv")


def test_a_csv_extra_column_is_a_registration_form_field(tmp_path):
    header = CSV_HEADER.replace("Country,", "Country,Favourite Colour,")
    rows = [
        CSV_ROWS[0].replace(",,Live", ",,teal,Live"),
        CSV_ROWS[1].replace(",,On-Demand", ",,teal,On-Demand"),
        CSV_ROWS[2].replace("Ivoire,", "Ivoire,teal,"),
    ]
    bob = registrants(tmp_path, csv_report(header, rows), "csv")[1]
    assert bob["registration_fields"] == {**BOB["registration_fields"], "Favourite Colour": "teal"}


def test_an_unknown_csv_session_type_is_an_error(tmp_path):
    rows = [CSV_ROWS[0].replace(",Live,", ",Hologram,")]
    with pytest.raises(VendorDataError, match="CSV line 2: unknown Session Type 'Hologram'"):
        registrants(tmp_path, csv_report(rows=rows), "csv")


# --- whole-report check before the first row ----------------------------------------------

THREE_COLUMNS = b"Email,First Name,Notes\r\n"
# The last cell holds U+2028, a line separator that does not end a CSV line.
WHOLE_CSV = (
    THREE_COLUMNS + b'ann@example.com,Ann,"said ""hi"""\r\nbob@example.com,Bob,a\xe2\x80\xa8b'
)


def csv_file(tmp_path, content: bytes):
    path = tmp_path / "report"
    path.write_bytes(content)
    return path


def test_a_framed_csv_report_may_end_without_a_line_break(tmp_path):
    assert incomplete_report(csv_file(tmp_path, WHOLE_CSV), framed=True) is None


def test_a_csv_report_ending_with_a_line_break_is_whole_however_framed(tmp_path):
    path = csv_file(tmp_path, WHOLE_CSV + b"\r\n")
    assert incomplete_report(path, framed=False) is None
    assert incomplete_report(path, framed=True) is None


def test_an_unframed_csv_report_without_a_final_line_break_may_be_cut(tmp_path):
    problem = incomplete_report(csv_file(tmp_path, WHOLE_CSV), framed=False)
    assert problem is not None
    assert "without Content-Length or chunked framing" in problem


@pytest.mark.parametrize(
    ("last_row", "cause"),
    [
        (b"bob@example.com,Bob", "cut inside its last row (2 of 3 cells)"),
        (b'bob@example.com,Bob,"said', "cut inside a quoted cell of its last row"),
    ],
)
def test_a_framed_csv_report_cut_inside_its_last_row_is_not_whole(tmp_path, last_row, cause):
    problem = incomplete_report(csv_file(tmp_path, THREE_COLUMNS + last_row), framed=True)
    assert problem is not None
    assert cause in problem
