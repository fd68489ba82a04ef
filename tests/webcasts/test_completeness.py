"""tap-webcasts never loses a row silently: cut reports, odd lists, labels, namespaces.

Each test drives one sandbox switch or fault and asserts either every record exactly once
(by primary key, against the sandbox's ground truth) or one clear line naming stream, event
and cause, and in both cases a STATE whose bookmarks pass no unread row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from sandbox.webcasts import WebcastsError
from tap_common.errors import VendorDataError
from tap_webcasts import parsers
from tap_webcasts.tap import TapWebcasts
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME
from tests.helpers import failed_partitions, run_tap, webcasts_config

REPORT = "/api/reporting/audiencereports"
FORMATS = ["xml", "json", "csv"]


@pytest.fixture
def dataset() -> WebcastsDataset:
    return WebcastsDataset(
        seed=21, events=3, registrants_per_event=80, username=USERNAME, password=PASSWORD
    )


@pytest.fixture
def sandbox(dataset):
    server, api = start_webcasts_sandbox(dataset)
    yield server, api
    server.stop()


def truth_keys(dataset: WebcastsDataset, skip: set[int] = frozenset()) -> list[tuple[int, str]]:
    people = dataset.ground_truth()["audience"]
    return sorted((int(p["ei"]), p["email"]) for p in people if int(p["ei"]) not in skip)


def truth_sessions(dataset: WebcastsDataset, skip: set[int] = frozenset()) -> int:
    people = dataset.ground_truth()["audience"]
    return sum(len(p["sessions"]) for p in people if int(p["ei"]) not in skip)


def audience_keys(run) -> list[tuple[int, str]]:
    return sorted((r["ei"], r["email"]) for r in run.records("audience"))


def bookmarked_events(run) -> set[int]:
    """Events whose audience partition carries a bookmark in the final STATE."""
    partitions = run.final_state.get("bookmarks", {}).get("audience", {}).get("partitions", [])
    return {p["context"]["ei"] for p in partitions if p.get("replication_key_value")}


def event_ids(dataset: WebcastsDataset) -> list[int]:
    return [int(e["ei"]) for e in dataset.ground_truth()["events"]]


def assert_every_row_once(run, dataset, skip: set[int] = frozenset()) -> None:
    assert audience_keys(run) == truth_keys(dataset, skip)  # each key once, none missing
    assert len(run.records("audience_sessions")) == truth_sessions(dataset, skip)
    assert bookmarked_events(run) == set(event_ids(dataset)) - skip


# --- class 3: truncated bodies ---------------------------------------------------------------


@pytest.mark.parametrize("response_format", FORMATS)
def test_a_report_cut_at_a_line_end_is_downloaded_again(sandbox, dataset, response_format):
    """Close-delimited (no Content-Length, no chunks) and cut at a line end: XML and JSON
    show it by their end; CSV is reconciled with the same report's XML registrant count."""
    server, _ = sandbox
    server.script(REPORT, ["cut-at-line-end"])
    run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    assert server.faults_injected("cut-at-line-end") == 1
    assert_every_row_once(run, dataset)


@pytest.mark.parametrize("response_format", FORMATS)
def test_a_report_cut_every_time_stops_with_one_clear_line(sandbox, dataset, response_format):
    server, _ = sandbox
    server.script(REPORT, ["cut-at-line-end"] * 40)
    config = webcasts_config(server, response_format=response_format, max_concurrency=1)
    run = run_tap(TapWebcasts, config, expect_error=True)
    first = event_ids(dataset)[0]
    message = str(run.error)
    assert f"ei={first}" in message
    assert "stream 'audience_sessions'" in message
    assert "cut short" in message
    assert run.records("audience") == []
    assert bookmarked_events(run) == set()


def test_a_csv_report_short_of_its_xml_count_is_read_again_then_stops(sandbox, dataset):
    """Only the CSV is cut (the XML it is reconciled with arrives whole): re-read, then
    IncompleteReadError with both numbers."""
    server, _ = sandbox
    server.script(f"{REPORT}/csv", ["cut-at-line-end"] * 40)
    config = webcasts_config(server, response_format="csv", max_concurrency=1, max_retries=2)
    run = run_tap(TapWebcasts, config, expect_error=True)
    first = event_ids(dataset)[0]
    message = str(run.error)
    assert f"stream 'audience_sessions' ei={first}" in message
    assert "says it holds 80 registrants" in message
    assert "also after reading it again" in message
    # Each event's report fails alone: the first read and max_retries more, once for all
    # four streams read from it.
    failed = {line.split(":")[0] for line in failed_partitions(run.error)}
    assert len(failed) == 4 * len(event_ids(dataset))
    assert server.count(f"{REPORT}/csv") == 3 * len(event_ids(dataset))
    assert bookmarked_events(run) == set()


@pytest.mark.parametrize("response_format", FORMATS)
def test_transport_truncation_is_retried_in_every_format(sandbox, dataset, response_format):
    """Cut chunked (no last chunk) and cut with a Content-Length: the framing shows it."""
    server, api = sandbox
    server.script(REPORT, ["truncate"])
    run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    api.stream_responses = False
    server.script(REPORT, ["truncate"])
    joined = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    assert server.faults_injected("truncate") == 2
    assert_every_row_once(run, dataset)
    assert_every_row_once(joined, dataset)


@pytest.mark.parametrize("streamed", [True, False], ids=["chunked", "content-length"])
def test_a_csv_report_without_a_final_line_break_is_read_whole(sandbox, dataset, streamed):
    """RFC 4180 makes the last line break optional: with framing that shows the body whole,
    a CSV report whose last row has no CRLF is read, its last row included."""
    server, api = sandbox
    api.csv_final_line_break = False
    api.stream_responses = streamed
    run = run_tap(TapWebcasts, webcasts_config(server, response_format="csv"))
    assert server.count(f"{REPORT}/csv") == len(event_ids(dataset))  # none read twice
    assert_every_row_once(run, dataset)


def test_a_framed_csv_report_cut_inside_its_last_row_stops_with_one_clear_line(sandbox, dataset):
    """A server that cuts its own CSV mid-row yet frames the body as whole: the last row's
    cells fall short of the header, the report is downloaded again, then the run stops."""
    server, api = sandbox
    api.stream_responses = False  # Content-Length of the cut body: the framing says whole

    def cut_inside_the_last_row(request, response):
        if request.path == f"{REPORT}/csv":
            response.body = bytes(response.body).rstrip(b"\r\n").rsplit(b",", 3)[0]

    server.hooks.append(cut_inside_the_last_row)
    config = webcasts_config(server, response_format="csv", max_concurrency=1, max_retries=2)
    run = run_tap(TapWebcasts, config, expect_error=True)
    message = str(run.error)
    assert f"ei={event_ids(dataset)[0]}" in message
    assert "a CSV report cut inside its last row" in message
    # Each event's report fails alone: the first read and max_retries more.
    assert len(failed_partitions(run.error)) == 4 * len(event_ids(dataset))
    assert server.count(f"{REPORT}/csv") == 3 * len(event_ids(dataset))
    assert bookmarked_events(run) == set()


# --- class 7: lists as they really are -------------------------------------------------------


@pytest.mark.parametrize("max_concurrency", [1, 8])
def test_an_event_listed_twice_is_read_once(sandbox, dataset, max_concurrency, caplog):
    server, api = sandbox
    twice = event_ids(dataset)[0]
    api.listed_twice.add(twice)
    run = run_tap(TapWebcasts, webcasts_config(server, max_concurrency=max_concurrency))
    assert sorted(r["ei"] for r in run.records("events")) == sorted(event_ids(dataset))
    assert_every_row_once(run, dataset)
    assert server.count(REPORT) == len(event_ids(dataset))
    assert f"names event {twice} more than once" in caplog.text


@pytest.mark.parametrize("max_concurrency", [1, 8])
def test_an_event_deleted_after_listing_is_warned_about_and_skipped(
    sandbox, dataset, max_concurrency, caplog
):
    server, api = sandbox
    gone = event_ids(dataset)[1]
    api.vanish_after_listing.add(gone)
    run = run_tap(TapWebcasts, webcasts_config(server, max_concurrency=max_concurrency))
    assert_every_row_once(run, dataset, skip={gone})
    assert "event list no longer holds it" in caplog.text
    assert str(gone) in caplog.text
    assert api.login_count == 2  # one fresh login before the event is found gone


def test_an_event_refused_but_still_listed_is_fatal(sandbox, dataset):
    server, api = sandbox
    refused = event_ids(dataset)[0]
    error = api._error("xml", WebcastsError("invalid_event", value=refused)).body

    def refuse_its_report(request, response):
        if request.path.startswith(REPORT) and request.query["ei"] == [str(refused)]:
            response.body = error

    server.hooks.append(refuse_its_report)
    run = run_tap(TapWebcasts, webcasts_config(server, max_concurrency=1), expect_error=True)
    assert f"ei={refused}" in str(run.error)
    assert "again after a fresh login" in str(run.error)
    # Its four streams fail; the other events are read and bookmarked.
    assert all(f"ei={refused}" in line for line in failed_partitions(run.error))
    assert len(failed_partitions(run.error)) == 4
    assert bookmarked_events(run) == set(event_ids(dataset)) - {refused}


def test_an_empty_event_list_is_an_empty_run(sandbox, dataset):
    server, api = sandbox
    api.dataset.events.clear()
    run = run_tap(TapWebcasts, webcasts_config(server))
    assert run.records("events") == []
    assert server.count(REPORT) == 0


# --- class 9: content over labels ------------------------------------------------------------


@pytest.mark.parametrize("response_format", FORMATS)
def test_reports_served_as_text_html_are_parsed(sandbox, dataset, response_format):
    server, api = sandbox
    api.report_content_type = "text/html;charset=UTF-8"  # what the vendor doc lists
    run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    assert_every_row_once(run, dataset)
    assert server.count(REPORT) == len(event_ids(dataset))


@pytest.mark.parametrize("response_format", FORMATS)
def test_a_real_html_page_is_recognised_by_content_and_retried(sandbox, dataset, response_format):
    server, api = sandbox
    api.report_content_type = "text/html"
    server.script(REPORT, ["html", None, "html"])
    run = run_tap(TapWebcasts, webcasts_config(server, response_format=response_format))
    assert server.faults_injected("html") == 2
    assert_every_row_once(run, dataset)


def test_csv_rows_of_a_registrant_need_not_be_adjacent(sandbox, dataset):
    server, api = sandbox
    xml = run_tap(TapWebcasts, webcasts_config(server))
    api.csv_rows_interleaved = True
    csv = run_tap(TapWebcasts, webcasts_config(server, response_format="csv"))
    assert_every_row_once(csv, dataset)
    by_key = {(r["ei"], r["email"]): r for r in xml.records("audience")}
    for row in csv.records("audience"):
        assert row == by_key[(row["ei"], row["email"])]


@pytest.mark.parametrize("unwrapped", [True, False])
@pytest.mark.parametrize("collapse", [True, False])
def test_json_attendee_list_with_or_without_its_wrapper(sandbox, dataset, unwrapped, collapse):
    server, api = sandbox
    api.json_attendee_list_unwrapped = unwrapped
    api.json_collapse_single_lists = collapse
    run = run_tap(TapWebcasts, webcasts_config(server, response_format="json"))
    assert_every_row_once(run, dataset)


@pytest.mark.parametrize("registrants", [0, 1])
def test_json_reports_of_zero_or_one_attendee(registrants):
    """Collapsed lists: one attendee as an object, none as ""."""
    dataset = WebcastsDataset(
        seed=3, events=2, registrants_per_event=registrants, username=USERNAME, password=PASSWORD
    )
    server, _ = start_webcasts_sandbox(dataset)
    try:
        run = run_tap(TapWebcasts, webcasts_config(server, response_format="json"))
    finally:
        server.stop()
    assert audience_keys(run) == truth_keys(dataset)


def test_xml_with_a_default_namespace_parses(sandbox, dataset):
    server, api = sandbox
    api.xml_namespace = "http://api.webcasts.com/convey_api"
    run = run_tap(TapWebcasts, webcasts_config(server))
    assert sorted(r["ei"] for r in run.records("events")) == sorted(event_ids(dataset))
    assert_every_row_once(run, dataset)


# --- class 6: request_timeout is a deadline --------------------------------------------------


def test_a_slow_drip_event_list_hits_the_deadline(sandbox):
    """One byte every 20 ms, about 1,000 bytes: within each read's timeout, past the
    response's deadline."""
    server, api = sandbox
    api.eventlist_drip_seconds = 0.02
    config = webcasts_config(server, request_timeout=1, max_retries=1)
    run = run_tap(TapWebcasts, config, expect_error=True)
    message = str(run.error)
    assert "stream 'events'" in message
    assert "timed out" in message or "did not arrive within" in message
    assert run.records("events") == []


# --- class 11: vendor error texts that echo secrets ------------------------------------------


@pytest.mark.parametrize("case", ["session-refused", "wrong-password"])
def test_error_texts_echoing_si_ui_and_password_never_reach_any_output(tmp_path, sandbox, case):
    server, api = sandbox
    api.echo_secrets_in_errors = True
    password = PASSWORD if case == "session-refused" else "wrong-" + PASSWORD
    if case == "session-refused":
        server.hooks.append(lambda request, response: api.expire_sessions())
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**webcasts_config(server, max_retries=1), "password": password}))
    result = subprocess.run(
        [sys.executable, "-m", "tap_webcasts", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAP_WEBCASTS_LOG_LEVEL": "DEBUG", "LOGLEVEL": "DEBUG"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "request: " in output or case == "wrong-password"  # the echoing text was logged
    secrets = [password, *api.issued_session_values()]
    assert len(secrets) > 1 or case == "wrong-password"
    for secret in secrets:
        assert secret not in output


# --- envelopes of the event list --------------------------------------------------------------

ENVELOPE = '{"convey_api":{"result":{"returnCode":1,"success":%s}}}'


@pytest.mark.parametrize(
    ("success", "events"),
    [
        ('{"event_list":{"event":[{"ei":"1"},{"ei":"2"}]}}', 2),
        ('{"event_list":{"event":{"ei":"1"}}}', 1),
        ('{"event_list":[{"ei":"1"},{"ei":"2"}]}', 2),
        ('{"event_list":""}', 0),
        ('{"event_list":null}', 0),
    ],
)
def test_event_list_with_or_without_its_wrapper(success, events):
    assert len(parsers.parse_event_list((ENVELOPE % success).encode())) == events


@pytest.mark.parametrize("success", ['{"events":[{"ei":"1"}]}', '""', '{"event_list":"x"}'])
def test_an_event_list_not_understood_is_never_read_as_empty(success):
    with pytest.raises(VendorDataError):
        parsers.parse_event_list((ENVELOPE % success).encode())
