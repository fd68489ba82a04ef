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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs

from .faults import FaultConfig, FaultInjector

JSON_CT = "application/json"

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
    def json(cls, status: int, obj: Any, headers: dict[str, str] | None = None) -> SandboxResponse:
        # Compact, UTF-8, non-ASCII left as is (Django REST framework's default rendering).
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        hdrs = {"Content-Type": JSON_CT}
        if headers:
            hdrs.update(headers)
        return cls(status, body, hdrs)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int  # status served; 0 when the connection was dropped without a response
    fault: str | None  # injected fault name, or None
    headers: Headers | None = None
    time: float = 0.0  # time.time() when the request arrived


class App(Protocol):
    def handle(self, request: SandboxRequest) -> SandboxResponse: ...


Hook = Callable[[SandboxRequest, SandboxResponse], None]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: SandboxServer


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
    def _serve(self, h: _Handler) -> None:
        with self._log_lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        h.in_flight = True
        try:
            self._answer(h)
        finally:
            self._answered(h)

    def _answered(self, h: _Handler) -> None:
        """Called before the last bytes of a response go out: once the client has them it may
        send its next request, which must not find this one still counted in flight."""
        if h.in_flight:
            h.in_flight = False
            with self._log_lock:
                self.in_flight -= 1

    def _answer(self, h: _Handler) -> None:
        arrived = time.time()
        raw = h.path
        path, sep, qs = raw.partition("?")
        query = parse_qs(qs, keep_blank_values=True) if sep and qs else {}
        # Assumption: request bodies (form posts) come with a Content-Length: chunked request
        # bodies are not read.
        length = h.headers.get("Content-Length")
        body = b""
        if length:
            try:
                body = h.rfile.read(int(length))
            except ValueError:
                body = b""
        req = SandboxRequest(h.command, path, query, h.headers, body)
        cfg = self.faults
        fault = self._injector.decide(path, cfg)
        if cfg.latency_ms:
            time.sleep(cfg.latency_ms / 1000.0)

        def record(status: int) -> None:
            # Log before writing, so a client that got its answer always sees the record.
            self._record(RequestRecord(req.method, path, query, status, fault, h.headers, arrived))

        if fault == "drop":
            record(0)
            self._answered(h)
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in _FAULT_BODIES:
            status, fbody = _FAULT_BODIES[fault]
            headers = {"Content-Type": JSON_CT}
            if fault == "429":
                headers["Retry-After"] = str(cfg.retry_after)
            record(status)
            self._write(h, status, headers, fbody, head=req.method == "HEAD")
            return
        if fault == "html":
            record(200)
            self._write(
                h, 200, {"Content-Type": "text/html"}, _HTML_PAGE, head=req.method == "HEAD"
            )
            return
        slow_rec: RequestRecord | None = None
        if fault == "slow":
            # Logged at once (status 0 until answered): the client has usually timed out and
            # moved on long before the answer is sent.
            slow_rec = RequestRecord(req.method, path, query, 0, fault, h.headers, arrived)
            self._record(slow_rec)
            time.sleep(cfg.slow_seconds)

        try:
            resp = self.app.handle(req)
        except Exception as exc:  # a bug in the simulator: report it loudly, answer 500
            traceback.print_exc(file=sys.stderr)
            resp = SandboxResponse.json(
                500, {"detail": f"sandbox error: {type(exc).__name__}: {exc}"}
            )
        if fault is None or fault == "slow":
            for hook in list(self.hooks):
                hook(req, resp)
        if slow_rec is not None:
            slow_rec.status = resp.status
        else:
            record(resp.status)
        rbody = resp.body
        if not isinstance(rbody, (bytes, bytearray, memoryview)):
            self._write_stream(
                h,
                resp.status,
                resp.headers,
                rbody,
                truncate=fault == "truncate",
                head=req.method == "HEAD",
            )
            return
        if fault == "truncate":
            self._write(h, resp.status, resp.headers, bytes(rbody), truncate=True)
            return
        self._write(h, resp.status, resp.headers, bytes(rbody), head=req.method == "HEAD")

    def _write(
        self,
        h: _Handler,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        truncate: bool = False,
        head: bool = False,
    ) -> None:
        parts = [
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nServer: {_Handler.server_version}\r\n"
        ]
        parts.append(f"Date: {formatdate(usegmt=True)}\r\n")
        for k, v in headers.items():
            if k.lower() in ("content-length", "connection"):
                continue
            parts.append(f"{k}: {v}\r\n")
        parts.append(f"Content-Length: {len(body)}\r\n")
        if truncate:
            h.close_connection = True
        if h.close_connection:
            parts.append("Connection: close\r\n")
        parts.append("\r\n")
        data = "".join(parts).encode("latin-1")
        if not head:
            data += body[: len(body) // 2] if truncate else body
        self._answered(h)
        try:
            h.wfile.write(data)
            if truncate:
                h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            h.close_connection = True

    def _write_stream(
        self,
        h: _Handler,
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
        chunked = h.request_version != "HTTP/1.0"
        if not chunked or truncate:
            h.close_connection = True
        parts = [
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nServer: {_Handler.server_version}\r\n"
        ]
        parts.append(f"Date: {formatdate(usegmt=True)}\r\n")
        for k, v in headers.items():
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            parts.append(f"{k}: {v}\r\n")
        if chunked:
            parts.append("Transfer-Encoding: chunked\r\n")
        if h.close_connection:
            parts.append("Connection: close\r\n")
        parts.append("\r\n")
        head_bytes = "".join(parts).encode("latin-1")
        it: Iterator[bytes] = iter(body)
        try:
            if head:
                self._answered(h)
                h.wfile.write(head_bytes)
                return
            if truncate:
                limit = _STREAM_TRUNCATE_BYTES
                buf: list[bytes] = []
                size = 0
                complete = True
                for chunk in it:
                    buf.append(chunk)
                    size += len(chunk)
                    if size >= 2 * limit:
                        complete = False
                        break
                data = b"".join(buf)
                data = data[: len(data) // 2] if complete else data[:limit]
                self._answered(h)
                h.wfile.write(head_bytes + (_frame(data) if chunked and data else data))
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            h.wfile.write(head_bytes)
            for chunk in it:
                if chunk:
                    h.wfile.write(_frame(chunk) if chunked else chunk)
            self._answered(h)
            if chunked:
                h.wfile.write(b"0\r\n\r\n")
            else:
                h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            h.close_connection = True
        except Exception:  # a bug in the body generator, after the headers went out
            traceback.print_exc(file=sys.stderr)
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()


#: What the "truncate" fault sends of a streamed body: half of it, at most this many bytes.
_STREAM_TRUNCATE_BYTES = 64 * 1024


def _frame(chunk: bytes) -> bytes:
    return b"%x\r\n" % len(chunk) + chunk + b"\r\n"
