"""Envelopes alike in every tap: what one tap tolerates, the others tolerate too.

PascalCase envelope keys and ``null`` where a list belongs (Rev's reports, as Cast's pages
already), an empty Webcasts.com event list that holds only whitespace, and a UTF-8
byte-order mark before a JSON body (every tap; the XML and CSV readers already skip it).
"""

from __future__ import annotations

import json
import logging
import typing as t
from collections import Counter

import pytest

from sandbox import CastDataset, WebcastsDataset, start_cast_sandbox, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    SEQUENTIAL,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    cast_config,
    catalog_selecting,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
    webcasts_config,
)

if t.TYPE_CHECKING:
    from tests.helpers import Rev

BOM = b"\xef\xbb\xbf"
REPORT = "/post-event-report"


@pytest.fixture
def rev() -> t.Iterator[Rev]:
    sandbox = start_rev(rev_dataset(webcasts=3, sessions=1200))  # reports of several pages
    yield sandbox
    sandbox.server.stop()


def session_identity(row: dict) -> tuple:
    def get(*names: str) -> t.Any:
        return next((row[name] for name in names if name in row), None)

    return (row["webcast_id"], row["run_number"], get("username"), get("email"))


def test_rev_reports_in_pascal_case_with_null_sessions_are_read_whole(rev: Rev) -> None:
    """Every post-event report page answers ``Sessions``/``TotalSessions``/``ScrollId``; the
    report of one run answers ``Sessions: null`` (no sessions): no error, no rows for it,
    every other session once."""
    empty = (rev.webcast_ids()[0], "0")

    def pascal_case(request, response):
        if not request.path.endswith(REPORT) or response.status != 200:
            return
        body = json.loads(response.body)
        if (request.path.split("/")[-2], request.query["runNumber"][0]) == empty:
            body["sessions"], body["totalSessions"], body["scrollId"] = None, 0, None
        renamed = {"sessions": "Sessions", "totalSessions": "TotalSessions"}
        renamed["scrollId"] = "ScrollId"
        body = {renamed.get(key, key): value for key, value in body.items()}
        response.body = json.dumps(body).encode()

    rev.server.hooks.append(pascal_case)
    config = rev.config(**SEQUENTIAL)
    catalog = catalog_selecting(TapRevWebcast, config, "attendee_sessions")
    run = run_tap(tap_with_clock(rev.clock), config, catalog=catalog)

    rows = run.records("attendee_sessions")
    truth = [
        r
        for r in rev.dataset.ground_truth()["attendee_sessions"]
        if (r["webcast_id"], str(r["run_number"])) != empty
    ]
    assert len(truth) > 500  # pages after the first were read through ScrollId
    assert Counter(map(session_identity, rows)) == Counter(map(session_identity, truth))
    assert len({r["session_key"] for r in rows}) == len(rows)


REALTIME = "/real-time/attendees"


def pascal_case_realtime(*, null_list: bool):
    """Every real-time attendees page answers ``Total``/``Attendees``/``ScrollId``/``Status``
    (and the counts in PascalCase); with ``null_list``, ``Attendees: null`` and no scroll."""

    def hook(request, response):
        if not request.path.endswith(REALTIME) or response.status != 200:
            return
        body = json.loads(response.body)
        body["status"] = "Initiated"  # aggregation has only started: said in the logs
        if null_list:
            body["attendees"], body["total"], body["scrollId"] = None, 0, None
        body = {key[:1].upper() + key[1:]: value for key, value in body.items()}
        response.body = json.dumps(body).encode()

    return hook


@pytest.mark.parametrize("null_list", [False, True], ids=["pages", "null_attendees"])
def test_rev_realtime_attendees_in_pascal_case_are_read_whole(
    null_list: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The live webcast's snapshot answers PascalCase keys on each of its 3 pages, the last
    with a scroll id that no longer works (sandbox ``last_page="count"``): every attendee
    once, ended at ``Total`` without a warning that the snapshot was cut. ``Attendees:
    null`` is a snapshot without attendees: no rows, no error."""
    caplog.set_level(logging.INFO)
    rev = start_rev(rev_dataset(webcasts=3, sessions=5, realtime_attendees=1200))
    rev.api.last_page = "count"
    rev.server.hooks.append(pascal_case_realtime(null_list=null_list))
    try:
        config = rev.config(**SEQUENTIAL)
        catalog = catalog_selecting(TapRevWebcast, config, "realtime_attendees")
        run = run_tap(tap_with_clock(rev.clock), config, catalog=catalog)
    finally:
        rev.server.stop()

    truth = [] if null_list else rev.dataset.ground_truth()["realtime_attendees"]
    rows = run.records("realtime_attendees")
    assert len(truth) in (0, 1200)
    assert Counter(r["session_id"] for r in rows) == Counter(r["SessionId"] for r in truth)
    assert "snapshot ends there" not in caplog.text  # the read ended at Total
    assert "Rev has only started aggregating" in caplog.text  # Status read
    assert rev.server.count(REALTIME, status=200) == (1 if null_list else 3)


@pytest.mark.parametrize("response_format", ["xml", "json"])
def test_a_webcasts_account_without_events_is_a_run_without_rows(response_format: str) -> None:
    """The event list's element holds only whitespace (sandbox switch
    whitespace_in_empty_lists): no rows and a successful run, not four failed tries."""
    dataset = WebcastsDataset(
        seed=2, events=0, expired_events=0, username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, api = start_webcasts_sandbox(dataset)
    api.whitespace_in_empty_lists = True
    try:
        run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    finally:
        server.stop()
    assert not [m for m in run.messages if m["type"] == "RECORD"]
    assert server.count("/eventlist") == 1  # read once: not retried as a broken answer


def prepend_bom(request, response) -> None:
    """A byte-order mark before every JSON body."""
    body = response.body
    if isinstance(body, bytes) and body.lstrip()[:1] in (b"{", b"["):
        response.body = BOM + body


def test_a_bom_before_json_is_read_by_tap_cast() -> None:
    dataset = CastDataset(
        seed=4, casts=1, campaigns_per_cast=2, events_per_type=5, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _ = start_cast_sandbox(dataset)
    server.hooks.append(prepend_bom)
    try:
        run = run_tap(TapCast, cast_config(server, dataset))
    finally:
        server.stop()
    truth = dataset.ground_truth()
    assert {r["id"] for r in run.records("campaigns")} == {c["id"] for c in truth["campaigns"]}
    assert len(run.records("analytics_events")) == len(truth["analytics_events"])


def test_a_bom_before_json_is_read_by_tap_rev_webcast(rev: Rev) -> None:
    rev.server.hooks.append(prepend_bom)
    config = rev.config(**SEQUENTIAL)
    catalog = catalog_selecting(TapRevWebcast, config, "webcasts", "attendee_sessions")
    run = run_tap(tap_with_clock(rev.clock), config, catalog=catalog)
    truth = rev.dataset.ground_truth()["attendee_sessions"]
    rows = run.records("attendee_sessions")
    assert Counter(map(session_identity, rows)) == Counter(map(session_identity, truth))


def test_a_bom_before_a_json_report_is_read_by_tap_webcasts() -> None:
    dataset = WebcastsDataset(
        seed=3, events=2, expired_events=0, registrants_per_event=8,
        username=WEBCASTS_USERNAME, password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, api = start_webcasts_sandbox(dataset)
    api.stream_responses = False  # bytes the hook can prefix
    server.hooks.append(prepend_bom)
    try:
        run = run_tap(TapWebcasts, webcasts_config(server, response_format="json"))
    finally:
        server.stop()
    truth = dataset.ground_truth()["audience"]
    keys = sorted((r["ei"], r["email"]) for r in run.records("audience"))
    assert keys == sorted((int(a["ei"]), a["email"]) for a in truth)
