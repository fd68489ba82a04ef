"""A TLS certificate the client cannot verify: one line that says so, nothing retried.

An HTTPS server on 127.0.0.1 with a certificate from a private certificate authority
(trustme): the taps do not trust it, so every handshake fails. The line names the
certificate problem, 'base_url' and REQUESTS_CA_BUNDLE; with REQUESTS_CA_BUNDLE pointing at
that authority the same server is read, so verification stays on and the hint works.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import typing as t

import pytest
import trustme
from singer_sdk.exceptions import FatalAPIError

from tap_cast.tap import TapCast
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import catalog_selecting, run_tap

if t.TYPE_CHECKING:
    from pathlib import Path


class Handshakes(http.server.ThreadingHTTPServer):
    """Counts TLS handshakes started; answers every request with an empty Cast page."""

    daemon_threads = True
    handshakes = 0
    requests_read = 0

    def get_request(self) -> tuple[t.Any, t.Any]:
        self.handshakes += 1  # a connection waits; accepting it runs the handshake
        return super().get_request()


class EmptyPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        t.cast("Handshakes", self.server).requests_read += 1
        body = json.dumps({"count": 0, "results": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: t.Any) -> None:
        pass


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(authority: trustme.CA) -> t.Iterator[Handshakes]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = Handshakes(("127.0.0.1", 0), EmptyPage)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: Handshakes) -> str:
    return f"https://127.0.0.1:{server.server_address[1]}"


def configs(base_url: str) -> dict[type, dict]:
    retrying = {"max_retries": 3, "retry_base_seconds": 0, "base_url": base_url}
    return {
        TapCast: {"api_key": "k", "org_slug": "o", "cast_ids": [1], **retrying},
        TapWebcasts: {"username": "u", "password": "PW-tls-secret", **retrying},
        TapRevWebcast: {
            "api_key": "k",
            "secret": "s",
            "start_date": "2026-01-01T00:00:00Z",
            **retrying,
        },
    }


@pytest.mark.parametrize("tap_class", [TapCast, TapWebcasts, TapRevWebcast])
def test_an_unverifiable_certificate_stops_at_once_with_a_hint(
    https_server: Handshakes, tap_class: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    config = configs(url(https_server))[tap_class]

    run = run_tap(tap_class, config, expect_error=True)

    message = str(run.error)
    assert "certificate could not be verified" in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert f"'base_url' setting ('{url(https_server)}')" in message
    assert "PW-tls-secret" not in message + run.stderr
    assert https_server.handshakes == 1  # not retried
    assert https_server.requests_read == 0  # nothing was sent


def test_the_ca_bundle_named_in_the_hint_is_used(
    https_server: Handshakes,
    authority: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    config = configs(url(https_server))[TapCast]

    run = run_tap(TapCast, config, catalog=catalog_selecting(TapCast, config, "campaigns"))

    assert run.error is None
    assert run.records("campaigns") == []
    assert https_server.requests_read == 1


def test_an_empty_ca_bundle_variable_never_turns_verification_off(
    https_server: Handshakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    with pytest.raises(FatalAPIError, match="certificate could not be verified"):
        run_tap(TapCast, configs(url(https_server))[TapCast])
    assert https_server.requests_read == 0
