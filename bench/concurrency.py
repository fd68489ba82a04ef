"""How much does max_concurrency save on a slow API, and does it change any output?

For each tap, one sandbox process answers every request after ``--latency-ms`` (100 by
default, as a real API does in 100-500 ms); the tap runs as its own process twice, with
``max_concurrency: 1`` (one request at a time) and with the default, Singer output to a file.
Reported: wall seconds of each run, the ratio, records, and whether the two runs wrote the
same RECORD lines in the same order (time_extracted aside) and the same final STATE.

* tap-cast: a full run (all five streams) over 1 cast x 50 campaigns x 5 event types,
  about 500 events per type: 3 pages of 200 per (campaign, event type).
* tap-webcasts: events plus the four per-event report streams over 120 events of about 30
  registrants.
* tap-rev-webcast: webcasts plus the per-webcast reports over 30 webcasts, Rev's default
  rate limits (reports: 120 per minute).

    .venv/bin/python bench/concurrency.py [--latency-ms 100] [--only cast] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from sandboxes import sandbox

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


@dataclass
class Case:
    tap: str
    sandbox: str  # python -m sandbox serve <this>
    config: dict[str, t.Any]  # base_url is added


def cases(smoke: bool) -> list[Case]:
    campaigns, events = ("4", "60") if smoke else ("50", "500")
    webcasts_events = "6" if smoke else "120"
    rev_webcasts = "4" if smoke else "30"
    return [
        Case(
            "tap-cast",
            f"cast --api-key k --org-slug o --casts 1 --campaigns {campaigns} --events {events}",
            {"api_key": "k", "org_slug": "o", "cast_ids": [1940], "page_size": 200},
        ),
        Case(
            "tap-webcasts",
            f"webcasts --username u@example.com --password p --events {webcasts_events} "
            "--registrants 30",
            {"username": "u@example.com", "password": "p"},
        ),
        Case(
            "tap-rev-webcast",
            f"rev --api-key k --secret s --webcasts {rev_webcasts} --sessions 300",
            {"api_key": "k", "secret": "s", "start_date": "2026-01-01T00:00:00Z"},
        ),
    ]


@dataclass
class Run:
    seconds: float
    records: list[str]
    state: dict


def run_tap(tap: str, config: dict, workdir: Path, label: str) -> Run:
    config_path = workdir / f"{tap}-{label}.json"
    config_path.write_text(json.dumps(config))
    out_path = workdir / f"{tap}-{label}.jsonl"
    run_start = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    with out_path.open("wb") as out:
        subprocess.run(
            [str(BIN / tap), "--config", str(config_path)],
            stdout=out,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    seconds = time.perf_counter() - started
    records, state = [], {}
    for line in out_path.read_text().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            message.pop("time_extracted", None)
            records.append(json.dumps(message, sort_keys=True))
        elif message["type"] == "STATE":
            state = message["value"]
    return Run(seconds, records, without_run_times(state, run_start))


def without_run_times(value: t.Any, run_start: dt.datetime) -> t.Any:
    """The state with every time after the run's start replaced by a marker.

    The SDK caps a bookmark at the time the run started (its signpost), so bookmarks of
    data newer than that differ from one run to the next, whatever max_concurrency is.
    """
    if isinstance(value, dict):
        return {k: without_run_times(v, run_start) for k, v in value.items()}
    if isinstance(value, list):
        return [without_run_times(v, run_start) for v in value]
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is not None and moment >= run_start:
                return "<this run's start>"
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--only", choices=("cast", "webcasts", "rev"))
    parser.add_argument("--smoke", action="store_true", help="tiny datasets (CI)")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {dt.date.today()}; sandbox latency {args.latency_ms:g} ms"
    )
    print(
        "| tap | records | seconds, max_concurrency 1 | seconds, default (8) | speed-up "
        "| same records, order and STATE |"
    )
    print("|---|---:|---:|---:|---:|---|")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        for case in cases(args.smoke):
            if args.only and not case.tap.startswith(f"tap-{args.only}"):
                continue
            with sandbox(f"{case.sandbox} --latency-ms {args.latency_ms:g}") as url:
                config = {**case.config, "base_url": url}
                sequential = run_tap(case.tap, {**config, "max_concurrency": 1}, Path(tmp), "1")
                concurrent = run_tap(case.tap, config, Path(tmp), "default")
            same = sequential.records == concurrent.records and sequential.state == concurrent.state
            failed |= not same
            print(
                f"| {case.tap} | {len(concurrent.records):,} | {sequential.seconds:.1f} "
                f"| {concurrent.seconds:.1f} | {sequential.seconds / concurrent.seconds:.1f}x "
                f"| {'yes' if same else 'NO'} |"
            )
    if failed:
        sys.exit("max_concurrency changed the output of a tap (see the table)")


if __name__ == "__main__":
    main()
