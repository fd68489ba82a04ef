"""The CPU fast path of analytics_events keeps every guarantee of the SDK's generic one.

analytics_events skips the SDK's per-field type conformance (its mapping emits the schema's
types itself), the selection walk runs only when a property is deselected, and stdout is
flushed per STATE rather than per RECORD. Each test here fails if one of those shortcuts
loses a guarantee.
"""

from __future__ import annotations

import decimal
import hashlib
import io
import json
import sys

import jsonschema
import pytest
from singer_sdk.singerlib import RecordMessage, StateMessage

from tap_cast.streams import event_key
from tap_cast.tap import TapCast
from tap_common.tap import SingerWriter
from tests.helpers import catalog_selecting, rewrite_events, run_tap


def schemas(run) -> dict[str, dict]:
    return {m["stream"]: m["schema"] for m in run.messages if m["type"] == "SCHEMA"}


def assert_records_match_schemas(run) -> int:
    checked = 0
    for stream, schema in schemas(run).items():
        validator = jsonschema.Draft7Validator(schema)
        for record in run.records(stream):
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, (stream, record, errors)
            checked += 1
    return checked


def test_every_record_matches_its_schema(cast_sandbox, config):
    run = run_tap(TapCast, config)
    assert assert_records_match_schemas(run) > 100
    assert run.records("analytics_events")


def test_non_text_values_in_text_columns_land_as_text(cast_sandbox, config, events_catalog):
    server, _ = cast_sandbox

    def mistype(event):
        event["contact_id"] = 12345
        event["device_type"] = True
        event["browser_name"] = {"name": "Firefox", "version": 128}
        event["os_name"] = 1.5

    rewrite_events(server, mistype)
    run = run_tap(TapCast, {**config, "event_types": ["view"]}, catalog=events_catalog)
    rows = run.records("analytics_events")
    assert rows
    assert {row["contact_id"] for row in rows} == {"12345"}
    assert {row["device_type"] for row in rows} == {"true"}
    assert {row["os_name"] for row in rows} == {"1.5"}
    assert json.loads(rows[0]["browser_name"]) == {"name": "Firefox", "version": 128}
    assert assert_records_match_schemas(run) == len(rows)


def test_deselected_property_is_not_emitted(cast_sandbox, config):
    streams = ("campaigns", "campaign_analytics", "campaign_timeline", "analytics_events")
    streams += ("cross_campaign_summary",)
    catalog = catalog_selecting(
        TapCast, config, *streams, deselect={"analytics_events": ["contact_email"]}
    )
    run = run_tap(TapCast, config, catalog=catalog)
    rows = run.records("analytics_events")
    assert rows
    assert all("contact_email" not in row for row in rows)
    assert all("contact_name" in row for row in rows)


def test_event_key_format_is_stable():
    # The key is stored in warehouses and in the state: its input format must never change.
    record = {
        "cast_id": 1940,
        "generation_id": "20240101_ab",
        "event_type": "view",
        "event_at": "2024-01-01T10:00:00+00:00",
        "contact_id": "c-1",
        "ip_address": None,
        "device_type": "Desktop",
        "os_name": "Mac OS X",
        "browser_name": "Chrome",
    }
    parts = [1940, "20240101_ab", "view", "2024-01-01T10:00:00+00:00", "c-1", None]
    parts += ["Desktop", "Mac OS X", "Chrome"]
    expected = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    assert event_key(record) == expected


@pytest.mark.parametrize(
    "values",
    [
        ("c-1", None, "Desktop", "Mac OS X", "Chrome"),
        ('quote " and \\ backslash', "Zoë 🚀 李雷", "", "tab\tnewline\n", "\u2028"),
        (12345, True, 1.5, decimal.Decimal("2.50"), {"nested": ["x", 1]}),
    ],
    ids=["plain", "escapes and unicode", "other types"],
)
def test_event_key_is_sha256_of_json_dumps(values):
    names = ("contact_id", "ip_address", "device_type", "os_name", "browser_name")
    record = dict(zip(names, values, strict=True))
    record.update(cast_id=1940, generation_id="g", event_type="view", event_at="t")
    parts = [1940, "g", "view", "t", *values]
    expected = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    assert event_key(record) == expected


class CountingStdout(io.TextIOWrapper):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_writer_flushes_per_state_not_per_record(monkeypatch):
    raw = io.BytesIO()
    out = CountingStdout(raw, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    writer = SingerWriter()
    for n in range(50):
        writer.write_message(RecordMessage(stream="s", record={"n": n}))
    assert out.flushes == 0
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert out.flushes == 1
    lines = raw.getvalue().decode().splitlines()
    assert len(lines) == 51  # every record reached the output no later than the STATE
    assert json.loads(lines[-1])["type"] == "STATE"
