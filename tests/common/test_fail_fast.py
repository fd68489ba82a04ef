"""A wrong host or port fails the run at once, naming the host and 'base_url'; retries are
kept for servers that have answered. A timeout says so and points at request_timeout."""

from __future__ import annotations

import socket
import threading
import typing as t

import pytest

from tap_cast.tap import TapCast
from tap_common.errors import UnreachableError
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import run_tap

RETRYING = {"max_retries": 5, "retry_base_seconds": 30, "request_timeout": 1}
CONFIGS = {
    TapCast: {"api_key": "key-123456", "org_slug": "demo-org", "cast_ids": [1940]},
    TapWebcasts: {"username": "reports@example.com", "password": "pw-123456"},
    TapRevWebcast: {"api_key": "key-123456", "secret": "secret-123456", "webcast_ids": ["w1"]},
}


@pytest.fixture
def refusing_port() -> t.Iterator[int]:
    """A port bound and never listened on: connections are refused, and no other listener
    (the suite's sandboxes take free ports too) can take it while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("tap_class", list(CONFIGS))
@pytest.mark.parametrize(
    "cause", ["connection refused", "unknown host"], ids=["refused", "unknown-host"]
)
def test_an_unreachable_host_stops_at_once_naming_it(tap_class, cause, refusing_port, caplog):
    base_url = (
        f"http://127.0.0.1:{refusing_port}"
        if cause == "connection refused"
        else "http://no-such-host.invalid"
    )
    config = {**CONFIGS[tap_class], **RETRYING, "base_url": base_url}
    # retry_base_seconds 30: a single retry would make this test take minutes.
    run = run_tap(tap_class, config, expect_error=True)
    assert isinstance(run.error, UnreachableError)
    message = str(run.error)
    assert cause in message
    assert f"'{base_url}'" in message
    assert "'base_url'" in message
    assert "retrying in" not in caplog.text


@pytest.fixture
def silent_server() -> t.Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_host_that_never_answers_is_retried_then_names_request_timeout(silent_server, caplog):
    config = {
        **CONFIGS[TapCast],
        "base_url": silent_server,
        "max_retries": 1,
        "retry_base_seconds": 0,
        "request_timeout": 1,
    }
    run = run_tap(TapCast, config, expect_error=True)
    message = str(run.error)
    assert "gave up after 2 attempts" in message
    assert "timed out" in message
    assert "'request_timeout' is 1 s" in message
    assert "retrying in" in caplog.text  # the same check above would see a retry
