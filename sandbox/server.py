"""Generic, vendor-independent HTTP server for the sandboxes.

A vendor simulator is any object with ``handle(request: SandboxRequest) -> SandboxResponse``.
:class:`SandboxServer` serves it over HTTP/1.1 with keep-alive. It also injects faults
(:mod:`sandbox.faults`), keeps a request log and runs post-response hooks.

A response body is either ``bytes`` (sent with ``Content-Length``) or an iterable of ``bytes``
chunks, which is streamed with ``Transfer-Encoding: chunked`` (close-delimited for HTTP/1.0
clients), so a huge report never has to exist in memory as one string.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs

from .faults import FaultConfig, FaultInjector

JSON_CT = "application/json"


def json_text(value: Any, *, indent: int | None = None) -> str:
    """The one way the sandbox writes JSON: compact, non-ASCII left as is (Django REST
    framework's default rendering, and what the vendors' samples show), NaN allowed as
    ``json.dumps`` does. ``indent`` is only for files people read (the CLI's ground truth):
    it also puts a space after each colon, as ``json.dumps(indent=...)`` does by default."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)


def json_bytes(value: Any) -> bytes:
    """:func:`json_text` as UTF-8: a response body."""
    return json_text(value).encode("utf-8")


_REASONS = {s.value: s.phrase for s in HTTPStatus}

# Bodies a misbehaving proxy / overloaded front end would typically send.
_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center>\n"
    b"<hr><center>nginx</center></body></html>\n"
)
_FAULT_BODIES: dict[str, tuple[int, bytes]] = {
    "429": (429, b'{"detail":"Request was throttled."}'),
    "429-no-retry-after": (429, b'{"detail":"Request was throttled."}'),
    "500": (500, b'{"detail":"A server error occurred."}'),
    "502": (502, b'{"detail":"Bad gateway."}'),
    "503": (503, b'{"detail":"Service temporarily unavailable."}'),
}


class Headers(Protocol):
    """Read access to request headers; the server passes a case-insensitive http.client.HTTPMessage
    (a plain dict also works when calling an app directly)."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


@dataclass
class SandboxRequest:
    method: str
    path: str  # raw (still percent-encoded) path, without the query string
    query: dict[str, list[str]]  # parse_qs(..., keep_blank_values=True)
    headers: Headers  # case-insensitive (http.client.HTTPMessage)
    body: bytes = b""


@dataclass
class SandboxResponse:
    status: int
    # bytes, or an iterable of bytes chunks that is streamed (chunked transfer encoding).
    # Hooks see the iterable as is: a hook that needs the bytes of a streamed response must
    # consume it and assign the joined bytes back to ``body``.
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON_CT})

    @property
    def streamed(self) -> bool:
        """True when the body is an iterable of chunks rather than bytes."""
        return not isinstance(self.body, (bytes, bytearray, memoryview))

    @classmethod
    def json(
        cls, status: int, value: Any, headers: dict[str, str] | None = None
    ) -> SandboxResponse:
        all_headers = {"Content-Type": JSON_CT}
        if headers:
            all_headers.update(headers)
        return cls(status, json_bytes(value), all_headers)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int  # status served; 0 when the connection was dropped without a response
    fault: str | None  # injected fault name, or None
    headers: Headers | None = None
    time: float = 0.0  # time.time() when the request arrived
    # False when the client hung up before the whole answer went out (the "trickle" faults).
    complete: bool = True


class App(Protocol):
    def handle(self, request: SandboxRequest) -> SandboxResponse: ...


Hook = Callable[[SandboxRequest, SandboxResponse], None]


# Hand-written on the standard library's ThreadingHTTPServer rather than a framework
# (werkzeug, aiohttp, pytest-httpserver): the sandbox keeps zero dependencies, and the faults
# need the raw socket (drop without an answer, cut a body mid-way, a close-delimited HTTP/1.0
# body, stop counting a request in flight before its last bytes), which frameworks hide.
class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: SandboxServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a run stopped, `meltano config test` done after
        # its first record) is routine for a server: no traceback in the sandbox's terminal.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxServer/1.0"
    sys_version = ""
    server: _HTTPServer
    in_flight = False  # counted in SandboxServer.in_flight until its answer goes out

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sandbox._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sandbox._untrack(self.connection)

    def _dispatch(self) -> None:
        self.server.sandbox._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class SandboxServer:
    """Threaded HTTP/1.1 keep-alive server around a vendor ``app``.

    Adds fault injection, a request log and post-response hooks.
    """

    def __init__(
        self, app: App, host: str = "127.0.0.1", port: int = 0, faults: FaultConfig | None = None
    ):
        self.app = app
        self.faults: FaultConfig = faults if faults is not None else FaultConfig()
        self.requests: list[RequestRecord] = []
        self.hooks: list[Hook] = []
        self._injector = FaultInjector()
        self._log_lock = threading.Lock()
        # Requests being answered at this moment, and the most seen at once: how tests see
        # a client's concurrency (a real server's load metric, not vendor behaviour).
        self.in_flight = 0
        self.peak_in_flight = 0
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False
        cls = _HTTPServer6 if ":" in host else _HTTPServer
        self._httpd = cls((host, port), _Handler)
        self._httpd.sandbox = self
        self.host = host
        self.port: int = self._httpd.server_address[1]

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> SandboxServer:
        if self._stopped:
            raise RuntimeError("SandboxServer cannot be restarted after stop()")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sandbox:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()
        # Keep-alive connections are still served by their own threads: close them too,
        # so a stopped server really stops answering.
        with self._conns_lock:
            conns = list(self._conns)
            self._conns.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.discard(conn)

    # ------------------------------------------------------------------ log & faults
    def reset_log(self) -> None:
        with self._log_lock:
            del self.requests[:]
            self.peak_in_flight = self.in_flight

    def count(self, path_contains: str = "", status: int | None = None) -> int:
        """Logged requests whose path contains ``path_contains`` (and with ``status``, if given)."""
        with self._log_lock:
            return sum(
                1
                for r in self.requests
                if path_contains in r.path and (status is None or r.status == status)
            )

    def faults_injected(self, kind: str | None = None) -> int:
        """Number of logged requests that got a fault (of ``kind`` if given)."""
        with self._log_lock:
            return sum(
                1
                for r in self.requests
                if r.fault is not None and (kind is None or r.fault == kind)
            )

    def script(self, path_contains: str, faults: list[str]) -> None:
        """The next ``len(faults)`` requests whose path contains ``path_contains`` get these
        faults, in order,
        before random faults apply. ``None``/``"none"`` entries mean "no fault for that request"."""
        self._injector.script(path_contains, list(faults))

    def clear_scripts(self) -> None:
        self._injector.clear_scripts()

    def _record(self, rec: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(rec)

    # ------------------------------------------------------------------ request handling
    def _serve(self, handler: _Handler) -> None:
        with self._log_lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        handler.in_flight = True
        try:
            self._answer(handler)
        finally:
            self._answered(handler)

    def _answered(self, handler: _Handler) -> None:
        """Called before the last bytes of a response go out: once the client has them it may
        send its next request, which must not find this one still counted in flight."""
        if handler.in_flight:
            handler.in_flight = False
            with self._log_lock:
                self.in_flight -= 1

    def _answer(self, handler: _Handler) -> None:
        arrived = time.time()
        request = _read_request(handler)
        config = self.faults
        fault = self._injector.decide(request.path, config)
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000.0)

        def record(status: int) -> RequestRecord:
            # Log before writing, so a client that got its answer always sees the record.
            rec = RequestRecord(
                request.method, request.path, request.query, status, fault, handler.headers, arrived
            )
            self._record(rec)
            return rec

        if fault is not None and self._answer_fault(handler, request, fault, config, record):
            return
        slow_rec: RequestRecord | None = None
        if fault == "slow":
            # Logged at once (status 0 until answered): the client has usually timed out and
            # moved on long before the answer is sent.
            slow_rec = record(0)
            time.sleep(config.slow_seconds)
        response = self._app_response(request)
        if fault is None or fault == "slow":
            for hook in list(self.hooks):
                hook(request, response)
        if slow_rec is not None:
            slow_rec.status = response.status
            rec = slow_rec
        else:
            rec = record(response.status)
        if fault == "cut-at-line-end" and request.method != "HEAD":
            self._write_cut_at_line_end(handler, response)
            return
        if fault in ("trickle", "trickle-head", "gzip-bomb") and request.method != "HEAD":
            self._write_transformed(handler, response, fault, config, rec)
            return
        self._send(handler, response, truncate=fault == "truncate", head=request.method == "HEAD")

    def _answer_fault(
        self,
        handler: _Handler,
        request: SandboxRequest,
        fault: str,
        config: FaultConfig,
        record: Callable[[int], RequestRecord],
    ) -> bool:
        """Perform a fault that replaces the answer ("drop", the error bodies, "html").

        False for the faults that still let the app answer ("slow", "truncate").
        """
        head = request.method == "HEAD"
        if fault == "drop":
            record(0)
            self._answered(handler)
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault in _FAULT_BODIES:
            status, body = _FAULT_BODIES[fault]
            headers = {"Content-Type": JSON_CT}
            if fault == "429":
                headers["Retry-After"] = str(config.retry_after)
            record(status)
            self._write(handler, status, headers, body, head=head)
            return True
        if fault == "deep-json":
            record(200)
            levels = config.deep_json_levels
            body = b"[" * levels + b"]" * levels
            self._write(handler, 200, {"Content-Type": JSON_CT}, body, head=head)
            return True
        if fault == "html":
            record(200)
            self._write(handler, 200, {"Content-Type": "text/html"}, _HTML_PAGE, head=head)
            return True
        return False

    def _write_cut_at_line_end(self, handler: _Handler, response: SandboxResponse) -> None:
        """The "cut-at-line-end" fault: the body close-delimited and cut after the last line
        end of its first half (at its middle when that half has none), then a clean close.
        Nothing in the framing tells the client that bytes are missing."""
        body = response.body
        data = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else b"".join(body)
        cut = data.rfind(b"\n", 0, max(1, len(data) // 2)) + 1 or len(data) // 2
        handler.close_connection = True
        parts = _status_and_headers(
            response.status,
            response.headers,
            skip=("content-length", "connection", "transfer-encoding"),
        )
        parts.append("Connection: close\r\n\r\n")
        self._answered(handler)
        try:
            handler.wfile.write("".join(parts).encode("latin-1") + data[:cut])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _write_transformed(
        self,
        handler: _Handler,
        response: SandboxResponse,
        fault: str,
        config: FaultConfig,
        rec: RequestRecord,
    ) -> None:
        """The "trickle", "trickle-head" and "gzip-bomb" faults: the app's answer with
        Content-Length framing, sent slowly or expanded."""
        body = response.body
        data = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else b"".join(body)
        headers = dict(response.headers)
        if fault == "gzip-bomb":
            data = _gzip_bomb(data, config.bomb_bytes)
            headers["Content-Encoding"] = "gzip"
        parts = _status_and_headers(response.status, headers, skip=("content-length",))
        parts.append(f"Content-Length: {len(data)}\r\n\r\n")
        head = "".join(parts).encode("latin-1")
        self._answered(handler)
        try:
            if fault == "gzip-bomb":
                handler.wfile.write(head + data)
                return
            if fault == "trickle":
                handler.wfile.write(head)
            for byte in head + data if fault == "trickle-head" else data:
                time.sleep(config.trickle_seconds)
                handler.wfile.write(bytes([byte]))
        except OSError:
            rec.complete = False
            handler.close_connection = True

    def _app_response(self, request: SandboxRequest) -> SandboxResponse:
        try:
            return self.app.handle(request)
        except Exception as exc:  # a bug in the simulator: report it loudly, answer 500
            traceback.print_exc(file=sys.stderr)
            return SandboxResponse.json(
                500, {"detail": f"sandbox error: {type(exc).__name__}: {exc}"}
            )

    def _send(
        self, handler: _Handler, response: SandboxResponse, *, truncate: bool, head: bool
    ) -> None:
        body = response.body
        if not isinstance(body, (bytes, bytearray, memoryview)):
            self._write_stream(
                handler, response.status, response.headers, body, truncate=truncate, head=head
            )
        elif truncate:
            self._write(handler, response.status, response.headers, bytes(body), truncate=True)
        else:
            self._write(handler, response.status, response.headers, bytes(body), head=head)

    def _write(
        self,
        handler: _Handler,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        truncate: bool = False,
        head: bool = False,
    ) -> None:
        parts = _status_and_headers(status, headers, skip=("content-length", "connection"))
        parts.append(f"Content-Length: {len(body)}\r\n")
        if truncate:
            handler.close_connection = True
        if handler.close_connection:
            parts.append("Connection: close\r\n")
        parts.append("\r\n")
        data = "".join(parts).encode("latin-1")
        if not head:
            data += body[: len(body) // 2] if truncate else body
        self._answered(handler)
        try:
            handler.wfile.write(data)
            if truncate:
                handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            handler.close_connection = True

    def _write_stream(
        self,
        handler: _Handler,
        status: int,
        headers: Mapping[str, str],
        body: Iterable[bytes],
        *,
        truncate: bool = False,
        head: bool = False,
    ) -> None:
        """Send a streamed body: chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0.

        The "truncate" fault sends half of the body (at most ``_STREAM_TRUNCATE_BYTES``) and
        closes the connection without the terminating chunk. An exception raised by the body
        iterator after the headers went out aborts the connection the same way (the client sees
        an incomplete body) and is printed to stderr.
        """
        chunked = handler.request_version != "HTTP/1.0"
        if not chunked or truncate:
            handler.close_connection = True
        parts = _status_and_headers(
            status, headers, skip=("content-length", "connection", "transfer-encoding")
        )
        if chunked:
            parts.append("Transfer-Encoding: chunked\r\n")
        if handler.close_connection:
            parts.append("Connection: close\r\n")
        parts.append("\r\n")
        head_bytes = "".join(parts).encode("latin-1")
        chunks: Iterator[bytes] = iter(body)
        try:
            if head:
                self._answered(handler)
                handler.wfile.write(head_bytes)
            elif truncate:
                self._write_stream_truncated(handler, head_bytes, chunks, chunked)
            else:
                self._write_stream_body(handler, head_bytes, chunks, chunked)
        except OSError:
            handler.close_connection = True
        except Exception:  # a bug in the body generator, after the headers went out
            traceback.print_exc(file=sys.stderr)
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def _write_stream_body(
        self, handler: _Handler, head_bytes: bytes, chunks: Iterator[bytes], chunked: bool
    ) -> None:
        handler.wfile.write(head_bytes)
        for chunk in chunks:
            if chunk:
                handler.wfile.write(_frame(chunk) if chunked else chunk)
        self._answered(handler)
        if chunked:
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.connection.shutdown(socket.SHUT_RDWR)

    def _write_stream_truncated(
        self, handler: _Handler, head_bytes: bytes, chunks: Iterator[bytes], chunked: bool
    ) -> None:
        """The "truncate" fault on a streamed body: half of it, at most the limit, then close."""
        limit = _STREAM_TRUNCATE_BYTES
        buffered: list[bytes] = []
        size = 0
        complete = True
        for chunk in chunks:
            buffered.append(chunk)
            size += len(chunk)
            if size >= 2 * limit:
                complete = False
                break
        data = b"".join(buffered)
        data = data[: len(data) // 2] if complete else data[:limit]
        self._answered(handler)
        handler.wfile.write(head_bytes + (_frame(data) if chunked and data else data))
        handler.connection.shutdown(socket.SHUT_RDWR)


#: What the "truncate" fault sends of a streamed body: half of it, at most this many bytes.
_STREAM_TRUNCATE_BYTES = 64 * 1024


def _read_request(handler: _Handler) -> SandboxRequest:
    path, sep, query_string = handler.path.partition("?")
    query = parse_qs(query_string, keep_blank_values=True) if sep and query_string else {}
    # Assumption: request bodies (form posts) come with a Content-Length: chunked request
    # bodies are not read.
    length = handler.headers.get("Content-Length")
    body = b""
    if length:
        try:
            body = handler.rfile.read(int(length))
        except ValueError:
            body = b""
    return SandboxRequest(handler.command, path, query, handler.headers, body)


def _status_and_headers(
    status: int, headers: Mapping[str, str], skip: tuple[str, ...]
) -> list[str]:
    """Status line, Server, Date and the response's own headers but those in ``skip``
    (lower-case names the writer sets itself)."""
    parts = [
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nServer: {_Handler.server_version}\r\n"
    ]
    parts.append(f"Date: {formatdate(usegmt=True)}\r\n")
    parts.extend(
        f"{name}: {value}\r\n" for name, value in headers.items() if name.lower() not in skip
    )
    return parts


def _gzip_bomb(data: bytes, size: int) -> bytes:
    """``data`` followed by spaces up to ``size`` bytes, gzip-compressed (about 1,000:1)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    parts = [compressor.compress(data)]
    block = b" " * (1 << 20)
    left = max(0, size - len(data))
    while left > 0:
        parts.append(compressor.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def _frame(chunk: bytes) -> bytes:
    return b"%x\r\n" % len(chunk) + chunk + b"\r\n"
