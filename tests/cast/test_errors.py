"""tap-cast under faults and bad input: retries, clear fatal errors, nothing leaked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tap_cast.tap import TapCast
from tests.helpers import CAST_API_KEY as API_KEY
from tests.helpers import catalog_selecting, failed_partitions, run_tap

LISTING = "/generation"


def test_retry_after_is_honoured(cast_sandbox, config):
    server, _ = cast_sandbox
    server.faults.retry_after = 1
    server.script("/cross_campaign_analytics_summary", ["429"])
    run = run_tap(
        TapCast,
        {**config, "retry_base_seconds": 0},
        catalog=catalog_selecting(TapCast, config, "cross_campaign_summary"),
    )
    hits = [r for r in server.requests if "/cross_campaign_analytics_summary" in r.path]
    assert [r.status for r in hits[:2]] == [429, 200]
    # retry_base_seconds is 0: only the Retry-After header can explain a one-second gap.
    assert hits[1].time - hits[0].time >= 1.0
    assert len(run.records("cross_campaign_summary")) > 0


def test_transient_faults_are_retried_without_loss(cast_sandbox, cast_dataset, config):
    server, _ = cast_sandbox
    faults = ["429-no-retry-after", "500", "502", "503", "drop", "truncate", "html"]
    server.script("/analytics_events", faults)
    run = run_tap(
        TapCast,
        {**config, "max_retries": 8},
        catalog=catalog_selecting(TapCast, config, "analytics_events"),
    )
    injected = [r for r in server.requests if r.fault]
    assert [r.fault for r in injected] == faults
    expected = len(cast_dataset.ground_truth()["analytics_events"])
    rows = run.records("analytics_events")
    assert len(rows) == len({r["event_key"] for r in rows}) == expected


def test_timeout_is_retried(cast_sandbox, config):
    server, _ = cast_sandbox
    server.faults.slow_seconds = 3
    server.script("/cross_campaign_analytics_summary", ["slow"])
    run = run_tap(
        TapCast,
        {**config, "request_timeout": 1},
        catalog=catalog_selecting(TapCast, config, "cross_campaign_summary"),
    )
    assert len(run.records("cross_campaign_summary")) > 0


def test_persistent_5xx_fails_naming_stream_and_partition(cast_sandbox, cast_dataset, config):
    server, _ = cast_sandbox
    server.script("/cross_campaign_analytics_summary", ["503"] * 10)
    with pytest.raises(FatalAPIError) as err:
        run_tap(
            TapCast,
            {**config, "max_retries": 2},
            catalog=catalog_selecting(TapCast, config, "cross_campaign_summary"),
        )
    message = str(err.value)
    assert "cross_campaign_summary" in message
    assert "cast_id=" in message
    assert "503" in message
    assert "gave up after 3 attempts" in message
    # Each cast's partition fails after three tries; neither stops the other.
    assert len(failed_partitions(err.value)) == len(cast_dataset.cast_ids()) == 2
    assert server.count("/cross_campaign_analytics_summary") == 3 * 2


def test_html_page_with_200_is_a_clear_error(cast_sandbox, config):
    server, _ = cast_sandbox
    server.script("/cross_campaign_analytics_summary", ["html"] * 10)
    with pytest.raises(FatalAPIError) as err:
        run_tap(
            TapCast,
            {**config, "max_retries": 1},
            catalog=catalog_selecting(TapCast, config, "cross_campaign_summary"),
        )
    assert "not JSON" in str(err.value)
    assert "text/html" in str(err.value)


def test_rejected_key_is_fatal_and_not_printed(cast_sandbox, config, caplog):
    server, _ = cast_sandbox
    wrong = "wrong-KEY-$#!&-value"
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapCast, {**config, "api_key": wrong})
    message = str(err.value)
    assert "rejected the API key for org 'demo-org'" in message
    assert "api_key" in message
    assert wrong not in message
    assert wrong not in caplog.text
    assert server.count(LISTING) == 1, "a 401 must not be retried"


def test_campaign_deleted_after_listing_is_skipped(cast_sandbox, cast_dataset, config, caplog):
    _server, api = cast_sandbox
    gone = cast_dataset.ground_truth()["campaigns"][0]["generate_group"]
    api.gone_generations.add(gone)
    run = run_tap(TapCast, config)
    assert gone in caplog.text
    assert "Skipping" in caplog.text
    analytics = {r["generation_id"] for r in run.records("campaign_analytics")}
    events = {r["generation_id"] for r in run.records("analytics_events")}
    campaigns = {c["generate_group"] for c in cast_dataset.ground_truth()["campaigns"]}
    assert analytics == events == campaigns - {gone}


def test_unknown_cast_is_a_clear_error(cast_sandbox, config):
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapCast, {**config, "cast_ids": [999999]})
    assert "cast_ids" in str(err.value)
    assert "cast_id=999999" in str(err.value)


def test_invalid_settings_raise_before_any_request(cast_sandbox, config):
    server, _ = cast_sandbox
    cases = {
        "api_key": {k: v for k, v in config.items() if k != "api_key"},
        "cast_ids": {**config, "cast_ids": []},
        "base_url": {**config, "base_url": "cast.app/designer"},
        "page_size": {**config, "page_size": "two hundred"},
    }
    for setting, bad in cases.items():
        with pytest.raises(ConfigValidationError) as err:
            TapCast(config=bad, validate_config=True)
        assert setting in " ".join(err.value.errors), setting
    assert server.requests == []


CLI_CASES = [
    ({"org_slug": "demo-org", "cast_ids": [1]}, "api_key"),
    ({"api_key": API_KEY, "org_slug": "demo-org", "cast_ids": "1940"}, "cast_ids"),
    (
        {"api_key": API_KEY, "org_slug": "demo-org", "cast_ids": [1], "base_url": "ftp://x"},
        "base_url",
    ),
    ({"api_key": API_KEY, "org_slug": "demo org!", "cast_ids": [1]}, "org_slug"),
]


@pytest.mark.parametrize(("settings", "named"), CLI_CASES)
def test_cli_bad_settings_exit_non_zero_with_one_clear_line(
    tmp_path, cast_sandbox, settings, named
):
    server, _ = cast_sandbox
    settings = {"base_url": server.url, **settings}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(settings))
    result = subprocess.run(
        [sys.executable, "-m", "tap_cast", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if named in line]
    assert error_lines, result.stderr
    assert API_KEY not in result.stderr
    assert server.requests == []


def test_cli_fatal_api_error_is_one_line_without_traceback(tmp_path, cast_sandbox, config):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "api_key": "not-the-key"}))
    result = subprocess.run(
        [sys.executable, "-m", "tap_cast", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "rejected the API key" in result.stderr
    assert "not-the-key" not in result.stderr + result.stdout


def test_secret_never_in_output_at_debug_level(tmp_path, cast_sandbox, config):
    server, _ = cast_sandbox
    server.script("/analytics_events", ["500", "429", "drop"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "tap_cast", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOGLEVEL": "DEBUG", "TAP_CAST_LOG_LEVEL": "DEBUG"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RECORD" in result.stdout
    assert API_KEY not in result.stdout + result.stderr


def test_unparsable_timestamp_stops_naming_stream_partition_and_field(cast_sandbox, config):
    server, _ = cast_sandbox

    def break_event_at(request, response):
        if "/analytics_events" in request.path:
            body = json.loads(response.body)
            if body["results"]:
                body["results"][0]["event_at"] = "20/12/2022 22:54"
                response.body = json.dumps(body).encode()

    server.hooks.append(break_event_at)
    with pytest.raises(FatalAPIError) as err:
        run_tap(TapCast, config, catalog=catalog_selecting(TapCast, config, "analytics_events"))
    message = str(err.value)
    assert "stream 'analytics_events'" in message
    assert "generation_id=" in message
    assert "event_type=" in message
    assert "field 'event_at' holds '20/12/2022 22:54'" in message


def test_unknown_vendor_fields_are_kept(cast_sandbox, config):
    server, _ = cast_sandbox

    def add_field(request, response):
        if "/analytics_events" in request.path:
            body = json.loads(response.body)
            for event in body["results"]:
                event["scene_name"] = "Intro"
            response.body = json.dumps(body).encode()

    server.hooks.append(add_field)
    run = run_tap(TapCast, config, catalog=catalog_selecting(TapCast, config, "analytics_events"))
    rows = run.records("analytics_events")
    assert rows
    assert all(row["unmapped_fields"] == {"scene_name": "Intro"} for row in rows)
