"""Registrations and comments: every row once against the sandbox's truth, across pages.

Registrations page with ``size`` and a forward-only scrollId and carry no total; comments
are a bare array as documented, or scrolled (an assumption: the spec's description pages
them, its schema does not).
"""

from __future__ import annotations

import json

import pytest

from sandbox.rev import LAST_PAGE_VARIANTS
from tap_rev_webcast import streams
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import (
    SEQUENTIAL,
    Rev,
    catalog_selecting,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
)


@pytest.fixture
def rev_public():
    # Every other webcast Public (listing types cycle AllUsers, Public, Private, ...).
    sandbox = start_rev(rev_dataset(webcasts=9, sessions=40))
    yield sandbox
    sandbox.server.stop()


def selected(rev: Rev, *names: str, **overrides) -> tuple[dict, dict]:
    config = rev.config(include_realtime_attendees=False, **SEQUENTIAL, **overrides)
    return config, catalog_selecting(TapRevWebcast, config, "webcasts", *names)


def registration_keys(rows: list[dict]) -> list[tuple]:
    return sorted((r["webcast_id"], r.get("registration_id") or r["registrationId"]) for r in rows)


@pytest.mark.parametrize("last_page", LAST_PAGE_VARIANTS)
def test_every_registration_once_across_pages(rev_public: Rev, last_page: str):
    rev = rev_public
    rev.api.last_page = last_page
    rev.api.registrations_max_size = 7  # a cap below the size the tap asks for
    config, catalog = selected(rev, "registrations")
    run = rev.run(config, catalog)
    truth = rev.dataset.ground_truth()["registrations"]
    assert len(truth) > 20
    assert registration_keys(run.records("registrations")) == registration_keys(truth)
    row = run.records("registrations")[0]
    raw = next(r for r in truth if r["registrationId"] == row["registration_id"])
    assert row["email"] == raw["email"]
    assert row["registration_fields_answers"] == raw["registrationFieldsAnswers"]
    # Only Public webcasts are asked; each in one context (the first run number).
    public = {w.id for w in rev.dataset.webcasts if w.listing_type == "Public" and w.completed}
    asked = {c.path.split("/")[4] for c in rev.api.calls if c.path.endswith("/registrations")}
    assert asked == public
    first_pages = [c for c in rev.api.calls if c.path.endswith("/registrations")]
    assert all(c.query["size"] == ["500"] for c in first_pages)


def test_a_lost_registrations_page_restarts_without_duplicates(rev_public: Rev):
    rev = rev_public
    rev.api.registrations_max_size = 5
    failed = []

    def fail_a_second_page_once(request, response):
        if request.path.endswith("/registrations") and "scrollId" in request.query and not failed:
            failed.append(request.path)
            response.status, response.body = 503, b""

    rev.server.hooks.append(fail_a_second_page_once)
    config, catalog = selected(rev, "registrations")
    run = rev.run(config, catalog)
    assert failed
    truth = rev.dataset.ground_truth()["registrations"]
    assert registration_keys(run.records("registrations")) == registration_keys(truth)


def test_a_scroll_error_answered_with_200_restarts_the_scroll_without_loss(rev_public: Rev):
    """Vbrick's JS client reads {statusCode >= 400, statusDescription} in a 200 as a failed
    scroll; the tap must not read it as the end of the registrations."""
    rev = rev_public
    rev.api.registrations_max_size = 5
    answered = []

    def error_in_a_200_once(request, response):
        later_page = request.path.endswith("/registrations") and "scrollId" in request.query
        if later_page and not answered:
            answered.append(request.path)
            error = {"statusCode": 400, "statusDescription": "Invalid scroll id"}
            response.body = json.dumps(error).encode()

    rev.server.hooks.append(error_in_a_200_once)
    config, catalog = selected(rev, "registrations")
    run = rev.run(config, catalog)
    assert answered
    truth = rev.dataset.ground_truth()["registrations"]
    assert registration_keys(run.records("registrations")) == registration_keys(truth)


def test_a_scroll_error_answered_with_200_every_time_stops_with_one_line(rev_public: Rev):
    rev = rev_public
    rev.api.registrations_max_size = 5

    def error_in_every_200(request, response):
        if request.path.endswith("/registrations") and "scrollId" in request.query:
            error = {"statusCode": 400, "statusDescription": "Invalid scroll id"}
            response.body = json.dumps(error).encode()

    rev.server.hooks.append(error_in_every_200)
    config, catalog = selected(rev, "registrations", max_retries=1)
    run = run_tap(tap_with_clock(rev.clock), config, catalog=catalog, expect_error=True)
    assert "stream 'registrations'" in str(run.error)
    assert "statusCode 400: Invalid scroll id" in str(run.error)


@pytest.mark.parametrize("answer", ["bad_request", "empty", "forbidden", "not_found"])
def test_a_webcast_that_is_not_public_never_fails_the_run(rev_public: Rev, answer: str):
    rev = rev_public
    rev.api.registrations_non_public = answer

    def hide_listing_types(request, response):  # the tap must then ask every webcast
        if request.path == "/api/v2/scheduled-events":
            rows = json.loads(response.body)
            for row in rows:
                del row["listingType"]
            response.body = json.dumps(rows).encode()

    rev.server.hooks.append(hide_listing_types)
    config, catalog = selected(rev, "registrations")
    run = rev.run(config, catalog)
    truth = rev.dataset.ground_truth()["registrations"]
    assert registration_keys(run.records("registrations")) == registration_keys(truth)
    completed = {w.id for w in rev.dataset.webcasts if w.completed}
    asked = {c.path.split("/")[4] for c in rev.api.calls if c.path.endswith("/registrations")}
    assert asked == completed


def test_comments_scrolled_across_pages_are_read_completely(rev: Rev):
    rev.api.comments_paging = "scroll"
    rev.api.comments_max_size = 4
    for webcast_id in rev.webcast_ids():
        rev.dataset.add_comments(webcast_id, 9)
    config, catalog = selected(rev, "comments")
    run = rev.run(config, catalog)
    truth = rev.dataset.ground_truth()["comments"]
    assert sorted(r["comment_id"] for r in run.records("comments")) == sorted(
        r["commentId"] for r in truth
    )
    assert rev.api.count("/comments") > 2 * len(rev.webcast_ids())  # pages were followed


def test_a_bare_comment_list_that_fills_size_is_warned_about_with_numbers(
    rev: Rev, monkeypatch, caplog
):
    monkeypatch.setattr(streams, "COMMENTS_PER_RESPONSE", 5)
    for webcast_id in rev.webcast_ids():
        rev.dataset.add_comments(webcast_id, 9)
    config, catalog = selected(rev, "comments")
    rev.run(config, catalog)
    assert "answered 5 comments, the 'size' asked for, as a bare list" in caplog.text
    assert all(c.query["size"] == ["5"] for c in rev.api.calls if c.path.endswith("/comments"))


def test_the_js_client_field_names_give_the_same_records(rev: Rev):
    config = rev.config(include_realtime_attendees=False, **SEQUENTIAL)
    openapi = rev.run(config)
    rev.api.field_names = "js_client"  # /status eventTitle, multicastErrorsPerAttendees, ...
    js_client = rev.run(config)
    for stream in ("attendee_sessions", "comments", "registrations", "questions"):
        assert js_client.records(stream) == openapi.records(stream), stream
    webcasts = {r["id"]: r for r in js_client.records("webcasts")}
    for row in openapi.records("webcasts"):
        other = webcasts[row["id"]]
        assert other["categories"] == row["categories"]  # fullpath read as full_path
        assert other["status"] == row["status"]
        assert set(other["unmapped_fields"] or {}) - set(row["unmapped_fields"] or {}) == {
            "event_admin",
            "auto_associate_vod",
            "redirect_vod",
        }
