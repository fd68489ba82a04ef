"""Surprising payloads: each is handled by a documented policy or stops with a clear error.

Policies (docs/reliability.md, "Hostile or broken payloads"): unknown fields are kept in
`unmapped_fields`; a missing optional field lands as null; a missing or mistyped key field
stops the run naming stream, partition and field; an understated count never ends paging
early; huge strings and any unicode pass through unchanged; a CSV with a missing column
stops, an extra column is a registration-form field, an extra cell stops.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME
from tests.helpers import rewrite_events, run_tap, webcasts_config

EVENTS = "/analytics_events"


def test_understated_count_loses_nothing(
    cast_sandbox, cast_dataset, config, caplog, events_catalog
):
    server, _ = cast_sandbox

    def understate(request, response):
        if EVENTS in request.path:
            body = json.loads(response.body)
            body["count"] = 3
            response.body = json.dumps(body).encode()

    server.hooks.append(understate)
    run = run_tap(TapCast, {**config, "page_size": 7}, catalog=events_catalog)
    assert len(run.records("analytics_events")) == len(
        cast_dataset.ground_truth()["analytics_events"]
    )
    assert "instead of trusting it" in caplog.text


def test_huge_strings_and_unicode_pass_through(cast_sandbox, config, events_catalog):
    server, _ = cast_sandbox
    huge = "Zoë 🚀 " * 200_000  # 1.4 MB of mixed-width unicode

    def enlarge(event):
        event["contact_name"] = huge

    rewrite_events(server, enlarge)
    run = run_tap(TapCast, {**config, "event_types": ["view"]}, catalog=events_catalog)
    rows = run.records("analytics_events")
    assert rows
    assert all(row["contact_name"] == huge for row in rows)


def test_missing_optional_field_lands_as_null(cast_sandbox, cast_dataset, config, events_catalog):
    server, _ = cast_sandbox
    rewrite_events(server, lambda event: event.pop("contact_phone"))
    run = run_tap(TapCast, config, catalog=events_catalog)
    rows = run.records("analytics_events")
    assert len(rows) == len(cast_dataset.ground_truth()["analytics_events"])
    assert all(row.get("contact_phone") is None for row in rows)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda event: event.pop("event_at"), "field 'event_at' holds None"),
        (lambda event: event.update(event_at=1671576873), "field 'event_at' holds 1671576873"),
    ],
    ids=["missing key field", "wrong type"],
)
def test_missing_or_mistyped_key_field_stops_clearly(
    cast_sandbox, config, change, expected, events_catalog
):
    server, _ = cast_sandbox
    rewrite_events(server, change)
    run = run_tap(TapCast, config, catalog=events_catalog, expect_error=True)
    message = str(run.error)
    assert "stream 'analytics_events'" in message
    assert "generation_id=" in message
    assert expected in message


@pytest.fixture
def csv_webcasts():
    dataset = WebcastsDataset(
        seed=12, events=2, registrants_per_event=20, username=USERNAME, password=PASSWORD
    )
    server, api = start_webcasts_sandbox(dataset)
    api.stream_responses = False  # whole bodies, so a hook can rewrite them
    yield server, dataset
    server.stop()


def rewrite_csv(server, change) -> None:
    def hook(request, response):
        if request.path.endswith("/audiencereports/csv"):
            lines = response.body.decode().split("\r\n")
            response.body = "\r\n".join(change(lines)).encode()

    server.hooks.append(hook)


def test_csv_missing_column_stops_naming_it(csv_webcasts):
    server, _ = csv_webcasts

    def drop_company(lines):
        rows = list(csv.reader(line for line in lines if line))
        index = rows[0].index("Company")
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(
            [cell for i, cell in enumerate(row) if i != index] for row in rows
        )
        return out.getvalue().split("\r\n")

    rewrite_csv(server, drop_company)
    run = run_tap(TapWebcasts, webcasts_config(server, response_format="csv"), expect_error=True)
    assert "lacks the columns ['Company']" in str(run.error)
    assert "event " in str(run.error)


def test_csv_extra_column_is_kept_as_a_form_field(csv_webcasts):
    server, dataset = csv_webcasts

    def add_column(lines):
        return [
            lines[0] + ",Favourite Colour",
            *(line + ",teal" if line else line for line in lines[1:]),
        ]

    rewrite_csv(server, add_column)
    run = run_tap(TapWebcasts, webcasts_config(server, response_format="csv"))
    rows = run.records("audience")
    assert len(rows) == len(dataset.ground_truth()["audience"])
    assert all(row["registration_fields"]["Favourite Colour"] == "teal" for row in rows)


def test_csv_extra_cell_stops_instead_of_shifting_columns(csv_webcasts):
    server, _ = csv_webcasts
    rewrite_csv(server, lambda lines: [lines[0], lines[1] + ",surplus", *lines[2:]])
    run = run_tap(TapWebcasts, webcasts_config(server, response_format="csv"), expect_error=True)
    assert "CSV line 2 has more cells than the header" in str(run.error)
