"""tap-rev-webcast under errors and bad input: warnings that name what was skipped, clear
fatal errors, and no secret in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from sandbox.rev import RevDataset, start_rev_sandbox
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import REV_API_KEY as API_KEY
from tests.helpers import REV_PASSWORD as PASSWORD
from tests.helpers import REV_SECRET as SECRET
from tests.helpers import SEQUENTIAL, Rev, catalog_selecting, failed_partitions, rev_config


def test_a_report_400_warns_naming_webcast_and_run_and_continues(rev: Rev, caplog):
    run = rev.run(
        rev.config(run_numbers=[0, 7]),
        catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"),
    )
    for webcast_id in rev.webcast_ids():
        assert f"no post-event report for webcast {webcast_id} run 7" in caplog.text
        calls = [
            c for c in rev.api.calls if webcast_id in c.path and c.query.get("runNumber") == ["7"]
        ]
        assert [c.status for c in calls] == [400]  # not retried
    expected = [s for s in rev.dataset.ground_truth()["attendee_sessions"] if s["run_number"] == 0]
    assert len(run.records("attendee_sessions")) == len(expected)


def test_an_empty_poll_results_body_means_no_rows(rev: Rev, caplog):
    caplog.set_level("INFO")
    (never_ran,) = [w for w in rev.dataset.webcasts if w.runs == {0: 0}]
    run = rev.run(
        catalog=catalog_selecting(TapRevWebcast, rev.config(), "poll_results", "poll_answers")
    )
    calls = [
        c for c in rev.api.calls if never_ran.id in c.path and c.path.endswith("/poll-results")
    ]
    assert [c.status for c in calls] == [200, 200]  # runs 0 and 1, each read once
    assert "answered an empty body" in caplog.text
    assert never_ran.id not in {r["webcast_id"] for r in run.records("poll_results")}
    truth = rev.dataset.ground_truth()
    assert len(run.records("poll_results")) == len(truth["poll_results"])
    assert len(run.records("poll_answers")) == len(truth["poll_answers"])


def test_a_webcast_deleted_mid_run_is_skipped(rev: Rev, caplog):
    gone = rev.webcast_ids()[0]

    def delete(request, response):
        if gone in request.path and request.path.endswith("/questions"):
            response.status, response.body = 404, b'{"code":"WebcastNotFound","detail":"x"}'

    rev.server.hooks.append(delete)
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "questions"))
    assert f"Rev answered 404 for webcast_id={gone}" in caplog.text
    expected = [q for q in rev.dataset.ground_truth()["questions"] if q["webcast_id"] != gone]
    assert len(run.records("questions")) == len(expected)


def test_a_persistent_5xx_fails_naming_stream_and_partition(rev: Rev):
    rev.server.script("/comments", ["503"] * 10)
    with pytest.raises(FatalAPIError) as err:
        rev.run(
            rev.config(max_retries=2, **SEQUENTIAL),
            catalog=catalog_selecting(TapRevWebcast, rev.config(), "comments"),
        )
    message = str(err.value)
    assert "stream 'comments'" in message
    assert "webcast_id=" in message
    assert "run_number=0" in message
    assert "gave up after 3 attempts" in message
    # Ten 503s: three partitions fail after three tries each; the fourth is retried once
    # and read, and the partitions after it are read too.
    assert len(failed_partitions(err.value)) == 3
    assert rev.server.count("/comments") > 3 * 3 + 2


def test_an_unparsable_timestamp_stops_naming_stream_partition_and_field(rev: Rev):
    def break_dates(request, response):
        if request.path.endswith("/post-event-report") and response.status == 200:
            body = json.loads(response.body)
            if body["sessions"]:
                body["sessions"][0]["enteredDate"] = "11/08/2020 12:47"
                response.body = json.dumps(body).encode()

    rev.server.hooks.append(break_dates)
    with pytest.raises(FatalAPIError) as err:
        rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"))
    message = str(err.value)
    assert "stream 'attendee_sessions'" in message
    assert "webcast_id=" in message
    assert "field 'entered_date' holds '11/08/2020 12:47'" in message


BAD_SETTINGS = {
    "no credentials": ({"api_key": None, "secret": None}, "'api_key' and 'secret'"),
    "key without secret": ({"secret": None}, "Setting 'secret' is required with 'api_key'"),
    "both kinds": ({"username": "u", "password": "p"}, "not both"),
    "no start_date": ({"start_date": None}, "'start_date' is required unless 'webcast_ids'"),
    "no runs": ({"run_numbers": []}, "'run_numbers' is empty"),
    "bad URL": ({"base_url": "rev.example.com"}, "'base_url' must be an absolute http(s) URL"),
    "bad type": ({"window_days": "thirty"}, "window_days"),
}


@pytest.mark.parametrize(("changes", "expected"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_settings_fail_before_any_request(rev: Rev, changes, expected):
    config = {k: v for k, v in {**rev.config(), **changes}.items() if v is not None}
    with pytest.raises(ConfigValidationError) as err:
        TapRevWebcast(config=config, validate_config=True)
    assert any(expected in line for line in err.value.errors), err.value.errors
    assert rev.server.requests == []


def run_cli(config: dict, tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_rev_webcast", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
    )


def test_cli_bad_settings_exit_with_one_clear_line_and_no_request(rev: Rev, tmp_path):
    config = {k: v for k, v in rev.config().items() if k != "secret"}
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "'secret' is required" in line]
    assert API_KEY not in result.stderr
    assert rev.server.requests == []


def test_secrets_and_tokens_never_reach_any_output_at_debug_level(tmp_path):
    """A real run in a subprocess at DEBUG, through a 401 re-login, a 429 and a 5xx."""
    dataset = RevDataset(seed=2, webcasts=5, sessions=600, api_key=API_KEY, secret=SECRET)
    server, api = start_rev_sandbox(dataset)
    api.rate_limits = {"reports": 6000, "realtime": 6000, "get": 24000}

    def trouble(request, response):
        if request.path.endswith("/comments") and api.count("/comments") == 2:
            api.revoke_tokens()  # the next call gets a 401 and the tap logs in again
            server.script("/questions", ["500"])
            server.script("/reactions", ["429"])  # with Retry-After: 1

    server.hooks.append(trouble)
    try:
        config = rev_config(
            server,
            reports_requests_per_minute=6000,
            realtime_requests_per_minute=6000,
            run_numbers=[0],
        )
        result = run_cli(config, tmp_path, LOGLEVEL="DEBUG", TAP_REV_WEBCAST_LOG_LEVEL="DEBUG")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert '"RECORD"' in result.stdout
    assert "DEBUG" in result.stderr
    assert api.count("/api/v2/authenticate") == 2
    # Comments and the other report GETs now go at the GET pace: several may be in flight
    # when the tokens are revoked, and all their 401s share the one new login.
    assert api.count("", status=401) >= 1
    assert server.faults_injected("429") == server.faults_injected("500") == 1
    for secret in (API_KEY, SECRET, PASSWORD, *api.issued_tokens):
        assert secret not in output
