"""Rev scrollId paging, page by page, without HTTP: ScrollPaginator and ScrollToken.

Each test feeds the paginator real ``requests.Response`` objects built in memory, the way
the SDK does (``advance(response)`` after each page), and checks where the next request
would start.
"""

from __future__ import annotations

import itertools
import logging

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_common.reconcile import PagingStuckError, PartitionRead
from tap_rev_webcast.client import MAX_SCROLL_RESTARTS, ScrollPaginator, ScrollToken
from tests.helpers import FakeStream, json_response

PARTITION = {"webcast_id": "w-1", "run_number": 0}
EXPIRED = {"code": "ScrollExpired", "detail": "The scrollId is invalid or has expired."}
MISSING = object()  # a page without the scrollId key


_SESSIONS = itertools.count()


def sessions_page(n: int, scroll_id=None, total: int | None = 100, rows: list | None = None):
    """A page of ``n`` sessions unlike any other of the tests (or of ``rows``)."""
    sessions = rows if rows is not None else [{"username": f"u{next(_SESSIONS)}"} for _ in range(n)]
    body: dict = {"sessions": sessions}
    if total is not None:
        body["totalSessions"] = total
    if scroll_id is not MISSING:
        body["scrollId"] = scroll_id
    return json_response(body)


def expired():
    return json_response(EXPIRED, 400)


def read_of(stream: FakeStream, unit: str, total_name: str) -> PartitionRead:
    return PartitionRead(
        stream=stream.name,
        context=stream.partition,
        logger=stream.logger,
        vendor="Rev",
        unit=unit,
        total_name=total_name,
    )


def scroll(*, restart_on_expiry: bool = True) -> ScrollPaginator:
    stream = FakeStream("attendee_sessions", dict(PARTITION))
    return ScrollPaginator(
        stream,
        "sessions",
        "totalSessions",
        restart_on_expiry=restart_on_expiry,
        partition_read=read_of(stream, "sessions", "totalSessions"),
    )


def advance(paginator: ScrollPaginator, response) -> None:
    """As the SDK drives the paginator, the stream checking each page's rows first."""
    if response.status_code == 200:
        body = paginator.stream.parsed_body(response)
        paginator.check_page(body, list(body.get(paginator.items_key) or []))
    paginator.advance(response)


def test_the_first_request_has_no_scroll_id():
    assert scroll().current_value == ScrollToken(None, 0)


def test_the_scroll_id_of_each_page_starts_the_next_request():
    paginator = scroll()
    advance(paginator, sessions_page(2, "first"))
    assert paginator.current_value == ScrollToken("first", 1)
    advance(paginator, sessions_page(2, "second"))
    assert paginator.current_value == ScrollToken("second", 2)
    assert not paginator.finished
    assert paginator.read == 4


def test_a_repeated_scroll_id_is_not_taken_for_a_loop():
    paginator = scroll()
    advance(paginator, sessions_page(1, "same"))
    advance(paginator, sessions_page(1, "same"))  # the SDK raises on two equal tokens
    assert paginator.current_value == ScrollToken("same", 2)
    assert not paginator.finished


@pytest.mark.parametrize("scroll_id", [MISSING, None, ""], ids=["missing", "null", "empty"])
def test_a_page_without_a_scroll_id_is_the_last(scroll_id):
    paginator = scroll()
    advance(paginator, sessions_page(3, "next", total=6))
    advance(paginator, sessions_page(3, scroll_id, total=6))
    assert paginator.finished
    assert paginator.current_value == ScrollToken("next", 1)


def test_an_empty_page_is_the_last_even_with_a_scroll_id():
    paginator = scroll()
    advance(paginator, sessions_page(3, "next", total=3))
    advance(paginator, sessions_page(0, "more?", total=3))
    assert paginator.finished


def test_reaching_the_total_does_not_end_a_scroll_that_offers_more():
    paginator = scroll()
    pages = [sessions_page(3, "a", total=6), sessions_page(3, "b", total=6)]
    pages.append(sessions_page(2, None, total=6))
    advance(paginator, pages[0])
    advance(paginator, pages[1])  # a total that may understate
    assert not paginator.finished
    assert paginator.current_value == ScrollToken("b", 2)
    advance(paginator, pages[2])
    assert paginator.read == 0  # 8 read against 6: the report is read again
    assert paginator.current_value == ScrollToken(None, 3)
    for page in pages:  # the same 8 sessions: two reads agree, they are kept
        advance(paginator, page)
    assert paginator.finished
    assert paginator.read == 8
    assert paginator.partition_read.disagreement is not None


def test_a_scroll_id_that_returns_the_same_rows_again_stops_the_read():
    paginator = scroll()
    advance(paginator, sessions_page(3, "a", total=9))
    rows = [{"username": "again"}] * 3
    advance(paginator, sessions_page(3, "b", total=9, rows=rows))
    with pytest.raises(PagingStuckError) as err:
        advance(paginator, sessions_page(3, "b", total=9, rows=rows))
    assert "answered scroll page 3 with the same sessions as an earlier page" in str(err.value)
    assert "6 sessions read in 3 requests; Rev's totalSessions says 9" in str(err.value)


def test_a_page_repeated_once_the_total_is_read_ends_the_scroll():
    paginator = scroll()
    last = [{"username": "last"}] * 3
    advance(paginator, sessions_page(3, "a", total=6))
    advance(paginator, sessions_page(3, "b", total=6, rows=last))
    assert not paginator.finished
    advance(paginator, sessions_page(3, "b", total=6, rows=last))
    assert paginator.finished
    assert paginator.read == 6


def test_a_400_once_the_total_is_reached_ends_the_scroll():
    """Some last pages carry a scroll id that no longer works: only the total tells."""
    paginator = scroll()
    advance(paginator, sessions_page(3, "a", total=6))
    advance(paginator, sessions_page(3, "dead", total=6))
    advance(paginator, expired())
    assert paginator.finished
    assert paginator.restarts == 0


def test_without_a_total_only_the_other_signals_end_the_scroll():
    paginator = scroll()
    for scroll_id in ("a", "b", "c"):
        advance(paginator, sessions_page(500, scroll_id, total=None))
        assert not paginator.finished
    advance(paginator, sessions_page(20, None, total=None))
    assert paginator.finished


def test_a_400_on_the_first_page_ends_the_report_without_a_restart():
    paginator = scroll()
    advance(paginator, json_response({"code": "BadRequest", "detail": "No such run."}, 400))
    assert paginator.finished
    assert paginator.restarts == 0


def test_an_expired_scroll_restarts_the_report_from_its_first_page(caplog):
    paginator = scroll()
    advance(paginator, sessions_page(500, "a", total=1200))
    response = expired()
    assert paginator.continue_if_empty(response)  # the SDK goes on after a page of no rows
    with caplog.at_level(logging.WARNING, logger=paginator.stream.logger.name):
        advance(paginator, response)
    assert not paginator.finished
    assert paginator.current_value == ScrollToken(None, 2)  # no scroll id: the first page
    assert paginator.restarts == 1
    assert paginator.read == 0
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "expired after 500 rows of webcast_id=w-1 run_number=0" in warning
    assert f"restart 1 of {MAX_SCROLL_RESTARTS}" in warning


def test_rows_are_counted_again_from_zero_after_a_restart():
    paginator = scroll()
    advance(paginator, sessions_page(3, "a", total=6))
    advance(paginator, expired())
    advance(paginator, sessions_page(3, "c", total=6))  # the first page again: 3 of 6
    assert not paginator.finished
    assert paginator.current_value == ScrollToken("c", 3)
    advance(paginator, sessions_page(3, None, total=6))
    assert paginator.finished
    assert paginator.read == 6  # this pass only: no shortfall, no re-read
    assert paginator.partition_read.passes == 2  # the restart's pass, and no other


def test_a_scroll_that_keeps_expiring_stops_with_a_clear_error():
    paginator = scroll()
    for restart in range(1, MAX_SCROLL_RESTARTS + 1):
        advance(paginator, sessions_page(500, f"s{restart}", total=1200))
        advance(paginator, expired())
        assert paginator.restarts == restart
        assert not paginator.finished
    advance(paginator, sessions_page(500, "last", total=1200))
    with pytest.raises(FatalAPIError) as err:
        advance(paginator, expired())
    message = str(err.value)
    assert "stream 'attendee_sessions' webcast_id=w-1 run_number=0" in message
    assert f"expired {MAX_SCROLL_RESTARTS + 1} times" in message
    assert EXPIRED["detail"] in message


def test_without_restart_on_expiry_an_expired_scroll_just_ends():
    paginator = scroll(restart_on_expiry=False)
    advance(paginator, sessions_page(500, "a", total=1200))
    response = expired()
    assert not paginator.continue_if_empty(response)
    advance(paginator, response)
    assert paginator.finished
    assert paginator.restarts == 0


def test_the_items_and_total_keys_are_the_streams_own():
    stream = FakeStream("realtime_attendees", dict(PARTITION))
    paginator = ScrollPaginator(
        stream,
        "attendees",
        "total",
        restart_on_expiry=False,
        partition_read=read_of(stream, "attendees", "total"),
    )
    advance(paginator, json_response({"attendees": [{"a": 1}] * 2, "total": 3, "scrollId": "x"}))
    assert not paginator.finished
    assert paginator.read == 2
    advance(paginator, json_response({"attendees": [{"a": 1}], "total": 3, "scrollId": "y"}))
    assert not paginator.finished  # the total does not end a scroll that offers more
    advance(paginator, json_response({"attendees": [], "total": 3, "scrollId": "z"}))
    assert paginator.finished
    assert paginator.read == 3
