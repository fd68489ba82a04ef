"""Incremental runs: a run costs what changed (tap_rev_webcast/bookmark.py).

The bookmark is the end time of completed webcasts whose selected reports were all read;
a run lists webcasts that end after it, or within 'report_lookback_days' before the run's
start if that is earlier. Every test checks the
bookmark against what was read: it never passes a completed webcast whose reports were not
all emitted.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tap_rev_webcast.bookmark import BOOKMARK, COVERED
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import (
    SEQUENTIAL,
    Rev,
    TapRun,
    catalog_selecting,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
)

REPORT_PATHS = ("/post-event-report", "/comments", "/poll-results", "/questions", "/reactions")
REPORT_PATHS += ("/registrations",)


@pytest.fixture
def rev_upcoming():
    sandbox = start_rev(rev_dataset(webcasts=8, sessions=120, upcoming_webcasts=2))
    yield sandbox
    sandbox.server.stop()


def run(rev: Rev, state: dict | None = None, **overrides) -> TapRun:
    config = rev.config(**{"include_realtime_attendees": False, **SEQUENTIAL, **overrides})
    return run_tap(tap_with_clock(rev.clock), config, state=state)


def bookmark_of(state: dict) -> dt.datetime | None:
    value = state.get("bookmarks", {}).get("webcasts", {}).get(BOOKMARK)
    return dt.datetime.fromisoformat(value) if value else None


def report_calls(rev: Rev) -> list:
    return [c for c in rev.api.calls if c.path.endswith(REPORT_PATHS)]


def end_of(webcast) -> dt.datetime:
    return dt.datetime.fromtimestamp(webcast.end, tz=dt.timezone.utc)


def assert_no_unread_webcast_before(rev: Rev, runs: list[TapRun], state: dict) -> None:
    """Every completed webcast that ended at or before the bookmark had its reports read."""
    bookmark = bookmark_of(state)
    if bookmark is None:
        return
    truth = rev.dataset.ground_truth()
    emitted = {
        (r["webcast_id"], r["run_number"])
        for x in runs
        for r in x.records("webcast_attendance_summary")
    }
    sessions = {}
    for x in runs:
        for r in x.records("attendee_sessions"):
            sessions.setdefault(r["webcast_id"], set()).add(r["session_key"])
    for webcast in rev.dataset.webcasts:
        if webcast.completed and end_of(webcast) <= bookmark:
            assert (webcast.id, 0) in emitted, webcast.id
            expected = sum(1 for s in truth["attendee_sessions"] if s["webcast_id"] == webcast.id)
            assert len(sessions.get(webcast.id, ())) == expected, webcast.id


def test_a_second_run_with_nothing_new_makes_no_report_request(rev_upcoming: Rev):
    rev = rev_upcoming
    first = run(rev, report_lookback_days=0)
    bookmark = bookmark_of(first.final_state)
    completed = [w for w in rev.dataset.webcasts if w.completed]
    assert bookmark == max(end_of(w) for w in completed)
    assert_no_unread_webcast_before(rev, [first], first.final_state)
    assert sorted(first.final_state["bookmarks"]["webcasts"][COVERED]) == sorted(
        [
            "attendee_sessions",
            "webcast_attendance_summary",
            "comments",
            "registrations",
            "poll_results",
            "poll_answers",
            "questions",
            "reactions",
        ]
    )
    rev.api.calls.clear()
    second = run(rev, first.final_state, report_lookback_days=0)
    assert report_calls(rev) == []
    # Only webcasts that end after the bookmark are listed: live, scheduled, upcoming.
    listed = {r["id"] for r in second.records("webcasts")}
    assert listed == {w.id for w in rev.dataset.webcasts if not w.completed}
    assert bookmark_of(second.final_state) == bookmark


def test_the_lookback_reads_again_exactly_the_webcasts_that_ended_within_it(rev_upcoming: Rev):
    """The lookback counts back from the run's start (now), not from the bookmark."""
    rev = rev_upcoming
    first = run(rev, report_lookback_days=0)
    bookmark = bookmark_of(first.final_state)
    assert bookmark is not None
    rev.api.calls.clear()
    run(rev, first.final_state, report_lookback_days=25)
    now = dt.datetime.fromtimestamp(rev.clock.now(), tz=dt.timezone.utc)
    since = min(bookmark, now - dt.timedelta(days=25))
    expected = {w.id for w in rev.dataset.webcasts if w.completed and end_of(w) > since}
    older = {w.id for w in rev.dataset.webcasts if w.completed and end_of(w) <= since}
    assert expected  # otherwise this test proves nothing
    assert older
    assert {c.path.split("/")[4] for c in report_calls(rev)} == expected


def test_a_tenant_whose_last_webcast_ended_long_ago_reads_no_report_again(rev_upcoming: Rev):
    """Before: the lookback counted back from the bookmark, so every run read the reports of
    the webcasts that ended within 7 days before the last one (6 webcasts here) again."""
    rev = rev_upcoming
    first = run(rev)  # the default lookback, 7 days
    bookmark = bookmark_of(first.final_state)
    assert bookmark is not None
    now = dt.datetime.fromtimestamp(rev.clock.now(), tz=dt.timezone.utc)
    assert now - bookmark > dt.timedelta(days=7)  # the last webcast ended before the lookback
    within_7_days_of_the_bookmark = [
        w
        for w in rev.dataset.webcasts
        if w.completed and end_of(w) > bookmark - dt.timedelta(days=7)
    ]
    assert within_7_days_of_the_bookmark  # what the old rule read again
    rev.api.calls.clear()
    second = run(rev, first.final_state)
    assert report_calls(rev) == []
    assert second.records("attendee_sessions") == []
    assert bookmark_of(second.final_state) == bookmark


def test_after_one_more_webcast_completes_the_next_run_reads_exactly_its_reports(rev: Rev):
    first = run(rev, report_lookback_days=0)
    (live,) = [w for w in rev.dataset.webcasts if w.status == "InProgress"]
    assert bookmark_of(first.final_state) < end_of(live)  # never past a running webcast
    rev.clock.advance(live.end - rev.clock.now() + 600)
    rev.dataset.complete_webcast(live.id, sessions=730)
    rev.api.calls.clear()
    second = run(rev, first.final_state, report_lookback_days=0)
    assert {c.path.split("/")[4] for c in report_calls(rev)} == {live.id}
    truth = rev.dataset.ground_truth()
    for stream in ("attendee_sessions", "comments", "questions", "reactions", "poll_results"):
        expected = [r for r in truth[stream] if r["webcast_id"] == live.id]
        assert len(second.records(stream)) == len(expected), stream
    assert len(second.records("attendee_sessions")) == 730
    assert bookmark_of(second.final_state) == end_of(live)
    assert_no_unread_webcast_before(rev, [first, second], second.final_state)


def test_a_failed_report_leaves_the_bookmark_before_its_webcast(rev: Rev):
    by_end = sorted((w for w in rev.dataset.webcasts if w.completed), key=lambda w: w.end)
    broken = by_end[1]
    failed = run_with_failure(rev, broken.id)
    assert "questions" in str(failed.error)
    bookmark = bookmark_of(failed.final_state)
    assert bookmark is None or bookmark < end_of(broken)
    assert_no_unread_webcast_before(rev, [failed], failed.final_state)
    resumed = run(rev, failed.final_state, report_lookback_days=0)
    assert broken.id in {r["webcast_id"] for r in resumed.records("webcast_attendance_summary")}
    assert bookmark_of(resumed.final_state) == end_of(by_end[-1])
    assert_no_unread_webcast_before(rev, [failed, resumed], resumed.final_state)


def run_with_failure(rev: Rev, webcast_id: str) -> TapRun:
    def fail(request, response):
        if request.path.endswith(f"/{webcast_id}/questions"):
            response.status, response.body = 500, b'{"code": "Error", "detail": "boom"}'

    rev.server.hooks.append(fail)
    config = rev.config(include_realtime_attendees=False, report_lookback_days=0, max_retries=1)
    result = run_tap(tap_with_clock(rev.clock), {**config, **SEQUENTIAL}, expect_error=True)
    rev.server.hooks.clear()
    return result


def test_webcast_ids_mode_neither_reads_nor_moves_the_bookmark(rev: Rev):
    state = {"bookmarks": {"webcasts": {BOOKMARK: "2030-01-01T00:00:00+00:00", COVERED: []}}}
    wanted = rev.webcast_ids()[:2]
    result = run(rev, state, webcast_ids=wanted)
    assert {r["webcast_id"] for r in result.records("attendee_sessions")} == set(wanted)
    assert result.final_state["bookmarks"]["webcasts"][BOOKMARK] == "2030-01-01T00:00:00+00:00"


def test_a_report_stream_the_bookmark_does_not_cover_reads_everything_again(rev: Rev):
    config = rev.config(include_realtime_attendees=False, report_lookback_days=0, **SEQUENTIAL)
    tap = tap_with_clock(rev.clock)
    first = run_tap(
        tap, config, catalog=catalog_selecting(TapRevWebcast, config, "webcasts", "comments")
    )
    assert first.final_state["bookmarks"]["webcasts"][COVERED] == ["comments"]
    catalog = catalog_selecting(TapRevWebcast, config, "webcasts", "comments", "questions")
    second = run_tap(tap, config, state=first.final_state, catalog=catalog)
    truth = rev.dataset.ground_truth()
    assert len(second.records("questions")) == len(truth["questions"])
    assert second.final_state["bookmarks"]["webcasts"][COVERED] == ["comments", "questions"]


def test_upcoming_webcasts_are_listed_and_their_reports_not_requested(rev_upcoming: Rev):
    rev = rev_upcoming
    result = run(rev, upcoming_days=30)
    upcoming = [w for w in rev.dataset.webcasts if w.start > rev.dataset.now]
    assert len(upcoming) == 2
    rows = {r["id"]: r for r in result.records("webcasts")}
    for webcast in upcoming:
        assert rows[webcast.id]["status"] == "Scheduled"
    assert not [c for c in report_calls(rev) if c.path.split("/")[4] in {w.id for w in upcoming}]
    # Listing stops at now when told so.
    rev.api.calls.clear()
    result = run(rev, upcoming_days=0)
    assert not {w.id for w in upcoming} & {r["id"] for r in result.records("webcasts")}


def test_a_429_on_the_list_does_not_fail_the_run(rev: Rev):
    """Sanity for the listing with the bookmark: a throttled window is retried."""
    seen = []

    def throttle_first_list(request, response):
        if request.path == "/api/v2/scheduled-events" and not seen:
            seen.append(1)
            response.status, response.body = 429, b"Too Many Requests"
            response.headers = {"Content-Type": "text/plain"}

    rev.server.hooks.append(throttle_first_list)
    result = run(rev, throttle_wait_seconds=5)
    assert seen
    assert len(result.records("webcasts")) == len(rev.dataset.webcasts)
