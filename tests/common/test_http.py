"""tap_common.http: no redirect to another host, and a deadline for the whole response."""

from __future__ import annotations

import decimal
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tap_cast.tap import TapCast
from tap_common import http
from tap_common.http import (
    CrossHostRedirectError,
    NestedTooDeepError,
    ResponseTooLargeError,
    VendorSession,
    new_session,
)
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts


class Handler(BaseHTTPRequestHandler):
    """/same -> 307 to this host's /ok; /other -> 307 to the other hostname of this
    machine; /drip -> 40 bytes, one every 0.05 s; /ok -> a short body; /trickle/<how> ->
    200 bytes, one every 0.02 s (4 s in all): framed by Content-Length, as one chunk, or
    the whole answer (status line and headers too) that slowly."""

    protocol_version = "HTTP/1.1"  # keep-alive: a pooled connection serves the next request
    seen: t.ClassVar[list[tuple[str, str, bytes]]] = []
    #: Per /trickle request: whether its last byte went out before the client hung up.
    trickled: t.ClassVar[list[bool]] = []
    #: The client ports that connected: how many connections the client opened.
    ports: t.ClassVar[set[int]] = set()

    def log_message(self, *args: t.Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.headers["Host"], self.path, body))
        port = self.server.server_address[1]
        if self.path == "/same":
            self.redirect(f"http://127.0.0.1:{port}/ok")
        elif self.path == "/other":
            self.redirect(f"http://localhost:{port}/ok")
        else:
            self.reply(b"ok")

    def do_GET(self) -> None:
        self.ports.add(self.client_address[1])
        if self.path.startswith("/trickle/"):
            self.trickle(self.path.removeprefix("/trickle/"))
            return
        if self.path == "/trickle-fast":
            self.reply(b"y" * 200)
            return
        if self.path != "/drip":
            self.reply(b"ok")
            return
        self.send_response(200)
        self.send_header("Content-Length", "40")
        self.end_headers()
        for _ in range(40):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.05)

    def trickle(self, how: str) -> None:
        body = b"x" * 200
        head = b"HTTP/1.1 200 OK\r\n"
        if how == "chunk":
            head += b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body)
        else:
            head += b"Content-Length: %d\r\n\r\n" % len(body)
        slow = head + body if how == "head" else body
        self.close_connection = True
        try:
            if how != "head":
                self.wfile.write(head)
            for byte in slow:
                time.sleep(0.02)
                self.wfile.write(bytes([byte]))
            self.wfile.write(b"\r\n0\r\n\r\n" if how == "chunk" else b"")
            self.trickled.append(True)
        except OSError:
            self.trickled.append(False)

    def redirect(self, location: str) -> None:
        self.send_response(307)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> t.Iterator[str]:
    Handler.seen = []
    Handler.trickled = []
    Handler.ports = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_redirect_on_the_same_host_is_followed(server):
    response = new_session().post(f"{server}/same", json={"secret": "s3"}, timeout=5)
    assert response.content == b"ok"
    assert [path for _, path, _ in Handler.seen] == ["/same", "/ok"]


def test_a_redirect_to_another_host_is_refused_and_nothing_is_sent_there(server):
    with pytest.raises(CrossHostRedirectError, match="another host") as caught:
        new_session().post(f"{server}/other", json={"secret": "s3"}, timeout=5)
    assert "s3" not in str(caught.value)
    assert [(host.split(":")[0], path) for host, path, _ in Handler.seen] == [
        ("127.0.0.1", "/other")
    ]


def test_the_timeout_bounds_the_whole_response_not_each_read(server):
    # Each byte arrives well within the timeout; the whole body would take 2 s.
    with pytest.raises(requests.exceptions.ReadTimeout, match=r"within 0\.5 s"):
        new_session().get(f"{server}/drip", timeout=0.5)


def test_a_body_within_the_deadline_is_read_whole(server):
    response = new_session().get(f"{server}/ok", timeout=5)
    assert response.content == b"ok"
    assert response.text == "ok"


def test_every_request_of_every_tap_goes_through_the_vendor_session():
    base = {"base_url": "http://127.0.0.1:9"}
    taps = [
        TapCast(config={**base, "api_key": "k", "org_slug": "o", "cast_ids": [1]}),
        TapWebcasts(config={**base, "username": "u", "password": "p"}),
        TapRevWebcast(config={**base, "api_key": "k", "secret": "s", "webcast_ids": ["w"]}),
    ]
    for tap in taps:
        for stream in tap.streams.values():
            assert isinstance(stream.requests_session, VendorSession), stream.name
    assert isinstance(taps[1].run.authenticator._http, VendorSession)
    assert isinstance(taps[2].run.authenticator.session, VendorSession)


@pytest.mark.parametrize("how", ["length", "chunk", "head"])
def test_the_deadline_holds_at_any_trickle_rate(server, how):
    """Each byte well within any per-read timeout: the read is cut at the deadline, not
    when a read buffer fills or the body ends (the server sees the client hang up)."""
    with pytest.raises(requests.exceptions.ReadTimeout, match=r"within 0\.3 s"):
        new_session().get(f"{server}/trickle/{how}", timeout=0.3)
    for _ in range(500):  # the server notices the hang-up at its next write
        if Handler.trickled:
            break
        time.sleep(0.02)
    assert Handler.trickled == [False], "the whole trickled answer was read"


def test_a_request_that_ended_keeps_its_connection_past_its_deadline(server):
    """The watchdog never shuts a pooled connection whose request already ended."""
    session = new_session()
    assert session.get(f"{server}/ok", timeout=0.2).content == b"ok"
    time.sleep(0.4)  # past the first request's deadline
    assert session.get(f"{server}/ok", timeout=5).content == b"ok"
    assert len(Handler.ports) == 1


def test_a_body_past_the_bound_stops_reading_and_one_within_it_is_read(server, monkeypatch):
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 199)
    with pytest.raises(ResponseTooLargeError, match="holds more than") as caught:
        new_session().get(f"{server}/trickle-fast", timeout=5)
    assert "\n" not in str(caught.value)
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 200)
    assert len(new_session().get(f"{server}/trickle-fast", timeout=5).content) == 200


def test_json_nested_too_deep_is_one_clear_error_and_shallow_json_is_read():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(NestedTooDeepError, match="nested deeper than the parser can follow"):
        http.decode_json(deep)
    assert http.decode_json(b'{"a": [1.5, NaN]}')["a"][0] == decimal.Decimal("1.5")
    with pytest.raises(ValueError):
        http.decode_json(b"<html>")
