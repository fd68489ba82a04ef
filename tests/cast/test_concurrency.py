"""max_concurrency: partitions fetched ahead in threads change nothing but the wall time.

Records (and their order), the final STATE, incremental second runs, retried faults and
failures must be exactly those of a run with max_concurrency 1, and the number of requests
in flight never exceeds the setting.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sandbox import CastDataset, FaultConfig, start_cast_sandbox
from tap_cast.tap import TapCast
from tests.helpers import CAST_API_KEY as API_KEY
from tests.helpers import CAST_ORG as ORG
from tests.helpers import cast_config, run_tap


@pytest.fixture
def slow_sandbox():
    # 3 casts x 3 campaigns x 5 types = 45 partitions of several pages, 5 ms per response.
    dataset = CastDataset(
        seed=5, casts=3, campaigns_per_cast=3, events_per_type=45, org_slug=ORG, api_key=API_KEY
    )
    server, api = start_cast_sandbox(dataset, faults=FaultConfig(latency_ms=5))
    yield server, dataset, api
    server.stop()


def test_same_records_order_and_state_as_sequential(slow_sandbox):
    server, dataset, _ = slow_sandbox
    config = cast_config(server, dataset, page_size=10)
    sequential = run_tap(TapCast, {**config, "max_concurrency": 1})
    assert server.peak_in_flight == 1
    server.reset_log()
    concurrent = run_tap(TapCast, {**config, "max_concurrency": 6})
    assert 1 < server.peak_in_flight <= 6
    assert concurrent.output == sequential.output
    events = concurrent.records("analytics_events")
    assert len(events) == len(dataset.ground_truth()["analytics_events"])


def test_incremental_second_run_same_as_sequential(slow_sandbox):
    server, dataset, _ = slow_sandbox
    config = cast_config(server, dataset, page_size=10)
    first = run_tap(TapCast, {**config, "max_concurrency": 4})
    assert first.final_state == run_tap(TapCast, {**config, "max_concurrency": 1}).final_state
    campaigns = dataset.ground_truth()["campaigns"]
    for campaign in campaigns[::2]:
        for kind in ("view", "play"):
            dataset.add_events(campaign["cast_id"], campaign["generate_group"], kind, 7)
    runs = [
        run_tap(TapCast, {**config, "max_concurrency": n}, state=first.final_state) for n in (1, 4)
    ]
    assert len(runs[0].records("analytics_events")) == 5 * 2 * 7
    assert runs[0].output == runs[1].output


def test_retried_faults_change_nothing(slow_sandbox):
    server, dataset, _ = slow_sandbox
    config = cast_config(server, dataset, page_size=10)
    clean = run_tap(TapCast, {**config, "max_concurrency": 1})
    server.faults = FaultConfig(latency_ms=5, rate=0.1, kinds=("500", "drop", "truncate"), seed=3)
    # Which request draws which fault depends on the threads' order, so enough retries that
    # no request can plausibly draw a fault on every attempt (3 would fail 1 in 10,000).
    faulty = run_tap(TapCast, {**config, "max_concurrency": 6, "max_retries": 8})
    assert server.faults_injected() > 0
    assert faulty.output == clean.output


def test_a_failing_partition_fails_alone_with_the_output_of_a_sequential_run(slow_sandbox):
    server, dataset, _ = slow_sandbox
    config = cast_config(server, dataset, page_size=10, max_retries=1)
    target = dataset.ground_truth()["campaigns"][4]["generate_group"]
    server.script(f"{target}/analytics_events", ["500"] * 50)
    runs = {
        n: run_tap(TapCast, {**config, "max_concurrency": n}, expect_error=True) for n in (1, 6)
    }
    for run in runs.values():
        assert f"generation_id={target}" in str(run.error)
        assert "gave up after 2 attempts" in str(run.error)
    records = {n: run.output[0] for n, run in runs.items()}
    assert records[6] == records[1]
    # The last STATE holds the same bookmarks; the concurrent one also lists the partitions
    # it was fetching ahead, with no bookmark yet (a resumed run starts them afresh).
    assert bookmarks(runs[1].final_state)
    assert bookmarks(runs[6].final_state) == bookmarks(runs[1].final_state)


def bookmarks(state: dict) -> dict:
    return {
        json.dumps(p["context"]): (p["replication_key_value"], p.get("bookmark_event_keys"))
        for p in state["bookmarks"]["analytics_events"]["partitions"]
        if "replication_key_value" in p
    }


def test_cli_exits_at_once_when_a_stream_fails_while_others_fetch_ahead(slow_sandbox, tmp_path):
    # campaign_analytics fetches the next campaigns ahead; the timeline of the first one is
    # broken, so its child stream stops the run while those workers still hold rows.
    server, dataset, _ = slow_sandbox

    def break_first_timeline(request, response):
        if request.path.endswith("/analytics"):
            body = json.loads(response.body)
            for buckets in body["timeline"]["items"].values():
                for bucket in buckets:
                    bucket["event_dt"] = "not a time"
            response.body = json.dumps(body).encode()
            server.hooks.remove(break_first_timeline)

    server.hooks.append(break_first_timeline)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(cast_config(server, dataset, max_concurrency=8)))
    done = subprocess.run(
        [sys.executable, "-m", "tap_cast", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "stream 'campaign_timeline'" in done.stderr
    assert "field 'event_dt' holds 'not a time'" in done.stderr
