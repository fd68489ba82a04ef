"""tap-cast against the Cast sandbox: every stream equals the sandbox's ground truth."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from tap_cast.tap import TapCast
from tests.helpers import run_tap

STREAM_KEYS = {
    "campaigns": ("id",),
    "campaign_analytics": ("cast_id", "generation_id"),
    "campaign_timeline": ("cast_id", "generation_id", "event_type", "event_dt"),
    "analytics_events": ("event_key",),
    "cross_campaign_summary": ("cast_id", "generation_id"),
}


def utc(naive_iso: str) -> str:
    """The tap's rendering of a Cast timestamp without offset (read as UTC)."""
    text = naive_iso[:-1] + "+00:00" if naive_iso.endswith("Z") else naive_iso
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc).isoformat()


def event_identity(event: dict) -> tuple:
    return (
        event["cast_id"],
        event["generation_id"],
        event["event_type"],
        utc(event["event_at"]),
        event["contact_id"],
        event["ip_address"],
        event["device_type"],
        event["os_name"],
        event["browser_name"],
    )


def test_every_stream_matches_ground_truth(cast_sandbox, cast_dataset, config):
    run = run_tap(TapCast, config)
    truth = cast_dataset.ground_truth()

    campaigns = {r["id"]: r for r in run.records("campaigns")}
    assert len(campaigns) == len(run.records("campaigns")) == len(truth["campaigns"])
    for raw in truth["campaigns"]:
        row = campaigns[raw["id"]]
        assert row["generation_id"] == raw["generate_group"]
        assert row["name"] == raw["name"]
        assert row["cast_id"] == raw["cast_id"]
        assert row["total_count"] == raw["TOTAL"]
        assert row["processing_count"] == raw["PROCESSING"]
        assert row["created_at"] == utc(raw["created_at"])
        assert row["condition_data"] == raw["condition_data"]

    analytics = {(r["cast_id"], r["generation_id"]): r for r in run.records("campaign_analytics")}
    assert len(analytics) == len(truth["campaign_analytics"])
    for item in truth["campaign_analytics"]:
        row = analytics[(item["cast_id"], item["generation_id"])]
        for name, value in item["analytics"]["summary"].items():
            assert row[name] == value
        for name in (
            "timeline",
            "scenes_watched",
            "actions_clicked",
            "feedbacks",
            "user_agents",
            "languages",
        ):
            assert row[name] == item["analytics"][name]
        assert row["unmapped_fields"] is None

    timeline = Counter(
        (
            r["cast_id"],
            r["generation_id"],
            r["event_type"],
            r["event_dt"],
            r["count"],
            r["frequency"],
        )
        for r in run.records("campaign_timeline")
    )
    expected_timeline = Counter(
        (
            b["cast_id"],
            b["generation_id"],
            b["event_type"],
            utc(b["event_dt"]),
            b["count"],
            b["frequency"],
        )
        for b in truth["campaign_timeline"]
    )
    assert timeline == expected_timeline

    events = run.records("analytics_events")
    assert Counter(event_identity(e) for e in events) == Counter(
        event_identity(e) for e in truth["analytics_events"]
    )
    by_identity = {event_identity(e): e for e in events}
    for raw in truth["analytics_events"][:50]:
        row = by_identity[event_identity(raw)]
        assert (row["contact_email"], row["contact_name"], row["contact_phone"], row["status"]) == (
            raw["contact_email"],
            raw["contact_name"],
            raw["contact_phone"],
            raw["status"],
        )

    summary = {(r["cast_id"], r["generation_id"]): r for r in run.records("cross_campaign_summary")}
    assert len(summary) == len(truth["cross_campaign_summary"])
    for item in truth["cross_campaign_summary"]:
        row = summary[(item["cast_id"], item["generation_id"])]
        counters = item["counters"]
        assert (
            row["load_time"],
            row["play"],
            row["click_action"],
            row["feedback"],
            row["email_delivered"],
        ) == (
            counters["loadTime"],
            counters["play"],
            counters["click.action"],
            counters["feedback"],
            counters["email_delivered"],
        )


def test_primary_keys_unique_and_stable_across_runs(cast_sandbox, config):
    first = run_tap(TapCast, config)
    second = run_tap(TapCast, config)
    for stream, key in STREAM_KEYS.items():
        keys = [tuple(r[k] for k in key) for r in first.records(stream)]
        assert keys, stream
        assert len(keys) == len(set(keys)), f"duplicate primary keys in {stream}"
        assert set(keys) == {tuple(r[k] for k in key) for r in second.records(stream)}, stream


def test_event_key_ignores_contact_details(cast_sandbox, config):
    """Editing a contact's email must not turn their past events into new rows."""
    from tap_cast.streams import event_key

    record = {
        "cast_id": 1,
        "generation_id": "g",
        "event_type": "view",
        "event_at": "x",
        "contact_id": "7",
        "ip_address": "1.2.3.4",
        "device_type": "desktop",
        "os_name": "Windows",
        "browser_name": "Chrome",
        "contact_email": "a@b.c",
    }
    changed = {**record, "contact_email": "new@b.c", "contact_name": "New", "status": "inactive"}
    assert event_key(record) == event_key(changed)
    assert event_key(record) != event_key({**record, "event_at": "y"})


def test_timestamps_carry_an_offset(cast_sandbox, config):
    run = run_tap(TapCast, config)
    for row in run.records("analytics_events"):
        assert row["event_at"].endswith("+00:00")
    for row in run.records("campaign_timeline"):
        assert row["event_dt"].endswith("+00:00")


def test_batch_for_full_table_streams_records_for_incremental(cast_sandbox, config, tmp_path):
    batch = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "cast-"},
    }
    run = run_tap(TapCast, {**config, "batch_config": batch})
    kinds: dict[str, set[str]] = {}
    for message in run.messages:
        if message["type"] in ("RECORD", "BATCH"):
            kinds.setdefault(message["stream"], set()).add(message["type"])
    assert kinds.pop("analytics_events") == {"RECORD"}  # its bookmark stays exact
    assert kinds == {name: {"BATCH"} for name in STREAM_KEYS if name != "analytics_events"}
    files = list(tmp_path.glob("cast-tap-cast--*.json.gz"))
    assert len(files) == sum(m["type"] == "BATCH" for m in run.messages)
    assert {re.match(r"cast-tap-cast--(\w+)-", f.name)[1] for f in files} == set(kinds)
