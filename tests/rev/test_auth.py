"""The Rev session: one login, kept alive across long runs, one re-login on a 401, no retry
of a refused login."""

from __future__ import annotations

import threading

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import REV_PASSWORD as PASSWORD
from tests.helpers import REV_SECRET as SECRET
from tests.helpers import REV_USERNAME as USERNAME
from tests.helpers import SEQUENTIAL, Rev, catalog_selecting

LOGIN = "/api/v2/authenticate"
REPORTS = ("/comments", "/poll-results", "/questions", "/reactions", "/post-event-report")


def report_calls(rev: Rev) -> list:
    return [c for c in rev.api.calls if c.path.endswith(REPORTS)]


def test_one_login_serves_every_stream(rev: Rev):
    run = rev.run()
    assert all(run.records(stream) for stream in ("webcasts", "comments", "realtime_attendees"))
    assert rev.api.count(LOGIN) == 1
    assert rev.api.count("", status=401) == 0


def test_session_is_extended_through_a_run_longer_than_the_token_life(rev: Rev):
    rev.api.token_lifetime = 45
    # 20 report (and other GET) requests per minute: 3.15 s of (fake) time each, so the run
    # lasts minutes.
    config = rev.config(
        reports_requests_per_minute=20,
        get_requests_per_minute=20,
        include_realtime_attendees=False,
        **SEQUENTIAL,
    )
    run = rev.run(config)
    calls = report_calls(rev)
    assert calls[-1].at - calls[0].at > 2 * rev.api.token_lifetime
    assert rev.api.count("", status=401) == 0
    assert rev.api.count(LOGIN) == 1
    assert rev.api.count("/user/extend-session") >= 3
    assert len(run.records("attendee_sessions")) == len(
        rev.dataset.ground_truth()["attendee_sessions"]
    )


def test_an_expired_token_is_replaced_before_it_is_sent(rev: Rev):
    rev.api.token_lifetime = 60

    def pause_longer_than_the_token_life(request, response):
        if request.path.endswith("/comments") and rev.api.count("/comments") == 1:
            rev.clock.advance(300)  # e.g. a slow target held the tap back

    rev.server.hooks.append(pause_longer_than_the_token_life)
    rev.run(rev.config(include_realtime_attendees=False, **SEQUENTIAL))
    assert rev.api.count(LOGIN) == 2
    assert rev.api.count("/user/extend-session") == 0
    assert rev.api.count("", status=401) == 0


@pytest.mark.parametrize("max_concurrency", [1, 8])
def test_a_401_mid_run_logs_in_again_exactly_once(rev: Rev, max_concurrency: int):
    first = threading.Lock()  # never released: only the first hook to get it revokes

    def revoke_after_third_report(request, response):
        # ">= 3": with 8 threads, calls 3 and 4 may both be counted before either hook runs.
        if len(report_calls(rev)) >= 3 and first.acquire(blocking=False):
            rev.api.revoke_tokens()

    rev.server.hooks.append(revoke_after_third_report)
    run = rev.run(rev.config(max_concurrency=max_concurrency))
    rejected = rev.api.count("", status=401)
    # Every request in flight with the revoked token gets a 401; one login serves them all.
    assert rejected == 1 if max_concurrency == 1 else rejected >= 1
    assert rev.api.count(LOGIN) == 2
    truth = rev.dataset.ground_truth()
    assert len(run.records("attendee_sessions")) == len(truth["attendee_sessions"])
    assert len(run.records("comments")) == len(truth["comments"])


def test_a_fresh_token_rejected_too_stops_the_run(rev: Rev):
    def withdraw_access(request, response):
        if request.path.endswith("/comments"):
            rev.api.accept_tokens = False

    rev.server.hooks.append(withdraw_access)
    with pytest.raises(FatalAPIError) as err:
        rev.run(rev.config(**SEQUENTIAL))  # in flight at once, each request would see a 401
    assert "rejected a freshly issued session token" in str(err.value)
    assert "401" in str(err.value)
    assert rev.api.count(LOGIN) == 2
    assert rev.api.count("/scheduled-events", status=401) == 2


def test_rejected_credentials_are_not_retried(rev: Rev, caplog):
    wrong = "wrong-SECRET-5b1e"
    with pytest.raises(FatalAPIError) as err:
        rev.run(rev.config(secret=wrong, max_retries=5))
    message = str(err.value)
    assert "rejected the credentials (HTTP 401" in message
    assert "'api_key' and 'secret'" in message
    assert wrong not in message + caplog.text
    assert SECRET not in message + caplog.text
    assert rev.api.count(LOGIN) == 1


def test_a_throttled_login_is_not_retried(rev: Rev):
    rev.server.script(LOGIN, ["429"])
    with pytest.raises(FatalAPIError) as err:
        rev.run(rev.config(max_retries=5))
    assert "HTTP 429" in str(err.value)
    assert "Not retried" in str(err.value)
    assert rev.server.count(LOGIN) == 1


def test_a_throttled_login_after_a_401_is_not_retried(rev: Rev):
    first = threading.Lock()  # never released: only the first hook to get it revokes

    def revoke_once(request, response):
        # Not "count == 1": two comment calls may both be counted before either hook runs.
        if request.path.endswith("/comments") and first.acquire(blocking=False):
            rev.api.revoke_tokens()
            rev.server.script(LOGIN, ["429"])

    rev.server.hooks.append(revoke_once)
    with pytest.raises(FatalAPIError) as err:
        rev.run(rev.config(max_retries=5))
    assert "throttled the login" in str(err.value)
    assert rev.server.count(LOGIN) == 2


def test_a_login_that_fails_with_5xx_is_retried(rev: Rev):
    rev.server.script(LOGIN, ["503", "drop"])
    run = rev.run(rev.config(include_realtime_attendees=False))
    assert rev.server.count(LOGIN) == 3
    assert run.records("comments")


def test_username_and_password_log_in_at_user_login(rev: Rev, capture_logs):
    config = rev.config(username=USERNAME, password=PASSWORD)
    del config["api_key"], config["secret"]
    run = rev.run(config, catalog=catalog_selecting(TapRevWebcast, config, "webcasts", "comments"))
    assert rev.api.count("/api/v2/user/login") == 1
    assert rev.api.count(LOGIN) == 0
    assert run.records("comments")
    assert PASSWORD not in run.stdout + run.stderr + capture_logs.text


def test_login_retries_honour_retry_after_and_the_wait_cap(rev: Rev):
    """Login retries wait as every other request does (tap_common.retry): Retry-After
    first, else the doubling wait, each capped by 'retry_max_wait_seconds'."""
    asked = ["7", "600"]  # Retry-After of the first two logins, both answered 503
    slept_before_login: list[float] = []

    def unavailable(request, response):
        if request.path == LOGIN:
            slept_before_login.append(rev.clock.slept)
            if asked:
                response.status, response.body = 503, b"{}"
                response.headers["Retry-After"] = asked.pop(0)

    rev.server.hooks.append(unavailable)
    config = rev.config(
        retry_base_seconds=100, retry_max_wait_seconds=30, include_realtime_attendees=False
    )
    run = rev.run({**config, **SEQUENTIAL})
    assert run.records("webcasts")
    first, second, third = slept_before_login
    assert second - first == 7  # Retry-After in seconds
    assert third - second == 30  # 600 s asked, capped by retry_max_wait_seconds
