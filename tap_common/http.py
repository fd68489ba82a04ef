"""The HTTP session every request of every tap goes through.

Three rules that requests does not apply by itself:

- A redirect to another host is refused, never followed: a login body (Rev's API key and
  secret), an Authorization header or a query string (Webcasts.com's password and session
  ids) would travel to that host.
- ``timeout`` is a deadline for the whole answer, status line and headers included, at any
  trickle rate: a watchdog thread shuts the connection's socket once the deadline passes,
  so no read can wait past it (a read waits for a whole buffer, so checking the clock
  between reads is not enough). Streamed downloads (``stream=True``) read at their own pace
  and keep requests' per-read timeout.
- A body that is not streamed holds at most ``MAX_BODY_BYTES`` once decompressed: a small
  gzip body can expand a thousand times (a "zip bomb").
"""

from __future__ import annotations

import contextlib
import decimal
import heapq
import io
import itertools
import json
import os
import socket
import threading
import time
import typing as t
from urllib.parse import urlsplit

import msgspec
import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import (
    ChunkedEncodingError,
    ContentDecodingError,
    ReadTimeout,
)
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.poolmanager import pool_classes_by_scheme

from tap_common.errors import VendorDataError

#: Bytes read per step while a body is read against its deadline.
READ_CHUNK = 64 * 1024
#: The most a body that is not streamed may hold once decompressed. A page, a login answer
#: or an event list of these APIs is a few megabytes; this leaves room for pages of huge
#: fields (tests/reliability/test_hostile.py sends 88 MB pages of 4 MB strings), while a
#: gzip body that expands to gigabytes stops here.
MAX_BODY_BYTES = 256 * 1024 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Twice as fast as json.loads, with the same values: exact decimals, big integers intact.
_JSON_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


class CrossHostRedirectError(FatalAPIError):
    """The API redirected a request to another host."""


class ResponseTooLargeError(VendorDataError):
    """A body that is not streamed held more than ``MAX_BODY_BYTES`` once decompressed."""


class NestedTooDeepError(VendorDataError):
    """A JSON body nested deeper than the parser can follow."""


def _origin(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme)


class VendorSession(requests.Session):
    """A requests session that refuses cross-host redirects and reads within a deadline.

    ``answered`` is set by the first response of any status: the host is reachable, so a
    connection that fails later is a fault worth retrying.
    """

    def __init__(self, answered: threading.Event | None = None) -> None:
        super().__init__()
        self.answered = answered if answered is not None else threading.Event()
        # requests reads REQUESTS_CA_BUNDLE in Session.request only; the SDK sends pages
        # with Session.send, so the bundle an operator names must be the session's own.
        # An empty value means "not set", never "do not verify".
        self.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self.use_pool(10)

    def use_pool(self, maxsize: int) -> None:
        """Keep up to ``maxsize`` connections per host (one per thread that requests)."""
        adapter = VendorAdapter(pool_maxsize=maxsize)
        for prefix in ("https://", "http://"):
            self.mount(prefix, adapter)

    @override
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        location = requests.compat.urljoin(resp.url, target)
        downgrade = urlsplit(resp.url).scheme == "https" and urlsplit(location).scheme == "http"
        if downgrade or _origin(location)[0] != _origin(resp.url)[0]:
            msg = (
                f"the API answered HTTP {resp.status_code} with a redirect to another host "
                f"({urlsplit(location).hostname or 'unknown'}); it is not followed, so no "
                "credential travels there. Check the 'base_url' setting: use the address the "
                "API redirects to if you trust it."
            )
            raise CrossHostRedirectError(msg)
        return target

    @override
    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        streamed = kwargs.get("stream", False)  # also each hop of a redirect (requests)
        seconds = _total_seconds(kwargs.get("timeout"))
        if streamed or seconds is None:
            response = super().send(request, **kwargs)
        else:
            response = self._send_within(request, seconds, kwargs)
        self.answered.set()
        return response

    def _send_within(
        self, request: requests.PreparedRequest, seconds: float, kwargs: dict[str, t.Any]
    ) -> requests.Response:
        """Send and read the whole answer within ``seconds``, or raise ReadTimeout."""
        deadline = _local.deadline = Deadline(time.monotonic() + seconds)
        try:
            response = super().send(request, **{**kwargs, "stream": True})
            read_whole(response)
            if deadline.end():
                return response
            response.close()  # its socket was shut: never back to the pool
        except (requests.RequestException, ProtocolError, OSError):
            if deadline.end():
                raise  # a failure of its own, before the deadline
        finally:
            deadline.end()
            _local.deadline = None
        msg = f"the whole response did not arrive within {seconds:g} s"
        raise ReadTimeout(msg, request=request)


def _total_seconds(timeout: t.Any) -> float | None:
    """The deadline of a request from its requests ``timeout`` (a number or a pair)."""
    if isinstance(timeout, tuple):
        timeout = timeout[-1]
    return float(timeout) if isinstance(timeout, int | float) else None


def read_whole(response: requests.Response) -> None:
    """Read the whole body of ``response``, at most ``MAX_BODY_BYTES`` once decompressed.

    What requests does for a body that is not streamed, with its size bounded; the
    deadline is the watchdog's.
    """
    body = io.BytesIO()  # getvalue() hands over its buffer: no second copy of the body
    try:
        for chunk in response.raw.stream(READ_CHUNK, decode_content=True):
            body.write(chunk)
            if body.tell() > MAX_BODY_BYTES:
                response.close()
                raise ResponseTooLargeError(_too_large(response))
    except ProtocolError as exc:
        raise ChunkedEncodingError(exc) from None
    except ReadTimeoutError as exc:
        raise ReadTimeout(exc, request=response.request) from None
    except DecodeError as exc:
        raise ContentDecodingError(exc) from None
    response._content = body.getvalue()  # what Response.content caches
    response._content_consumed = True  # type: ignore[attr-defined]


def _too_large(response: requests.Response) -> str:
    path = urlsplit(response.url).path if response.url else "a request"
    encoding = response.headers.get("Content-Encoding")
    sent = f", sent {encoding}-compressed" if encoding else ""
    return (
        f"the answer to {path} holds more than {MAX_BODY_BYTES >> 20} MiB{sent}; an answer "
        "of this API is far smaller, so it was not read (memory stays bounded). Check that "
        "'base_url' reaches the API itself, not a proxy or another server."
    )


def decode_json(content: bytes) -> t.Any:
    """A JSON body: exact decimals, NaN and Infinity read; ValueError when it is not JSON.

    Nesting deeper than the parser can follow raises NestedTooDeepError (one clear line,
    not a RecursionError): no API answer of these vendors nests that deep.
    """
    try:
        try:
            return _JSON_DECODER.decode(content)
        except msgspec.DecodeError:
            pass  # not strict JSON: json also reads NaN and Infinity, else it is not JSON
        return json.loads(content, parse_float=decimal.Decimal)
    except RecursionError:
        msg = (
            "a JSON body nested deeper than the parser can follow (hundreds of levels); no "
            "answer of this API nests that deep, so it was not read"
        )
        raise NestedTooDeepError(msg) from None


# --- the deadline watchdog ------------------------------------------------------------

_local = threading.local()


class Deadline:
    """When the answer of one request must be read by; the sockets it uses are watched."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False  # the watchdog shut its sockets
        self.ended = False  # the request ended first

    def end(self) -> bool:
        """Stop watching; True when the request ended before the deadline fired."""
        with _WATCHDOG.lock:
            self.ended = True
            return not self.fired


class _Watchdog:
    """One daemon thread that shuts a socket down once its request's deadline passes.

    A read blocked on that socket then returns at once. Requests that ended are dropped
    from the queue lazily, when they reach its head.
    """

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self._queue: list[tuple[float, int, Deadline, socket.socket]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline, sock: socket.socket) -> None:
        with self.lock:
            heapq.heappush(self._queue, (deadline.at, next(self._order), deadline, sock))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="request-deadlines", daemon=True
                )
                self._thread.start()
            elif self._queue[0][2] is deadline:
                self.lock.notify()  # sooner than what the thread waits for

    def _run(self) -> None:
        with self.lock:
            while True:
                while self._queue and self._queue[0][2].ended:
                    heapq.heappop(self._queue)
                if not self._queue:
                    self.lock.wait()
                    continue
                at, _, deadline, sock = self._queue[0]
                if at > time.monotonic():
                    self.lock.wait(at - time.monotonic())
                    continue
                heapq.heappop(self._queue)
                deadline.fired = True
                # The socket layer's own shutdown: an SSL socket's would drop its TLS state
                # under the reading thread. A socket closed since raises: nothing to do.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()


class _WatchedConnection(HTTPConnection):
    """A connection whose socket the watchdog shuts at the current request's deadline."""

    @override
    def getresponse(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        deadline: Deadline | None = getattr(_local, "deadline", None)
        if deadline is not None and isinstance(self.sock, socket.socket):
            _WATCHDOG.watch(deadline, self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class VendorAdapter(HTTPAdapter):
    """requests' adapter, with connections the deadline watchdog can shut."""

    @override
    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    @override
    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme == pool_classes_by_scheme:  # not a SOCKS proxy's
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def new_session(answered: threading.Event | None = None) -> VendorSession:
    """The session for a tap's requests, logins included; ``answered`` is the run's flag
    (``VendorRun.answered``) shared by all its sessions."""
    return VendorSession(answered)
