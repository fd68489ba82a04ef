"""The REST stream base every tap in this distribution builds on.

It owns the steps that must behave the same in all three taps: timeouts and retries
(Retry-After aware), error messages that name stream and partition but never a secret, a
query string or a response body, and a JSON body parsed once per response.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import logging
import threading
import typing as t
from http import HTTPStatus
from urllib.parse import quote, urlsplit

import backoff
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_common.answers import (
    DEFAULT_ANSWERS,
    VANISHED_PARENT,
    Answer,
    Means,
    SessionEndedError,
    render,
)
from tap_common.conform import RecordConformer
from tap_common.errors import (
    VendorDataError,
    describe_exception,
    partition_label,
    retry_advice,
    stop_before_retrying,
    tls_failure,
    unreachable_cause,
)
from tap_common.failures import RunStoppingError, fail_alone, stops_the_run
from tap_common.http import NestedTooDeepError, VendorSession, decode_json, new_session
from tap_common.logs import SDK_LINES
from tap_common.prefetch import Prefetcher
from tap_common.progress import StreamProgress
from tap_common.retry import retry_wait_generator, small_jitter
from tap_common.run import RunT
from tap_common.sdk_internals import (
    RecordMessagesWithoutMaskWalk,
    WrappedSync,
    write_starting_bookmark,
)

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tap_common.tap import VendorTap


# Errors retried by ``VendorStream.request_decorator``; once retries are exhausted they
# become one FatalAPIError that says where and why (``gave_up``).
RETRIED_ERRORS = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

_PARSED_BODY = "_tap_parsed_body"


class VendorStream(WrappedSync, RecordMessagesWithoutMaskWalk, t.Generic[RunT]):
    """Base stream: the run object, retries, safe messages, JSON parsed once."""

    #: Product name used in error messages, e.g. "Cast".
    vendor_name: str = "the API"

    #: Whether the requests of upcoming partitions may run ahead in worker threads
    #: (``max_concurrency`` setting). The stream's requests must then read no state that
    #: the main thread changes: what they need is read in ``prepare_partition``.
    prefetch_partitions: bool = False

    #: Whether sibling streams read their rows of a partition from one shared read (an
    #: event's audience report): when it failed for one, the others fail without a request.
    reads_shared_by_siblings: bool = False

    #: What a 404 means on this stream: None, a wrong setting (fatal); else the parent
    #: ("campaign", "webcast") deleted after it was listed, which is warned about and skipped.
    vanished_parent: str | None = None

    #: 429s in a row one attempt takes as "not your turn yet" and sends again, without
    #: using one of 'max_retries', for a stream that keeps the vendor's pace itself
    #: (``request_turn``); 0: a 429 is retried like a 5xx, after Retry-After.
    throttled_in_a_row: int = 0

    #: What each answer means on this stream (tap_common/answers.py), before the 404 row
    #: of ``vanished_parent`` and DEFAULT_ANSWERS; the first row that matches decides.
    meanings: t.ClassVar[tuple[Answer, ...]] = ()

    def __init__(self, tap: VendorTap[RunT]) -> None:
        super().__init__(tap=tap)
        self._owner = tap
        self.logger.addFilter(SDK_LINES)
        self.progress = StreamProgress(self.name, self.logger)
        self._partition_count: int | None = None
        self._http_session: requests.Session | None = None
        self._thread = threading.local()
        self._prefetcher: Prefetcher[dict] | None = None
        self._session_shared = False
        # The SDK calls get_records once per partition: wrapping the bound method (the
        # stream's outermost override) lets a failed partition end there, after the
        # stream's own code has unwound, and the run go on (tap_common/failures.py).
        self.get_records = fail_alone(  # type: ignore[method-assign,assignment]
            self, lambda: self.run.failures, self.get_records, self.map_row
        )

    @property
    def run(self) -> RunT:
        """What the streams of this run share (see tap_common/run.py).

        Created on first use, after the tap has checked its settings (streams are built
        before that).
        """
        return self._owner.run

    @property
    def partition(self) -> Context | None:
        """The partition this thread is requesting, for messages and paginators.

        The SDK sets ``context`` only for child streams, and messages must name the
        partition of top-level partitioned streams too; with prefetching, each worker
        thread requests its own partition.
        """
        return getattr(self._thread, "partition", None)

    @partition.setter
    def partition(self, context: Context | None) -> None:
        self._thread.partition = context

    @property
    @override
    def requests_session(self) -> requests.Session:
        """This stream's session: no redirect to another host, a deadline per response."""
        if self._http_session is None:
            self._http_session = new_session(self.run.answered)
        return self._http_session

    @property
    def max_concurrency(self) -> int:
        return int(self.config.get("max_concurrency") or 1)

    def commit_state(self) -> None:
        """Write a STATE message now (the SDK writes one when the whole stream ends)."""
        self._owner.state_writer.write_state(self.tap_state)

    @override
    def sync_failed(self, context: Context | None, exc: FatalAPIError) -> None:
        """A failure outside a partition's rows (planning the partitions) costs this
        stream, or this parent's children, and the run goes on."""
        if stops_the_run(exc):
            raise exc
        self.run.failures.failed(self, context, exc)

    # --- partitions, fetched ahead ----------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """Rows of one partition: fetched ahead by worker threads when the stream allows it."""
        with self.progress.partition(context, of=self.partition_count()):
            prefetcher = self._prefetcher_for(context)
            if prefetcher is None:
                self.prepare_partition(context)
                yield from super().get_records(context)
            else:
                yield from prefetcher.rows(context)

    def partition_count(self) -> int | None:
        """How many partitions this stream reads in the run, when known (for progress)."""
        if self._partition_count is None:
            contexts = self.prefetch_contexts()
            self._partition_count = len(contexts) if contexts is not None else 0
        return self._partition_count or None

    def prefetch_contexts(self) -> t.Sequence[Context] | None:
        """The contexts ``get_records`` will be called with, in order (None: not known).

        The partitions by default; a child stream may know its contexts from its parent.
        """
        return self.partitions

    def _prefetcher_for(self, context: Context | None) -> Prefetcher[dict] | None:
        """The prefetcher that expects ``context`` next, or None to fetch it in this thread."""
        if not self.prefetch_partitions or self.max_concurrency <= 1 or context is None:
            return None
        if self._prefetcher is not None and self._prefetcher.expects(context):
            return self._prefetcher
        self.stop_prefetching()
        contexts = list(self.prefetch_contexts() or [])
        if context not in contexts:
            self._prefetcher = None
            return None
        self.share_session()
        self._prefetcher = Prefetcher(
            contexts[contexts.index(context) :],
            self.request_records,
            max_concurrency=self.max_concurrency,
            prepare=self.prepare_ahead,
            thread_name=self.name,
        )
        return self._prefetcher

    def stop_prefetching(self) -> None:
        """Stop the worker threads fetching this stream's next partitions, if any."""
        if self._prefetcher is not None:
            self._prefetcher.close()

    def share_session(self) -> None:
        """Ready the stream's HTTP session for ``max_concurrency`` threads (main thread).

        The session is created here, before any worker uses it, and keeps a connection per
        thread: requests' default pool of 10 would drop the connections of more threads.
        """
        if self._session_shared:
            return  # mounting again would drop the pooled connections
        t.cast("VendorSession", self.requests_session).use_pool(max(10, self.max_concurrency))
        self._session_shared = True

    def prepare_ahead(self, context: Context | None) -> None:
        """Main thread: ready a partition whose requests start before its turn.

        The SDK writes a partition's starting bookmark just before its turn; a partition
        requested ahead needs it now. The value depends only on that partition's own
        bookmark, which does not change before its turn, so the SDK's second write is the
        same value.
        """
        write_starting_bookmark(self, context)
        self.prepare_partition(context)

    def prepare_partition(self, context: Context | None) -> None:
        """Main thread, before the partition's first request: read what its requests need."""

    # --- records ----------------------------------------------------------------------

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Rows are mapped already (``map_row``), inside their partition: a bad value
        fails that partition only."""
        return row

    def map_row(self, row: dict, context: Context | None = None) -> dict | None:
        """Map one vendor row with ``to_record`` and make it match the schema
        (tap_common/conform.py); a bad value fails the partition saying where."""
        try:
            record = self.to_record(row, context)
            if record is None:
                return None
            if self.conform_record is not None:
                record = self.conform_record(record)
            return record
        except VendorDataError as exc:
            msg = f"stream '{self.name}' {partition_label(context)}: {exc}"
            raise VendorDataError(msg) from None

    def to_record(self, row: dict, context: Context | None) -> dict | None:
        """Vendor row -> Singer record (None drops it). Streams override this."""
        return row

    @functools.cached_property
    def conform_record(self) -> RecordConformer | None:
        """The schema's checks, or None for a stream whose ``to_record`` emits the exact
        types itself (it says so with TYPE_CONFORMANCE_LEVEL NONE)."""
        if self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE:
            return None
        return RecordConformer(self.schema)

    @override
    def generate_child_contexts(
        self, record: dict, context: Context | None
    ) -> t.Iterable[Context | None]:
        """No child context at all for a stream without children: it would be copied per row.

        The SDK calls this once for each record it writes (or reads for a child only), so
        the row is counted here: ``post_process`` may also map rows to plan partitions.
        """
        if self.selected:
            self.progress.row(context)
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    @override
    def get_batch_config(self, config: t.Mapping) -> t.Any:
        """BATCH for full-table streams only; incremental streams always send RECORDs.

        A BATCH file reaches the target as one unit while the bookmark would be committed
        by the tap, so incremental streams keep record-by-record delivery and exact state.
        """
        return None if self.replication_key else super().get_batch_config(config)

    @override
    def get_url(self, context: Context | None) -> str:
        """The stream's URL with each ``{name}`` of its path filled in, escaped whole.

        The SDK escapes only "/" in such values; an id holding "%", "?", "#" or a space
        would change the path or become a query.
        """
        url = self.url_base + (self.path or "")
        for name, value in {**self.config, **(context or {})}.items():
            url = url.replace(f"{{{name}}}", quote(str(value), safe=""))
        return url

    # --- timeouts and retries -------------------------------------------------------

    @property
    @override
    def timeout(self) -> int:
        return self.config.get("request_timeout", 60)

    @override
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 5)) + 1

    @override
    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        return retry_wait_generator(
            base_seconds=float(self.config.get("retry_base_seconds", 2)),
            max_wait_seconds=float(self.config.get("retry_max_wait_seconds", 120)),
        )

    @override
    def backoff_jitter(self, value: float) -> float:
        return small_jitter(value)

    @override
    def request_decorator(self, func: t.Callable) -> t.Callable:
        """The SDK's retry decorator without backoff's own log lines (they print full URLs),
        each attempt in its turn (``request_turn``, ``throttled_in_a_row``), and a new login
        when an answer means the session ended (LOG_IN_AGAIN)."""

        in_turn = self.in_turn(func)

        def counted(*args: t.Any, **kwargs: t.Any) -> t.Any:
            self.progress.request(self.partition)
            return in_turn(*args, **kwargs)

        def on_retry(details: Details) -> None:
            self.progress.retry(self.partition)
            self.backoff_handler(details)

        retried = backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED_ERRORS,
            max_tries=self.backoff_max_tries,
            giveup=self.never_reached,
            on_backoff=on_retry,
            jitter=self.backoff_jitter,
            logger=None,
        )(counted)

        def with_a_live_session(
            request: requests.PreparedRequest, context: Context | None
        ) -> t.Any:
            # A session that ended costs one new login, shared by the threads that saw it
            # (``log_in_again``); a fresh session refused too stops the run with the hint.
            for _ in range(self.backoff_max_tries()):
                try:
                    response = retried(request, context)
                except SessionEndedError as exc:
                    ended = exc
                else:
                    self.session_accepted(request)
                    return response
                self.logger.info("%s: %s; logging in again and sending it again.", self.name, ended)
                if not self.log_in_again(request):
                    break
            raise RunStoppingError(f"{ended}: {ended.hint}") from None

        return with_a_live_session

    def in_turn(self, func: t.Callable) -> t.Callable:
        """``func`` sent in its turn (``request_turn``); a 429 is sent again up to
        ``throttled_in_a_row`` times without using one of 'max_retries': a stream that
        keeps the vendor's pace itself takes it as its turn not come yet (``throttled``
        paused it)."""

        def in_turn(*args: t.Any, **kwargs: t.Any) -> t.Any:
            for _ in range(max(1, self.throttled_in_a_row)):
                with self.request_turn():
                    try:
                        return func(*args, **kwargs)
                    except RetriableAPIError as exc:
                        status = getattr(exc.response, "status_code", None)
                        if not self.throttled_in_a_row or status != HTTPStatus.TOO_MANY_REQUESTS:
                            raise
                        throttled = exc
            raise throttled

        return in_turn

    def request_turn(self) -> t.ContextManager[None]:
        """Held while one attempt waits for its turn and is sent (Rev: one of the
        'max_concurrency' request slots and the rate limit of its family)."""
        return contextlib.nullcontext()

    def log_in_again(self, request: requests.PreparedRequest) -> bool:
        """After a LOG_IN_AGAIN answer to ``request``: renew the session (unless another
        thread already has) and return True to send it again; False when the session it
        was sent with came from such a renewal already. Taps with a login override it."""
        return False

    def session_accepted(self, request: requests.PreparedRequest) -> None:
        """The API answered ``request`` without ending its session (taps with a login)."""

    def never_reached(self, exc: BaseException) -> bool:
        """A TLS failure, or a connection that failed before the API ever answered in this
        run: a setting to fix, and retrying would only delay the error."""
        if tls_failure(exc) is not None:
            return True
        return not self.run.answered.is_set() and unreachable_cause(exc) is not None

    @override
    def backoff_handler(self, details: Details) -> None:
        exc = details.get("exception")
        self.log(
            "%s: retrying in %.1f s (attempt %d of %d) for %s: %s",
            self.name,
            details.get("wait") or 0.0,
            details.get("tries"),
            self.backoff_max_tries(),
            partition_label(self.partition),
            describe_exception(exc) if exc else "unknown error",
            level=logging.WARNING,
        )

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        self.partition = context
        try:
            yield from super().request_records(context)
        except VendorDataError as exc:
            raise VendorDataError(
                f"stream '{self.name}' {partition_label(context)}: {exc}"
            ) from None
        except RETRIED_ERRORS as exc:
            raise self.gave_up(context, exc) from None
        except requests.exceptions.RequestException as exc:
            raise self.request_failed(context, exc) from None

    def send(
        self,
        request: requests.PreparedRequest,
        context: Context | None,
        *,
        attempt: t.Callable[[requests.PreparedRequest, Context | None], t.Any] | None = None,
    ) -> t.Any:
        """One request outside the SDK's paging, with the same retries, checks and messages.

        For requests that are not a stream's own pages (Rev's webcast status, Webcasts.com's
        report downloads). ``attempt`` makes one try (default ``send_once``).
        """
        self.partition = context
        try:
            return self.request_decorator(attempt or self.send_once)(request, context)
        except RETRIED_ERRORS as exc:
            raise self.gave_up(context, exc) from None
        except requests.exceptions.RequestException as exc:
            raise self.request_failed(context, exc) from None

    def send_once(
        self, request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One attempt, as the SDK sends a page: sign, send, check (``validate_response``)."""
        signed = self.authenticator(request)
        response = self.requests_session.send(
            signed, timeout=self.timeout, allow_redirects=self.allow_redirects
        )
        self.validate_response(response)
        return response

    def gave_up(self, context: Context | None, exc: BaseException) -> FatalAPIError:
        """The error for a request whose retries are exhausted (or that never reached
        the API)."""
        where = f"stream '{self.name}' {partition_label(context)}"
        request = getattr(exc, "request", None)
        stop = stop_before_retrying(
            exc,
            answered=self.run.answered.is_set(),
            where=where,
            url=getattr(request, "url", None) or self.url_base,
            base_url=str(self.config.get("base_url")),
        )
        if stop is not None:
            return stop
        return FatalAPIError(
            f"{where}: gave up after {self.backoff_max_tries()} attempts: "
            f"{describe_exception(exc)}. {retry_advice(exc, self.timeout)} "
            "The last STATE message is valid, so the next run resumes from it."
        )

    def request_failed(self, context: Context | None, exc: BaseException) -> FatalAPIError:
        """The error for a request that could not be made at all (never retried)."""
        return FatalAPIError(
            f"stream '{self.name}' {partition_label(context)}: the request could not be "
            f"made: {describe_exception(exc)}. Check the 'base_url' setting."
        )

    # --- responses ------------------------------------------------------------------

    @functools.cached_property
    def answer_rows(self) -> tuple[Answer, ...]:
        """The stream's answers, the vanished parent's 404, then the defaults."""
        vanished = (
            (Answer(Means.SKIP, HTTPStatus.NOT_FOUND, say=VANISHED_PARENT),)
            if self.vanished_parent
            else ()
        )
        return (*vanished, *self.meanings, *DEFAULT_ANSWERS)

    def answer_to(self, response: requests.Response, sample: bytes | None = None) -> Answer:
        """The first row of ``answer_rows`` that ``response`` matches; ``sample``: the
        opening of a streamed body (Answer.matches)."""
        later = self.later_page()
        for answer in self.answer_rows:
            if answer.matches(response, later_page=later, sample=sample):
                return answer
        return Answer(Means.STOP, response.status_code)  # a status outside HTTP's range

    def later_page(self) -> bool:
        """Whether this thread is requesting a page after the first of a scroll."""
        return False

    @override
    def validate_response(self, response: requests.Response) -> None:
        """What the answer means (``answer_to``), acted on; the body of data is parsed
        here, so a broken body is retried too. Answers without rows (SKIP, NO_ROWS,
        RESTART_SCROLL) pass on to ``parse_response``, which says so."""
        if self.act_on(self.answer_to(response), response) is Means.READ:
            self.parsed_body(response)

    def act_on(self, answer: Answer, response: requests.Response) -> Means:
        """Raise what ``answer`` means for the request (RETRY, THROTTLED, LOG_IN_AGAIN,
        STOP); other meanings are returned. For requests that read their body themselves
        (streamed downloads), without ``validate_response``'s parsing."""
        means = answer.means
        if means in (Means.RETRY, Means.THROTTLED):
            if means is Means.THROTTLED:
                self.throttled(response)
            raise RetriableAPIError(self.response_error_message(response), response)
        elif means is Means.LOG_IN_AGAIN:
            message = self.response_error_message(response)
            raise SessionEndedError(message, response, self.answer_text(answer, response))
        elif means is Means.STOP:
            stop = RunStoppingError if answer.whole_run else FatalAPIError
            raise stop(self.answer_text(answer, response) or self.response_error_message(response))
        return means

    def throttled(self, response: requests.Response) -> None:
        """A THROTTLED answer, before it is retried (Rev pauses its rate-limit family)."""

    def answer_text(self, answer: Answer, response: requests.Response) -> str:
        """The row's ``say`` with the answer's fields (tap_common/answers.py)."""
        if not answer.say:
            return ""
        settings = self._owner.config_jsonschema.get("properties", {})
        fields: dict[str, t.Any] = {
            name: value
            for name, value in self.config.items()
            if not settings.get(name, {}).get("secret") and isinstance(value, str | int | float)
        }
        fields.update(self.partition or {})
        fields.update(
            stream=self.name,
            vendor=self.vendor_name,
            status=response.status_code,
            where=partition_label(self.partition),
            reason=self.vendor_reason(response) or "no reason given",
            path=urlsplit(response.url).path if response.url else self.path,
            parent=self.vanished_parent,
            error=self.response_error_message(response),
        )
        return render(answer.say, fields)

    def vendor_reason(self, response: requests.Response) -> str:
        """The vendor's own words about an error answer, for ``{reason}`` ('' if none)."""
        return ""

    def answered_without_rows(self, response: requests.Response) -> bool:
        """Whether ``response`` is an answer without rows (SKIP, NO_ROWS or
        RESTART_SCROLL); the row's text is logged. For requests outside the SDK's paging."""
        answer = self.answer_to(response)
        if answer.means is Means.SKIP:
            self.logger.warning("%s", self.answer_text(answer, response))
        elif answer.means is Means.NO_ROWS:
            self.logger.info("%s", self.answer_text(answer, response))
        return answer.means in (Means.SKIP, Means.NO_ROWS, Means.RESTART_SCROLL)

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: the body can echo request data, the query can hold secrets."""
        path = urlsplit(response.url).path if response.url else self.path
        return (
            f"{self.vendor_name} answered HTTP {response.status_code} "
            f"{response.reason or HTTPStatus(response.status_code).phrase} for {path} "
            f"(stream '{self.name}', {partition_label(self.partition)})"
        )

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The rows of one response: ``records_from_body`` of its parsed body, or none for
        an answer that means so (said once, here)."""
        if self.answered_without_rows(response):
            return []
        return self.records_from_body(self.parsed_body(response))

    def records_from_body(self, body: t.Any) -> t.Iterable[dict]:
        """The rows of one parsed body; streams check its shape here."""
        return t.cast("t.Iterable[dict]", body)

    def parsed_body(self, response: requests.Response) -> t.Any:
        """The response body, parsed once by ``parse_body`` and kept on the response."""
        cached = response.__dict__.get(_PARSED_BODY, _PARSED_BODY)
        if cached is _PARSED_BODY:
            cached = response.__dict__[_PARSED_BODY] = self.parse_body(response)
        return cached

    def parse_body(self, response: requests.Response) -> t.Any:
        """JSON; a body that is not JSON is retried, then fatal.

        An HTML error page with status 200 (a proxy or maintenance page) or a truncated
        body is usually transient, so it goes through the same retries as a 5xx.
        """
        body = self.decode_json(response)
        problem = self.error_in_body(body, response)
        if problem is not None:
            raise RetriableAPIError(problem, response)
        return body

    def error_in_body(self, body: t.Any, response: requests.Response) -> str | None:
        """The message for a successful answer whose body is an error, not data (each
        vendor says it its own way); it is retried like a 5xx, never read as no rows."""
        return None

    def decode_json(self, response: requests.Response) -> t.Any:
        """The body as JSON; a body that is not JSON is retried (RetriableAPIError).

        A UTF-8 byte-order mark before it is skipped, as the XML parsers skip it: RFC 8259
        lets a parser ignore one, and Windows tools write it.
        """
        content = response.content.removeprefix(codecs.BOM_UTF8)
        path = urlsplit(response.url).path if response.url else self.path
        try:
            return decode_json(content)
        except NestedTooDeepError as exc:
            raise NestedTooDeepError(f"{self.vendor_name} answered {path} with {exc}") from None
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type")
            msg = (
                f"{self.vendor_name} answered {path} with a body that is not JSON "
                f"({content_type}, {len(response.content)} bytes) "
                f"(stream '{self.name}', {partition_label(self.partition)})"
            )
            raise RetriableAPIError(msg, response) from None
