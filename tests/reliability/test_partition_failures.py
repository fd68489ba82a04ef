"""One partition's failure does not cost the others (tap_common/failures.py).

For each tap one partition answers 500 for good. The run reads every other partition and
stream, each row exactly once; it ends with one line per failed partition; the failed
partition's bookmark stays where it was, so a second run (the fault gone) reads its rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from collections import Counter
from dataclasses import dataclass

import pytest

from sandbox import CastDataset, WebcastsDataset, start_cast_sandbox, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_common.failures import MAX_FAILED_IN_A_ROW, PartitionFailures
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    ROOT,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    TapRun,
    cast_config,
    failed_partitions,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
    webcasts_config,
)

if t.TYPE_CHECKING:
    from sandbox import SandboxServer


def keys(run: TapRun) -> dict[str, Counter]:
    """How often each primary key was emitted, per stream."""
    found: dict[str, Counter] = {}
    for stream, key, _ in rows(run):
        found.setdefault(stream, Counter())[key] += 1
    return found


def rows(run: TapRun) -> t.Iterator[tuple[str, tuple, dict]]:
    """(stream, primary key, record) of every RECORD."""
    names = {m["stream"]: m["key_properties"] for m in run.messages if m["type"] == "SCHEMA"}
    for m in run.messages:
        if m["type"] == "RECORD":
            key = tuple(json.dumps(m["record"][k]) for k in names[m["stream"]])
            yield m["stream"], key, m["record"]


@dataclass
class Case:
    """A tap, a sandbox, and one partition made to fail."""

    tap: type
    config: dict
    server: SandboxServer
    fail: t.Callable[[t.Any], bool]  # which requests answer 500
    failed_lines: list[str]  # what each failed partition's line starts with
    in_failed: t.Callable[[str, dict], bool]  # whether a stream's record is in those partitions
    stop: t.Callable[[], None]

    def break_it(self) -> t.Callable[[], None]:
        def answer_500(request, response):
            if self.fail(request):
                response.status, response.body = 500, b'{"detail": "boom"}'

        self.server.hooks.append(answer_500)
        return lambda: self.server.hooks.remove(answer_500)


def cast_case() -> Case:
    dataset = CastDataset(
        seed=11, casts=2, campaigns_per_cast=2, events_per_type=30, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _ = start_cast_sandbox(dataset)
    generation = sorted({e["generation_id"] for e in dataset.ground_truth()["analytics_events"]})[1]

    def fail(request) -> bool:
        return f"/generation/{generation}/analytics_events" in request.path and request.query.get(
            "event_type"
        ) == ["view"]

    return Case(
        TapCast,
        cast_config(server, dataset, max_retries=0),
        server,
        fail,
        ["stream 'analytics_events' cast_id="],
        lambda stream, r: (
            stream == "analytics_events"
            and (r["generation_id"], r["event_type"]) == (generation, "view")
        ),
        server.stop,
    )


def webcasts_case() -> Case:
    dataset = WebcastsDataset(
        seed=21, events=3, registrants_per_event=40, username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, _ = start_webcasts_sandbox(dataset)
    ei = str(dataset.ground_truth()["events"][1]["ei"])

    def fail(request) -> bool:
        return "/audiencereports" in request.path and request.query.get("ei") == [ei]

    streams = ("audience_sessions", "audience_questions", "audience_survey_answers", "audience")
    lines = [f"stream '{name}' ei={ei}" for name in streams]
    return Case(
        TapWebcasts,
        webcasts_config(server, max_retries=0),
        server,
        fail,
        lines,
        lambda stream, r: stream in streams and str(r["ei"]) == ei,
        server.stop,
    )


def rev_case() -> Case:
    rev = start_rev(rev_dataset(webcasts=4, sessions=60))
    webcast = rev.webcast_ids()[1]

    def fail(request) -> bool:
        return request.path.endswith(f"{webcast}/comments")

    lines = [f"stream 'comments' webcast_id={webcast} run_number={n}" for n in (0, 1)]
    config = rev.config(max_retries=0, include_realtime_attendees=False)
    return Case(
        tap_with_clock(rev.clock),
        config,
        rev.server,
        fail,
        lines,
        lambda stream, r: stream == "comments" and r["webcast_id"] == webcast,
        rev.server.stop,
    )


@pytest.mark.parametrize(
    "make", [cast_case, webcasts_case, rev_case], ids=["cast", "webcasts", "rev"]
)
def test_a_failed_partition_costs_only_itself_and_is_read_next_time(make):
    case = make()
    try:
        everything = run_tap(case.tap, case.config)
        mend = case.break_it()
        failing = run_tap(case.tap, case.config, expect_error=True)
        mend()
        resumed = run_tap(case.tap, case.config, state=failing.final_state)
    finally:
        case.stop()
    lines = failed_partitions(failing.error)
    assert len(lines) == len(case.failed_lines)
    for prefix in case.failed_lines:
        assert sum(line.startswith(prefix) for line in lines) == 1, (prefix, lines)
    complete, read, read_again = keys(everything), keys(failing), keys(resumed)
    in_failed: dict[str, set] = {}
    for stream, key, record in rows(everything):
        if case.in_failed(stream, record):
            in_failed.setdefault(stream, set()).add(key)
    assert in_failed, "the failed partitions hold rows"
    for stream, want in complete.items():
        got = read.get(stream, Counter())
        assert all(n == 1 for n in got.values()), f"{stream}: a row emitted twice"
        # Every row but those of the failed partitions was read.
        assert set(got) == set(want) - in_failed.get(stream, set()), stream
        # Nothing passed: what the failing run did not read, the next run reads.
        unread = set(want) - set(got)
        assert unread <= set(read_again.get(stream, ())), f"{stream}: rows the bookmark passed"


def test_the_command_line_exits_1_with_one_line_per_failed_partition(tmp_path):
    case = cast_case()
    try:
        case.break_it()
        path = tmp_path / "config.json"
        path.write_text(json.dumps(case.config))
        result = subprocess.run(
            [sys.executable, "-m", "tap_cast", "--config", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    finally:
        case.stop()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-2:]
    assert "tap-cast: 1 partition failed; the run read everything else." in last[0]
    assert "tap-cast: stream 'analytics_events' cast_id=" in last[1]
    assert "event_type=view" in last[1]
    records = [line for line in result.stdout.splitlines() if '"type":"RECORD"' in line]
    assert any('"stream":"analytics_events"' in line for line in records)
    assert any('"stream":"cross_campaign_summary"' in line for line in records)


class FakeStream:
    def __init__(self, name: str) -> None:
        import logging

        self.name = name
        self.logger = logging.getLogger(f"tests.{name}")


def test_failures_in_a_row_stop_the_run_and_a_success_resets_the_count():
    from singer_sdk.exceptions import FatalAPIError

    from tap_common.failures import PartitionsFailedError

    failures = PartitionFailures()
    stream = FakeStream("s")
    for n in range(MAX_FAILED_IN_A_ROW - 1):
        failures.failed(stream, {"id": n}, FatalAPIError("boom"))  # type: ignore[arg-type]
    failures.succeeded()
    for n in range(MAX_FAILED_IN_A_ROW - 1):
        failures.failed(stream, {"id": 10 + n}, FatalAPIError("boom"))  # type: ignore[arg-type]
    with pytest.raises(PartitionsFailedError, match="failed in a row") as stopped:
        failures.failed(stream, {"id": 99}, FatalAPIError("boom"))  # type: ignore[arg-type]
    assert len(stopped.value.lines) == 2 * (MAX_FAILED_IN_A_ROW - 1) + 1
    assert stopped.value.lines[0] == "stream 's' id=0: boom."
