"""Every RECORD a tap writes validates against its SCHEMA message, whatever the vendor sends.

Each tap runs against its sandbox, as served and with hostile values written into the
vendor's bodies (numbers as text, text where numbers belong, unpaired surrogates, NUL and
other control characters); its whole output goes through a JSON Schema validator.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from sandbox import CastDataset, WebcastsDataset, start_cast_sandbox, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    cast_config,
    invalid_records,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
    webcasts_config,
)

HOSTILE_TEXT = "caf\u00e9 \ud800 tab\there bell\x07 nul\x00 end"


def rewrite_json(server: t.Any, path_end: str, change: t.Callable[[t.Any], None]) -> None:
    """Every JSON body of a path ending in ``path_end`` goes through ``change``."""

    def hook(request: t.Any, response: t.Any) -> None:
        if request.path.endswith(path_end) and response.status == 200 and response.body:
            body = json.loads(response.body)
            change(body)
            response.body = json.dumps(body).encode()

    server.hooks.append(hook)


def rows(body: t.Any, key: str | None = None) -> list[dict]:
    found = body.get(key) if key and isinstance(body, dict) else body
    return [row for row in found or [] if isinstance(row, dict)]


@pytest.fixture
def cast() -> t.Iterator[tuple[t.Any, dict]]:
    dataset = CastDataset(
        seed=7,
        casts=1,
        campaigns_per_cast=2,
        events_per_type=15,
        org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )
    server, _ = start_cast_sandbox(dataset)
    yield server, cast_config(server, dataset)
    server.stop()


def test_cast_output_validates_as_served(cast):
    _, config = cast
    run = run_tap(TapCast, config)
    assert run.records("campaigns")
    assert invalid_records(run) == []


def test_cast_hostile_values_are_coerced_or_cleaned_and_validate(cast):
    server, config = cast

    def campaigns(body: t.Any) -> None:
        for row in rows(body):
            row["TOTAL"] = f" {row.get('TOTAL') or 0} "  # a count sent as text
            row["name"] = HOSTILE_TEXT
            row["status"] = 3  # a number where text belongs

    def events(body: t.Any) -> None:
        for row in rows(body, "results"):
            row["contact_name"] = HOSTILE_TEXT

    rewrite_json(server, "/generation", campaigns)
    rewrite_json(server, "/analytics_events", events)
    run = run_tap(TapCast, config)
    assert invalid_records(run) == []
    campaigns_out = run.records("campaigns")
    assert all(isinstance(row["total_count"], int) for row in campaigns_out)
    assert {row["status"] for row in campaigns_out} == {"3"}
    cleaned = "caf\u00e9 \ufffd tab\there bell\x07 nul end"
    assert {row["name"] for row in campaigns_out} == {cleaned}
    assert {row["contact_name"] for row in run.records("analytics_events")} == {cleaned}


def test_cast_a_count_that_is_no_number_stops_naming_the_field(cast):
    server, config = cast

    def campaigns(body: t.Any) -> None:
        rows(body)[0]["TOTAL"] = "n/a"

    rewrite_json(server, "/generation", campaigns)
    run = run_tap(TapCast, config, expect_error=True)
    assert "total_count" in str(run.error)
    assert "'n/a'" in str(run.error)


def test_webcasts_output_validates_in_every_format():
    dataset = WebcastsDataset(
        seed=3,
        events=2,
        registrants_per_event=12,
        username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
    )
    server, _ = start_webcasts_sandbox(dataset)
    try:
        for response_format in ("xml", "json", "csv"):
            config = webcasts_config(server, response_format=response_format)
            run = run_tap(TapWebcasts, config)
            assert run.records("audience"), response_format
            assert invalid_records(run) == [], response_format
    finally:
        server.stop()


def test_rev_hostile_values_are_coerced_or_cleaned_and_validate():
    rev = start_rev(rev_dataset())
    try:

        def sessions(body: t.Any) -> None:
            for row in rows(body, "sessions"):
                row["experiencedErrors"] = str(row.get("experiencedErrors") or 0)
                row["browser"] = HOSTILE_TEXT

        rewrite_json(rev.server, "/post-event-report", sessions)
        run = run_tap(tap_with_clock(rev.clock), rev.config())
    finally:
        rev.server.stop()
    assert invalid_records(run) == []
    sessions_out = run.records("attendee_sessions")
    assert sessions_out
    assert all(isinstance(row["experienced_errors"], int) for row in sessions_out)
    assert {row["browser"] for row in sessions_out} == {
        "caf\u00e9 \ufffd tab\there bell\x07 nul end"
    }
