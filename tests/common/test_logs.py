"""The SDK lines our taps replace: a failure is named once, by the stream that failed."""

from __future__ import annotations

from tap_cast.tap import TapCast
from tests.helpers import failed_partitions, run_tap


def test_a_failure_is_named_by_the_stream_that_failed_only(cast_sandbox, config, caplog):
    server, _ = cast_sandbox

    def campaign_list_fails(request, response):
        if request.path.endswith("/generation"):
            response.status = 500

    server.hooks.append(campaign_list_fails)
    # analytics_events syncs first and plans its partitions from the campaign list.
    run = run_tap(TapCast, {**config, "max_retries": 0}, expect_error=True)
    lines = failed_partitions(run.error)
    assert lines
    assert all(line.startswith("stream 'campaigns' cast_id=") for line in lines)
    assert "HTTP 500" in caplog.text or "500" in str(run.error)
    assert "An unhandled error occurred while syncing" not in caplog.text


def test_the_misleading_unsorted_warning_is_not_logged(cast_sandbox, config, caplog):
    caplog.set_level("INFO")
    run = run_tap(TapCast, config)
    assert run.records("analytics_events")
    assert "analytics_events: partition 1 of" in caplog.text  # the stream's lines are seen
    assert "progress is not resumable" not in caplog.text


def test_per_partition_sdk_lines_move_to_debug(cast_sandbox, config, caplog):
    caplog.set_level("INFO")
    run_tap(TapCast, config)
    # Once per stream: the stream has started (a kill point for tests/reliability too).
    assert caplog.text.count("Beginning sync of 'analytics_events'") == 1
    assert caplog.text.count("Beginning sync of 'campaign_timeline'") == 1
    assert "Starting incremental sync of" not in caplog.text
    caplog.clear()
    caplog.set_level("DEBUG")
    run_tap(TapCast, config)
    assert "Starting incremental sync of 'analytics_events'" in caplog.text


def test_one_line_per_finished_partition_and_a_summary_per_stream(
    cast_sandbox, cast_dataset, config, caplog
):
    caplog.set_level("INFO")
    run = run_tap(TapCast, {**config, "event_types": ["view", "play"]})
    partitions = len(cast_dataset.ground_truth()["campaigns"]) * 2
    lines = [
        r.getMessage() for r in caplog.records if "analytics_events: partition" in r.getMessage()
    ]
    assert len(lines) == partitions
    assert lines[-1].startswith(f"analytics_events: partition {partitions} of {partitions} done (")
    rows = len(run.records("analytics_events"))
    messages = [record.getMessage() for record in caplog.records]
    (summary,) = [line for line in messages if line.startswith("analytics_events: done:")]
    assert summary.startswith(f"analytics_events: done: {partitions} partitions, {rows:,} rows, ")
    assert " requests, 0 retries, " in summary
    # Rows are counted as written, not as mapped: tap-cast also maps campaigns to plan.
    campaigns = len(run.records("campaigns"))
    assert f"campaigns: done: 2 partitions, {campaigns:,} rows, " in caplog.text


def test_counts_of_one_are_singular(cast_sandbox, config, caplog):
    caplog.set_level("INFO")
    run_tap(TapCast, {**config, "cast_ids": config["cast_ids"][:1]})
    assert "cross_campaign_summary: done: 1 partition, " in caplog.text
    assert ", 1 request, 0 retries, " in caplog.text


def test_metric_lines_only_when_asked_for(cast_sandbox, config, caplog):
    caplog.set_level("INFO")
    run_tap(TapCast, config)
    assert "METRIC:" not in caplog.text
    caplog.clear()
    run_tap(TapCast, {**config, "log_metrics": True})
    assert '"metric":"http_request_duration"' in caplog.text


def test_a_stream_that_failed_is_summed_up_as_stopped(cast_sandbox, config, caplog):
    server, _ = cast_sandbox

    def events_fail(request, response):
        if request.path.endswith("/analytics_events"):
            response.status = 500

    server.hooks.append(events_fail)
    caplog.set_level("INFO")
    run_tap(TapCast, {**config, "max_retries": 0, "max_concurrency": 1}, expect_error=True)
    # Five partitions fail in a row (one request each), and the run stops.
    assert "analytics_events: stopped: 0 partitions, 0 rows, 5 requests, 0 retries" in caplog.text
    assert "analytics_events: done:" not in caplog.text
