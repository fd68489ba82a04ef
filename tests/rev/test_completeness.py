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
from tap_common.failures import MAX_FAILED_IN_A_ROW
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
    failed_partitions,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
)

REPORT = "/post-event-report"
BIG = 1230  # sessions of the one multi-page report: pages of 500, 500 and 230


def failure_line(error: BaseException | None, stream: str) -> str:
    """The one line of the run's error that names ``stream`` (one line per failed
    partition, whatever else the error says)."""
    lines = [line for line in str(error).splitlines() if f"stream '{stream}'" in line]
    assert len(lines) == 1, str(error)
    return lines[0]


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
    """Before: the scroll ended once the rows read reached totalSessions (1000 of 1230).
    Each report is read twice (the total disagrees); the reads agree, so all are kept."""
    rev.api.total_sessions_offset = offset
    result = run(rev)
    assert_every_session_once(rev, result)
    assert f"two complete reads found {BIG} sessions each; the rows are kept" in caplog.text


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
    assert (
        f"Rev's totalSessions says {BIG} for webcast_id={webcast_id} run_number=0, but the "
        "read found 1000 sessions; reading it again" in caplog.text
    )
    first_pages = [
        c
        for c in rev.api.calls
        if webcast_id in c.path and c.path.endswith(REPORT) and "scrollId" not in c.query
    ]
    assert len([c for c in first_pages if c.query["runNumber"] == ["0"]]) == 2


def test_a_total_that_stays_above_the_rows_keeps_two_reads_that_agree(rev: Rev, caplog):
    """Before: the run stopped on the first report (and every later run would too); now
    each report is read twice, kept, warned about and listed in the stream's summary."""
    rev.api.total_sessions_offset = 100
    result = run(rev)
    assert_every_session_once(rev, result)
    reports = {
        (w.id, n): sessions
        for w in rev.dataset.webcasts
        if w.completed
        for n, sessions in w.runs.items()
    }
    for (webcast_id, run_number), sessions in reports.items():
        assert (
            f"webcast_id={webcast_id} run_number={run_number} (total {sessions + 100}, "
            f"read {sessions} twice)" in caplog.text
        )
    assert f"attendee_sessions: {len(reports)} partitions kept although" in caplog.text


def test_reads_that_disagree_with_each_other_stop_with_the_numbers(rev: Rev):
    """Each pass over the big report serves one session fewer on its last page, none the
    total: three reads, then one line naming them."""
    webcast_id = big_webcast(rev)
    first_pages: list[int] = []

    def drop_sessions(request, response):
        if not (request.path.endswith(REPORT) and webcast_id in request.path):
            return
        if request.query["runNumber"] != ["0"]:
            return
        if "scrollId" not in request.query:
            first_pages.append(1)
            return
        body = json.loads(response.body)
        if body["scrollId"] is None:  # the last page
            body["sessions"] = body["sessions"][: -len(first_pages)]
            response.body = json.dumps(body).encode()

    rev.server.hooks.append(drop_sessions)
    result = run(rev, expect_error=True)
    message = failure_line(result.error, "attendee_sessions")
    assert f"stream 'attendee_sessions' webcast_id={webcast_id} run_number=0: " in message
    assert (
        f"Rev's totalSessions says {BIG} sessions; 3 complete reads found {BIG - 1}, then "
        f"{BIG - 2}, then {BIG - 3}, no two in a row alike" in message
    )
    assert len(first_pages) == 3
    rows = result.records("attendee_sessions")
    assert len({r["session_key"] for r in rows}) == len(rows)
    assert_no_report_bookmark(result)


def test_a_total_that_moves_between_pages_makes_the_report_read_again(rev: Rev, caplog):
    """Sessions deleted while the report is scrolled (the total drops on page 2): the pass
    is not trusted, and the report is read again, each session once."""
    webcast_id = big_webcast(rev)
    moved: list[int] = []

    def total_moves_once(request, response):
        later = "scrollId" in request.query and webcast_id in request.path
        if request.path.endswith(REPORT) and later and not moved:
            moved.append(1)
            body = json.loads(response.body)
            body["totalSessions"] -= 7
            response.body = json.dumps(body).encode()

    rev.server.hooks.append(total_moves_once)
    result = run(rev)
    assert_every_session_once(rev, result)
    assert f"Rev's totalSessions went from {BIG} to {BIG - 7} while webcast_id={webcast_id}" in (
        caplog.text
    )


# --- class 1: scrolls that do not advance ---------------------------------------------------


def asked_for_the_big_report(rev: Rev) -> int:
    webcast_id = big_webcast(rev)
    return sum(
        1
        for c in rev.api.calls
        if webcast_id in c.path and c.path.endswith(REPORT) and c.query["runNumber"] == ["0"]
    )


def test_a_scroll_id_that_answers_the_same_page_again_stops_in_one_line(rev: Rev):
    """Before: a scroll id that kept answering the same 500 sessions made the tap emit them
    again and again (the n-th repeat of a session gets its own key): 195,400 rows for a
    500-session report. Now the read stops at the first page seen twice."""
    webcast_id = big_webcast(rev)
    rev.api.scroll_stuck = "same"
    result = run(rev, expect_error=True)
    message = failure_line(result.error, "attendee_sessions")
    assert message.startswith(
        f"stream 'attendee_sessions' webcast_id={webcast_id} run_number=0: Rev answered "
        "scroll page 3 with the same sessions as an earlier page: paging does not advance "
        f"(1000 sessions read in 3 requests; Rev's totalSessions says {BIG})"
    )
    assert asked_for_the_big_report(rev) == 3
    rows = result.records("attendee_sessions")
    assert len({r["session_key"] for r in rows}) == len(rows)
    assert len([r for r in rows if r["webcast_id"] == webcast_id and r["run_number"] == 0]) <= BIG
    assert_no_report_bookmark(result)


def test_scroll_ids_that_go_round_after_the_last_page_end_the_report(rev: Rev):
    """The last page hands out the second page's id again (A, B, A, ...): the page it
    answers repeats one already read, all sessions are read, so the report ends there."""
    rev.api.scroll_stuck = "cycle"
    result = run(rev)
    assert_every_session_once(rev, result)
    assert asked_for_the_big_report(rev) == 4


def test_registrations_whose_scroll_does_not_advance_stop_in_one_line(rev: Rev):
    """Registrations have no total. Before: the tap read them until the server gave up."""
    rev.api.registrations_max_size = 3  # pages of 3: the list of 10 is scrolled
    rev.api.scroll_stuck = "same"
    result = run(rev, "registrations", expect_error=True)
    message = failure_line(result.error, "registrations")
    assert re.search(
        r"stream 'registrations' webcast_id=\S+ run_number=0: Rev answered scroll page 3 with "
        r"the same guestUsers as an earlier page: paging does not advance \(\d+ guestUsers "
        r"read in 3 requests\)",
        message,
    ), message
    assert len(rev.api.calls) < 100  # bounded
    rows = result.records("registrations")
    assert len({(r["webcast_id"], r["registration_id"]) for r in rows}) == len(rows)


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
    message = failure_line(result.error, "attendee_sessions")
    assert f"stream 'attendee_sessions' webcast_id={webcast_id} run_number=0" in message
    assert "a page after the first failed 4 times" in message
    assert "HTTP 503" in message
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
    # Every report drips: each partition fails alone, until five in a row stop the run.
    lines = failed_partitions(result.error)
    assert len(lines) == MAX_FAILED_IN_A_ROW
    for line in lines:
        assert re.search(
            r"stream 'attendee_sessions' webcast_id=\S+ run_number=\d: gave up after 2", line
        )
        assert "timed out" in line


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
