"""tap_common.http: no redirect to another host, and a deadline for the whole response."""

from __future__ import annotations

import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tap_cast.tap import TapCast
from tap_common.http import CrossHostRedirectError, VendorSession, new_session
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts


class Handler(BaseHTTPRequestHandler):
    """/same -> 307 to this host's /ok; /other -> 307 to the other hostname of this
    machine; /drip -> 40 bytes, one every 0.05 s; /ok -> a short body."""

    seen: t.ClassVar[list[tuple[str, str, bytes]]] = []

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
