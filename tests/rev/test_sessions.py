"""Sessions like real tenants: short tokens, one session per key, logoff at the end.

Short tokens and single sessions run on the real clock with max_concurrency 8 (threads
race for the token); logins are counted against the run's length divided by the token
lifetime. Logoff and margins use the shared fake clock.
"""

from __future__ import annotations

import typing as t

import pytest

from sandbox import FaultConfig, start_rev_sandbox
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import REV_STREAMS, SEQUENTIAL, Rev, rev_config, rev_dataset, run_tap

LOGIN = "/api/v2/authenticate"
FAST = {"reports": 6000, "realtime": 600, "get": 24000}


def keys(run, stream: str, key: t.Callable[[dict], t.Any]) -> list:
    return sorted(key(r) for r in run.records(stream))


@pytest.mark.parametrize("extension", ["works", "empty"])
def test_short_single_session_tokens_with_eight_threads_lose_nothing(extension: str):
    dataset = rev_dataset(webcasts=8, sessions=900)
    server, api = start_rev_sandbox(dataset, faults=FaultConfig(latency_ms=15))
    api.rate_limits = dict(FAST)
    try:
        config = rev_config(
            server,
            reports_requests_per_minute=FAST["reports"],
            realtime_requests_per_minute=FAST["realtime"],
            include_realtime_attendees=False,
            max_concurrency=8,
        )
        clean = run_tap(TapRevWebcast, config)
        api.calls.clear()
        api.single_session = True  # a login revokes the key's earlier token
        api.token_lifetime = 2.0
        api.extend_session_empty = extension == "empty"  # then every refresh is a login
        short = run_tap(TapRevWebcast, config)
        logins = [c for c in api.calls if c.path == LOGIN]
        seconds = api.calls[-1].at - api.calls[0].at
    finally:
        server.stop()
    for stream in REV_STREAMS:
        if stream in ("realtime_attendees",):
            continue
        assert short.records(stream) == clean.records(stream), stream
    # About one login per two thirds of a lifetime when nothing extends the token, one
    # in all when extensions work; never one per request.
    bound = 1 + seconds / (2.0 * 2 / 3) + 3 if extension == "empty" else 2
    assert len(logins) <= bound, (len(logins), seconds)
    assert len([c for c in api.calls if c.family]) > 5 * len(logins)


def test_the_refresh_margin_scales_with_a_short_lifetime(rev: Rev):
    rev.api.token_lifetime = 4.0
    config = rev.config(
        get_requests_per_minute=60,  # one GET a second of fake time: the run lasts minutes
        include_realtime_attendees=False,
        **SEQUENTIAL,
    )
    rev.run(config)
    gets = [c for c in rev.api.calls if c.family == "get"]
    assert gets[-1].at - gets[0].at > 10 * rev.api.token_lifetime
    assert rev.api.count(LOGIN) == 1
    assert rev.api.count("", status=401) == 0
    # Extended when a third of the lifetime is left, not before every request.
    extensions = rev.api.count("/user/extend-session")
    assert 0 < extensions < len(gets)


def test_an_api_key_session_is_logged_off_at_the_end(rev: Rev, capture_logs):
    rev.run(rev.config(include_realtime_attendees=False, **SEQUENTIAL))
    assert rev.api.logoffs == ["token"]
    (call,) = [c for c in rev.api.calls if c.method == "DELETE"]
    assert call.path.startswith("/api/v2/tokens/")
    assert call.status == 200
    assert rev.api.tokens == {}  # the token stops working
    assert "Logged off from Rev (DELETE /api/v2/tokens/{apiKey})" in capture_logs.text


def test_a_user_session_is_logged_off_at_the_end(rev: Rev):
    config = rev.config(include_realtime_attendees=False, **SEQUENTIAL)
    del config["api_key"], config["secret"]
    config.update(username="rev.report.reader", password="rev-PASSWORD-a7e3-do-not-print")
    run = rev.run(config)
    assert rev.api.logoffs == ["user"]
    assert rev.api.tokens == {}
    assert run.records("webcasts")


def test_a_failed_logoff_never_fails_a_finished_run(rev: Rev, caplog):
    def refuse_logoff(request, response):
        if request.method == "DELETE":
            response.status, response.body = 500, b'{"code": "Error", "detail": "down"}'

    rev.server.hooks.append(refuse_logoff)
    run = rev.run(rev.config(include_realtime_attendees=False, **SEQUENTIAL))
    assert run.records("attendee_sessions")
    assert "Rev did not log the session off" in caplog.text
    assert "HTTP 500" in caplog.text
