"""Transport limits in all three taps: request_timeout is a deadline at any trickle rate, and
whatever a server sends, a body that is not streamed stays bounded in memory and in nesting.

Each test scripts one sandbox fault (sandbox/faults.py: "trickle", "trickle-head",
"gzip-bomb", "deep-json"; all off by default) on one request, then checks every record once
against the sandbox's ground truth, or one clear line and a STATE that passes no unread row.
"""

from __future__ import annotations

import re
import time
import typing as t

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_common import http
from tap_webcasts.tap import TapWebcasts
from tests.cast.test_completeness import (
    EVENTS_PATH,
    Cast,
    assert_every_event_once,
    assert_no_bookmark_passes_an_unread_event,
)
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME
from tests.helpers import catalog_selecting, rev_dataset, run_tap, start_rev, webcasts_config
from tests.rev.test_completeness import REPORT as REV_REPORT
from tests.rev.test_completeness import assert_every_session_once, assert_no_report_bookmark
from tests.rev.test_completeness import run as run_rev
from tests.webcasts.test_completeness import assert_every_row_once

if t.TYPE_CHECKING:
    from sandbox import SandboxServer
    from tests.helpers import Rev, TapRun

EVENT_LIST = "/api/reporting/eventlist"
#: The bound on a body in these tests (256 MiB in a run), and what the "gzip-bomb" fault
#: expands to: past it, and cheap to make.
BOUND_BYTES = 8 << 20
BOMB_BYTES = 16 << 20


@pytest.fixture
def bound(monkeypatch) -> None:
    monkeypatch.setattr(http, "MAX_BODY_BYTES", BOUND_BYTES)


@pytest.fixture
def cast(cast_sandbox, cast_dataset, config) -> Cast:
    server, api = cast_sandbox
    return Cast(server, api, cast_dataset, config)


@pytest.fixture
def rev() -> t.Iterator[Rev]:
    sandbox = start_rev(rev_dataset(sessions=60))
    yield sandbox
    sandbox.server.stop()


@pytest.fixture
def webcasts_dataset() -> WebcastsDataset:
    return WebcastsDataset(
        seed=21, events=3, registrants_per_event=40, username=USERNAME, password=PASSWORD
    )


@pytest.fixture
def webcasts(webcasts_dataset: WebcastsDataset) -> t.Iterator[SandboxServer]:
    server, _ = start_webcasts_sandbox(webcasts_dataset)
    yield server
    server.stop()


def trickle(server: SandboxServer, path: str, fault: str) -> None:
    """The next request to ``path`` answers one byte every 20 ms: a 1 s deadline cuts it
    after about 50 bytes, long before its end (thousands of bytes)."""
    server.faults.trickle_seconds = 0.02
    server.script(path, [fault])


def assert_cut_before_its_end(server: SandboxServer, fault: str, count: int = 1) -> None:
    """The client hung up on each trickled answer before its last byte: the deadline, not
    the end of the body, ended the read. (The server notices at its next write.)"""
    trickled = [r for r in server.requests if r.fault == fault]
    assert len(trickled) == count
    for _ in range(500):
        if not any(r.complete for r in trickled):
            return
        time.sleep(0.02)
    pytest.fail("a whole trickled answer went out: the client waited past its deadline")


def error_line(run: TapRun, pattern: str) -> str:
    """The one line of the run's error that matches ``pattern``."""
    lines = [line for line in str(run.error).splitlines() if re.search(pattern, line)]
    assert len(lines) == 1, str(run.error)
    return lines[0]


# --- request_timeout is a deadline, whatever the trickle ----------------------------------


@pytest.mark.parametrize("fault", ["trickle", "trickle-head"])
def test_cast_a_trickled_page_is_cut_at_the_deadline_and_read_again(cast: Cast, fault: str):
    trickle(cast.server, EVENTS_PATH, fault)
    config = {**cast.config, "request_timeout": 1}
    run = run_tap(TapCast, config, catalog=catalog_selecting(TapCast, config, "analytics_events"))
    assert_cut_before_its_end(cast.server, fault)
    assert_every_event_once(run, cast)


@pytest.mark.parametrize("fault", ["trickle", "trickle-head"])
def test_rev_a_trickled_report_page_is_cut_at_the_deadline_and_read_again(rev: Rev, fault: str):
    trickle(rev.server, REV_REPORT, fault)
    result = run_rev(rev, request_timeout=1)
    assert_cut_before_its_end(rev.server, fault)
    assert_every_session_once(rev, result)


@pytest.mark.parametrize("fault", ["trickle", "trickle-head"])
def test_webcasts_a_trickled_event_list_is_cut_at_the_deadline_and_read_again(
    webcasts: SandboxServer, webcasts_dataset, fault: str
):
    trickle(webcasts, EVENT_LIST, fault)
    run = run_tap(TapWebcasts, webcasts_config(webcasts, request_timeout=1))
    assert_cut_before_its_end(webcasts, fault)
    assert_every_row_once(run, webcasts_dataset)


def test_cast_a_page_that_always_trickles_stops_with_one_clear_line(cast: Cast):
    cast.server.faults.trickle_seconds = 0.02
    cast.server.script(EVENTS_PATH, ["trickle"] * 2)
    config = {**cast.config, "request_timeout": 1, "max_retries": 1, "max_concurrency": 1}
    catalog = catalog_selecting(TapCast, config, "analytics_events")
    run = run_tap(TapCast, config, catalog=catalog, expect_error=True)
    line = error_line(run, "gave up after 2 attempts")
    assert "stream 'analytics_events' cast_id=" in line
    assert "timed out" in line
    assert "'request_timeout'" in line
    assert_cut_before_its_end(cast.server, "trickle", count=2)
    assert_no_bookmark_passes_an_unread_event(run, cast)


# --- a gzip body that expands without bound ----------------------------------------------


def test_cast_a_gzip_bomb_stops_with_one_clear_line_and_no_bookmark_past_it(cast: Cast, bound):
    cast.server.faults.bomb_bytes = BOMB_BYTES
    cast.server.script(EVENTS_PATH, ["gzip-bomb"])
    run = cast.run("analytics_events", expect_error=True)
    line = error_line(run, "holds more than 8 MiB")
    assert re.search(r"stream 'analytics_events' cast_id=\S+ generation_id=\S+", line)
    assert "gzip-compressed" in line
    assert "'base_url'" in line
    assert cast.server.faults_injected("gzip-bomb") == 1  # not retried: it would say the same
    assert_no_bookmark_passes_an_unread_event(run, cast)


def test_rev_a_gzip_bomb_stops_with_one_clear_line(rev: Rev, bound):
    rev.server.faults.bomb_bytes = BOMB_BYTES
    rev.server.script(REV_REPORT, ["gzip-bomb"])
    result = run_rev(rev, expect_error=True)
    line = error_line(result, "holds more than 8 MiB")
    assert re.search(r"stream 'attendee_sessions' webcast_id=\S+ run_number=\d", line)
    assert rev.server.faults_injected("gzip-bomb") == 1
    assert_no_report_bookmark(result)


def test_webcasts_a_gzip_bomb_stops_with_one_clear_line(webcasts: SandboxServer, bound):
    webcasts.faults.bomb_bytes = BOMB_BYTES
    webcasts.script(EVENT_LIST, ["gzip-bomb"])
    run = run_tap(TapWebcasts, webcasts_config(webcasts), expect_error=True)
    line = error_line(run, "holds more than 8 MiB")
    assert "stream 'events'" in line
    assert webcasts.faults_injected("gzip-bomb") == 1
    assert run.records("events") == []


def test_a_gzip_body_within_the_bound_is_read(cast: Cast, bound):
    """The bound stops a bomb only: the same fault expanding to less is read whole."""
    cast.server.faults.bomb_bytes = 4 << 20
    cast.server.script(EVENTS_PATH, ["gzip-bomb"])
    run = cast.run("analytics_events")
    assert cast.server.faults_injected("gzip-bomb") == 1
    assert_every_event_once(run, cast)


# --- JSON nested deeper than a parser can follow -------------------------------------------


def test_cast_json_nested_too_deep_stops_with_one_clear_line(cast: Cast):
    cast.server.script(EVENTS_PATH, ["deep-json"])
    run = cast.run("analytics_events", expect_error=True)
    line = error_line(run, "nested deeper")
    assert re.search(r"stream 'analytics_events' cast_id=\S+ generation_id=\S+", line)
    assert "Cast answered /" in line
    assert "RecursionError" not in run.stderr
    assert_no_bookmark_passes_an_unread_event(run, cast)


def test_rev_json_nested_too_deep_stops_with_one_clear_line(rev: Rev):
    rev.server.script(REV_REPORT, ["deep-json"])
    result = run_rev(rev, expect_error=True)
    line = error_line(result, "nested deeper")
    assert re.search(r"stream 'attendee_sessions' webcast_id=\S+ run_number=\d", line)
    assert "RecursionError" not in result.stderr
    assert_no_report_bookmark(result)


def test_rev_a_login_answer_nested_too_deep_stops_with_one_clear_line(rev: Rev):
    rev.server.script("/api/v2/authenticate", ["deep-json"])
    result = run_rev(rev, expect_error=True)
    line = error_line(result, "/api/v2/authenticate")
    assert "not a JSON object" in line
    assert "RecursionError" not in result.stderr
    assert result.records("attendee_sessions") == []


def test_webcasts_json_nested_too_deep_stops_with_one_clear_line(webcasts: SandboxServer):
    webcasts.script(EVENT_LIST, ["deep-json"] * 10)
    config = webcasts_config(webcasts, response_format="json", max_retries=1)
    run = run_tap(TapWebcasts, config, expect_error=True)
    line = error_line(run, "nested deeper")
    assert "stream 'events'" in line
    assert "RecursionError" not in run.stderr
    assert run.records("events") == []
