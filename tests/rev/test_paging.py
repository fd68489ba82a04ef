"""Post-event reports: scrollId paging ends on each last-page signal; expired scroll ids."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError

from tap_rev_webcast.client import ScrollToken
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import SEQUENTIAL, Rev, catalog_selecting, tap_with_clock

REPORT = "/post-event-report"


def drop_totals(request, response):
    """No totalSessions: only the other signals can end the scroll."""
    if request.path.endswith(REPORT) and response.status == 200:
        body = json.loads(response.body)
        del body["totalSessions"]
        response.body = json.dumps(body).encode()


def report_requests(rev: Rev) -> Counter:
    return Counter(
        (c.path.split("/")[-2], int(c.query["runNumber"][0]))
        for c in rev.api.calls
        if c.path.endswith(REPORT)
    )


def pages(rev: Rev, extra_when_rows: int = 0) -> Counter:
    """Requests per (webcast, run) for run numbers 0 and 1 of the completed webcasts."""
    expected: Counter = Counter()
    for w in rev.dataset.webcasts:
        if w.status != "Completed":
            continue
        for run in (0, 1):
            n = w.runs.get(run)
            if n is None:
                expected[(w.id, run)] = 1  # the 400 "no such run"
            else:
                expected[(w.id, run)] = max(1, math.ceil(n / 500)) + (extra_when_rows if n else 0)
    return expected


def assert_complete(rev: Rev, run) -> None:
    rows = run.records("attendee_sessions")
    assert len(rows) == len(rev.dataset.ground_truth()["attendee_sessions"])
    assert len({r["session_key"] for r in rows}) == len(rows)


def test_multi_page_reports_exist(rev: Rev):
    assert max(pages(rev).values()) >= 2  # otherwise the tests below prove little


@pytest.mark.parametrize("variant", ["null", "absent"])
def test_scroll_ends_when_the_scroll_id_is_missing(rev: Rev, variant):
    rev.api.last_page = variant
    rev.server.hooks.append(drop_totals)
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"))
    assert report_requests(rev) == pages(rev)
    assert_complete(rev, run)


def test_scroll_ends_on_an_empty_page(rev: Rev):
    rev.api.last_page = "empty_page"
    rev.server.hooks.append(drop_totals)
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"))
    assert report_requests(rev) == pages(rev, extra_when_rows=1)
    assert_complete(rev, run)


def test_scroll_ends_when_the_rows_read_reach_total_sessions(rev: Rev):
    """The last page's scrollId no longer works: the tap follows it (the total alone never
    ends a scroll that offers more), and its 400 ends the scroll once the total is read."""
    rev.api.last_page = "count"
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"))
    assert report_requests(rev) == pages(rev, extra_when_rows=1)
    served_400 = [c for c in rev.api.calls if c.path.endswith(REPORT) and c.status == 400]
    no_such_run = sum(
        1 for w in rev.dataset.webcasts if w.status == "Completed" and 1 not in w.runs
    )
    dead_scroll_ids = sum(
        1 for w in rev.dataset.webcasts if w.status == "Completed" for n in w.runs.values() if n
    )
    assert len(served_400) == no_such_run + dead_scroll_ids
    assert_complete(rev, run)


def test_the_summary_comes_from_the_sessions_first_page(rev: Rev):
    run = rev.run(
        catalog=catalog_selecting(
            TapRevWebcast, rev.config(), "attendee_sessions", "webcast_attendance_summary"
        )
    )
    assert report_requests(rev) == pages(rev)  # no request of its own
    truth = rev.dataset.ground_truth()["webcast_attendance_summary"]
    assert len(run.records("webcast_attendance_summary")) == len(truth)

    rev.api.calls.clear()
    alone = rev.run(
        catalog=catalog_selecting(TapRevWebcast, rev.config(), "webcast_attendance_summary")
    )
    assert set(report_requests(rev).values()) == {1}  # the first page of each report
    assert alone.records("webcast_attendance_summary") == run.records("webcast_attendance_summary")


def biggest_report(rev: Rev) -> str:
    return max(rev.dataset.webcasts, key=lambda w: w.runs.get(0, 0)).id


def expire_after_first_page(rev: Rev, webcast_id: str, times: int):
    expired: list[int] = []

    def hook(request, response):
        first_page = webcast_id in request.path and "scrollId" not in request.query
        if request.path.endswith(REPORT) and first_page and len(expired) < times:
            expired.append(1)
            rev.clock.advance(rev.api.scroll_ttl + 1)  # the tap was held up too long

    return hook


def test_an_expired_scroll_restarts_the_report_without_duplicates(rev: Rev, caplog):
    webcast_id = biggest_report(rev)
    rev.server.hooks.append(expire_after_first_page(rev, webcast_id, times=1))
    run = rev.run(
        rev.config(**SEQUENTIAL),
        catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"),
    )
    first_pages = [
        c
        for c in rev.api.calls
        if webcast_id in c.path and c.path.endswith(REPORT) and "scrollId" not in c.query
    ]
    assert len(first_pages) == 3  # run 0 twice (restarted), run 1 once
    assert "scroll id expired after 500 rows" in caplog.text
    assert_complete(rev, run)


def test_a_scroll_that_keeps_expiring_fails_clearly(rev: Rev):
    webcast_id = biggest_report(rev)
    rev.server.hooks.append(expire_after_first_page(rev, webcast_id, times=100))
    with pytest.raises(FatalAPIError) as err:
        rev.run(
            rev.config(**SEQUENTIAL),
            catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"),
        )
    message = str(err.value)
    assert "stream 'attendee_sessions'" in message
    assert f"webcast_id={webcast_id} run_number=0" in message
    assert "expired 4 times" in message


def test_a_repeated_scroll_id_is_not_taken_for_a_loop(rev: Rev):
    """Scroll APIs may hand out the same id for every page; the SDK stops on equal tokens."""
    stream = tap_with_clock(rev.clock)(config=rev.config()).streams["attendee_sessions"]
    stream.prepare_partition(None)
    paginator = stream.get_new_paginator()
    for _ in range(2):
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(
            {"sessions": [{"username": "a"}], "totalSessions": 10, "scrollId": "same"}
        ).encode()
        paginator.advance(response)
    assert not paginator.finished
    assert paginator.current_value == ScrollToken("same", 2)
