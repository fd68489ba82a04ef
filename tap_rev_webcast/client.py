"""Vbrick Rev API: the run object and the base stream (auth, rate limits, errors, scrollId
paging, field names)."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote, urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_common.answers import Answer, Body, Means
from tap_common.errors import VendorDataError, partition_label
from tap_common.http import NestedTooDeepError, decode_json
from tap_common.reconcile import PartitionRead
from tap_common.records import envelope_keys, split_unmapped, utc_iso
from tap_common.retry import RetryPolicy, retry_after_seconds
from tap_common.run import VendorRun
from tap_common.stream import VendorStream
from tap_rev_webcast.auth import ApiKeyLogin, RevAuthenticator, UserLogin
from tap_rev_webcast.ratelimit import Clock, RateLimiter

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

#: A report whose scroll id expires is read again from its first page at most this often.
MAX_SCROLL_RESTARTS = 3
#: 429s in a row for one request before it counts as a failed attempt: each halves its
#: family's pace, so by then the family is down to about one request a minute.
MAX_THROTTLED_IN_A_ROW = 8

T = t.TypeVar("T")
R = t.TypeVar("R")

# --- field names --------------------------------------------------------------------------
# Rev's own sources disagree on casing (the OpenAPI sends real-time attendees in
# PascalCase, Vbrick's TypeScript client reads them in camelCase), so every vendor key goes
# through snake_case() -- here, and nowhere else.
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPECIAL_NAMES = {"eCDNTime": "ecdn_time"}  # eCDN is one word (enterprise CDN)


@functools.lru_cache(maxsize=4096)
def snake_case(name: str) -> str:
    """``UserId``/``userId`` -> ``user_id``, ``totalECDNTime`` -> ``total_ecdn_time``."""
    return _SPECIAL_NAMES.get(name) or _WORD_BOUNDARY.sub("_", name).lower()


def snake_keys(value: t.Any) -> t.Any:
    """``value`` with the keys of every nested object in snake_case."""
    if isinstance(value, dict):
        return {snake_case(str(k)): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def is_status_path(response: requests.Response) -> bool:
    """Whether ``response`` answers a webcast's GET .../status."""
    return urlsplit(response.url or "").path.endswith("/status")


def vendor_message(response: requests.Response) -> str:
    """Rev's own words about an error (errorDescription or detail), at most 200 characters."""
    try:
        body = decode_json(response.content)
    except (ValueError, NestedTooDeepError):
        return ""
    if not isinstance(body, dict):
        return ""
    text = body.get("errorDescription") or body.get("detail") or body.get("code") or ""
    return str(text)[:200]


# --- what Rev's answers mean (tap_common/answers.py) ----------------------------------------
TOKEN_REJECTED = Answer(
    Means.LOG_IN_AGAIN,
    HTTPStatus.UNAUTHORIZED,
    say="Rev rejected a freshly issued session token too. The user may have lost access to "
    "webcast reports (check its role in Rev) or the session is being revoked; the run stops "
    "here.",
)
#: A scroll page lost after its retries (LostPage): the paginator reads the report again.
LOST_PAGE = Answer(Means.RESTART_SCROLL, 0)
#: "Invalid scroll id" on a page after the first: the paginator restarts or ends the scroll.
SCROLL_EXPIRED = Answer(Means.RESTART_SCROLL, HTTPStatus.BAD_REQUEST, later_page=True)
NO_REPORT = Answer(
    Means.SKIP,
    HTTPStatus.BAD_REQUEST,
    say="{stream}: Rev has no post-event report for webcast {webcast_id} run {run_number} "
    "(HTTP 400: {reason}); continuing with the next.",
)
BAD_REQUEST_SKIPPED = Answer(
    Means.SKIP,
    HTTPStatus.BAD_REQUEST,
    say="{stream}: Rev answered 400 for {where} ({reason}); skipping it and continuing.",
)
#: The poll results of a run that never took place.
EMPTY_BODY = Answer(
    Means.NO_ROWS,
    HTTPStatus.OK,
    body=Body.EMPTY,
    say="{stream}: Rev answered an empty body for {where} (the run never took place); no rows.",
)


class WebcastState(t.NamedTuple):
    """What the report streams need to know of a webcast, from its GET .../status (and its
    listing type, from the list or the details)."""

    status: str
    is_pre_production: bool
    listing_type: str | None = None

    @classmethod
    def of(cls, status: dict, row: dict | None = None) -> WebcastState:
        """From a GET .../status answer (as it lands in the webcast record) and the
        webcast's row (``listingType`` in the list, ``accessControl`` in the details)."""
        fields = snake_keys(status)
        row = row or {}
        listing_type = row.get("listingType") or row.get("accessControl")
        return cls(
            fields.get("status"),
            bool(fields.get("is_pre_production")),
            listing_type if isinstance(listing_type, str) else None,
        )


class RevRun(VendorRun):
    """What the streams of one tap-rev-webcast run share.

    Everything here is created in the main thread, before any worker thread starts.
    """

    def __init__(
        self, config: t.Mapping[str, t.Any], *, clock: Clock, logger: logging.Logger
    ) -> None:
        super().__init__(config)
        #: Every wait (rate limits, 429 pauses, login retries) and every "now".
        self.clock = clock
        self.logger = logger
        #: The one Rev session of this run.
        self.authenticator = RevAuthenticator(
            base_url=config["base_url"],
            credentials=(
                ApiKeyLogin(config["api_key"], config["secret"])
                if config.get("api_key")
                else UserLogin(config["username"], config["password"])
            ),
            clock=clock,
            logger=logger,
            timeout=config.get("request_timeout", 60),
            max_retries=config.get("max_retries", 5),
            retry_base_seconds=config.get("retry_base_seconds", 2),
            throttle_wait_seconds=config["throttle_wait_seconds"],
            retry_max_wait_seconds=config.get("retry_max_wait_seconds", 120),
            answered=self.answered,
        )
        #: Client-side limits per endpoint family.
        self.rate_limiter = RateLimiter(
            {
                "reports": config["reports_requests_per_minute"],
                "realtime": config["realtime_requests_per_minute"],
                "get": config["get_requests_per_minute"],
            },
            clock,
            logger,
        )
        #: At most 'max_concurrency' requests in flight, all streams together.
        self.request_slots = threading.BoundedSemaphore(int(config.get("max_concurrency") or 1))
        #: Each listed webcast's status, by id: filled by the webcasts stream before any
        #: report is requested (report workers read it).
        self.webcasts: dict[str, WebcastState] = {}
        #: The report streams' contexts in the order the SDK syncs them, known before the
        #: first webcast is emitted, so reports can be fetched ahead.
        self.report_contexts: list[dict] | None = None
        #: Post-event report summaries read by attendee_sessions for
        #: webcast_attendance_summary, its sibling, by (webcast id, run number).
        self.report_summaries: dict[tuple, dict | None] = {}

    @override
    def close(self) -> None:
        # After a failure, the workers of the streams that did not fail would otherwise go
        # on fetching ahead.
        for stream in self.streams.values():
            if isinstance(stream, VendorStream):
                stream.stop_prefetching()
        self.authenticator.logoff()
        self.log_request_summary()
        super().close()

    def log_request_summary(self) -> None:
        """One line with the requests made, the rate-limit waits and the logins of the run."""
        self.logger.info(
            "Rev requests: %s. Logins: %d, session extensions: %d.",
            self.rate_limiter.summary() or "none",
            self.authenticator.logins,
            self.authenticator.extensions,
        )


class RevStream(VendorStream[RevRun]):
    """A Rev endpoint under ``{base_url}/api/v2``."""

    vendor_name = "Rev"

    #: Rate-limit family of this stream's requests: "reports", "realtime" or "get".
    rate_family: str = "get"
    #: Key of the rows in a JSON object body; None when the body is the list of rows.
    records_key: str | None = None
    #: Key of the vendor's total in a JSON object body; None when the body has none.
    total_key: str | None = None
    #: The other envelope keys this stream reads. Like the rows' and the total's, they are
    #: read in whichever spelling Rev writes them (``ScrollId``, ``Status``).
    envelope_names: t.ClassVar[tuple[str, ...]] = ("scrollId",)
    #: Context values copied into each record (report rows carry their webcast and run).
    context_columns: tuple[str, ...] = ()
    #: Vendor names (after snake_case) that this stream stores under another column name.
    renames: t.ClassVar[dict[str, str]] = {}
    #: What Rev's answers mean (tap_common/answers.py); streams put their own rows first.
    meanings: t.ClassVar[tuple[Answer, ...]] = (TOKEN_REJECTED, LOST_PAGE)
    throttled_in_a_row = MAX_THROTTLED_IN_A_ROW

    @property
    @override
    def url_base(self) -> str:
        return str(self.config["base_url"]).rstrip("/")

    @property
    @override
    def authenticator(self) -> RevAuthenticator:
        return self.run.authenticator  # one session for every stream

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.run.rate_limiter

    @property
    @override
    def http_headers(self) -> dict:
        return {"Accept": "application/json"}

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None  # single-page endpoints unless a stream says otherwise

    def fetch_in_order(self, fetch: t.Callable[[T], R], items: t.Sequence[T]) -> list[R]:
        """``fetch(item)`` for each item, ``max_concurrency`` at a time; results in order.

        A failure is raised for the first failing item in order, as a sequential loop would.
        """
        if self.max_concurrency <= 1 or len(items) <= 1:
            return [fetch(item) for item in items]
        self.share_session()
        pool = ThreadPoolExecutor(
            max_workers=min(self.max_concurrency, len(items)), thread_name_prefix=self.name
        )
        try:
            results = list(pool.map(fetch, items))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return results

    # --- sending: rate limit, retries, one re-login -------------------------------------

    @override
    def build_prepared_request(self, *args: t.Any, **kwargs: t.Any) -> requests.PreparedRequest:
        """The SDK's request without its token: the token is added at each attempt, after
        the rate-limit wait, so a login or extension happens only right before a send.
        """
        request = requests.Request(*args, **kwargs)
        request.headers.setdefault("User-Agent", self.user_agent)
        return self.requests_session.prepare_request(request)

    @override
    @contextlib.contextmanager
    def request_turn(self) -> t.Iterator[None]:
        """Each attempt holds one of the tap's ``max_concurrency`` request slots while it
        waits for its rate-limit slot and is sent, so all streams together never have more
        requests in flight than the setting. A 429 is Rev refusing before serving: the
        family is paused and slowed (``throttled``) and the request sent again in its next
        turn (``throttled_in_a_row``)."""
        with self.run.request_slots:
            self.rate_limiter.acquire(self.rate_family)
            yield

    @override
    def log_in_again(self, request: requests.PreparedRequest) -> bool:
        """After a 401: one login shared by every thread that saw the token rejected; a
        token that another thread's login replaced is sent again without a login (it may
        have been revoked by that login). False when the token was itself a fresh one."""
        auth = self.authenticator
        with self.run.request_slots:
            return auth.renew(stale=auth.token_sent(request))

    @override
    def session_accepted(self, request: requests.PreparedRequest) -> None:
        self.authenticator.accepted(self.authenticator.token_sent(request))

    @override
    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """tap_common's waits, except after a 429: the rate limiter waits for that one."""
        others = super().backoff_wait_generator()
        next(others)
        exc = yield  # type: ignore[misc]  # primed by backoff with None
        while True:
            response = getattr(exc, "response", None)
            throttled = getattr(response, "status_code", None) == HTTPStatus.TOO_MANY_REQUESTS
            exc = yield 0.0 if throttled else others.send(exc)

    @override
    def backoff_handler(self, details: Details) -> None:
        response = getattr(details.get("exception"), "response", None)
        if getattr(response, "status_code", None) != HTTPStatus.TOO_MANY_REQUESTS:
            super().backoff_handler(details)  # a 429 was already reported with its wait

    def request_webcast_status(self, webcast_id: str) -> dict | None:
        """GET .../scheduled-events/{id}/status through the same auth, rate limit, retries
        and messages as the stream's own pages; None (warned) when Rev answers 404: the
        webcast was deleted after it was listed."""
        context = {"webcast_id": webcast_id}
        url = f"{self.url_base}/api/v2/scheduled-events/{quote(webcast_id, safe='')}/status"
        prepared = self.build_prepared_request(method="GET", url=url, headers=self.http_headers)
        response = self.send(prepared, context)
        if self.answered_without_rows(response):
            return None  # STATUS_GONE: the webcast was deleted after it was listed
        body = self.parsed_body(response)
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            msg = f"GET .../{webcast_id}/status: expected an object with a 'status' string"
            raise VendorDataError(msg)
        return body

    # --- answers --------------------------------------------------------------------------

    @override
    def error_in_body(self, body: t.Any, response: requests.Response) -> str | None:
        """A body holding ``statusCode`` 400 or more, as Vbrick's JS client reads a failed
        scroll: a scroll page after the first is then read again from the report's start."""
        code = body.get("statusCode") if isinstance(body, dict) else None
        if not isinstance(code, int) or isinstance(code, bool) or code < 400:
            return None
        said = str(body.get("statusDescription") or body.get("detail") or "")[:200]
        return (
            f"{self.response_error_message(response)}: Rev answered 200 with an error "
            f"body (statusCode {code}{': ' + said if said else ''})"
        )

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status, path and partition, plus Rev's own words for a server error: the
        documented 500 body (serverErrorResponse {code, detail}) says what went wrong."""
        message = super().response_error_message(response)
        said = vendor_message(response) if response.status_code >= 500 else ""
        return f"{message}: Rev says '{said}'" if said else message

    @override
    def vendor_reason(self, response: requests.Response) -> str:
        return vendor_message(response)

    @override
    def throttled(self, response: requests.Response) -> None:
        """Pause this family for Retry-After, else 'throttle_wait_seconds' (capped, as every
        wait: tap_common.retry), then the request is retried."""
        exc = RetriableAPIError(self.response_error_message(response), response)
        policy = RetryPolicy.from_config(self.config)
        wait = policy.pauses(float(self.config["throttle_wait_seconds"])).send(exc)
        self.rate_limiter.pause(self.rate_family, wait)
        self.logger.warning(
            "%s: Rev throttled the '%s' requests (HTTP 429) for %s; waiting %.1f s (%s) "
            "before retrying.",
            self.name,
            self.rate_family,
            partition_label(self.partition),
            wait,
            "Retry-After" if retry_after_seconds(exc) is not None else "'throttle_wait_seconds'",
        )

    @override
    def later_page(self) -> bool:
        """A page after the first of this thread's scroll (an expired scroll id is a 400)."""
        scroll = getattr(self, "scroll", None)
        return bool(scroll is not None and scroll.current_value.scroll_id is not None)

    @override
    def parse_body(self, response: requests.Response) -> t.Any:
        """JSON (tap_common), the envelope's keys in one spelling (``envelope_keys``)."""
        body = super().parse_body(response)
        if isinstance(body, dict):
            names = (self.records_key, self.total_key, *self.envelope_names)
            body = envelope_keys(body, [name for name in names if name])
        return body

    @override
    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        rows = body.get(self.records_key) if self.records_key and isinstance(body, dict) else body
        if rows is None and isinstance(body, dict) and self.records_key in body:
            rows = []  # null where the list belongs: a report without rows
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            expected = (
                f"an object with a '{self.records_key}' list" if self.records_key else "a list"
            )
            msg = f"expected {expected} of objects, got {type(body).__name__}"
            raise VendorDataError(msg)
        return rows

    # --- records --------------------------------------------------------------------------

    @functools.cached_property
    def vendor_columns(self) -> frozenset[str]:
        """Columns filled from vendor fields: the schema minus context and derived ones."""
        return frozenset(self.schema["properties"]) - {"unmapped_fields", *self.context_columns}

    @functools.cached_property
    def timestamp_columns(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, spec in self.schema["properties"].items()
            if spec.get("format") == "date-time"
        )

    def prepare_fields(self, fields: dict, context: Context | None) -> dict:
        """Stream-specific changes to a row whose names are already snake_case."""
        return fields

    @override
    def to_record(self, row: dict, context: Context | None) -> dict | None:
        """Vendor row -> record: snake_case names, UTC timestamps, unknown fields kept."""
        fields = {self.renames.get(k, k): v for k, v in snake_keys(row).items()}
        fields = self.prepare_fields(fields, context)
        mapped, unmapped = split_unmapped(fields, self.vendor_columns)
        record = {name: (context or {}).get(name) for name in self.context_columns}
        record.update(mapped)
        for name in self.timestamp_columns:
            record[name] = utc_iso(record.get(name), field=name)
        record["unmapped_fields"] = unmapped
        return record


# --- scrollId paging ----------------------------------------------------------------------
NEXT, RESTART, END = "next", "restart", "end"


@dataclass(frozen=True)
class ScrollToken:
    """Where the next request of a scrolled report starts.

    ``page`` counts requests, so two tokens never compare equal even if Rev hands out the
    same scroll id twice (scroll APIs often do); the SDK would take that for a loop.
    """

    scroll_id: str | None  # None: the first page
    page: int


class ScrollPageLost(Exception):
    """A page after the first failed in a way that is normally retried (timeout, 5xx, cut
    body): Rev may already have moved the scroll past it, so it is not asked for again."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class LostPage(requests.Response):
    """Stands in for the answer of a lost scroll page (see ScrollPageLost): no rows, and
    the paginator reads the report again from its first page."""

    def __init__(self, request: requests.PreparedRequest, cause: str) -> None:
        super().__init__()
        self.request = request
        self.url = request.url or ""
        self.status_code = 0
        self.cause = cause


class ScrollPaginator(BaseAPIPaginator[ScrollToken]):
    """Follows ``scrollId`` while Rev offers more: an answer with a ``scrollId`` and rows.

    Vbrick's clients also stop once the rows read reach the total (``totalSessions``,
    ``total``); a total that understates the report would then end it early, so here the
    total never ends a scroll that offers more. It is checked when the scroll ends instead.

    With ``restart_on_expiry`` (post-event reports) the report is read again from its first
    page, rows already emitted being skipped by the stream, when:

    - a page after the first answers 400 (an expired scroll id), at most
      MAX_SCROLL_RESTARTS times; a 400 once the rows read reach the total is the end (some
      answers hand out a scroll id that no longer works on their last page);
    - a page after the first is lost (:class:`LostPage`): scroll ids are forward only, so
      retrying one could skip a page; at most ``lost_page_restarts`` times;
    - the scroll ends and the reconciled read (``partition_read``, tap_common/reconcile.py)
      says to read it again: a total that moved between pages, or one the rows disagree
      with (two complete reads that agree are kept).

    Every page is checked before its rows go on (``check_page``): a page that repeats an
    earlier one of the pass (a scroll id that returns the same rows, ids that go round)
    ends the scroll once the total is reached, and otherwise stops the read in one line.

    Without ``restart_on_expiry`` (real-time attendees, a live snapshot), a 400 just ends
    the scroll and the rows are not reconciled.
    """

    def __init__(
        self,
        stream: RevStream,
        items_key: str,
        total_key: str,
        *,
        restart_on_expiry: bool,
        partition_read: PartitionRead,
        lost_page_restarts: int = MAX_SCROLL_RESTARTS,
    ) -> None:
        super().__init__(ScrollToken(None, 0))
        self.stream = stream
        self.items_key = items_key
        self.total_key = total_key
        self.restart_on_expiry = restart_on_expiry
        self.partition_read = partition_read
        self.lost_page_restarts = lost_page_restarts
        self.restarts = 0  # passes begun again, whatever the cause
        self.expiries = 0
        self.lost_pages = 0
        self._decided: tuple[requests.Response, str] | None = None
        self._repeated = False  # the page just checked repeated an earlier one

    @property
    def read(self) -> int:
        """Rows of this pass over the report."""
        return self.partition_read.current.rows

    @property
    def total(self) -> int | None:
        """The total of this pass's latest page that had one."""
        return self.partition_read.current.total

    def check_page(self, body: t.Any, rows: list[dict]) -> bool:
        """Before a page's rows go on: False when it repeats an earlier page of this pass
        and ends the scroll (its rows are dropped); raises when paging does not advance."""
        total = body.get(self.total_key) if isinstance(body, dict) else None
        if not isinstance(total, int) or isinstance(total, bool):
            total = None
        where = f"scroll page {self.current_value.page + 1}"
        self._repeated = not self.partition_read.page(rows, total, where=where)
        return not self._repeated

    @property
    def where(self) -> str:
        return partition_label(self.stream.partition)

    def scroll_expired(self, response: requests.Response) -> bool:
        return (
            response.status_code == HTTPStatus.BAD_REQUEST
            and self.current_value.scroll_id is not None
        )

    def reached_total(self) -> bool:
        return self.total is not None and self.read >= self.total

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        return self.outcome(response) == RESTART

    @override
    def has_more(self, response: requests.Response) -> bool:
        return self.outcome(response) != END

    @override
    def get_next(self, response: requests.Response) -> ScrollToken:
        page = self.current_value.page + 1
        if self.outcome(response) == NEXT:
            return ScrollToken(str(self.stream.parsed_body(response)["scrollId"]), page)
        self.restarts += 1
        return ScrollToken(None, page)

    def outcome(self, response: requests.Response) -> str:
        """NEXT, RESTART or END after ``response``; decided once per response."""
        if self._decided is None or self._decided[0] is not response:
            self._decided = (response, self._decide(response))
        return self._decided[1]

    def _decide(self, response: requests.Response) -> str:
        if isinstance(response, LostPage):
            return self._restart_after_lost_page(response)
        if self.scroll_expired(response):
            if self.reached_total():  # the last page's scroll id was already dead
                return self._reconcile() if self.restart_on_expiry else END
            return (
                self._restart_after_expiry(response)
                if self.restart_on_expiry
                else self._end(response)
            )
        if response.status_code != HTTPStatus.OK:
            return END
        body = self.stream.parsed_body(response)
        # A bare list (comments as documented) is one whole page without a scroll id.
        page = body if isinstance(body, dict) else {self.items_key: body}
        items = page.get(self.items_key) or []
        if items and page.get("scrollId") and not self._repeated:
            return NEXT
        return self._reconcile() if self.restart_on_expiry else END

    def _reconcile(self) -> str:
        """The scroll has ended: the reconciled read says whether to read it again."""
        return RESTART if self.partition_read.finish_pass() else END

    def _end(self, response: requests.Response) -> str:
        """A snapshot whose scroll id expired before its end: it ends with what was read."""
        self.stream.logger.warning(
            "%s: the scroll id expired after %d %s of %s (%s); the snapshot ends there.",
            self.stream.name,
            self.read,
            self.items_key,
            self.where,
            vendor_message(response) or "HTTP 400",
        )
        return END

    def _restart_after_expiry(self, response: requests.Response) -> str:
        self.expiries += 1
        if self.expiries > MAX_SCROLL_RESTARTS:
            msg = (
                f"stream '{self.stream.name}' {self.where}: the scroll id expired "
                f"{self.expiries} times while reading the report ({vendor_message(response)}). "
                "Rev scroll ids are short-lived: check that nothing slows the tap between "
                "pages (a low 'reports_requests_per_minute', a slow network or target)."
            )
            raise FatalAPIError(msg)
        self.stream.logger.warning(
            "%s: the scroll id expired after %d rows of %s (%s); reading the report again "
            "from its first page (restart %d of %d). Rows already emitted are not emitted again.",
            self.stream.name,
            self.read,
            self.where,
            vendor_message(response) or "HTTP 400",
            self.expiries,
            MAX_SCROLL_RESTARTS,
        )
        self.partition_read.restart()
        return RESTART

    def _restart_after_lost_page(self, response: LostPage) -> str:
        self.lost_pages += 1
        if self.lost_pages > self.lost_page_restarts:
            msg = (
                f"stream '{self.stream.name}' {self.where}: a page after the first failed "
                f"{self.lost_pages} times ({response.cause}); each time the report was read "
                "again from its first page, because Rev scroll ids are forward only and "
                "asking for a page again could skip it. Raise 'max_retries' or "
                "'request_timeout' if Rev is slow or busy."
            )
            raise FatalAPIError(msg)
        self.stream.logger.warning(
            "%s: a page after %d rows of %s failed (%s); Rev scroll ids are forward only, so "
            "the report is read again from its first page (restart %d of %d). Rows already "
            "emitted are not emitted again.",
            self.stream.name,
            self.read,
            self.where,
            response.cause,
            self.lost_pages,
            self.lost_page_restarts,
        )
        self.partition_read.restart()
        return RESTART
