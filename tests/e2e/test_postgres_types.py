"""Column types in PostgreSQL: JSON columns (objects, arrays of objects) land as `jsonb`,
never `jsonb[]`; date-times as timestamps; every column as its SCHEMA declares it.

target-postgres (MeltanoLabs 0.8.1) makes an array whose items are declared a PostgreSQL
array of the items' type (`jsonb[]` for objects) and an array without declared items one
`jsonb` value, so the taps declare their JSON arrays without items.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from sandbox import (
    CastDataset,
    RevDataset,
    WebcastsDataset,
    start_cast_sandbox,
    start_rev_sandbox,
    start_webcasts_sandbox,
)
from tap_cast.tap import TapCast
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    REV_API_KEY,
    REV_SECRET,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
)

pytestmark = pytest.mark.e2e

# Columns a data engineer queries as JSON (->, ->>, jsonb_array_elements).
JSON_COLUMNS = {
    "tap-cast": {
        "campaigns": {"condition_data", "delivery_reminders"},
        "campaign_analytics": {"scenes_watched", "actions_clicked", "feedbacks", "timeline"},
    },
    "tap-rev-webcast": {
        "webcasts": {"categories", "external_presenters", "background_images"},
        "attendee_sessions": {"polls"},
        "registrations": {"registration_fields_answers"},
    },
    "tap-webcasts": {},
}


def start_cast() -> tuple[t.Any, dict[str, str]]:
    dataset = CastDataset(
        seed=17, casts=1, campaigns_per_cast=2, events_per_type=3, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _ = start_cast_sandbox(dataset)
    cast_ids = sorted({c["cast_id"] for c in dataset.ground_truth()["campaigns"]})
    return server, {
        "TAP_CAST_BASE_URL": server.url,
        "TAP_CAST_API_KEY": CAST_API_KEY,
        "TAP_CAST_CAST_IDS": json.dumps(cast_ids),
    }


def start_webcasts() -> tuple[t.Any, dict[str, str]]:
    dataset = WebcastsDataset(
        seed=17, events=1, registrants_per_event=10, username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, _ = start_webcasts_sandbox(dataset)
    return server, {
        "TAP_WEBCASTS_BASE_URL": server.url,
        "TAP_WEBCASTS_USERNAME": WEBCASTS_USERNAME,
        "TAP_WEBCASTS_PASSWORD": WEBCASTS_PASSWORD,
    }


def start_rev() -> tuple[t.Any, dict[str, str]]:
    dataset = RevDataset(seed=17, webcasts=2, sessions=40, api_key=REV_API_KEY, secret=REV_SECRET)
    server, _ = start_rev_sandbox(dataset)
    return server, {
        "TAP_REV_WEBCAST_BASE_URL": server.url,
        "TAP_REV_WEBCAST_API_KEY": REV_API_KEY,
        "TAP_REV_WEBCAST_SECRET": REV_SECRET,
        "TAP_REV_WEBCAST_START_DATE": "2026-01-01T00:00:00Z",
    }


TAPS = {
    "tap-cast": (start_cast, TapCast),
    "tap-webcasts": (start_webcasts, TapWebcasts),
    "tap-rev-webcast": (start_rev, TapRevWebcast),
}


def expected_type(spec: dict) -> str:
    """The PostgreSQL type (udt_name) a column of this JSON Schema should land as."""
    types = spec.get("type", [])
    kinds = {types} if isinstance(types, str) else set(types) - {"null"}
    if not kinds or "object" in kinds or (kinds == {"array"} and "items" not in spec):
        return "jsonb"
    if kinds == {"array"}:
        return "_" + expected_type(spec["items"])  # e.g. _text for a list of strings
    if kinds == {"string"}:
        return {"date-time": "timestamp", "date": "date"}.get(spec.get("format", ""), "text")
    return {"integer": "int8", "number": "numeric", "boolean": "bool"}[kinds.pop()]


def column_types(postgres, table: str) -> dict[str, str]:
    cursor = postgres.conn.execute(
        "select column_name, udt_name from information_schema.columns "
        "where table_schema = %s and table_name = %s and column_name not like '\\_sdc%%'",
        [postgres.schema, table],
    )
    return dict(cursor.fetchall())


@pytest.mark.parametrize("tap", sorted(TAPS))
def test_every_column_lands_as_its_schema_declares(meltano, postgres, tap):
    start, tap_class = TAPS[tap]
    server, env = start()
    try:
        meltano.env.update(env)
        meltano.run("run", tap, "target-postgres")
    finally:
        server.stop()
    catalog = tap_class(config={}, validate_config=False).catalog_dict
    landed = postgres.tables()
    assert landed, tap
    for entry in catalog["streams"]:
        table = entry["tap_stream_id"]
        if table not in landed:
            continue  # a stream this run does not read (e.g. Rev's real-time attendees)
        properties = entry["schema"]["properties"]
        types = column_types(postgres, table)
        assert types == {name: expected_type(spec) for name, spec in properties.items()}, table
        for column in JSON_COLUMNS[tap].get(table, ()):
            assert types[column] == "jsonb", (table, column)
        assert "_jsonb" not in types.values(), table  # no column as an array of JSON values
    assert set(JSON_COLUMNS[tap]) <= landed
