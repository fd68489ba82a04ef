"""`meltano run tap-cast target-postgres` into the real local PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from sandbox import CastDataset, start_cast_sandbox
from tests.helpers import CAST_API_KEY as API_KEY
from tests.helpers import CAST_ORG as ORG

pytestmark = pytest.mark.e2e

KEYS = {
    "campaigns": "id",
    "campaign_analytics": "cast_id, generation_id",
    "campaign_timeline": "cast_id, generation_id, event_type, event_dt",
    "analytics_events": "event_key",
    "cross_campaign_summary": "cast_id, generation_id",
}
BIG = 2**53 + 1  # beyond a double's exact range: must land exactly


@pytest.fixture
def cast(meltano):
    dataset = CastDataset(
        seed=13, casts=2, campaigns_per_cast=2, events_per_type=15, org_slug=ORG, api_key=API_KEY
    )
    server, api = start_cast_sandbox(dataset)

    def big_total(request, response):  # a vendor counter too large for a float
        if request.path.endswith("/generation"):
            campaigns = json.loads(response.body)
            campaigns[0]["TOTAL"] = BIG
            response.body = json.dumps(campaigns).encode()

    server.hooks.append(big_total)
    meltano.env.update(
        {
            "TAP_CAST_BASE_URL": server.url,
            "TAP_CAST_API_KEY": API_KEY,
            "TAP_CAST_CAST_IDS": json.dumps(dataset.cast_ids()),
        }
    )
    yield dataset, api
    server.stop()


def utc(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def as_utc(value: dt.datetime) -> dt.datetime:
    """target-postgres stores UTC in `timestamp without time zone`."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def test_tables_equal_ground_truth_and_reruns_are_exact(meltano, postgres, cast):
    dataset, api = cast
    meltano.run("run", "tap-cast", "target-postgres")
    truth = dataset.ground_truth()

    for table, key in KEYS.items():
        rows = postgres.rows(table, key)
        keys = [tuple(row[k.strip()] for k in key.split(",")) for row in rows]
        assert len(rows) == len(truth[table]), table
        assert len(set(keys)) == len(keys), f"duplicate keys in {table}"

    campaigns = {row["id"]: row for row in postgres.rows("campaigns", "id")}
    for raw in truth["campaigns"]:
        row = campaigns[raw["id"]]
        assert row["name"] == raw["name"]  # unicode, emoji, and '' stays '' (not NULL)
        assert row["error_message"] == raw["error_message"]  # NULL stays NULL
        assert as_utc(row["created_at"]) == utc(raw["created_at"])
        assert row["condition_data"] == raw["condition_data"]  # nested object as JSON
    assert any(raw["name"] == "" for raw in truth["campaigns"])
    assert BIG in {row["total_count"] for row in campaigns.values()}

    events = postgres.rows("analytics_events", "event_key")
    truth_events = {
        (e["generation_id"], e["event_type"], utc(e["event_at"]), e["contact_id"], e["ip_address"])
        for e in truth["analytics_events"]
    }
    assert {
        (
            r["generation_id"],
            r["event_type"],
            as_utc(r["event_at"]),
            r["contact_id"],
            r["ip_address"],
        )
        for r in events
    } == truth_events

    before = {table: postgres.rows(table, key) for table, key in KEYS.items()}
    meltano.run("run", "tap-cast", "target-postgres")
    assert {table: postgres.rows(table, key) for table, key in KEYS.items()} == before

    campaign = truth["campaigns"][0]
    added = api.dataset.add_events(campaign["cast_id"], campaign["generate_group"], "view", 5)
    meltano.run("run", "tap-cast", "target-postgres")
    after = {table: postgres.rows(table, key) for table, key in KEYS.items()}
    new_rows = [r for r in after["analytics_events"] if r not in before["analytics_events"]]
    assert sorted((as_utc(r["event_at"]), r["contact_id"]) for r in new_rows) == sorted(
        (utc(e["event_at"]), e["contact_id"]) for e in added
    )
    assert len(after["analytics_events"]) == len(before["analytics_events"]) + len(added)

    state = json.loads(meltano.run("state", "get", "sandbox:tap-cast-to-target-postgres").stdout)
    assert state["singer_state"]["bookmarks"]["analytics_events"]["partitions"]


def test_batch_messages_land_the_same_tables(meltano, postgres, cast, tmp_path):
    meltano.run("run", "tap-cast", "target-postgres")
    record_mode = {table: postgres.rows(table, KEYS[table]) for table in KEYS}

    batch_schema = postgres.schema + "_batch"
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = batch_schema
    meltano.env["MELTANO_STATE_BACKEND_URI"] += "-batch"
    meltano.env["TAP_CAST_BATCH_CONFIG"] = json.dumps(
        {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path}/batches", "prefix": "cast-"},
        }
    )
    try:
        meltano.run("run", "tap-cast", "target-postgres")
        batched = type(postgres)(postgres.conn, batch_schema)
        for table in KEYS:
            assert batched.rows(table, KEYS[table]) == record_mode[table], table
    finally:
        postgres.conn.execute(f'drop schema if exists "{batch_schema}" cascade')


def test_stream_maps_alias_and_hash_pii(meltano, postgres, cast):
    dataset, _ = cast
    meltano.env["TAP_CAST_STREAM_MAPS"] = json.dumps(
        {
            "analytics_events": {
                "__alias__": "cast_events",
                "contact_email": "md5(contact_email)",
                "contact_phone": "md5(contact_phone)",
                "ip_address": "__NULL__",
            },
        }
    )
    meltano.env["TAP_CAST_FLATTENING_ENABLED"] = "true"
    meltano.env["TAP_CAST_FLATTENING_MAX_DEPTH"] = "1"
    meltano.run("run", "tap-cast", "target-postgres")

    assert "cast_events" in postgres.tables()
    assert "analytics_events" not in postgres.tables()
    rows = postgres.rows("cast_events", "event_key")
    truth = dataset.ground_truth()["analytics_events"]
    assert len(rows) == len(truth)
    emails = {e["contact_email"] for e in truth}
    hashed = {hashlib.md5(email.encode()).hexdigest() for email in emails}
    assert {r["contact_email"] for r in rows} <= hashed
    assert not {r["contact_email"] for r in rows} & emails
    assert "ip_address" not in rows[0]

    flat = postgres.rows("campaigns", "id")[0]
    assert "condition_data__type" in flat  # schema flattening: nested keys as columns
