"""Cast paging rules, page by page, without HTTP: CastPagePaginator and NewestFirstPaginator.

Each test feeds a paginator real ``requests.Response`` objects built in memory, the way the
SDK does (``advance(response)`` after each page), and checks which pages it asks for next.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tap_cast.client import CastPagePaginator
from tap_cast.streams import NewestFirstPaginator
from tests.helpers import FakeStream, http_response, json_response

PAGE_SIZE = 10
UTC = dt.timezone.utc


def page(results: list, count: int, page_size: int | None = PAGE_SIZE, status: int = 200):
    """A page of the ``{count, page_size, results}`` envelope."""
    return json_response({"count": count, "page_size": page_size, "results": results}, status)


def rows(n: int) -> list[dict]:
    return [{"n": i} for i in range(n)]


def pages_read(paginator, pages: dict) -> list[int]:
    """Page numbers the paginator asks for, answered from ``pages`` (number -> response)."""
    asked = []
    while not paginator.finished:
        number = paginator.current_value
        assert number not in asked, f"page {number} asked twice"
        assert number in pages, f"page {number} asked, but the test has no such page"
        asked.append(number)
        paginator.advance(pages[number])
    return asked


def cast_pages(stream=None, page_size: int = PAGE_SIZE) -> CastPagePaginator:
    return CastPagePaginator(stream or FakeStream("campaigns"), page_size)


# --- CastPagePaginator ---------------------------------------------------------------------


def test_pages_are_numbered_from_one_and_end_when_page_times_size_reaches_count():
    pages = {1: page(rows(10), 25), 2: page(rows(10), 25), 3: page(rows(5), 25)}
    assert pages_read(cast_pages(), pages) == [1, 2, 3]


def test_a_count_that_is_an_exact_multiple_needs_no_extra_request():
    pages = {1: page(rows(10), 20), 2: page(rows(10), 20), 3: page([], 20)}
    assert pages_read(cast_pages(), pages) == [1, 2]


def test_the_count_of_the_latest_page_is_followed_when_it_grows():
    pages = {1: page(rows(10), 20), 2: page(rows(10), 27), 3: page(rows(7), 27)}
    assert pages_read(cast_pages(), pages) == [1, 2, 3]


def test_the_page_size_the_api_reports_wins_over_the_configured_one():
    pages = {1: page(rows(5), 12, 5), 2: page(rows(5), 12, 5), 3: page(rows(2), 12, 5)}
    assert pages_read(cast_pages(page_size=100), pages) == [1, 2, 3]


def test_without_a_reported_page_size_the_configured_one_is_used():
    pages = {1: page(rows(10), 15, None), 2: page(rows(5), 15, None)}
    assert pages_read(cast_pages(page_size=10), pages) == [1, 2]


def test_an_empty_page_ends_paging_whatever_the_count_says():
    pages = {1: page(rows(10), 1000), 2: page([], 1000)}
    assert pages_read(cast_pages(), pages) == [1, 2]


def test_a_404_ends_paging_without_reading_its_body():
    # The campaign was deleted while we paged: whatever the 404 page holds is not an envelope.
    not_found = http_response(b"<html>Not Found</html>", 404, {"Content-Type": "text/html"})
    pages = {1: page(rows(10), 30), 2: not_found}
    assert pages_read(cast_pages(), pages) == [1, 2]


def test_an_understated_count_is_distrusted_and_paging_goes_on_to_a_short_page(caplog):
    stream = FakeStream("analytics_events", {"cast_id": 1940, "generation_id": "g1"})
    pages = {1: page(rows(10), 3), 2: page(rows(10), 3), 3: page(rows(4), 3)}
    paginator = cast_pages(stream)
    with caplog.at_level(logging.WARNING, logger=stream.logger.name):
        assert pages_read(paginator, pages) == [1, 2, 3]
    assert paginator.count_trusted is False
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # said once, not on every page
    assert "count=3 after 10 rows" in warnings[0]
    assert "cast_id=1940 generation_id=g1" in warnings[0]


def test_a_distrusted_count_still_ends_on_an_empty_page():
    pages = {1: page(rows(10), 5), 2: page(rows(10), 5), 3: page([], 5)}
    assert pages_read(cast_pages(), pages) == [1, 2, 3]


def test_a_count_lie_found_on_a_later_page_is_distrusted_from_there():
    # 10 rows, then the count drops below what was read: a full page must not end paging.
    pages = {1: page(rows(10), 30), 2: page(rows(10), 12), 3: page(rows(3), 12)}
    assert pages_read(cast_pages(), pages) == [1, 2, 3]


# --- NewestFirstPaginator ------------------------------------------------------------------

SINCE = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def events(*minutes: int) -> list[dict]:
    """Events at SINCE + each number of minutes (negative: older than the bookmark)."""
    return [
        {"event_at": (SINCE + dt.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S")}
        for m in minutes
    ]


def newest_first(since: dt.datetime | None = SINCE) -> NewestFirstPaginator:
    stream = FakeStream("analytics_events", {"cast_id": 1940, "event_type": "view"})
    return NewestFirstPaginator(stream, 3, since)


def event_page(*minutes: int, count: int = 12):
    return page(events(*minutes), count, page_size=3)


def test_paging_stops_early_once_a_page_reaches_events_older_than_since():
    pages = {1: event_page(30, 20, 10), 2: event_page(5, 1, -1), 3: event_page(-2, -3, -4)}
    paginator = newest_first()
    assert pages_read(paginator, pages) == [1, 2]  # the count alone would read 4 pages
    assert paginator.ordered


def test_a_page_ending_exactly_at_since_is_not_the_last():
    # Events in the bookmark's very second may continue on the next page.
    pages = {1: event_page(30, 20, 0), 2: event_page(0, -1, -2)}
    assert pages_read(newest_first(), pages) == [1, 2]


def test_without_since_every_page_is_read():
    pages = {1: event_page(5, 4, 3), 2: event_page(-1, -2, -3), 3: event_page(-4, -5, -6)}
    pages[4] = event_page(-7, -8, -9)
    assert pages_read(newest_first(since=None), pages) == [1, 2, 3, 4]


def test_the_count_still_ends_paging_when_every_event_is_new():
    pages = {1: event_page(9, 8, 7, count=6), 2: event_page(6, 5, 4, count=6)}
    assert pages_read(newest_first(), pages) == [1, 2]


def test_an_unordered_page_falls_back_to_reading_every_page(caplog):
    paginator = newest_first()
    pages = {1: event_page(10, 30, -5), 2: event_page(-7, -6, -8), 3: event_page(-9, -10, -11)}
    pages[4] = event_page(-12, -13, -14)  # page 2 is unordered too: still one warning
    with caplog.at_level(logging.WARNING, logger=paginator.stream.logger.name):
        assert pages_read(paginator, pages) == [1, 2, 3, 4]
    assert not paginator.ordered
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not newest first" in warnings[0]
    assert "cast_id=1940 event_type=view" in warnings[0]


def test_order_broken_across_pages_falls_back_to_reading_every_page():
    # Each page is sorted, but page 2 starts newer than page 1 ended.
    pages = {1: event_page(30, 20, 10), 2: event_page(25, 0, -5), 3: event_page(-6, -7, -8)}
    pages[4] = event_page(-9, -10, -11)
    paginator = newest_first()
    assert pages_read(paginator, pages) == [1, 2, 3, 4]
    assert not paginator.ordered


def test_equal_times_across_a_page_boundary_keep_the_order():
    pages = {1: event_page(30, 20, 10), 2: event_page(10, 5, -1), 3: event_page(-2, -3, -4)}
    paginator = newest_first()
    assert pages_read(paginator, pages) == [1, 2]
    assert paginator.ordered


@pytest.mark.parametrize("since", [SINCE, None], ids=["with since", "without since"])
def test_the_page_rules_of_cast_paging_still_apply(since):
    pages = {1: event_page(30, 20, 10, count=100), 2: page([], 100, page_size=3)}
    assert pages_read(newest_first(since), pages) == [1, 2]
