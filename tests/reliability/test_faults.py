"""Transient faults lose nothing; persistent faults stop clearly and the next run resumes."""

from __future__ import annotations

import collections

import pytest

from sandbox import (
    CastDataset,
    FaultConfig,
    WebcastsDataset,
    start_cast_sandbox,
    start_webcasts_sandbox,
)
from tap_cast.tap import TapCast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import CAST_API_KEY as API_KEY
from tests.helpers import CAST_ORG as ORG
from tests.helpers import REV_STREAMS, cast_config, rev_dataset, run_tap, start_rev, webcasts_config
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME

# The transient faults real APIs show: 5xx, 429 with and without Retry-After, responses
# slower than the timeout, dropped connections and truncated bodies.
TRANSIENT = ("500", "502", "503", "429", "429-no-retry-after", "slow", "drop", "truncate")
RETRYING = {"retry_base_seconds": 0, "max_retries": 8, "request_timeout": 1}


def faults(seed: int) -> FaultConfig:
    return FaultConfig(rate=0.05, kinds=TRANSIENT, seed=seed, retry_after=1, slow_seconds=1.5)


def cast_keys(run) -> dict[str, list]:
    return {
        "campaigns": [r["id"] for r in run.records("campaigns")],
        "campaign_analytics": [
            (r["cast_id"], r["generation_id"]) for r in run.records("campaign_analytics")
        ],
        "campaign_timeline": [
            (r["generation_id"], r["event_type"], r["event_dt"])
            for r in run.records("campaign_timeline")
        ],
        "analytics_events": [r["event_key"] for r in run.records("analytics_events")],
        "cross_campaign_summary": [
            (r["cast_id"], r["generation_id"]) for r in run.records("cross_campaign_summary")
        ],
    }


def webcasts_keys(run) -> dict[str, list]:
    return {
        "events": [r["ei"] for r in run.records("events")],
        "audience": [(r["ei"], r["email"]) for r in run.records("audience")],
        "audience_sessions": [
            (r["ei"], r["email"], r["session_type"], r["session_start"])
            for r in run.records("audience_sessions")
        ],
        "audience_questions": [r["question_key"] for r in run.records("audience_questions")],
        "audience_survey_answers": [
            r["answer_key"] for r in run.records("audience_survey_answers")
        ],
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cast_loses_nothing_under_transient_faults(seed):
    dataset = CastDataset(
        seed=seed, casts=2, campaigns_per_cast=3, events_per_type=25, org_slug=ORG, api_key=API_KEY
    )
    clean_server, _ = start_cast_sandbox(dataset)
    server, _ = start_cast_sandbox(dataset, faults=faults(seed))
    try:
        expected = cast_keys(run_tap(TapCast, cast_config(clean_server, dataset)))
        run = run_tap(TapCast, cast_config(server, dataset, **RETRYING))
        got = cast_keys(run)
        for stream, keys in expected.items():
            assert len(got[stream]) == len(set(got[stream])), f"duplicate keys in {stream}"
            assert sorted(got[stream]) == sorted(keys), stream
        injected = server.faults_injected()
        assert injected > 0
        print(
            f"tap-cast seed {seed}: {len(server.requests)} requests, {injected} faults injected "
            f"and retried, {sum(map(len, got.values()))} records, 0 lost"
        )
    finally:
        server.stop()
        clean_server.stop()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_webcasts_loses_nothing_under_transient_faults(seed):
    dataset = WebcastsDataset(
        seed=seed, events=4, registrants_per_event=60, username=USERNAME, password=PASSWORD
    )
    clean_server, _ = start_webcasts_sandbox(dataset)
    server, _ = start_webcasts_sandbox(
        dataset,
        faults=FaultConfig(rate=0.15, kinds=TRANSIENT, seed=seed, retry_after=1, slow_seconds=1.5),
    )
    try:
        expected = webcasts_keys(run_tap(TapWebcasts, webcasts_config(clean_server)))
        run = run_tap(TapWebcasts, webcasts_config(server, **RETRYING))
        got = webcasts_keys(run)
        for stream, keys in expected.items():
            assert len(got[stream]) == len(set(got[stream])), f"duplicate keys in {stream}"
            assert sorted(got[stream]) == sorted(keys), stream
        injected = server.faults_injected()
        assert injected > 0
        print(
            f"tap-webcasts seed {seed}: {len(server.requests)} requests, {injected} faults "
            f"injected and retried, {sum(map(len, got.values()))} records, 0 lost"
        )
    finally:
        server.stop()
        clean_server.stop()


REV_KEYS = {
    "webcasts": ("id",),
    "attendee_sessions": ("session_key",),
    "webcast_attendance_summary": ("webcast_id", "run_number"),
    "realtime_attendees": ("webcast_id", "run_number", "session_id"),
    "comments": ("comment_id",),
    "poll_results": ("webcast_id", "run_number", "poll_id"),
    "poll_answers": ("webcast_id", "run_number", "poll_id", "answer"),
    "questions": ("question_id",),
    "reactions": ("webcast_id", "run_number", "webcast_date", "reaction"),
}


def rev_keys(run) -> dict[str, list]:
    assert set(REV_KEYS) == set(REV_STREAMS)
    return {
        stream: [tuple(r[k] for k in key) for r in run.records(stream)]
        for stream, key in REV_KEYS.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rev_loses_nothing_under_transient_faults(seed):
    clean, faulty = start_rev(rev_dataset(seed=seed)), start_rev(rev_dataset(seed=seed))
    faulty.server.faults = faults(seed)
    try:
        expected = rev_keys(clean.run())
        got = rev_keys(faulty.run(faulty.config(**RETRYING)))
        for stream, keys in expected.items():
            assert len(got[stream]) == len(set(got[stream])), f"duplicate keys in {stream}"
            assert sorted(got[stream]) == sorted(keys), stream
        injected = faulty.server.faults_injected()
        assert injected > 0
        print(
            f"tap-rev-webcast seed {seed}: {len(faulty.server.requests)} requests, {injected} "
            f"faults injected and retried, {sum(map(len, got.values()))} records, 0 lost"
        )
    finally:
        clean.server.stop()
        faulty.server.stop()


def test_cast_persistent_fault_stops_clearly_and_the_next_run_resumes():
    dataset = CastDataset(
        seed=4, casts=1, campaigns_per_cast=3, events_per_type=20, org_slug=ORG, api_key=API_KEY
    )
    server, _ = start_cast_sandbox(dataset)
    try:
        broken = dataset.ground_truth()["campaigns"][-1]["generate_group"]
        server.script(f"{broken}/analytics_events", ["503"] * 100)
        config = cast_config(server, dataset, retry_base_seconds=0, max_retries=2)
        first = run_tap(TapCast, config, expect_error=True)
        message = str(first.error)
        assert "stream 'analytics_events'" in message
        assert f"generation_id={broken}" in message
        assert "503" in message
        # Bounded by max_retries for every partition: the failing one, and those of the same
        # campaign that were being fetched ahead (max_concurrency) when it failed.
        tries = collections.Counter(
            r.query["event_type"][0] for r in server.requests if broken in r.path
        )
        assert tries["delivered"] == 3
        assert max(tries.values()) == 3

        # The STATE written before the failure is valid, and the next run resumes from it.
        partitions = first.final_state["bookmarks"]["analytics_events"]["partitions"]
        done = {p["context"]["generation_id"] for p in partitions if p.get("replication_key_value")}
        assert done
        assert broken not in done
        server.clear_scripts()
        second = run_tap(TapCast, config, state=first.final_state)
        events = first.records("analytics_events") + second.records("analytics_events")
        assert len({e["event_key"] for e in events}) == len(
            dataset.ground_truth()["analytics_events"]
        )
        assert not {e["generation_id"] for e in second.records("analytics_events")} & done
    finally:
        server.stop()


def test_webcasts_persistent_fault_stops_clearly_and_the_next_run_resumes():
    dataset = WebcastsDataset(
        seed=5, events=3, registrants_per_event=30, username=USERNAME, password=PASSWORD
    )
    server, _ = start_webcasts_sandbox(dataset)
    try:
        config = webcasts_config(server, retry_base_seconds=0, max_retries=2)
        broken = max(dataset.event_ids)

        def fail_broken_event(request, response):
            # By event, not by request order: reports are downloaded concurrently.
            if request.path.startswith("/api/reporting/audiencereports") and request.query.get(
                "ei"
            ) == [str(broken)]:
                response.status, response.body = 503, b'{"detail":"Service unavailable."}'

        server.hooks.append(fail_broken_event)
        first = run_tap(TapWebcasts, config, expect_error=True)
        assert server.count("/api/reporting/audiencereports", status=503) == 3  # max_retries
        message = str(first.error)
        assert "stream 'audience" in message  # the first report stream to download it
        assert "ei=" in message
        assert "503" in message

        partitions = first.final_state["bookmarks"]["audience"]["partitions"]
        done = {p["context"]["ei"] for p in partitions if p.get("replication_key_value")}
        assert len(done) == 2
        server.hooks.remove(fail_broken_event)
        second = run_tap(TapWebcasts, config, state=first.final_state)
        emitted = {
            (r["ei"], r["email"]) for r in first.records("audience") + second.records("audience")
        }
        assert len(emitted) == len(dataset.ground_truth()["audience"])
        assert broken not in done
    finally:
        server.stop()
