"""Is the sandbox fast enough never to be the bottleneck of a benchmark?

In one run, against one sandbox process serving the same dataset:
1. a bare client (requests.Session loop, JSON parsed, nothing written) reads every
   analytics_events page: the most the sandbox can feed one client;
2. tap-cast syncs analytics_events (Singer output to /dev/null).
The ratio bare/tap says how much headroom the sandbox leaves; > 1 means the tap, not the
sandbox, sets the pace.

    .venv/bin/python bench/sandbox_speed.py [--events 2000] [--page-size 200]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
import typing as t
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandboxes import sandbox  # noqa: E402

from sandbox import CastDataset  # noqa: E402
from tap_cast.tap import TapCast  # noqa: E402

KEY = "bench-key"
ORG = "bench-org"
EVENT_TYPES = ("delivered", "view", "play", "action", "feedback")


def sandbox_process(events: int) -> t.ContextManager[str]:
    return sandbox(
        f"cast --api-key {KEY} --org-slug {ORG} --casts 1 --campaigns 2 --events {events}"
    )


def bare_client(url: str, dataset: CastDataset, page_size: int) -> tuple[int, int, float]:
    session = requests.Session()
    session.headers["Authorization"] = KEY
    records = pages = 0
    started = time.perf_counter()
    for campaign in dataset.ground_truth()["campaigns"]:
        base = (
            f"{url}/designer/{ORG}/api/cast/{campaign['cast_id']}/generation/"
            f"{campaign['generate_group']}/analytics_events"
        )
        for kind in EVENT_TYPES:
            page = 1
            while True:
                body = session.get(
                    base, params={"event_type": kind, "page": page, "page_size": page_size}
                ).json()
                pages += 1
                records += len(body["results"])
                if not body["results"] or page * page_size >= body["count"]:
                    break
                page += 1
    return records, pages, time.perf_counter() - started


def tap_run(url: str, dataset: CastDataset, page_size: int) -> tuple[int, float]:
    config = {
        "api_key": KEY,
        "org_slug": ORG,
        "cast_ids": dataset.cast_ids(),
        "base_url": url,
        "page_size": page_size,
        "stream_maps": {
            s: None
            for s in (
                "campaigns",
                "campaign_analytics",
                "campaign_timeline",
                "cross_campaign_summary",
            )
        },
    }
    tap = TapCast(config=config)
    sink = RecordCounter()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.TextIOWrapper(sink)):  # type: ignore[type-var]
        tap.sync_all()
    elapsed = time.perf_counter() - started
    return sink.records, elapsed


class RecordCounter(io.RawIOBase):
    """A stdout that only counts the RECORD messages written to it."""

    records = 0

    def writable(self) -> bool:
        return True

    def write(self, data: t.Any) -> int:
        self.records += bytes(data).count(b'"type":"RECORD"')
        return len(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000, help="events per type per campaign")
    parser.add_argument("--page-size", type=int, default=200)
    args = parser.parse_args()

    import logging

    logging.disable(logging.INFO)  # the tap's metric logs are not what we measure
    dataset = CastDataset(
        casts=1, campaigns_per_cast=2, events_per_type=args.events, org_slug=ORG, api_key=KEY
    )
    with sandbox_process(args.events) as url:
        bare_client(url, dataset, args.page_size)  # warm-up
        records, pages, bare_s = bare_client(url, dataset, args.page_size)
        tap_records, tap_s = tap_run(url, dataset, args.page_size)
    assert tap_records == records, (tap_records, records)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"dataset: {records} events in {pages} pages of {args.page_size}")
    print("| client | seconds | records/s | pages/s |")
    print("|---|---:|---:|---:|")
    print(
        f"| bare requests loop (sandbox ceiling) | {bare_s:.2f} | {records / bare_s:,.0f} "
        f"| {pages / bare_s:,.0f} |"
    )
    print(
        f"| tap-cast analytics_events | {tap_s:.2f} | {records / tap_s:,.0f} "
        f"| {pages / tap_s:,.0f} |"
    )
    print(f"headroom (bare / tap): {tap_s / bare_s:.1f}x")


if __name__ == "__main__":
    main()
