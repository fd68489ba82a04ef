"""`meltano run tap-rev-webcast target-duckdb` against the Rev sandbox equals its ground truth."""

from __future__ import annotations

import json

import duckdb
import pytest

from sandbox import RevDataset, start_rev_sandbox
from tests.helpers import REV_API_KEY as API_KEY
from tests.helpers import REV_SECRET as SECRET

pytestmark = pytest.mark.e2e

KEYS = {
    "webcasts": "id",
    "attendee_sessions": "session_key",
    "webcast_attendance_summary": "webcast_id, run_number",
    "realtime_attendees": "webcast_id, run_number, session_id",
    "comments": "comment_id",
    "poll_results": "webcast_id, run_number, poll_id",
    "poll_answers": "webcast_id, run_number, poll_id, answer",
    "questions": "question_id",
    "reactions": "webcast_id, run_number, webcast_date, reaction",
    "registrations": "webcast_id, registration_id",
}


def table_facts(path) -> dict[str, tuple[int, int]]:
    """(rows, distinct primary keys) per table of the tap_rev_webcast schema."""
    with duckdb.connect(str(path), read_only=True) as db:
        return {
            table: db.execute(
                f"select count(*), count(distinct ({key})) from tap_rev_webcast.{table}"
            ).fetchone()
            for table, key in KEYS.items()
        }


def test_meltano_run_lands_ground_truth_within_the_rate_limits(meltano, tmp_path):
    dataset = RevDataset(seed=4, webcasts=6, sessions=700, api_key=API_KEY, secret=SECRET)
    server, api = start_rev_sandbox(dataset)  # the real clock and the documented limits
    try:
        meltano.env.update(
            {
                "TAP_REV_WEBCAST_BASE_URL": server.url,
                "TAP_REV_WEBCAST_API_KEY": API_KEY,
                "TAP_REV_WEBCAST_SECRET": SECRET,
                "TAP_REV_WEBCAST_START_DATE": "2026-01-01T00:00:00Z",
                "TAP_REV_WEBCAST_RUN_NUMBERS": json.dumps([0]),
                "TAP_REV_WEBCAST_INCLUDE_REALTIME_ATTENDEES": "true",
            }
        )
        warehouse = tmp_path / "warehouse.duckdb"
        first = meltano.run("run", "tap-rev-webcast", "target-duckdb")
        truth = {
            stream: sum(1 for row in rows if row.get("run_number", 0) == 0)
            for stream, rows in dataset.ground_truth().items()
        }
        assert table_facts(warehouse) == {t: (n, n) for t, n in truth.items()}
        assert api.throttled() == 0
        assert api.count("/api/v2/authenticate") == 1
        for secret in (API_KEY, SECRET, *api.issued_tokens):
            assert secret not in first.stdout + first.stderr

        # A second run upserts the same rows: the keys are stable. (It starts within a minute
        # of the first, whose requests still count at the API: one real-time request a run.)
        meltano.run("run", "tap-rev-webcast", "target-duckdb")
        assert table_facts(warehouse) == {t: (n, n) for t, n in truth.items()}
        assert api.throttled() == 0
    finally:
        server.stop()
