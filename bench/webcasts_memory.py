"""Peak memory of tap-webcasts on one large audience report, per format and size.

For each size and format: a sandbox process serves one event with N registrants; the tap
runs as its own process (Singer output to /dev/null) with only the `audience` stream
selected; its peak RSS comes from the kernel's rusage of that process (os.wait4).
Flat memory means the peak does not grow with N. Every format streams (XML with lxml, JSON
with ijson, CSV through a temporary SQLite table): a peak above --max-rss-mb (150) fails.

    .venv/bin/python bench/webcasts_memory.py [--sizes 100000 1000000] [--formats xml csv json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from sandboxes import sandbox

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"


def start_sandbox(registrants: int) -> t.ContextManager[str]:
    return sandbox(
        f"webcasts --events 1 --expired-events 0 --registrants {registrants} --password {PASSWORD}"
    )


def audience_only_catalog(config_path: Path) -> dict:
    catalog = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tap_webcasts", "--config", str(config_path), "--discover"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in ("events", "audience")
    return catalog


def measure(fmt: str, url: str, workdir: Path) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, RECORD lines) of one tap run."""
    config = workdir / f"config-{fmt}.json"
    config.write_text(
        json.dumps(
            {
                "username": "reports@example.com",
                "password": PASSWORD,
                "base_url": url,
                "response_format": fmt,
                "request_timeout": 600,
            }
        )
    )
    catalog = workdir / "catalog.json"
    catalog.write_text(json.dumps(audience_only_catalog(config)))
    output = workdir / f"out-{fmt}.jsonl"
    started = time.perf_counter()
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tap_webcasts",
                "--config",
                str(config),
                "--catalog",
                str(catalog),
            ],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, f"tap failed on {fmt}"
    records = 0
    with output.open("rb") as lines:
        for line in lines:
            records += line.startswith(b'{"type":"RECORD","stream":"audience"')
    output.unlink()
    return usage.ru_maxrss / 1024, elapsed, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["xml", "csv", "json"])
    parser.add_argument("--max-rss-mb", type=float, default=150)
    args = parser.parse_args()
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("| registrants | format | peak RSS (MB) | seconds | audience records |")
    print("|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            with start_sandbox(size) as url:
                for fmt in args.formats:
                    peak, seconds, records = measure(fmt, url, Path(tmp))
                    assert records == size, (fmt, records, size)
                    assert peak <= args.max_rss_mb, f"{fmt}: peak RSS {peak:.0f} MB"
                    print(
                        f"| {size:,} | {fmt} | {peak:.0f} | {seconds:.0f} | {records:,} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
