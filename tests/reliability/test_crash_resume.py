"""SIGKILL the tap in the middle of `meltano run`, run again: the tables equal the ground truth.

One kill point per stream: the tap is killed a seeded random 0-100 ms after it logs that it
began syncing that stream (every response takes 100 ms, so it is still inside it), and every
stream is interrupted at least once. Duplicates from the repeated work are absorbed by the
primary keys; nothing may be missing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from sandbox import (
    CastDataset,
    FaultConfig,
    RevDataset,
    WebcastsDataset,
    start_cast_sandbox,
    start_rev_sandbox,
    start_webcasts_sandbox,
)
from tests.helpers import CAST_API_KEY as API_KEY
from tests.helpers import CAST_ORG as ORG
from tests.helpers import MELTANO, REV_API_KEY, REV_SECRET, ROOT
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME

pytestmark = pytest.mark.e2e


@dataclass
class Subject:
    tap: str
    schema: str
    keys: dict[str, str]  # table -> primary key columns
    expected: dict[str, int]  # table -> rows in the ground truth
    env: dict[str, str]


def cast_subject(server, dataset) -> Subject:
    truth = dataset.ground_truth()
    return Subject(
        tap="tap-cast",
        schema="tap_cast",
        keys={
            "campaigns": "id",
            "campaign_analytics": "cast_id, generation_id",
            "campaign_timeline": "cast_id, generation_id, event_type, event_dt",
            "analytics_events": "event_key",
            "cross_campaign_summary": "cast_id, generation_id",
        },
        expected={table: len(rows) for table, rows in truth.items()},
        env={
            "TAP_CAST_BASE_URL": server.url,
            "TAP_CAST_API_KEY": API_KEY,
            "TAP_CAST_CAST_IDS": json.dumps(dataset.cast_ids()),
            "TAP_CAST_PAGE_SIZE": "10",
        },
    )


def webcasts_subject(server, dataset) -> Subject:
    truth = dataset.ground_truth()
    audience = truth["audience"]
    return Subject(
        tap="tap-webcasts",
        schema="tap_webcasts",
        keys={
            "events": "ei",
            "audience": "ei, email",
            "audience_sessions": "ei, email, session_type, session_start",
            "audience_questions": "question_key",
            "audience_survey_answers": "answer_key",
        },
        expected={
            "events": len(truth["events"]),
            "audience": len(audience),
            "audience_sessions": sum(len(p["sessions"]) for p in audience),
            "audience_questions": sum(len(p["questions"]) for p in audience),
            "audience_survey_answers": sum(len(p["surveys"]) for p in audience),
        },
        env={
            "TAP_WEBCASTS_BASE_URL": server.url,
            "TAP_WEBCASTS_USERNAME": USERNAME,
            "TAP_WEBCASTS_PASSWORD": PASSWORD,
        },
    )


def rev_subject(server, dataset) -> Subject:
    # Real-time attendees (2 requests a minute) are left out: a kill point there would cost
    # minutes of waiting; the other eight streams are all covered.
    fast = 6000
    server.app.rate_limits["reports"] = fast
    truth = dataset.ground_truth()
    keys = {
        "webcasts": "id",
        "attendee_sessions": "session_key",
        "webcast_attendance_summary": "webcast_id, run_number",
        "comments": "comment_id",
        "poll_results": "webcast_id, run_number, poll_id",
        "poll_answers": "webcast_id, run_number, poll_id, answer",
        "questions": "question_id",
        "reactions": "webcast_id, run_number, webcast_date, reaction",
    }
    return Subject(
        tap="tap-rev-webcast",
        schema="tap_rev_webcast",
        keys=keys,
        expected={
            table: sum(1 for row in truth[table] if row.get("run_number", 0) == 0) for table in keys
        },
        env={
            "TAP_REV_WEBCAST_BASE_URL": server.url,
            "TAP_REV_WEBCAST_API_KEY": REV_API_KEY,
            "TAP_REV_WEBCAST_SECRET": REV_SECRET,
            "TAP_REV_WEBCAST_START_DATE": "2026-01-01T00:00:00Z",
            "TAP_REV_WEBCAST_RUN_NUMBERS": "[0]",
            "TAP_REV_WEBCAST_INCLUDE_REALTIME_ATTENDEES": "false",
            "TAP_REV_WEBCAST_REPORTS_REQUESTS_PER_MINUTE": str(fast),
        },
    )


def tap_pid(tap: str, ancestor: int) -> int | None:
    """The pid of ``tap`` started by Meltano under ``ancestor``, if it is running."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"/extractors/{tap}/".encode() in cmdline and descends_from(int(entry.name), ancestor):
            return int(entry.name)
    return None


def descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


def run_and_kill(subject: Subject, env: dict, stream: str, delay: float) -> bool:
    """`meltano run` that SIGKILLs the tap ``delay`` s after it begins ``stream``."""
    process = subprocess.Popen(
        [str(MELTANO), "--environment=sandbox", "run", subject.tap, "target-duckdb"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    killed = threading.Event()
    assert process.stdout is not None
    for line in process.stdout:
        if not killed.is_set() and f"Beginning sync of '{stream}'" in line:
            time.sleep(delay)
            pid = tap_pid(subject.tap, process.pid)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                killed.set()
    process.wait(timeout=300)
    return killed.is_set() and process.returncode != 0


def table_facts(path: Path, subject: Subject) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(path), read_only=True) as db:
        existing = {
            name
            for (name,) in db.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [subject.schema],
            ).fetchall()
        }
        return {
            table: db.execute(
                f"select count(*), count(distinct ({key})) from {subject.schema}.{table}"
            ).fetchone()
            if table in existing
            else (0, 0)
            for table, key in subject.keys.items()
        }


@pytest.mark.parametrize(
    ("name", "start", "make_dataset", "make_subject"),
    [
        (
            "cast",
            start_cast_sandbox,
            lambda: CastDataset(
                seed=6,
                casts=1,
                campaigns_per_cast=2,
                events_per_type=20,
                org_slug=ORG,
                api_key=API_KEY,
            ),
            cast_subject,
        ),
        (
            "webcasts",
            start_webcasts_sandbox,
            lambda: WebcastsDataset(
                seed=6, events=3, registrants_per_event=80, username=USERNAME, password=PASSWORD
            ),
            webcasts_subject,
        ),
        (
            "rev",
            start_rev_sandbox,
            lambda: RevDataset(
                seed=6, webcasts=3, sessions=900, api_key=REV_API_KEY, secret=REV_SECRET
            ),
            rev_subject,
        ),
    ],
)
def test_killed_runs_resume_to_the_ground_truth(tmp_path, name, start, make_dataset, make_subject):
    dataset = make_dataset()
    # A little latency per response, so that a kill lands inside the stream it targets.
    server, _ = start(dataset, faults=FaultConfig(latency_ms=100))
    subject = make_subject(server, dataset)
    rng = random.Random(f"crash-{name}")
    crashes = 0
    try:
        for stream in subject.keys:
            point = tmp_path / stream
            env = {
                **os.environ,
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "MELTANO_STATE_BACKEND_URI": f"file://{point}/state",
                "TARGET_DUCKDB_FILEPATH": str(point / "warehouse.duckdb"),
                **subject.env,
            }
            point.mkdir()
            delay = rng.uniform(0, 0.1)
            for _ in range(3):  # a busy machine may let a short stream finish first
                if run_and_kill(subject, env, stream, delay):
                    crashes += 1
                    break
                delay = 0
            rerun = subprocess.run(
                [str(MELTANO), "--environment=sandbox", "run", subject.tap, "target-duckdb"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert rerun.returncode == 0, rerun.stderr[-3000:]
            facts = table_facts(point / "warehouse.duckdb", subject)
            assert facts == {t: (n, n) for t, n in subject.expected.items()}, stream
    finally:
        server.stop()
    print(
        f"{subject.tap}: {crashes} of {len(subject.keys)} kill points hit a running tap; "
        "0 records lost after resuming"
    )
    assert crashes == len(subject.keys)
