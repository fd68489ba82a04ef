"""The three taps read rows the same way: ``parse_body`` turns an answer into a body (parsed
once per response), ``records_from_body`` turns a body into rows; no stream decides it in
``parse_response``. tap-webcasts' reports take the same path from a downloaded file."""

from __future__ import annotations

import pytest

from tap_cast.tap import TapCast
from tap_common.stream import VendorStream
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts import parsers
from tap_webcasts.streams import AudienceStream, EventsStream
from tap_webcasts.tap import TapWebcasts
from tests.helpers import NO_SERVER, http_response

TAPS = {
    TapCast: {"api_key": "k", "org_slug": "o", "cast_ids": [1]},
    TapWebcasts: {"username": "u", "password": "p"},
    TapRevWebcast: {"api_key": "k", "secret": "s", "webcast_ids": ["w"]},
}

EVENT_LIST = (
    b"<convey_api><result><returnCode>1</returnCode><success><event_list>"
    b"<event><ei>1234567</ei><title>Launch</title></event>"
    b"<event><ei>7654321</ei><title>Recap</title></event>"
    b"</event_list></success></result></convey_api>"
)
REPORT = (
    b"<convey_api><result><returnCode>1</returnCode><success><attendee_list>"
    b'<attendee email="a@example.com"><first_name>Ada</first_name></attendee>'
    b'<attendee email="b@example.com"><first_name>Bo</first_name></attendee>'
    b"</attendee_list></success></result></convey_api>"
)


@pytest.mark.parametrize("tap_class", TAPS, ids=lambda tap: tap.name)
def test_no_stream_decides_rows_in_parse_response(tap_class):
    tap = tap_class(config={"base_url": NO_SERVER, **TAPS[tap_class]})
    for stream in tap.streams.values():
        assert isinstance(stream, VendorStream)
        for cls in type(stream).__mro__:
            if cls is VendorStream:
                break
            assert "parse_response" not in vars(cls), f"{cls.__name__} overrides parse_response"


def test_webcasts_event_list_body_then_rows():
    tap = TapWebcasts(config={"base_url": NO_SERVER, **TAPS[TapWebcasts]})
    events = tap.streams["events"]
    assert isinstance(events, EventsStream)
    response = http_response(EVENT_LIST)
    body = events.parsed_body(response)
    assert events.parsed_body(response) is body  # parsed once per response
    assert [row["ei"] for row in events.records_from_body(body)] == ["1234567", "7654321"]
    assert list(events.parse_response(response)) == list(events.records_from_body(body))


def test_webcasts_report_rows_come_from_the_downloaded_file(tmp_path):
    tap = TapWebcasts(config={"base_url": NO_SERVER, **TAPS[TapWebcasts]})
    audience = tap.streams["audience"]
    assert isinstance(audience, AudienceStream)
    path = tmp_path / "report"
    path.write_bytes(REPORT)
    rows = list(audience.records_from_body(parsers.DownloadedReport(1234567, path, "xml")))
    assert [(row["ei"], row["email"], row["first_name"]) for row in rows] == [
        (1234567, "a@example.com", "Ada"),
        (1234567, "b@example.com", "Bo"),
    ]
