"""JSON array columns (webcasts' categories, external_presenters, background_images; each
session's polls; registration_fields_answers) are declared without items, so target-postgres
lands them as one `jsonb` value, not `jsonb[]`; their objects land as Rev sends them, keys in
snake_case, a member the tap does not know included (docs/warehouses.md, "Column types in PostgreSQL")."""

from __future__ import annotations

import json

import jsonschema

from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import rev_dataset, run_tap, start_rev, tap_with_clock

JSON_ARRAYS = {
    "webcasts": ("categories", "external_presenters", "background_images"),
    "attendee_sessions": ("polls",),
    "registrations": ("registration_fields_answers",),
}


def test_json_array_columns_declare_no_items():
    catalog = TapRevWebcast(config={}, validate_config=False).catalog_dict
    schemas = {entry["tap_stream_id"]: entry["schema"] for entry in catalog["streams"]}
    for stream, columns in JSON_ARRAYS.items():
        for column in columns:
            assert schemas[stream]["properties"][column]["type"] == ["array", "null"], column
            assert "items" not in schemas[stream]["properties"][column], column


def test_poll_objects_land_whole_and_match_the_schema():
    rev = start_rev(rev_dataset())

    def poll_with_a_new_member(request, response):
        if "/post-event-report" not in request.path or response.status != 200:
            return
        body = json.loads(response.body)
        for session in body.get("sessions") or []:
            for poll in session.get("polls") or []:
                poll["pollType"] = {"kind": "MultipleChoice", "options": [1, 2]}
        response.body = json.dumps(body).encode()

    rev.server.hooks.append(poll_with_a_new_member)
    try:
        run = run_tap(tap_with_clock(rev.clock), rev.config())
    finally:
        rev.server.stop()
    schema = next(
        m["schema"]
        for m in run.messages
        if m["type"] == "SCHEMA" and m["stream"] == "attendee_sessions"
    )
    polls = []
    for record in run.records("attendee_sessions"):
        jsonschema.validate(record, schema)
        polls.extend(record["polls"] or [])
    assert polls
    for poll in polls:
        assert set(poll) == {"poll_id", "question", "answers", "when", "poll_type"}
        assert poll["poll_type"] == {"kind": "MultipleChoice", "options": [1, 2]}
