"""tap-webcasts against the sandbox: ground truth, three formats, filters, windows."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tap_webcasts.tap import TapWebcasts
from tests.helpers import run_tap

REPORT = "/api/reporting/audiencereports"
REPORT_STREAMS = ("audience", "audience_sessions", "audience_questions", "audience_survey_answers")


def utc(naive_gmt: str) -> str:
    return dt.datetime.fromisoformat(naive_gmt).replace(tzinfo=dt.timezone.utc).isoformat()


def test_every_stream_matches_ground_truth(webcasts_sandbox, webcasts_dataset, config):
    run = run_tap(TapWebcasts, config)
    truth = webcasts_dataset.ground_truth()

    events = {r["ei"]: r for r in run.records("events")}
    assert set(events) == {int(e["ei"]) for e in truth["events"]}
    assert any(r["expired"] for r in events.values())
    for event in truth["events"]:
        row = events[int(event["ei"])]
        assert row["title"] == event["title"]
        assert row["sched_start"] == utc(event["sched_start"])

    audience = {(r["ei"], r["email"]): r for r in run.records("audience")}
    assert len(audience) == len(run.records("audience")) == len(truth["audience"])
    for person in truth["audience"]:
        row = audience[(int(person["ei"]), person["email"])]
        assert row["first_name"] == person["first_name"]
        assert row["company"] == person["company"]
        assert row["registration_fields"] == person["registration_fields"]
        assert row["registration_date"] == utc(person["registration_date"])
        assert row["session_count"] == len(person["sessions"])

    sessions = Counter(
        (r["ei"], r["email"], r["session_start"]) for r in run.records("audience_sessions")
    )
    expected = Counter(
        (int(p["ei"]), p["email"], utc(s["start"]))
        for p in truth["audience"]
        for s in p["sessions"]
    )
    assert sessions == expected
    assert len(run.records("audience_questions")) == sum(
        len(p["questions"]) for p in truth["audience"]
    )
    assert len(run.records("audience_survey_answers")) == sum(
        len(p["surveys"]) for p in truth["audience"]
    )


def comparable(run, stream: str) -> list[dict]:
    return sorted((r for r in run.records(stream)), key=lambda r: sorted(r.items()).__repr__())


def test_xml_json_and_csv_give_identical_records(webcasts_sandbox, config):
    runs = {
        fmt: run_tap(TapWebcasts, {**config, "response_format": fmt})
        for fmt in ("xml", "json", "csv")
    }
    for stream in ("events", "audience", "audience_sessions"):
        assert comparable(runs["xml"], stream), stream
        assert comparable(runs["xml"], stream) == comparable(runs["json"], stream), stream
        assert comparable(runs["xml"], stream) == comparable(runs["csv"], stream), stream
    # Q&A and surveys: XML and JSON carry them; the CSV report does not.
    for stream in ("audience_questions", "audience_survey_answers"):
        assert comparable(runs["xml"], stream)
        assert comparable(runs["xml"], stream) == comparable(runs["json"], stream)
        assert runs["csv"].records(stream) == []


def test_one_login_and_one_report_download_per_event(webcasts_sandbox, config):
    server, api = webcasts_sandbox
    run = run_tap(TapWebcasts, config)
    assert api.login_count == 1
    events = len(run.records("events"))
    assert server.count(REPORT) == events  # four streams, one download


def test_filters_reach_the_wire(webcasts_sandbox, webcasts_dataset, config):
    server, _ = webcasts_sandbox
    settings = {
        "tz": "America/New_York",
        "date_range_start": "2024-01-15",
        "date_range_end": "2025-06-30",
        "dr_regs": True,
        "dr_sessions": False,
        "sti_filter": ["newsletter", "linkedin"],
        "excl_domain": ["example.org", "test.com"],
        "live_viewers": True,
        "users_qa": False,
    }
    run_tap(TapWebcasts, {**config, **settings})
    report_requests = [r for r in server.requests if r.path.startswith(REPORT)]
    assert report_requests
    for request in report_requests:
        query = {k: v[0] for k, v in request.query.items()}
        assert query["tz"] == "America/New_York"
        assert query["date_range_start"] == "01/15/2024"
        assert query["date_range_end"] == "06/30/2025"
        assert query["dr_regs"] == "on"
        assert query["dr_sessions"] == "off"
        assert query["sti_filter"] == "newsletter|linkedin"
        assert query["excl_domain"] == "example.org|test.com"
        assert query["live_viewers"] == "on"
        assert query["users_qa"] == "off"
        assert query["ver"] == "2.0"
        assert "incl_domain" not in query
        assert "no_shows" not in query


def test_filtered_report_matches_the_sandbox_selection(webcasts_sandbox, webcasts_dataset, config):
    params = {"live_viewers": True, "incl_domain": ["example.com"]}
    run = run_tap(TapWebcasts, {**config, **params})
    wire = {"live_viewers": "on", "incl_domain": "example.com"}
    expected = {
        (int(p["ei"]), p["email"])
        for event in webcasts_dataset.ground_truth()["events"]
        for p in webcasts_dataset.select(int(event["ei"]), **wire)
    }
    assert {(r["ei"], r["email"]) for r in run.records("audience")} == expected


def test_times_are_converted_from_the_report_time_zone(webcasts_sandbox, config):
    gmt = run_tap(TapWebcasts, config)
    new_york = run_tap(TapWebcasts, {**config, "tz": "America/New_York"})
    for stream in ("audience", "audience_sessions"):
        assert comparable(gmt, stream) == comparable(new_york, stream)


def test_event_selection_settings(webcasts_sandbox, webcasts_dataset, config):
    events = webcasts_dataset.ground_truth()["events"]
    expired = {int(e["ei"]) for e in events if str(e["expired"]).lower() == "true"}
    assert expired
    run = run_tap(TapWebcasts, {**config, "include_expired_events": False})
    assert {r["ei"] for r in run.records("events")} == {int(e["ei"]) for e in events} - expired
    assert not {r["ei"] for r in run.records("audience")} & expired

    chosen = int(events[0]["ei"])
    run = run_tap(TapWebcasts, {**config, "event_ids": [chosen]})
    assert {r["ei"] for r in run.records("audience")} == {chosen}


def test_second_run_windows_from_the_bookmark(webcasts_sandbox, webcasts_dataset, config):
    server, _ = webcasts_sandbox
    first = run_tap(TapWebcasts, config)
    partitions = first.final_state["bookmarks"]["audience"]["partitions"]
    bookmarks = {p["context"]["ei"]: p["replication_key_value"] for p in partitions}
    assert len(bookmarks) == len(first.records("events"))

    server.reset_log()
    second = run_tap(TapWebcasts, config, state=first.final_state)
    for request in (r for r in server.requests if r.path.startswith(REPORT)):
        ei = int(request.query["ei"][0])
        day = dt.datetime.fromisoformat(bookmarks[ei]).date()
        assert request.query["date_range_start"] == [day.strftime("%m/%d/%Y")]
        # What the second run re-emits: exactly the registrants active since that day.
        expected = {
            p["email"]
            for p in webcasts_dataset.select(ei, date_range_start=day.strftime("%m/%d/%Y"))
        }
        assert {r["email"] for r in second.records("audience") if r["ei"] == ei} == expected
    assert len(second.records("audience")) < len(first.records("audience"))


@pytest.mark.parametrize("stream", REPORT_STREAMS)
def test_primary_keys_are_unique(webcasts_sandbox, config, stream):
    run = run_tap(TapWebcasts, config)
    keys = {
        "audience": ("ei", "email"),
        "audience_sessions": ("ei", "email", "session_type", "session_start"),
        "audience_questions": ("question_key",),
        "audience_survey_answers": ("answer_key",),
    }[stream]
    values = [tuple(r[k] for k in keys) for r in run.records(stream)]
    assert values
    assert len(values) == len(set(values))


def test_unknown_configured_event_is_reported(webcasts_sandbox, webcasts_dataset, config, caplog):
    chosen = int(webcasts_dataset.ground_truth()["events"][0]["ei"])
    run = run_tap(TapWebcasts, {**config, "event_ids": [chosen, 9999999]})
    assert {r["ei"] for r in run.records("events")} == {chosen}
    assert "9999999" in caplog.text
    assert "skipped" in caplog.text
