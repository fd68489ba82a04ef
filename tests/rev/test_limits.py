"""Rate limits per endpoint family: never exceeded, configurable, and 429s waited out."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from tap_rev_webcast.ratelimit import RateLimiter, SystemClock
from tests.helpers import SEQUENTIAL, Rev, rev_dataset, start_rev

REPORT_ENDPOINTS = ("/post-event-report", "/comments", "/poll-results", "/questions", "/reactions")


@pytest.fixture
def busy_rev():
    """More report requests than one minute allows, and three pages of live attendees."""
    # Post-event reports of about 3 pages each: more than 120 requests of that family.
    sandbox = start_rev(rev_dataset(webcasts=45, sessions=2000, realtime_attendees=1200))
    yield sandbox
    sandbox.server.stop()


def test_default_limits_are_never_exceeded(busy_rev: Rev):
    rev = busy_rev
    run = rev.run(rev.config(run_numbers=[0], **SEQUENTIAL))
    reports = [c for c in rev.api.calls if c.family == "reports"]
    assert len(reports) > 120
    assert rev.api.throttled() == 0
    assert rev.api.max_per_minute("reports") <= 120
    assert rev.api.max_per_minute("realtime") <= 2
    assert len(run.records("realtime_attendees")) == 1200  # 3 pages at 2 per minute
    assert rev.clock.slept >= 60  # the two waits between the real-time pages alone


def test_limits_are_configurable(rev: Rev):
    rev.api.rate_limits["reports"] = 4
    rev.api.rate_limits["get"] = 10
    config = rev.config(
        reports_requests_per_minute=4,
        get_requests_per_minute=10,
        include_realtime_attendees=False,
        **SEQUENTIAL,
    )
    rev.run(config)
    reports = [c for c in rev.api.calls if c.family == "reports"]
    gets = [c for c in rev.api.calls if c.family == "get"]
    assert len(reports) > 8
    assert len(gets) > 20
    assert rev.api.throttled() == 0
    assert 3 <= rev.api.max_per_minute("reports") <= 4
    assert 9 <= rev.api.max_per_minute("get") <= 10


def throttle_log(rev: Rev) -> list[tuple[float, str | None]]:
    """(arrival, Retry-After) of every 429 the sandbox serves for a 'get' request."""
    seen: list[tuple[float, str | None]] = []

    def hook(request, response):
        if response.status == 429:
            seen.append((rev.clock.now(), response.headers.get("Retry-After")))

    rev.server.hooks.append(hook)
    return seen


def next_report_after(rev: Rev, at: float) -> float:
    return min(c.at for c in rev.api.calls if c.family == "get" and c.at > at)


def test_a_429_waits_for_retry_after(rev: Rev):
    rev.api.rate_limits["get"] = 5  # the tap is told 600: it will be throttled
    rev.api.rate_limit_retry_after = True
    seen = throttle_log(rev)
    config = rev.config(get_requests_per_minute=600, include_realtime_attendees=False, **SEQUENTIAL)
    run = rev.run(config)
    assert len(seen) > 3
    for at, retry_after in seen:
        assert retry_after is not None
        assert next_report_after(rev, at) - at == pytest.approx(float(retry_after), abs=0.2)
    assert rev.api.throttled("get") == len(seen)
    truth = rev.dataset.ground_truth()
    assert len(run.records("comments")) == len(truth["comments"])
    assert len(run.records("attendee_sessions")) == len(truth["attendee_sessions"])


def test_a_429_without_retry_after_waits_the_configured_time(rev: Rev, caplog):
    rev.api.rate_limits["get"] = 5
    seen = throttle_log(rev)
    config = rev.config(
        get_requests_per_minute=600,
        throttle_wait_seconds=45,
        include_realtime_attendees=False,
        **SEQUENTIAL,
    )
    run = rev.run(config)
    assert len(seen) > 3
    for at, retry_after in seen:
        assert retry_after is None
        assert next_report_after(rev, at) - at == pytest.approx(45, abs=0.2)
    assert "waiting 45.0 s ('throttle_wait_seconds')" in caplog.text
    assert len(run.records("questions")) == len(rev.dataset.ground_truth()["questions"])


def test_waits_of_several_threads_at_once_count_once_as_wall_time():
    limiter = RateLimiter({"reports": 600}, SystemClock(), logging.getLogger("test"))
    started = time.monotonic()
    threads = [threading.Thread(target=limiter.acquire, args=("reports",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stats = limiter.stats["reports"]
    assert stats.waits == 3  # the first request goes at once
    # Summed per thread the waits would be about twice the elapsed time.
    assert 0 < stats.waited_seconds <= elapsed
    assert "s of wall time" in limiter.summary()


def test_the_summary_counts_in_words():
    limiter = RateLimiter({"reports": 600, "get": 600}, SystemClock(), logging.getLogger("test"))
    limiter.acquire("reports")
    assert limiter.summary() == "reports: 1 request, 0 waits (0.0 s of wall time), 0 throttled"
