"""Never silently lose a session: Rev scrolls, totals, lost pages and odd answers.

Each test drives the Rev sandbox through a fault switch (sandbox/rev/api.py) or a precise
hook, and asserts either every session exactly once against the sandbox's ground truth, or
one clear error naming stream, partition and cause. Report streams are full table: no
STATE ever carries a bookmark for them, complete or not.
"""

from __future__ import annotations

import json
import re
import typing as t
from collections import Counter
from urllib.parse import quote

import pytest

from sandbox import SandboxServer
from tap_common.errors import IncompleteReadError
from tap_common.records import parse_timestamp
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import (
    REV_API_KEY,
    REV_PASSWORD,
    REV_SECRET,
    REV_USERNAME,
    SEQUENTIAL,
    Rev,
    TapRun,
    catalog_selecting,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
)

REPORT = "/post-event-report"
BIG = 1230  # sessions of the one multi-page report: pages of 500, 500 and 230


@pytest.fixture
def rev() -> t.Iterator[Rev]:
    """One report of three pages; every other report fits on one page."""
    sandbox = start_rev(rev_dataset(sessions=100, big_webcast_sessions=BIG))
    yield sandbox
    sandbox.server.stop()


def big_webcast(rev: Rev) -> str:
    return next(w.id for w in rev.dataset.webcasts if w.runs.get(0) == BIG)


def sessions_only(rev: Rev, **config: t.Any) -> dict:
    return catalog_selecting(TapRevWebcast, rev.config(**config), "attendee_sessions")


def run(rev: Rev, *streams: str, expect_error: bool = False, **config: t.Any) -> TapRun:
    config = rev.config(**SEQUENTIAL, **config)
    catalog = catalog_selecting(TapRevWebcast, config, *(streams or ("attendee_sessions",)))
    return run_tap(tap_with_clock(rev.clock), config, catalog=catalog, expect_error=expect_error)


def identity(row: dict) -> tuple:
    """What tells one session from another, in a ground-truth row or a record."""

    def get(*names: str) -> t.Any:
        return next((row[name] for name in names if name in row), None)

    entered = get("enteredDate", "entered_date")
    return (
        row["webcast_id"],
        row["run_number"],
        get("username"),
        get("email"),
        get("ipAddress", "ip_address"),
        parse_timestamp(entered, field="entered_date") if entered else None,
    )


def assert_every_session_once(rev: Rev, result: TapRun, *, without: t.Iterable[str] = ()) -> None:
    rows = result.records("attendee_sessions")
    truth = [
        r for r in rev.dataset.ground_truth()["attendee_sessions"] if r["webcast_id"] not in without
    ]
    assert len({r["session_key"] for r in rows}) == len(rows), "a session was emitted twice"
    assert Counter(map(identity, rows)) == Counter(map(identity, truth))
    assert_no_report_bookmark(result)


def assert_no_report_bookmark(result: TapRun) -> None:
    """Report streams are full table: no STATE may claim progress through a report."""
    for message in result.messages:
        if message["type"] == "STATE":
            assert "replication_key_value" not in json.dumps(message["value"])


def scroll_ids_requested(rev: Rev) -> Counter:
    """Requests per scroll id, faults injected by the server included."""
    return Counter(
        r.query["scrollId"][0]
        for r in rev.server.requests
        if r.path.endswith(REPORT) and "scrollId" in r.query
    )


# --- class 4: reconciliation with totalSessions -------------------------------------------


@pytest.mark.parametrize("offset", [-300, -1000, -BIG])
def test_a_total_that_understates_never_ends_a_scroll_that_offers_more(rev: Rev, offset, caplog):
    """Before: the scroll ended once the rows read reached totalSessions (1000 of 1230)."""
    rev.api.total_sessions_offset = offset
    result = run(rev)
    assert_every_session_once(rev, result)
    assert f"served {BIG} sessions; all were read" in caplog.text


def test_a_scroll_that_ends_short_once_is_read_again_without_duplicates(rev: Rev, caplog):
    webcast_id = big_webcast(rev)
    cut: list[int] = []

    def end_after_the_second_page(request, response):
        second_page = webcast_id in request.path and "scrollId" in request.query
        if request.path.endswith(REPORT) and second_page and not cut:
            cut.append(1)
            body = json.loads(response.body)
            body["scrollId"] = None
            response.body = json.dumps(body).encode()

    rev.server.hooks.append(end_after_the_second_page)
    result = run(rev)
    assert_every_session_once(rev, result)
    assert f"ended after 1000 sessions, but Rev's totalSessions says {BIG}" in caplog.text
    first_pages = [
        c
        for c in rev.api.calls
        if webcast_id in c.path and c.path.endswith(REPORT) and "scrollId" not in c.query
    ]
    assert len([c for c in first_pages if c.query["runNumber"] == ["0"]]) == 2


def test_a_total_that_stays_above_the_rows_stops_with_numbers(rev: Rev):
    rev.api.total_sessions_offset = 100
    result = run(rev, expect_error=True)
    assert isinstance(result.error, IncompleteReadError)
    message = str(result.error)
    assert "\n" not in message
    match = re.search(
        r"stream 'attendee_sessions' webcast_id=(\S+) run_number=(\d+): Rev says it holds "
        r"(\d+) sessions \(totalSessions\), but (\d+) sessions were read, also after reading it again",
        message,
    )
    assert match, message
    webcast_id, run_number, says, read = match.groups()
    webcast = rev.dataset.webcast(webcast_id)
    assert webcast is not None
    assert int(read) == webcast.runs[int(run_number)]
    assert int(says) == int(read) + 100
    rows = result.records("attendee_sessions")
    assert len({r["session_key"] for r in rows}) == len(rows)  # the re-read emitted none twice
    assert_no_report_bookmark(result)


# --- class 5: forward-only scrolls --------------------------------------------------------


@pytest.mark.parametrize("scroll_ids", ["cursor", "per_page"])
def test_a_page_answered_after_the_timeout_restarts_the_report(rev: Rev, scroll_ids, caplog):
    """The server moved its cursor past page 2, then answered too late.

    Before, with one scroll id per report ("cursor"), the retry got page 3: 500 sessions lost.
    """
    rev.api.scroll_ids = scroll_ids
    rev.api.late_pages = frozenset({2})
    rev.api.late_seconds = 2.5
    result = run(rev, request_timeout=1)
    assert_every_session_once(rev, result)
    assert "Rev scroll ids are forward only" in caplog.text
    if scroll_ids == "per_page":
        assert max(scroll_ids_requested(rev).values()) == 1  # no scroll id asked twice


@pytest.mark.parametrize("fault", ["500", "drop", "truncate", "html"])
def test_a_failed_page_after_the_first_is_never_asked_again(rev: Rev, fault):
    webcast_id = big_webcast(rev)
    rev.server.script(f"{webcast_id}{REPORT}", [None, fault])  # the second page, once
    result = run(rev)
    assert_every_session_once(rev, result)
    assert rev.server.faults_injected(fault) == 1
    assert max(scroll_ids_requested(rev).values()) == 1


def test_a_page_after_the_first_that_keeps_failing_stops_clearly(rev: Rev):
    webcast_id = big_webcast(rev)
    rev.server.script(f"{webcast_id}{REPORT}", [None, "503"] * 10)
    result = run(rev, expect_error=True, max_retries=3)
    message = str(result.error)
    assert f"stream 'attendee_sessions' webcast_id={webcast_id} run_number=0" in message
    assert "a page after the first failed 4 times" in message
    assert "HTTP 503" in message
    assert "\n" not in message
    rows = result.records("attendee_sessions")
    assert len({r["session_key"] for r in rows}) == len(rows)
    assert max(scroll_ids_requested(rev).values()) == 1
    assert_no_report_bookmark(result)


# --- class 6: request_timeout is a deadline for the whole answer --------------------------


def test_a_dripped_report_is_cut_at_the_deadline_and_retried(rev: Rev, caplog):
    rev.api.drip_reports = 1  # the first report answer: one byte every 0.3 s
    rev.api.drip_seconds = 0.3
    result = run(rev, request_timeout=1)
    assert_every_session_once(rev, result)
    assert "retrying in" in caplog.text
    assert "the request timed out" in caplog.text


def test_a_report_that_always_drips_stops_with_one_clear_line(rev: Rev):
    rev.api.drip_reports = 1000
    rev.api.drip_seconds = 0.3
    result = run(rev, expect_error=True, request_timeout=1, max_retries=1)
    message = str(result.error)
    assert re.search(
        r"stream 'attendee_sessions' webcast_id=\S+ run_number=0: gave up after 2", message
    )
    assert "timed out" in message
    assert "\n" not in message


# --- class 7: a webcast deleted between the list and its status ---------------------------


def test_a_webcast_whose_status_answers_404_is_warned_about_and_skipped(rev: Rev, caplog):
    gone = big_webcast(rev)
    rev.api.vanished_webcasts = {gone}
    result = run(rev, "webcasts", "attendee_sessions")
    assert sorted(r["id"] for r in result.records("webcasts")) == sorted(
        w.id for w in rev.dataset.webcasts if w.id != gone
    )
    assert_every_session_once(rev, result, without=[gone])
    assert f"Rev answered 404 for the status of webcast {gone}" in caplog.text
    assert not [c for c in rev.api.calls if gone in c.path and not c.path.endswith("/status")]


# --- class 10: ids with reserved characters -----------------------------------------------

ODD_ID = "odd %41 ?q=1 #frag /slash"


def test_an_id_with_reserved_characters_reaches_every_endpoint(rev: Rev):
    webcast = next(w for w in rev.dataset.webcasts if w.completed and w.runs.get(0))
    rev.dataset.rename_webcast(webcast, ODD_ID)
    streams = (
        "webcasts",
        "attendee_sessions",
        "comments",
        "poll_results",
        "questions",
        "reactions",
    )
    result = run(rev, *streams)
    escaped = f"/api/v2/scheduled-events/{quote(ODD_ID, safe='')}"
    answered = {c.path for c in rev.api.calls if c.status == 200}
    for endpoint in (
        "status",
        "post-event-report",
        "comments",
        "poll-results",
        "questions",
        "reactions",
    ):
        assert f"{escaped}/{endpoint}" in answered, endpoint
    truth = rev.dataset.ground_truth()
    for stream in streams[1:]:
        mine = [r for r in result.records(stream) if r["webcast_id"] == ODD_ID]
        assert len(mine) == len([r for r in truth[stream] if r["webcast_id"] == ODD_ID]), stream
    assert_every_session_once(rev, result)

    rev.api.calls.clear()
    details = run(rev, "webcasts", webcast_ids=[ODD_ID])
    assert [r["id"] for r in details.records("webcasts")] == [ODD_ID]
    assert any(c.path == escaped and c.status == 200 for c in rev.api.calls)


# --- class 11: a login redirected to another host -----------------------------------------


@pytest.mark.parametrize(
    ("login_path", "credentials"),
    [
        ("/api/v2/authenticate", {}),
        (
            "/api/v2/user/login",
            {"api_key": None, "secret": None, "username": REV_USERNAME, "password": REV_PASSWORD},
        ),
    ],
)
def test_a_login_redirected_to_another_host_sends_it_nothing(rev: Rev, login_path, credentials):
    other = SandboxServer(rev.api, host="localhost").start()  # same machine, another host name
    try:
        location = f"http://localhost:{other.port}{login_path}"

        def redirect_login(request, response):
            if request.path == login_path:
                response.status, response.body = 307, b""
                response.headers = {"Location": location}

        rev.server.hooks.append(redirect_login)
        config = {k: v for k, v in credentials.items() if v is not None}
        if credentials:
            config = {**config, "api_key": None, "secret": None}
        result = run_tap(
            tap_with_clock(rev.clock),
            {k: v for k, v in rev.config(**SEQUENTIAL, **config).items() if v is not None},
            catalog=sessions_only(rev),
            expect_error=True,
        )
        assert other.count() == 0  # the key and secret (or password) never went there
    finally:
        other.stop()
    message = str(result.error)
    assert (
        f"Rev {login_path}: the API answered HTTP 307 with a redirect to another host (localhost)"
        in message
    )
    assert "\n" not in message
    for secret in (REV_API_KEY, REV_SECRET, REV_PASSWORD):
        assert secret not in message + result.stdout + result.stderr


# --- class 12: extend-session answered 429 or an empty 200 --------------------------------

#: A token of 120 s and a report request every 12.6 s: the session is extended mid-run,
#: when less than 40 s of it are left.
SLOW_RUN = {"reports_requests_per_minute": 5}
TOKEN_SECONDS = 120


@pytest.mark.parametrize("retry_after", [True, False])
def test_a_throttled_extension_is_waited_out_and_tried_again(rev: Rev, retry_after, caplog):
    """Before: the tap logged in instead, met the same 429 and stopped (2039 of 2532)."""
    rev.api.token_lifetime = TOKEN_SECONDS
    rev.api.session_throttle_seconds = 20  # extensions and logins answer 429 for 20 s
    rev.api.rate_limit_retry_after = retry_after
    result = run(rev, **SLOW_RUN, throttle_wait_seconds=25)
    assert_every_session_once(rev, result)
    assert rev.api.count("/extend-session", status=429) >= 1
    assert rev.api.count("/authenticate", status=429) == 0
    assert rev.api.count("/extend-session", status=200) >= 1
    waited = "Retry-After" if retry_after else "'throttle_wait_seconds'"
    assert "Rev throttled the session extension (HTTP 429), attempt 1 of 4; waiting" in caplog.text
    assert f"({waited}) and extending again" in caplog.text


def test_an_empty_extension_falls_back_to_a_login(rev: Rev, capture_logs):
    rev.api.token_lifetime = TOKEN_SECONDS
    rev.api.extend_session_empty = True
    result = run(rev, **SLOW_RUN)
    assert_every_session_once(rev, result)
    assert rev.api.count("/extend-session", status=200) >= 1
    assert rev.api.count("/authenticate", status=200) >= 2
    assert (
        "Rev did not extend the session (HTTP 200 without a JSON object); logging in again"
        in capture_logs.text
    )
