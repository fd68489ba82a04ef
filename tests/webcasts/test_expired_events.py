"""Expired events: once their report was read after they expired, later runs skip it.

tap_webcasts/final_reports.py keeps those events in the events stream's state. Each test
counts the audience report requests per event, run after run, and checks the mark against
what was written: it never names an event before every selected report stream wrote all of
that event's rows.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tap_webcasts.final_reports import COVERED, MARKED
from tap_webcasts.tap import TapWebcasts
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME
from tests.helpers import TapRun, catalog_selecting, run_tap, webcasts_config

REPORT = "/api/reporting/audiencereports"
REPORT_STREAMS = ("audience", "audience_sessions", "audience_questions", "audience_survey_answers")
KEYS = {  # primary keys beside ei
    "audience": ("email",),
    "audience_sessions": ("email", "session_type", "session_start"),
    "audience_questions": ("question_key",),
    "audience_survey_answers": ("answer_key",),
}


@pytest.fixture
def dataset() -> WebcastsDataset:
    # The two oldest of five events are expired.
    return WebcastsDataset(
        seed=21,
        events=5,
        registrants_per_event=20,
        username=USERNAME,
        password=PASSWORD,
        expired_events=2,
    )


@pytest.fixture
def sandbox(dataset):
    server, api = start_webcasts_sandbox(dataset)
    yield server, api
    server.stop()


def run(server, state: dict | None = None, *, catalog=None, **overrides) -> TapRun:
    """One run; the sandbox's request log then holds this run's requests only."""
    server.reset_log()
    return run_tap(TapWebcasts, webcasts_config(server, **overrides), state=state, catalog=catalog)


def reports_requested(server) -> Counter:
    """Audience report requests of the last run, per event."""
    return Counter(int(r.query["ei"][0]) for r in server.requests if r.path.startswith(REPORT))


def marked(state: dict) -> set[int]:
    return set(state.get("bookmarks", {}).get("events", {}).get(MARKED, []))


def expired_ids(dataset: WebcastsDataset) -> set[int]:
    return {e.ei for e in dataset.events if e.expired}


def rows_per_event(dataset: WebcastsDataset) -> dict[str, Counter]:
    """What each report stream holds per event, from the ground truth."""
    people = dataset.ground_truth()["audience"]
    return {
        "audience": Counter(int(p["ei"]) for p in people),
        "audience_sessions": Counter({int(p["ei"]): 0 for p in people})
        + Counter(int(p["ei"]) for p in people for _ in p["sessions"]),
        "audience_questions": Counter(int(p["ei"]) for p in people for _ in p["questions"]),
        "audience_survey_answers": Counter(int(p["ei"]) for p in people for _ in p["surveys"]),
    }


def assert_marks_follow_the_rows(runs: list[TapRun], dataset: WebcastsDataset) -> None:
    """At every STATE of the last run, each marked event had all its rows written, in every
    report stream the mark covers, by that run or the ones before it (``runs`` in order)."""
    truth = rows_per_event(dataset)
    written: dict[str, set] = {name: set() for name in REPORT_STREAMS}
    for message in (m for one in runs for m in one.messages):
        if message["type"] == "RECORD" and message["stream"] in written:
            record = message["record"]
            written[message["stream"]].add(
                (record["ei"], *map(record.get, KEYS[message["stream"]]))
            )
        elif message["type"] == "STATE":
            events_state = message["value"].get("bookmarks", {}).get("events", {})
            for ei in events_state.get(MARKED, []):
                for stream in events_state[COVERED]:
                    read = sum(key[0] == ei for key in written[stream])
                    assert read == truth[stream][ei], (stream, ei)


@pytest.mark.parametrize("max_concurrency", [1, 8])
def test_daily_runs_request_the_reports_of_active_events_only(sandbox, dataset, max_concurrency):
    server, _ = sandbox
    events = [e.ei for e in dataset.events]
    expired = expired_ids(dataset)
    active = [ei for ei in events if ei not in expired]
    truth = {(int(p["ei"]), p["email"]) for p in dataset.ground_truth()["audience"]}

    # A first run reads every event, expired ones included, and marks the expired ones.
    first = run(server, max_concurrency=max_concurrency)
    assert reports_requested(server) == Counter(events)
    assert {(r["ei"], r["email"]) for r in first.records("audience")} == truth
    assert marked(first.final_state) == expired
    assert_marks_follow_the_rows([first], dataset)

    # The second: every event listed, reports of the active ones only.
    new = dataset.add_registrants(active[0], 2)
    second = run(server, first.final_state, max_concurrency=max_concurrency)
    assert reports_requested(server) == Counter(active)
    assert len(server.requests) == 2 + len(active)  # login, event list, one report each
    assert sorted(r["ei"] for r in second.records("events")) == sorted(events)
    for stream in REPORT_STREAMS:
        assert not {r["ei"] for r in second.records(stream)} & expired, stream
    assert {p["email"] for p in new} <= {r["email"] for r in second.records("audience")}
    assert marked(second.final_state) == expired

    # An event expires between runs: read once more (from its bookmark), then skipped.
    newly_expired = active[1]
    dataset.set_expired(newly_expired)
    third = run(server, second.final_state, max_concurrency=max_concurrency)
    assert reports_requested(server) == Counter(active)
    assert marked(third.final_state) == expired | {newly_expired}
    assert_marks_follow_the_rows([first, second, third], dataset)

    fourth = run(server, third.final_state, max_concurrency=max_concurrency)
    assert reports_requested(server) == Counter(active) - Counter([newly_expired])
    assert marked(fourth.final_state) == expired | {newly_expired}


def test_a_run_stopped_inside_an_expired_event_leaves_it_unmarked(sandbox, dataset):
    """The report of an expired event breaks in `audience`, the last of its report streams
    to read it: the other three wrote all its rows, yet no STATE marks it."""
    server, api = sandbox
    first_expired, broken = sorted(expired_ids(dataset))
    api.stream_responses = False  # whole bodies, so the hook can edit one

    def bad_registration_date(request, response):
        if request.path.startswith(REPORT) and request.query["ei"] == [str(broken)]:
            response.body = re.sub(
                rb"<registration_date>[^<]*</registration_date>",
                b"<registration_date>not a date</registration_date>",
                response.body,
                count=1,
            )

    server.hooks.append(bad_registration_date)
    stopped = run_tap(TapWebcasts, webcasts_config(server, max_concurrency=1), expect_error=True)
    assert "stream 'audience'" in str(stopped.error)
    assert "registration_date" in str(stopped.error)
    truth = rows_per_event(dataset)
    assert (
        sum(r["ei"] == broken for r in stopped.records("audience_sessions"))
        == (truth["audience_sessions"][broken])
    )
    states = [m["value"] for m in stopped.messages if m["type"] == "STATE"]
    assert all(broken not in marked(state) for state in states)
    assert marked(stopped.final_state) == {first_expired}
    assert_marks_follow_the_rows([stopped], dataset)

    # The vendor's report is readable again: the next run reads the event once more.
    server.hooks.clear()
    resumed = run(server, stopped.final_state)
    assert reports_requested(server)[broken] == 1
    assert reports_requested(server)[first_expired] == 0
    assert marked(resumed.final_state) == {first_expired, broken}
    run(server, resumed.final_state)
    assert reports_requested(server)[broken] == 0


def test_an_empty_state_reads_every_event_again(sandbox, dataset):
    server, _ = sandbox
    events = Counter(e.ei for e in dataset.events)
    first = run(server)
    assert marked(first.final_state) == expired_ids(dataset)
    for state in ({}, None):  # meltano run --full-refresh starts from an empty state
        again = run(server, state)
        assert reports_requested(server) == events
        assert len(again.records("audience")) == len(first.records("audience"))


def test_a_report_stream_the_marks_do_not_cover_reads_every_event(sandbox, dataset):
    server, _ = sandbox
    events = Counter(e.ei for e in dataset.events)
    expired = expired_ids(dataset)
    sessions_only = catalog_selecting(
        TapWebcasts, webcasts_config(server), "events", "audience_sessions"
    )
    first = run(server, catalog=sessions_only)
    assert first.final_state["bookmarks"]["events"][COVERED] == ["audience_sessions"]
    second = run(server, first.final_state, catalog=sessions_only)
    assert reports_requested(server) == events - Counter(expired)

    everything = run(server, second.final_state)  # audience and the Q&A were never read
    assert reports_requested(server) == events
    assert {r["ei"] for r in everything.records("audience_questions")} >= expired
    assert everything.final_state["bookmarks"]["events"][COVERED] == sorted(REPORT_STREAMS)
    assert marked(everything.final_state) == expired
    assert_marks_follow_the_rows([first, second, everything], dataset)

    # Fewer streams than the marks cover: still skipped.
    run(server, everything.final_state, catalog=sessions_only)
    assert reports_requested(server) == events - Counter(expired)


def test_an_event_no_longer_expired_is_read_again(sandbox, dataset):
    server, _ = sandbox
    extended = min(expired_ids(dataset))
    first = run(server)
    dataset.set_expired(extended, expired=False)  # its archive was extended
    second = run(server, first.final_state)
    assert reports_requested(server)[extended] == 1
    assert extended not in marked(second.final_state)
    third = run(server, second.final_state)
    assert reports_requested(server)[extended] == 1  # active: read every run
    dataset.set_expired(extended)
    fourth = run(server, third.final_state)
    assert reports_requested(server)[extended] == 1  # once more after it expired again
    run(server, fourth.final_state)
    assert reports_requested(server)[extended] == 0


def test_a_run_with_date_range_end_marks_nothing(sandbox, dataset):
    """Its reports stop at that day: they are not the events' whole reports."""
    server, _ = sandbox
    first = run(server, date_range_end="2030-01-01")
    assert marked(first.final_state) == set()
    run(server, first.final_state)
    assert reports_requested(server) == Counter(e.ei for e in dataset.events)


def test_an_expired_event_deleted_after_listing_is_not_marked(sandbox, dataset, caplog):
    """Its report streams skipped it (warned): no report was read, so none is final."""
    server, api = sandbox
    gone = max(expired_ids(dataset))
    api.vanish_after_listing.add(gone)
    first = run(server, max_concurrency=1)
    assert "event list no longer holds it" in caplog.text
    assert marked(first.final_state) == expired_ids(dataset) - {gone}
