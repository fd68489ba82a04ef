"""JSON array columns (scenes_watched, actions_clicked, feedbacks, delivery_reminders) are
declared without items, so target-postgres lands them as one `jsonb` value, not `jsonb[]`;
whatever the vendor puts in them lands verbatim (docs/warehouses.md, "Column types in PostgreSQL")."""

from __future__ import annotations

import json

import jsonschema

from sandbox import CastDataset, start_cast_sandbox
from tap_cast.tap import TapCast
from tests.helpers import CAST_API_KEY, CAST_ORG, cast_config, run_tap

JSON_ARRAYS = {
    "campaigns": ("delivery_reminders",),
    "campaign_analytics": ("scenes_watched", "actions_clicked", "feedbacks"),
}
# Items of any shape: unknown and nested keys, numbers, text, null, a list in a list.
ODD_ITEMS = [{"scene": 1, "new_vendor_key": {"deep": [1, 2.5]}}, 7, "text", None, [1, [2]]]


def test_json_array_columns_declare_no_items():
    schemas = {entry["tap_stream_id"]: entry["schema"] for entry in catalog()["streams"]}
    for stream, columns in JSON_ARRAYS.items():
        for column in columns:
            assert schemas[stream]["properties"][column] == {"type": ["array", "null"]}
    conditions = schemas["campaigns"]["properties"]["condition_data"]["properties"]["conditions"]
    assert conditions == {"type": ["array", "null"]}


def test_any_items_land_verbatim_and_match_the_schema():
    dataset = CastDataset(
        seed=4, casts=1, campaigns_per_cast=2, events_per_type=2, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _ = start_cast_sandbox(dataset)

    def odd_items(request, response):
        if response.status != 200 or not response.body:
            return
        body = json.loads(response.body)
        if request.path.endswith("/analytics"):
            for column in JSON_ARRAYS["campaign_analytics"]:
                body[column] = ODD_ITEMS
        elif request.path.endswith("/generation"):
            for campaign in body:
                campaign["delivery_reminders"] = ODD_ITEMS
        response.body = json.dumps(body).encode()

    server.hooks.append(odd_items)
    try:
        run = run_tap(TapCast, cast_config(server, dataset, event_types=["view"]))
    finally:
        server.stop()
    schemas = {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}
    for stream, columns in JSON_ARRAYS.items():
        records = run.records(stream)
        assert records, stream
        for record in records:
            jsonschema.validate(record, schemas[stream])
            for column in columns:
                assert record[column] == ODD_ITEMS, (stream, column)


def catalog() -> dict:
    return TapCast(config={}, validate_config=False).catalog_dict
