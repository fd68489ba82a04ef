"""Requests of a first and a second tap-cast run (no new data in between), per endpoint.

A second run must cost at most one request per (campaign, event type) partition of
analytics_events plus the campaign listings: the early stop at the bookmark reads only the
newest page of each partition. In-process sandbox and tap; Singer output is discarded.

    .venv/bin/python bench/cast_requests.py [--campaigns 50 --events 500]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox import CastDataset, start_cast_sandbox  # noqa: E402
from tap_cast.tap import TapCast  # noqa: E402

ENDPOINTS = ("/generation", "/analytics_events", "/analytics", "/cross_campaign")


def endpoint(path: str) -> str:
    return next(name for name in ENDPOINTS if path.endswith(name) or name + "_" in path)


def run(config: dict, state: dict | None) -> dict:
    tap = TapCast(config=config, state=state)
    out = io.TextIOWrapper(io.BytesIO(), write_through=True)
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return tap.state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--events", type=int, default=500, help="per event type per campaign")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    dataset = CastDataset(
        casts=1, campaigns_per_cast=args.campaigns, events_per_type=args.events, api_key="k"
    )
    server, _ = start_cast_sandbox(dataset)
    config = {"api_key": "k", "org_slug": dataset.org_slug, "cast_ids": dataset.cast_ids()}
    config |= {"base_url": server.url, "page_size": 200}
    counts = []
    state = None
    try:
        for _ in range(2):
            server.reset_log()
            state = run(config, state)
            counts.append(collections.Counter(endpoint(r.path) for r in server.requests))
    finally:
        server.stop()
    partitions = args.campaigns * 5
    print(f"{args.campaigns} campaigns x 5 event types = {partitions} partitions, page size 200")
    print("| endpoint | first run | second run |")
    print("|---|---:|---:|")
    for name in ENDPOINTS:
        print(f"| {name} | {counts[0][name]} | {counts[1][name]} |")
    print(f"| all | {sum(counts[0].values())} | {sum(counts[1].values())} |")
    events_second = counts[1]["/analytics_events"]
    verdict = "within" if events_second <= partitions else "OVER"
    print(
        f"second run: {events_second} analytics_events requests for {partitions} partitions "
        f"({verdict} one per partition)"
    )
    if events_second > partitions:
        sys.exit(1)


if __name__ == "__main__":
    main()
