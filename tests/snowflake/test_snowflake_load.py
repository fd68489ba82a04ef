"""Each tap, from its sandbox, through target-snowflake's real console script into fakesnow.

What the adapter in fakesnow_target.py stands in for, and what these tests therefore do not
prove (Snowflake's own staging, file parsing and casts), is in its docstring.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t

import pytest

from sandbox import CastDataset, WebcastsDataset, start_cast_sandbox, start_webcasts_sandbox
from tap_cast.tap import TapCast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    REV_API_KEY,
    REV_SECRET,
    TapRun,
    cast_config,
    rev_dataset,
    run_tap,
    start_rev,
    tap_with_clock,
    webcasts_config,
)
from tests.snowflake.conftest import PASSWORD, FakeSnowflake

pytestmark = pytest.mark.e2e

BIG = 2**53 + 1  # beyond a double's exact range: must land exactly


# --- what a run should have landed ----------------------------------------------------------


def schemas(run: TapRun) -> dict[str, dict]:
    """Each stream's last SCHEMA message."""
    return {m["stream"]: m for m in run.messages if m["type"] == "SCHEMA"}


def kind(prop: dict) -> str:
    types = prop.get("type", [])
    types = [types] if isinstance(types, str) else types
    if prop.get("format") == "date-time":
        return "date-time"
    if "object" in types or "array" in types or not types:
        return "json"
    return next(t for t in types if t != "null")


def comparable(value: t.Any, prop: dict, *, landed: bool) -> t.Any:
    """A record's value and a landed value in one form: instants in UTC, JSON parsed."""
    if value is None:
        return None
    form = kind(prop)
    if form == "date-time":
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        # TIMESTAMP_NTZ holds the UTC wall time (the tap always writes an offset);
        # TIMESTAMP_TZ and _LTZ come back with one.
        return instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant
    if form == "json":
        return json.loads(value) if landed else value
    if form == "number":
        return float(value)
    return value


def expected(run: TapRun, stream: str) -> dict[tuple, dict]:
    """The tap's records of ``stream`` by primary key (the last of a key wins, as an
    upsert keeps it), in comparable form and with upper-cased names."""
    message = schemas(run)[stream]
    props = message["schema"]["properties"]
    rows = {}
    for record in run.records(stream):
        values = {
            name.upper(): comparable(record.get(name), prop, landed=False)
            for name, prop in props.items()
        }
        rows[tuple(values[k.upper()] for k in message["key_properties"])] = values
    return rows


def landed(run: TapRun, stream: str, table: dict) -> dict[tuple, dict]:
    """The table's rows by primary key, without the loader's _SDC columns; a duplicate
    key fails the test."""
    message = schemas(run)[stream]
    props = {name.upper(): prop for name, prop in message["schema"]["properties"].items()}
    rows = {}
    for row in table["rows"]:
        values = {
            name: comparable(value, props[name], landed=True)
            for name, value in row.items()
            if not name.startswith("_SDC_")
        }
        key = tuple(values[k.upper()] for k in message["key_properties"])
        assert key not in rows, f"duplicate primary key {key} in {stream}"
        rows[key] = values
    return rows


def assert_landed_exactly(run: TapRun, tables: dict[str, dict]) -> None:
    """Every stream the tap sent is a table holding exactly its records, column by column."""
    assert set(tables) == {stream.upper() for stream in schemas(run)}
    for stream in schemas(run):
        rows = landed(run, stream, tables[stream.upper()])
        assert rows == expected(run, stream), stream


#: The column type target-snowflake 0.20.4 creates for each kind of SCHEMA property: in its
#: CREATE TABLE statement, and as information_schema reports it (DECIMAL is NUMBER(38,0)).
COLUMN_TYPES = {
    "json": ("VARIANT", "VARIANT"),  # objects, arrays, and arrays without declared items
    "integer": ("DECIMAL", "NUMBER(38,0)"),
    "number": ("FLOAT", "FLOAT"),  # FLOAT is a double in Snowflake
    "boolean": ("BOOLEAN", "BOOLEAN"),
    "string": ("VARCHAR", "TEXT"),
}
DDL_COLUMN = re.compile(r"^\s+(?P<name>[a-z0-9_]+) (?P<type>[A-Z_]+)", re.M)


def created_types(statements: list[str]) -> dict[str, dict[str, str]]:
    """``{TABLE: {column: type}}`` from the loader's CREATE TABLE statements, names as sent."""
    tables = {}
    for statement in statements:
        if match := re.match(r'CREATE TABLE "[A-Z_]+"\."(?P<table>[A-Z_]+)" \(', statement):
            tables[match["table"]] = dict(DDL_COLUMN.findall(statement))
    return tables


def assert_column_types(
    run: TapRun, tables: dict[str, dict], statements: list[str], timestamp_type: str
) -> None:
    """Every column has the type the loader's mapping gives its SCHEMA property, in the DDL
    it sent (lower-case unquoted names, which Snowflake stores upper-cased) and as created."""
    kinds = {**COLUMN_TYPES, "date-time": (timestamp_type, timestamp_type)}
    created = created_types(statements)
    for stream, message in schemas(run).items():
        props = message["schema"]["properties"]
        assert created[stream.upper()] == {
            **{name: kinds[kind(prop)][0] for name, prop in props.items()},
            **{name: kinds[sdc_kind][0] for name, sdc_kind in SDC_COLUMNS.items()},
        }, stream
        columns = tables[stream.upper()]["columns"]
        assert {n: c for n, c in columns.items() if not n.startswith("_SDC_")} == {
            name.upper(): kinds[kind(prop)][1] for name, prop in props.items()
        }, stream


#: The metadata columns (add_record_metadata, on by default) and their kinds.
SDC_COLUMNS = {
    **dict.fromkeys(
        ["_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at"],
        "date-time",
    ),
    **dict.fromkeys(["_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at"], "integer"),
}


def counts(tables: dict[str, dict]) -> dict[str, int]:
    return {name.lower(): len(table["rows"]) for name, table in tables.items()}


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in (PASSWORD, *secrets):
        assert secret not in text


# --- one test per tap -----------------------------------------------------------------------


def test_cast_lands_every_stream_and_a_second_run_upserts(snowflake: FakeSnowflake):
    dataset = CastDataset(
        seed=13, casts=2, campaigns_per_cast=2, events_per_type=15, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, api = start_cast_sandbox(dataset)

    def big_total(request, response):  # a vendor counter too large for a double
        if request.path.endswith("/generation"):
            campaigns = json.loads(response.body)
            campaigns[0]["TOTAL"] = BIG
            response.body = json.dumps(campaigns).encode()

    server.hooks.append(big_total)
    try:
        config = cast_config(server, dataset)
        first = run_tap(TapCast, config)
        load = snowflake.load(first.stdout, default_target_schema="TAP_CAST")
        tables = snowflake.dump("TAP_CAST")
        assert_landed_exactly(first, tables)
        assert_column_types(first, tables, load.statements, "TIMESTAMP_NTZ")
        truth = dataset.ground_truth()
        assert counts(tables) == {stream: len(rows) for stream, rows in truth.items()}
        names = {row["ID"]: row["NAME"] for row in tables["CAMPAIGNS"]["rows"]}
        assert names == {c["id"]: c["name"] for c in truth["campaigns"]}  # unicode, ''
        assert BIG in {row["TOTAL_COUNT"] for row in tables["CAMPAIGNS"]["rows"]}
        assert_no_secret(load.output, CAST_API_KEY)
        # The load went through the stage: PUT, a MERGE per stream (all have keys), REMOVE.
        verbs = [s.split()[0].lower() for s in load.statements]
        assert verbs.count("merge") == len(truth) == verbs.count("put") == verbs.count("remove")

        # Run 2 from the state run 1 left: full-table streams send every row again (MERGE
        # updates them in place); new events arrive through the incremental stream.
        campaign = truth["campaigns"][0]
        added = api.dataset.add_events(campaign["cast_id"], campaign["generate_group"], "view", 5)
        second = run_tap(TapCast, config, state=load.state)
        snowflake.load(second.stdout, default_target_schema="TAP_CAST")
        after = snowflake.dump("TAP_CAST")
        truth = dataset.ground_truth()
        assert counts(after) == {stream: len(rows) for stream, rows in truth.items()}
        assert len(second.records("analytics_events")) == len(added)
        assert len(second.records("campaigns")) == len(truth["campaigns"])
        # Each key once, holding the values its latest run sent.
        for stream in schemas(first):
            merged = {**expected(first, stream), **expected(second, stream)}
            assert landed(first, stream, after[stream.upper()]) == merged, stream
        # The new views changed campaign counters in rows that were already there.
        updated = expected(second, "campaign_analytics")
        assert updated != {k: expected(first, "campaign_analytics")[k] for k in updated}
    finally:
        server.stop()


def test_webcasts_lands_every_stream_and_a_second_run_upserts(snowflake: FakeSnowflake):
    dataset = WebcastsDataset(
        seed=17, events=2, registrants_per_event=40, expired_events=0,
        username="reports@example.com", password="PW-$ecret&Value#42",
    )  # fmt: skip
    server, _api = start_webcasts_sandbox(dataset)
    try:
        config = webcasts_config(server)
        first = run_tap(TapWebcasts, config)
        load = snowflake.load(first.stdout, default_target_schema="TAP_WEBCASTS")
        tables = snowflake.dump("TAP_WEBCASTS")
        assert_landed_exactly(first, tables)
        assert_column_types(first, tables, load.statements, "TIMESTAMP_NTZ")
        audience = dataset.ground_truth()["audience"]
        assert counts(tables) == {
            "events": len(dataset.ground_truth()["events"]),
            "audience": len(audience),
            "audience_sessions": sum(len(p["sessions"]) for p in audience),
            "audience_questions": sum(len(p["questions"]) for p in audience),
            "audience_survey_answers": sum(len(p["surveys"]) for p in audience),
        }
        people = {(r["EI"], r["EMAIL"]): r for r in tables["AUDIENCE"]["rows"]}
        for person in audience:
            row = people[(int(person["ei"]), person["email"])]
            assert json.loads(row["REGISTRATION_FIELDS"]) == person["registration_fields"]
        assert_no_secret(load.output, config["password"])

        second = run_tap(TapWebcasts, config, state=load.state)
        snowflake.load(second.stdout, default_target_schema="TAP_WEBCASTS")
        after = snowflake.dump("TAP_WEBCASTS")
        assert counts(after) == counts(tables)
        assert_landed_exactly(first, after)  # every row once, values unchanged
    finally:
        server.stop()


def test_rev_lands_every_stream_and_a_second_run_upserts(snowflake: FakeSnowflake):
    rev = start_rev(rev_dataset())
    try:
        first = rev.run()
        load = snowflake.load(first.stdout, default_target_schema="TAP_REV_WEBCAST")
        tables = snowflake.dump("TAP_REV_WEBCAST")
        assert_landed_exactly(first, tables)
        assert_column_types(first, tables, load.statements, "TIMESTAMP_NTZ")
        truth = rev.dataset.ground_truth()
        assert counts(tables) == {stream: len(rows) for stream, rows in truth.items()}
        assert_no_secret(load.output, REV_API_KEY, REV_SECRET)

        second = run_tap(tap_with_clock(rev.clock), rev.config(), state=load.state)
        snowflake.load(second.stdout, default_target_schema="TAP_REV_WEBCAST")
        after = snowflake.dump("TAP_REV_WEBCAST")
        assert counts(after) == counts(tables)
        assert_landed_exactly(first, after)
    finally:
        rev.server.stop()


def test_timestamp_type_setting_makes_timestamp_tz_columns(snowflake: FakeSnowflake):
    dataset = CastDataset(
        seed=5, casts=1, campaigns_per_cast=1, events_per_type=3, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _api = start_cast_sandbox(dataset)
    try:
        run = run_tap(TapCast, cast_config(server, dataset))
        load = snowflake.load(
            run.stdout, default_target_schema="TAP_CAST", timestamp_type="TIMESTAMP_TZ"
        )
        tables = snowflake.dump("TAP_CAST")
        assert_column_types(run, tables, load.statements, "TIMESTAMP_TZ")
        assert_landed_exactly(run, tables)  # the same instants, now with their offset
        created_at = tables["CAMPAIGNS"]["rows"][0]["CREATED_AT"]
        assert dt.datetime.fromisoformat(created_at).utcoffset() == dt.timedelta(0)
    finally:
        server.stop()


def test_append_only_loads_with_copy_into(snowflake: FakeSnowflake):
    dataset = CastDataset(
        seed=5, casts=1, campaigns_per_cast=1, events_per_type=3, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _api = start_cast_sandbox(dataset)
    try:
        run = run_tap(TapCast, cast_config(server, dataset))
        load = snowflake.load(
            run.stdout, default_target_schema="TAP_CAST", load_method="append-only"
        )
        verbs = [s.split()[0].lower() for s in load.statements]
        assert "merge" not in verbs
        assert verbs.count("copy") == len(schemas(run))
        assert_landed_exactly(run, snowflake.dump("TAP_CAST"))
    finally:
        server.stop()
