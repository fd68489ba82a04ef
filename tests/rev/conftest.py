"""Fixtures for tap-rev-webcast: a Rev sandbox and the tap sharing one fake clock.

The fake clock only moves when the tap sleeps (rate limits, 429 pauses) or a test moves
it, so token lifetimes, scroll expiry and per-minute limits cost no real time.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass

import pytest

from sandbox import SandboxServer
from sandbox.rev import RevAPI, RevDataset, start_rev_sandbox
from tap_rev_webcast.tap import TapRevWebcast
from tests.conftest import TapRun, run_tap

# Distinctive credentials: tests assert they never show up in any output.
API_KEY = "rev-KEY-4f9c-do-not-print"
SECRET = "rev-SECRET-81d2-do-not-print"
USERNAME = "rev.report.reader"
PASSWORD = "rev-PASSWORD-a7e3-do-not-print"
START_DATE = "2026-01-01T00:00:00Z"
#: The fake clock jumps to a sleeper's deadline at once, so with several threads it also
#: jumps past requests still in flight. Tests that measure API time exactly (token life,
#: scroll expiry, per-minute windows) or script faults for "the next request" send one
#: request at a time; test_concurrency.py runs max_concurrency > 1 on the real clock.
SEQUENTIAL = {"max_concurrency": 1}

STREAMS = (
    "webcasts",
    "attendee_sessions",
    "webcast_attendance_summary",
    "realtime_attendees",
    "comments",
    "poll_results",
    "poll_answers",
    "questions",
    "reactions",
)


class FakeClock:
    """Epoch seconds that move only on sleep() or advance(); shared with the sandbox."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)


def tap_with_clock(clock: FakeClock) -> type[TapRevWebcast]:
    """TapRevWebcast whose every wait and "now" go through ``clock``."""
    return type("TapRevWebcast", (TapRevWebcast,), {"clock": clock})


def rev_config(server: SandboxServer, **overrides: t.Any) -> dict:
    config = {
        "base_url": server.url,
        "api_key": API_KEY,
        "secret": SECRET,
        "start_date": START_DATE,
        "run_numbers": [0, 1],
        "include_realtime_attendees": True,
        "retry_base_seconds": 0,
        "max_retries": 3,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


def make_dataset(**kwargs: t.Any) -> RevDataset:
    values = {
        "seed": 11,
        "webcasts": 6,
        "sessions": 450,
        "realtime_attendees": 30,
        "api_key": API_KEY,
        "secret": SECRET,
        "username": USERNAME,
        "password": PASSWORD,
    }
    values.update(kwargs)
    return RevDataset(**values)


@dataclass
class Rev:
    """A running Rev sandbox, its data, and the clock it shares with the tap."""

    server: SandboxServer
    api: RevAPI
    dataset: RevDataset
    clock: FakeClock

    def config(self, **overrides: t.Any) -> dict:
        return rev_config(self.server, **overrides)

    def run(self, config: dict | None = None, catalog: dict | None = None) -> TapRun:
        return run_tap(tap_with_clock(self.clock), config or self.config(), catalog=catalog)

    def catalog(self, *streams: str, config: dict | None = None) -> dict:
        """A catalog that selects only ``streams``."""
        tap = tap_with_clock(self.clock)(config=config or self.config(), validate_config=False)
        catalog = tap.catalog_dict
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = entry["tap_stream_id"] in streams
        return catalog

    def webcast_ids(self, status: str = "Completed") -> list[str]:
        return [w.id for w in self.dataset.webcasts if w.status == status]


def start(dataset: RevDataset) -> Rev:
    clock = FakeClock(dataset.now)
    server, api = start_rev_sandbox(dataset, clock=clock.now)
    return Rev(server, api, dataset, clock)


@pytest.fixture
def rev() -> t.Iterator[Rev]:
    sandbox = start(make_dataset())
    yield sandbox
    sandbox.server.stop()
