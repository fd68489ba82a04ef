"""tap-rev-webcast relies on one sync order: attendee_sessions before
webcast_attendance_summary for each webcast run, which then takes the summary of the
report attendee_sessions read instead of requesting the report again."""

from __future__ import annotations

from tap_rev_webcast.tap import TapRevWebcast


def test_attendee_sessions_syncs_before_the_attendance_summary(rev):
    tap = TapRevWebcast(config=rev.config())
    children = [child.name for child in tap.streams["webcasts"].child_streams]
    assert children.index("attendee_sessions") < children.index("webcast_attendance_summary")


def test_summary_comes_from_the_sessions_report_without_a_second_read(rev):
    run = rev.run()
    summaries = run.records("webcast_attendance_summary")
    completed_runs = {
        (webcast_id, run_number)
        for webcast_id in rev.webcast_ids()
        for run_number in rev.config()["run_numbers"]
    }
    assert {(row["webcast_id"], row["run_number"]) for row in summaries} <= completed_runs
    assert summaries, "the sandbox served no post-event report"
    # Each report's first page was read once: by attendee_sessions, not again for the summary.
    first_pages = [
        (call.path, tuple(call.query.get("runNumber", [])))
        for call in rev.api.calls
        if call.path.endswith("/post-event-report") and "scrollId" not in call.query
    ]
    assert first_pages
    assert len(first_pages) == len(set(first_pages))
