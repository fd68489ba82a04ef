"""Rate-limit families as Vbrick's clients apply them, and a 429 that slows its family."""

from __future__ import annotations

import itertools

from tests.helpers import SEQUENTIAL, Rev, rev_dataset, start_rev

OTHER_REPORTS = ("/comments", "/poll-results", "/questions", "/reactions", "/registrations")


def test_only_the_post_event_report_is_in_the_report_family(rev: Rev):
    rev.run(rev.config(include_realtime_attendees=False, **SEQUENTIAL))
    for call in rev.api.calls:
        if call.path.endswith("/post-event-report"):
            assert call.family == "reports"
        elif call.path.endswith(OTHER_REPORTS):
            assert call.family == "get", call.path
    assert rev.api.throttled() == 0


def test_a_429_slows_its_family_for_the_rest_of_the_run_instead_of_failing(capture_logs):
    rev = start_rev(rev_dataset(sessions=2500))
    try:
        rev.api.rate_limits["reports"] = 10  # the tap is told 120: it will be throttled
        config = rev.config(
            throttle_wait_seconds=30, include_realtime_attendees=False, max_retries=1, **SEQUENTIAL
        )
        run = rev.run(config)
        calls = sorted((c for c in rev.api.calls if c.family == "reports"), key=lambda c: c.at)
        truth = rev.dataset.ground_truth()
    finally:
        rev.server.stop()
    throttled = [c for c in calls if c.throttled]
    assert throttled  # otherwise this test proves nothing
    # More 429s in a row than 'max_retries' allows attempts: still no failed run.
    assert len(throttled) > config["max_retries"] + 1
    assert len(run.records("attendee_sessions")) == len(truth["attendee_sessions"])
    # After the first 429 the family never again goes at 120 a minute (0.525 s apart):
    # its pace halved, and halves again with each 429.
    after = [c.at for c in calls if c.at > throttled[0].at]
    gaps = [later - earlier for earlier, later in itertools.pairwise(after)]
    assert min(gaps) >= 2 * 0.525 - 0.01
    assert "throttled the 'reports' requests (HTTP 429)" in capture_logs.text
