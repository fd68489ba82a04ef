"""The REST stream base every tap in this distribution builds on.

It owns the steps that must behave the same in all three taps: timeouts and retries
(Retry-After aware), error messages that name stream and partition but never a secret, a
query string or a response body, and a JSON body parsed once per response.
"""

from __future__ import annotations

import decimal
import json
import logging
import threading
import typing as t
from http import HTTPStatus
from urllib.parse import urlsplit

import backoff
import msgspec
import requests
from requests.adapters import HTTPAdapter
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers._util import utc_now
from singer_sdk.singerlib import RecordMessage

from tap_common.prefetch import Prefetcher
from tap_common.retry import retry_wait_generator, small_jitter

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

# Errors the SDK retries (see RESTStream.request_decorator); once retries are exhausted we
# turn them into one FatalAPIError that says where and why.
TRANSIENT_ERRORS = (
    RetriableAPIError,
    ConnectionError,
    requests.exceptions.RequestException,
)

_PARSED_BODY = "_tap_parsed_body"
# Twice as fast as json.loads, with the same values: exact decimals, big integers intact.
_JSON_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


class VendorDataError(FatalAPIError):
    """The vendor sent data this tap cannot map faithfully (wrong shape or type)."""


def partition_label(context: t.Mapping[str, t.Any] | None) -> str:
    """``cast_id=1940 generation_id=2024…`` for messages; contexts hold ids only."""
    if not context:
        return "(whole stream)"
    return " ".join(f"{key}={value}" for key, value in context.items())


def describe_exception(exc: BaseException) -> str:
    """A short cause without URLs: requests' messages embed the full URL and its query."""
    if isinstance(exc, RetriableAPIError | FatalAPIError):
        return str(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return "the request timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed before the whole response arrived"
    if isinstance(exc, requests.exceptions.ConnectionError | ConnectionError):
        return "the connection failed or was reset"
    return type(exc).__name__


class VendorStream(RESTStream):
    """Base stream: retries, safe messages, JSON parsed once."""

    #: Product name used in error messages, e.g. "Cast".
    vendor_name: str = "the API"

    #: Whether the requests of upcoming partitions may run ahead in worker threads
    #: (``max_concurrency`` setting). The stream's requests must then read no state that
    #: the main thread changes: what they need is read in ``prepare_partition``.
    prefetch_partitions: bool = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._thread = threading.local()
        self._prefetcher: Prefetcher[dict] | None = None
        self._session_shared = False

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
    def max_concurrency(self) -> int:
        return int(self.config.get("max_concurrency") or 1)

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """Rows of one partition: fetched ahead by worker threads when the stream allows it."""
        prefetcher = self._prefetcher_for(context)
        if prefetcher is None:
            self.prepare_partition(context)
            yield from super().get_records(context)
        else:
            yield from prefetcher.rows(context)

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
        if self._prefetcher is not None:
            self._prefetcher.close()
        contexts = list(self.prefetch_contexts() or [])
        if context not in contexts:
            self._prefetcher = None
            return None
        self.share_session()
        self._prefetcher = Prefetcher(
            contexts[contexts.index(context) :],
            self.request_records,
            max_concurrency=self.max_concurrency,
            prepare=self._prepare_ahead,
            thread_name=self.name,
        )
        return self._prefetcher

    def share_session(self) -> None:
        """Ready the stream's HTTP session for ``max_concurrency`` threads (main thread).

        The session is created here, before any worker uses it, and keeps a connection per
        thread: requests' default pool of 10 would drop the connections of more threads.
        """
        if self._session_shared:
            return  # mounting again would drop the pooled connections
        adapter = HTTPAdapter(pool_maxsize=max(10, self.max_concurrency))
        for prefix in ("https://", "http://"):
            self.requests_session.mount(prefix, adapter)
        self._session_shared = True

    def _prepare_ahead(self, context: Context | None) -> None:
        # The SDK writes a partition's starting bookmark just before its turn; a partition
        # requested ahead needs it now. The write depends only on that partition's own
        # bookmark, which does not change before its turn, so the SDK's second write is
        # the same value.
        self._write_starting_replication_value(context)
        self.prepare_partition(context)

    def prepare_partition(self, context: Context | None) -> None:
        """Main thread, before the partition's first request: read what its requests need."""

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Map one vendor row with ``to_record``; a bad value stops the run saying where."""
        try:
            return self.to_record(row, context)
        except VendorDataError as exc:
            msg = f"stream '{self.name}' {partition_label(context)}: {exc}"
            raise VendorDataError(msg) from None

    def to_record(self, row: dict, context: Context | None) -> dict | None:
        """Vendor row -> Singer record (None drops it). Streams override this."""
        return row

    def generate_child_contexts(
        self, record: dict, context: Context | None
    ) -> t.Iterable[Context | None]:
        """No child context at all for a stream without children: it would be copied per row."""
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    def _generate_record_messages(self, record: dict) -> t.Generator[RecordMessage, None, None]:
        """The SDK's record messages, without walking the selection mask for every row.

        The SDK pops deselected properties from each record, a walk of every field of every
        row even when nothing is deselected (the usual case); we walk only when something
        is. Everything else is the SDK's own steps (singer-sdk 0.54).
        """
        if not all(self.mask.values()):
            pop_deselected_record_properties(record, self.schema, self.mask)
        record = conform_record_data_types(
            stream_name=self.name,
            record=record,
            schema=self.effective_schema,
            level=self.TYPE_CONFORMANCE_LEVEL,
            logger=self.logger,
        )
        for stream_map in self.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    def get_batch_config(self, config: t.Mapping) -> t.Any:
        """BATCH for full-table streams only; incremental streams always send RECORDs.

        A BATCH file reaches the target as one unit while the bookmark would be committed
        by the tap, so incremental streams keep record-by-record delivery and exact state.
        """
        return None if self.replication_key else super().get_batch_config(config)

    # --- timeouts and retries -------------------------------------------------------

    @property
    def timeout(self) -> int:
        return self.config.get("request_timeout", 60)  # type: ignore[no-any-return]

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 5)) + 1

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:  # type: ignore[override]
        return retry_wait_generator(
            base_seconds=float(self.config.get("retry_base_seconds", 2)),
            max_wait_seconds=float(self.config.get("retry_max_wait_seconds", 120)),
        )

    def backoff_jitter(self, value: float) -> float:
        return small_jitter(value)

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """The SDK's retry decorator without backoff's own log lines: they print full URLs."""
        return backoff.on_exception(
            self.backoff_wait_generator,
            (
                ConnectionResetError,
                RetriableAPIError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=None,
        )(func)

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

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        self.partition = context
        try:
            yield from super().request_records(context)
        except VendorDataError as exc:
            raise VendorDataError(
                f"stream '{self.name}' {partition_label(context)}: {exc}"
            ) from None
        except TRANSIENT_ERRORS as exc:
            raise self.gave_up(context, exc) from None

    def gave_up(self, context: Context | None, exc: BaseException) -> FatalAPIError:
        """The error for a request whose retries are exhausted."""
        return FatalAPIError(
            f"stream '{self.name}' {partition_label(context)}: gave up after "
            f"{self.backoff_max_tries()} attempts: {describe_exception(exc)}. "
            "Raise 'max_retries' or 'request_timeout' if the API is slow or busy; "
            "the last STATE message is valid, so the next run resumes from it."
        )

    # --- responses ------------------------------------------------------------------

    def validate_response(self, response: requests.Response) -> None:
        """Status checks, then the body is parsed here so a broken body is retried too."""
        super().validate_response(response)
        self.parsed_body(response)

    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: the body can echo request data, the query can hold secrets."""
        path = urlsplit(response.url).path if response.url else self.path
        return (
            f"{self.vendor_name} answered HTTP {response.status_code} "
            f"{response.reason or HTTPStatus(response.status_code).phrase} for {path} "
            f"(stream '{self.name}', {partition_label(self.partition)})"
        )

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
        try:
            return _JSON_DECODER.decode(response.content)
        except msgspec.DecodeError:
            pass  # not strict JSON: json also reads NaN and Infinity, else it is not JSON
        try:
            return json.loads(response.content, parse_float=decimal.Decimal)
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type")
            path = urlsplit(response.url).path if response.url else self.path
            msg = (
                f"{self.vendor_name} answered {path} with a body that is not JSON "
                f"({content_type}, {len(response.content)} bytes) "
                f"(stream '{self.name}', {partition_label(self.partition)})"
            )
            raise RetriableAPIError(msg, response) from None
