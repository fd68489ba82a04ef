"""SIGKILL tap-rev-webcast mid-run, resume from its last STATE: nothing is lost.

The tap runs as its own process against an in-process sandbox (real clock, a little
latency); it is killed after a growing number of records, each run starting from the last
STATE the previous one wrote, until a run completes. The union of every run's records must
be the sandbox's ground truth, and at every STATE the bookmark must not pass a completed
webcast whose reports were not all written before it (with 'report_lookback_days' 0 the
resumed run never reads such a webcast again).
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

from sandbox import FaultConfig, start_rev_sandbox
from tap_rev_webcast.bookmark import BOOKMARK
from tests.helpers import ROOT, rev_config, rev_dataset

FAST = {"reports": 6000, "realtime": 600, "get": 24000}
KEYS = {
    "attendee_sessions": ("session_key",),
    "webcast_attendance_summary": ("webcast_id", "run_number"),
    "comments": ("comment_id",),
    "registrations": ("webcast_id", "registration_id"),
    "questions": ("question_id",),
    "reactions": ("webcast_id", "run_number", "webcast_date", "reaction"),
    "poll_answers": ("webcast_id", "run_number", "poll_id", "answer"),
}


def run_until(config: Path, state: dict | None, tmp: Path, kill_after: int | None) -> list[dict]:
    """The messages one tap process wrote before it ended or was killed."""
    command = [sys.executable, "-m", "tap_rev_webcast", "--config", str(config)]
    if state is not None:
        state_path = tmp / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    messages, records = [], 0
    for line in process.stdout:
        messages.append(json.loads(line))
        records += messages[-1]["type"] == "RECORD"
        if kill_after is not None and records >= kill_after:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=120)
    return messages


def test_killed_runs_resume_to_the_ground_truth(tmp_path: Path):
    dataset = rev_dataset(webcasts=7, sessions=700)
    server, api = start_rev_sandbox(dataset, faults=FaultConfig(latency_ms=10))
    api.rate_limits = dict(FAST)
    config = rev_config(
        server,
        reports_requests_per_minute=FAST["reports"],
        include_realtime_attendees=False,
        report_lookback_days=0,
        upcoming_days=0,
        max_concurrency=4,
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    truth = dataset.ground_truth()
    ends = {w.id: dt.datetime.fromtimestamp(w.end, tz=dt.timezone.utc) for w in dataset.webcasts}
    completed = {w.id for w in dataset.webcasts if w.completed}
    seen: dict[str, set] = {stream: set() for stream in KEYS}
    summaries: set[str] = set()
    state, kills = None, 0
    try:
        for kill_after in (300, 900, 1500, 2100, None):
            messages = run_until(config_path, state, tmp_path, kill_after)
            kills += kill_after is not None and messages[-1]["type"] != "STATE"
            for message in messages:
                if message["type"] == "RECORD" and message["stream"] in KEYS:
                    record = message["record"]
                    key = tuple(record[k] for k in KEYS[message["stream"]])
                    seen[message["stream"]].add(key)
                    if message["stream"] == "webcast_attendance_summary":
                        summaries.add(record["webcast_id"])
                elif message["type"] == "STATE":
                    state = message["value"]
                    value = state.get("bookmarks", {}).get("webcasts", {}).get(BOOKMARK)
                    if value:
                        bookmark = dt.datetime.fromisoformat(value)
                        passed = {w for w in completed if ends[w] <= bookmark}
                        assert passed <= summaries, "the bookmark passed an unread webcast"
    finally:
        server.stop()
    assert kills >= 3  # the runs were interrupted mid-way, not after their last STATE
    for stream, rows in seen.items():
        assert len(rows) == len(truth[stream]), stream  # each row once, none missing
    assert {k for k in seen["webcast_attendance_summary"]} == {
        (r["webcast_id"], r["run_number"]) for r in truth["webcast_attendance_summary"]
    }
