"""`meltano run tap-rev-webcast target-postgres` into the real local PostgreSQL server."""

from __future__ import annotations

import hashlib
import json
import math
import time

import pytest

from sandbox import RevDataset, start_rev_sandbox
from tests.helpers import REV_API_KEY as API_KEY
from tests.helpers import REV_SECRET as SECRET

pytestmark = pytest.mark.e2e

KEYS = {
    "webcasts": "id",
    "attendee_sessions": "session_key",
    "webcast_attendance_summary": "webcast_id, run_number",
    "comments": "comment_id",
    "poll_results": "webcast_id, run_number, poll_id",
    "poll_answers": "webcast_id, run_number, poll_id, answer",
    "questions": "question_id",
    "reactions": "webcast_id, run_number, webcast_date, reaction",
}
FAST = 6000  # requests per minute: these runs test loading, not the documented limits


@pytest.fixture
def rev(meltano):
    dataset = RevDataset(seed=9, webcasts=5, sessions=400, api_key=API_KEY, secret=SECRET)
    server, api = start_rev_sandbox(dataset)
    api.rate_limits["reports"] = FAST
    meltano.env.update(
        {
            "TAP_REV_WEBCAST_BASE_URL": server.url,
            "TAP_REV_WEBCAST_API_KEY": API_KEY,
            "TAP_REV_WEBCAST_SECRET": SECRET,
            "TAP_REV_WEBCAST_START_DATE": "2026-01-01T00:00:00Z",
            "TAP_REV_WEBCAST_RUN_NUMBERS": json.dumps([0]),
            "TAP_REV_WEBCAST_INCLUDE_REALTIME_ATTENDEES": "false",
            "TAP_REV_WEBCAST_REPORTS_REQUESTS_PER_MINUTE": str(FAST),
        }
    )
    yield dataset, api
    server.stop()


def main_run_truth(dataset) -> dict[str, list[dict]]:
    return {
        stream: [row for row in rows if row.get("run_number", 0) == 0]
        for stream, rows in dataset.ground_truth().items()
    }


def by_key(table: str, rows: list[dict]) -> dict[tuple, dict]:
    """Rows keyed by the table's primary key (duplicates fail: they would hide a lost row)."""
    names = [k.strip() for k in KEYS[table].split(",")]
    keyed = {tuple(row[k] for k in names): row for row in rows}
    assert len(keyed) == len(rows), f"duplicate keys in {table}"
    return keyed


def test_tables_equal_ground_truth_and_reruns_are_exact(meltano, postgres, rev):
    dataset, api = rev
    meltano.run("run", "tap-rev-webcast", "target-postgres")
    truth = main_run_truth(dataset)
    before = {table: postgres.rows(table, key) for table, key in KEYS.items()}
    for table, rows in before.items():
        keys = [tuple(row[k.strip()] for k in KEYS[table].split(",")) for row in rows]
        assert len(rows) == len(truth[table]), table
        assert len(set(keys)) == len(keys), table
    assert api.throttled() == 0

    meltano.run("run", "tap-rev-webcast", "target-postgres")
    assert {table: postgres.rows(table, key) for table, key in KEYS.items()} == before

    # Run 3 reads again the reports of webcasts that ended within 'report_lookback_days'
    # before the run's start: set to reach the last completed webcast with sessions, the
    # sessions added late to it are exactly the new rows.
    webcast = max(
        (w for w in dataset.webcasts if w.completed and w.runs.get(0)), key=lambda w: w.end
    )
    added = dataset.add_sessions(webcast.id, 5)
    days_since_it_ended = (time.time() - webcast.end) / 86400
    meltano.env["TAP_REV_WEBCAST_REPORT_LOOKBACK_DAYS"] = str(math.ceil(days_since_it_ended) + 1)
    meltano.run("run", "tap-rev-webcast", "target-postgres")
    after = {table: postgres.rows(table, key) for table, key in KEYS.items()}
    old = {table: by_key(table, rows) for table, rows in before.items()}
    new = {table: by_key(table, rows) for table, rows in after.items()}
    summary_key = (webcast.id, 0)
    for table in KEYS:
        unchanged = {k: row for k, row in old[table].items() if k != summary_key}
        assert {k: new[table].get(k) for k in unchanged} == unchanged, table
    gained = {
        table: [row for k, row in new[table].items() if k not in old[table]] for table in KEYS
    }
    assert sorted(
        (r["webcast_id"], r["username"], r["ip_address"]) for r in gained["attendee_sessions"]
    ) == sorted((webcast.id, s["username"], s["ipAddress"]) for s in added)
    assert len(after["attendee_sessions"]) == len(before["attendee_sessions"]) + len(added)
    for table in KEYS:
        if table != "attendee_sessions":
            assert not gained[table], table
            assert len(after[table]) == len(before[table]), table
    total = new["webcast_attendance_summary"][summary_key]["total_sessions"]
    assert total == old["webcast_attendance_summary"][summary_key]["total_sessions"] + len(added)
    summaries = main_run_truth(dataset)["webcast_attendance_summary"]
    assert total == next(s for s in summaries if s["webcast_id"] == webcast.id)["totalSessions"]


def test_stream_maps_alias_and_hash_attendee_pii(meltano, postgres, rev):
    dataset, _ = rev
    meltano.env["TAP_REV_WEBCAST_STREAM_MAPS"] = json.dumps(
        {
            "attendee_sessions": {
                "__alias__": "viewing_sessions",
                "email": "md5(email) if email else None",
                "ip_address": "__NULL__",
            },
        }
    )
    meltano.run("run", "tap-rev-webcast", "target-postgres")
    assert "viewing_sessions" in postgres.tables()
    assert "attendee_sessions" not in postgres.tables()
    rows = postgres.rows("viewing_sessions", "session_key")
    truth = main_run_truth(dataset)["attendee_sessions"]
    assert len(rows) == len(truth)
    emails = {row["email"] for row in truth if row.get("email")}
    assert emails
    hashed = {hashlib.md5(email.encode()).hexdigest() for email in emails}
    assert {row["email"] for row in rows if row["email"]} == hashed
    assert "ip_address" not in rows[0]
