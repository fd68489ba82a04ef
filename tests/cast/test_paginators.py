"""Cast paging rules, page by page, without HTTP: CastPagePaginator and NewestFirstPaginator.

Each test feeds a paginator real ``requests.Response`` objects built in memory, the way the
SDK does (``advance(response)`` after each page), and checks which pages it asks for next.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import typing as t

import pytest
import requests

from tap_cast.client import CastPagePaginator, PageRequest, read_page
from tap_cast.streams import NewestFirstPaginator
from tests.helpers import FakeStream, http_response, json_response

PAGE_SIZE = 10
UTC = dt.timezone.utc


class FakeCastStream(FakeStream):
    """A stream whose parsed bodies are Cast pages, as AnalyticsEventsStream.parse_body."""

    def parsed_body(self, response: requests.Response) -> t.Any:
        return read_page(super().parsed_body(response))


def page(results: list, count: int | None, page_size: int | None = PAGE_SIZE, status: int = 200):
    """A page of the ``{count, page_size, results}`` envelope (None leaves a key out)."""
    body = {"count": count, "page_size": page_size, "results": results}
    return json_response({k: v for k, v in body.items() if v is not None}, status)


_ROW_NUMBERS = itertools.count()


def rows(n: int) -> list[dict]:
    """``n`` rows unlike any other rows of the tests (a page that repeats one means more)."""
    return [{"n": next(_ROW_NUMBERS)} for _ in range(n)]


def requests_made(paginator, pages: dict) -> list[PageRequest]:
    """The pages the paginator asks for, answered from ``pages`` (number -> response), the
    way the SDK drives it: a page without rows (or a 404) goes to ``continue_if_empty``."""
    asked: list[PageRequest] = []
    while not paginator.finished:
        request = paginator.current_value
        assert request not in asked, f"{request} asked twice"
        assert request.number in pages, f"{request} asked, but the test has no such page"
        asked.append(request)
        response = pages[request.number]
        empty = response.status_code == 404 or not paginator.stream.parsed_body(response).results
        if empty and not paginator.continue_if_empty(response):
            break
        paginator.advance(response)
    return asked


def pages_read(paginator, pages: dict) -> list[int]:
    """The page numbers the paginator asks for (see requests_made)."""
    return [request.number for request in requests_made(paginator, pages)]


def cast_pages(stream=None, page_size: int = PAGE_SIZE) -> CastPagePaginator:
    return CastPagePaginator(stream or FakeCastStream("campaigns"), page_size)


# --- CastPagePaginator ---------------------------------------------------------------------


def test_pages_are_numbered_from_one_and_end_on_a_short_page_once_count_is_read():
    pages = {1: page(rows(10), 25), 2: page(rows(10), 25), 3: page(rows(5), 25)}
    paginator = cast_pages()
    assert pages_read(paginator, pages) == [1, 2, 3]
    assert (paginator.rows_read, paginator.vendor_count) == (25, 25)


def test_a_full_last_page_is_followed_by_one_more_request():
    # The count may understate what the server holds: only a short or empty page ends.
    pages = {1: page(rows(10), 20), 2: page(rows(10), 20), 3: page([], 20)}
    assert pages_read(cast_pages(), pages) == [1, 2, 3]


def test_an_understated_count_on_a_page_boundary_does_not_end_paging():
    pages = {1: page(rows(10), 20), 2: page(rows(10), 20), 3: page(rows(10), 20)}
    pages[4] = page(rows(3), 20)
    paginator = cast_pages()
    assert pages_read(paginator, pages) == [1, 2, 3, 4]
    assert paginator.rows_read == 33


def test_the_count_of_the_latest_page_is_followed_when_it_grows():
    pages = {1: page(rows(10), 20), 2: page(rows(10), 27), 3: page(rows(7), 27)}
    assert pages_read(cast_pages(), pages) == [1, 2, 3]


@pytest.mark.parametrize("echoed", [100, None], ids=["requested size echoed", "no page_size"])
def test_a_capped_page_size_is_learnt_from_the_rows_served(echoed):
    # Asked for 100, served 5 (the cap) while echoing 100 or nothing: ask in pages of 5.
    pages = {1: page(rows(5), 12, echoed), 2: page(rows(5), 12, echoed)}
    pages[3] = page(rows(2), 12, echoed)
    paginator = cast_pages(page_size=100)
    assert requests_made(paginator, pages) == [(1, 100), (2, 5), (3, 5)]
    assert (paginator.rows_read, paginator.vendor_count) == (12, 12)


def test_the_page_size_the_envelope_reports_is_not_trusted():
    # The envelope claims pages of 3, but 10 rows came: page 2 of 3 would re-read rows 3-5.
    pages = {1: page(rows(10), 25, 3), 2: page(rows(10), 25, 3), 3: page(rows(5), 25, 3)}
    assert requests_made(cast_pages(), pages) == [(1, 10), (2, 10), (3, 10)]


def test_a_page_larger_than_asked_sets_the_page_size():
    pages = {1: page(rows(50), 120), 2: page(rows(50), 120), 3: page(rows(20), 120)}
    assert requests_made(cast_pages(page_size=20), pages) == [(1, 20), (2, 50), (3, 50)]


def test_without_a_count_a_short_page_is_confirmed_by_one_more_request():
    # No count: a short page may be a cap as well as the end.
    pages = {1: page(rows(6), None), 2: page([], None)}
    paginator = cast_pages()
    assert requests_made(paginator, pages) == [(1, 10), (2, 6)]
    assert (paginator.rows_read, paginator.vendor_count) == (6, None)


def test_a_bare_list_that_ignores_paging_is_asked_again_in_the_size_it_came_in():
    # The repeat then ends the pass: tap_common/reconcile.py (tests/common/test_reconcile.py).
    whole = json_response(rows(25))  # every row, whatever page is asked
    paginator = cast_pages()
    assert paginator.current_value == (1, 10)
    paginator.advance(whole)
    assert paginator.current_value == (2, 25)


def test_an_empty_page_before_the_count_ends_the_pass_short_of_it():
    pages = {1: page(rows(10), 1000), 2: page([], 1000)}
    paginator = cast_pages()
    assert pages_read(paginator, pages) == [1, 2]
    assert (paginator.rows_read, paginator.vendor_count) == (10, 1000)


def test_a_short_page_that_fits_no_page_size_ends_the_pass_short_of_the_count():
    # 10 + 4 rows read: no page of 4 rows starts at row 14, so this pass ends.
    pages = {1: page(rows(10), 30), 2: page(rows(4), 30)}
    paginator = cast_pages()
    assert pages_read(paginator, pages) == [1, 2]
    assert (paginator.rows_read, paginator.vendor_count) == (14, 30)


def test_a_404_ends_paging_without_reading_its_body():
    # The campaign was deleted while we paged: whatever the 404 page holds is not an envelope.
    not_found = http_response(b"<html>Not Found</html>", 404, {"Content-Type": "text/html"})
    pages = {1: page(rows(10), 30), 2: not_found}
    paginator = cast_pages()
    assert pages_read(paginator, pages) == [1, 2]
    assert paginator.vanished  # warned and skipped as a vanished campaign: no verdict


def test_an_understated_count_is_warned_about_once_and_paging_goes_on_to_a_short_page(caplog):
    stream = FakeCastStream("analytics_events", {"cast_id": 1940, "generation_id": "g1"})
    pages = {1: page(rows(10), 3), 2: page(rows(10), 3), 3: page(rows(4), 3)}
    paginator = cast_pages(stream)
    with caplog.at_level(logging.WARNING, logger=stream.logger.name):
        assert pages_read(paginator, pages) == [1, 2, 3]
    assert (paginator.rows_read, paginator.vendor_count) == (24, 3)
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
    stream = FakeCastStream("analytics_events", {"cast_id": 1940, "event_type": "view"})
    return NewestFirstPaginator(stream, 3, since)


def event_page(*minutes: int, count: int = 12):
    return page(events(*minutes), count, page_size=3)


def test_paging_stops_early_once_a_page_reaches_events_older_than_since():
    pages = {1: event_page(30, 20, 10), 2: event_page(5, 1, -1), 3: event_page(-2, -3, -4)}
    paginator = newest_first()
    assert pages_read(paginator, pages) == [1, 2]  # the count alone would read 4 pages
    assert paginator.ordered
    assert paginator.stopped_early  # an early stop is no shortfall: no verdict


def test_a_page_ending_exactly_at_since_is_not_the_last():
    # Events in the bookmark's very second may continue on the next page.
    pages = {1: event_page(30, 20, 0), 2: event_page(0, -1, -2)}
    assert pages_read(newest_first(), pages) == [1, 2]


def test_without_since_every_page_is_read():
    pages = {1: event_page(5, 4, 3), 2: event_page(-1, -2, -3), 3: event_page(-4, -5, -6)}
    pages[4] = event_page(-7, -8, -9)
    pages[5] = page([], 12, page_size=3)  # page 4 is full: page 5 confirms the end
    assert pages_read(newest_first(since=None), pages) == [1, 2, 3, 4, 5]


def test_the_page_rules_still_end_paging_when_every_event_is_new():
    pages = {1: event_page(9, 8, 7, count=7), 2: event_page(6, 5, 4, count=7)}
    pages[3] = page(events(3), 7, page_size=3)
    paginator = newest_first()
    assert pages_read(paginator, pages) == [1, 2, 3]
    assert not paginator.stopped_early


def test_an_unordered_page_falls_back_to_reading_every_page(caplog):
    paginator = newest_first()
    pages = {1: event_page(10, 30, -5), 2: event_page(-7, -6, -8), 3: event_page(-9, -10, -11)}
    pages[4] = event_page(-12, -13, -14)  # page 2 is unordered too: still one warning
    pages[5] = page([], 12, page_size=3)  # page 4 is full: page 5 confirms the end
    with caplog.at_level(logging.WARNING, logger=paginator.stream.logger.name):
        assert pages_read(paginator, pages) == [1, 2, 3, 4, 5]
    assert not paginator.ordered
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not newest first" in warnings[0]
    assert "cast_id=1940 event_type=view" in warnings[0]


def test_order_broken_across_pages_falls_back_to_reading_every_page():
    # Each page is sorted, but page 2 starts newer than page 1 ended.
    pages = {1: event_page(30, 20, 10), 2: event_page(25, 0, -5), 3: event_page(-6, -7, -8)}
    pages[4] = event_page(-9, -10, -11)
    pages[5] = page([], 12, page_size=3)  # page 4 is full: page 5 confirms the end
    paginator = newest_first()
    assert pages_read(paginator, pages) == [1, 2, 3, 4, 5]
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
