"""The SDK lines our taps replace: a failure is named once, by the stream that failed."""

from __future__ import annotations

from tap_cast.tap import TapCast
from tests.helpers import run_tap


def test_a_failure_is_named_by_the_stream_that_failed_only(cast_sandbox, config, caplog):
    server, _ = cast_sandbox

    def campaign_list_fails(request, response):
        if request.path.endswith("/generation"):
            response.status = 500

    server.hooks.append(campaign_list_fails)
    # analytics_events syncs first and plans its partitions from the campaign list.
    run = run_tap(TapCast, {**config, "max_retries": 0}, expect_error=True)
    assert str(run.error).startswith("stream 'campaigns' cast_id=")
    assert "HTTP 500" in caplog.text or "500" in str(run.error)
    assert "An unhandled error occurred while syncing" not in caplog.text


def test_the_misleading_unsorted_warning_is_not_logged(cast_sandbox, config, caplog):
    caplog.set_level("INFO")
    run = run_tap(TapCast, config)
    assert run.records("analytics_events")
    assert "Beginning sync of 'analytics_events'" in caplog.text  # the SDK's lines are seen
    assert "progress is not resumable" not in caplog.text
