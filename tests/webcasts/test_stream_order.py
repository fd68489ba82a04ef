"""tap-webcasts relies on one sync order: `audience` is the last report stream of an event.

Its bookmark sets the next run's report window for all four report streams, so it must be
committed after the other three have written their rows from the same report.
"""

from __future__ import annotations

from tap_webcasts.tap import TapWebcasts
from tests.helpers import run_tap

REPORT_STREAMS = ("audience_sessions", "audience_questions", "audience_survey_answers")


def test_audience_is_the_last_child_of_events(config):
    tap = TapWebcasts(config=config)
    children = [child.name for child in tap.streams["events"].child_streams]
    assert children == [*REPORT_STREAMS, "audience"]


def test_audience_rows_of_an_event_follow_every_other_report_row(config):
    run = run_tap(TapWebcasts, config)
    last_row_of: dict[tuple[str, int], int] = {}
    first_audience_row: dict[int, int] = {}
    for index, message in enumerate(run.messages):
        if message["type"] != "RECORD":
            continue
        ei = message["record"]["ei"]
        if message["stream"] == "audience":
            first_audience_row.setdefault(ei, index)
        elif message["stream"] in REPORT_STREAMS:
            last_row_of[(message["stream"], ei)] = index
    assert first_audience_row, "the sandbox served no registrants"
    assert {stream for stream, _ in last_row_of} == set(REPORT_STREAMS)
    for (stream, ei), index in last_row_of.items():
        assert index < first_audience_row[ei], (stream, ei)
