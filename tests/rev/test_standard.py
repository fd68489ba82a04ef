"""The Singer SDK's standard tap tests for tap-rev-webcast, against a sandbox started when they
run (every stream returns records, schemas match records, keys are present)."""

from __future__ import annotations

import json
import typing as t

import pytest

from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import (
    NO_SERVER,
    REV_API_KEY,
    REV_SECRET,
    REV_START_DATE,
    Rev,
    rev_dataset,
    standard_runner,
    standard_tests,
    start_rev,
    tap_with_clock,
)


def _add_unknown_field(request, response):
    """Fields Rev may add: the standard tests then check unmapped_fields is an object (they
    check nothing in a stream whose unmapped_fields are all null)."""
    if request.path.endswith("/comments"):
        rows = json.loads(response.body)
        for row in rows:
            row["reactionCount"] = 3
        response.body = json.dumps(rows).encode()
    if request.path.endswith("/post-event-report") and response.status == 200:
        page = json.loads(response.body)
        for session in page.get("sessions") or []:
            session["viewerLocale"] = "en-US"
        response.body = json.dumps(page).encode()


@pytest.fixture(scope="module")
def standard_rev() -> t.Iterator[Rev]:
    rev = start_rev(rev_dataset(seed=5, webcasts=6, sessions=30, realtime_attendees=5))
    rev.server.hooks.append(_add_unknown_field)
    yield rev
    rev.server.stop()


# The factory lists the streams when the class is built: a config without a server will do.
_STANDARD = {
    "base_url": NO_SERVER,
    "api_key": REV_API_KEY,
    "secret": REV_SECRET,
    "start_date": REV_START_DATE,
}


class TestTapRevWebcast(standard_tests(TapRevWebcast, _STANDARD)):
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, standard_rev):
        return standard_runner(tap_with_clock(standard_rev.clock), standard_rev.config())
