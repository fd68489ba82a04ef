"""tap-rev-webcast's peak memory on one very large post-event attendee report.

The sandbox serves webcasts of which one has ``--sessions`` viewing sessions (200,000 by
default: 400 scroll pages of 500); tap-rev-webcast runs as its own process with webcasts and
attendee_sessions selected, Singer output to a file. Peak RSS is the kernel's ru_maxrss of
the tap process. Rev's report rate limit is raised in the sandbox and the tap alike, since
memory, not pace, is measured here.

    .venv/bin/python bench/rev_memory.py [--sessions 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandboxes import sandbox

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
OTHER_STREAMS = (
    "webcast_attendance_summary",
    "realtime_attendees",
    "comments",
    "poll_results",
    "poll_answers",
    "questions",
    "reactions",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200_000)
    args = parser.parse_args()
    serve = (
        "rev --api-key k --secret s --webcasts 3 --sessions 50 --reports-per-minute 100000 "
        f"--big-webcast-sessions {args.sessions}"
    )
    with sandbox(serve) as url:
        peak, seconds, sessions = measure(url)
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("| largest report | attendee_sessions records | peak RSS (MB) | seconds |")
    print("|---:|---:|---:|---:|")
    print(f"| {args.sessions:,} | {sessions:,} | {peak:.0f} | {seconds:.0f} |")


def measure(url: str) -> tuple[float, float, int]:
    """Peak RSS (MB), seconds and attendee_sessions records of one tap run."""
    config = {
        "api_key": "k",
        "secret": "s",
        "base_url": url,
        "start_date": "2026-01-01T00:00:00Z",
        "reports_requests_per_minute": 100_000,
        "stream_maps": dict.fromkeys(OTHER_STREAMS),
    }
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps(config))
        output = Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [str(BIN / "tap-rev-webcast"), "--config", str(config_path)],
                stdout=sink,
                stderr=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("tap-rev-webcast failed")
        with output.open("rb") as lines:
            sessions = sum(
                line.startswith(b'{"type":"RECORD","stream":"attendee_sessions"') for line in lines
            )
    return usage.ru_maxrss / 1024, seconds, sessions


if __name__ == "__main__":
    main()
