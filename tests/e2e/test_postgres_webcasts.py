"""`meltano run tap-webcasts target-postgres` into the real local PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME

pytestmark = pytest.mark.e2e

KEYS = {
    "events": "ei",
    "audience": "ei, email",
    "audience_sessions": "ei, email, session_type, session_start",
    "audience_questions": "question_key",
    "audience_survey_answers": "answer_key",
}
SESSION_TYPES = {"live": "live", "od": "on_demand", "simlive": "sim_live"}  # sandbox -> tap


@pytest.fixture
def webcasts(meltano):
    # Both events active: run 3 adds registrants to each (an expired event's report is
    # final and not requested again).
    dataset = WebcastsDataset(
        seed=17,
        events=2,
        registrants_per_event=40,
        username=USERNAME,
        password=PASSWORD,
        expired_events=0,
    )
    server, _api = start_webcasts_sandbox(dataset)
    meltano.env.update(
        {
            "TAP_WEBCASTS_BASE_URL": server.url,
            "TAP_WEBCASTS_USERNAME": USERNAME,
            "TAP_WEBCASTS_PASSWORD": PASSWORD,
        }
    )
    yield dataset
    server.stop()


def gmt(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def by_key(table: str, rows: list[dict]) -> dict[tuple, dict]:
    """Rows keyed by the table's primary key (duplicates fail: they would hide a lost row)."""
    names = [k.strip() for k in KEYS[table].split(",")]
    keyed = {tuple(row[k] for k in names): row for row in rows}
    assert len(keyed) == len(rows), f"duplicate keys in {table}"
    return keyed


def test_tables_equal_ground_truth_and_reruns_are_exact(meltano, postgres, webcasts):
    meltano.run("run", "tap-webcasts", "target-postgres")
    audience = webcasts.ground_truth()["audience"]
    expected = {
        "events": len(webcasts.ground_truth()["events"]),
        "audience": len(audience),
        "audience_sessions": sum(len(p["sessions"]) for p in audience),
        "audience_questions": sum(len(p["questions"]) for p in audience),
        "audience_survey_answers": sum(len(p["surveys"]) for p in audience),
    }
    before = {table: postgres.rows(table, key) for table, key in KEYS.items()}
    assert {table: len(rows) for table, rows in before.items()} == expected

    people = {(row["ei"], row["email"]): row for row in before["audience"]}
    for person in audience:
        row = people[(int(person["ei"]), person["email"])]
        assert row["registration_fields"] == person["registration_fields"]  # JSON, unicode
        assert row["first_name"] == person["first_name"]
        reg = row["registration_date"]
        assert reg.replace(tzinfo=dt.timezone.utc) == gmt(person["registration_date"])

    meltano.run("run", "tap-webcasts", "target-postgres")
    assert {table: postgres.rows(table, key) for table, key in KEYS.items()} == before

    # Run 3 re-reads each event's report from its bookmark's day: the registrants who
    # registered since land exactly once, and no row read again changes.
    first, second = webcasts.event_ids
    added = webcasts.add_registrants(first, 3) + webcasts.add_registrants(second, 2)
    meltano.run("run", "tap-webcasts", "target-postgres")
    after = {table: postgres.rows(table, key) for table, key in KEYS.items()}
    old = {table: by_key(table, rows) for table, rows in before.items()}
    new = {table: by_key(table, rows) for table, rows in after.items()}
    for table in KEYS:
        assert {k: new[table].get(k) for k in old[table]} == old[table], table
    gained = {
        table: {k: row for k, row in new[table].items() if k not in old[table]} for table in KEYS
    }
    assert set(gained["audience"]) == {(int(p["ei"]), p["email"]) for p in added}
    for person in added:
        row = gained["audience"][(int(person["ei"]), person["email"])]
        assert row["registration_fields"] == person["registration_fields"]
        reg = row["registration_date"]
        assert reg.replace(tzinfo=dt.timezone.utc) == gmt(person["registration_date"])
    assert sorted(
        (r["ei"], r["email"], r["session_type"], r["session_start"].replace(tzinfo=dt.timezone.utc))
        for r in gained["audience_sessions"].values()
    ) == sorted(
        (int(p["ei"]), p["email"], SESSION_TYPES[s["type"]], gmt(s["start"]))
        for p in added
        for s in p["sessions"]
    )
    assert sum(len(p["sessions"]) for p in added) == 5
    for table in ("events", "audience_questions", "audience_survey_answers"):
        assert not gained[table], table
    for table in KEYS:
        assert len(after[table]) == len(before[table]) + len(gained[table]), table


def test_stream_maps_alias_and_hash_email(meltano, postgres, webcasts):
    meltano.env["TAP_WEBCASTS_STREAM_MAPS"] = json.dumps(
        {
            "audience": {"__alias__": "registrants", "email": "md5(email)"},
        }
    )
    meltano.run("run", "tap-webcasts", "target-postgres")
    assert "registrants" in postgres.tables()
    assert "audience" not in postgres.tables()
    rows = postgres.rows("registrants", "ei, email")
    emails = {p["email"] for p in webcasts.ground_truth()["audience"]}
    assert {r["email"] for r in rows} == {hashlib.md5(e.encode()).hexdigest() for e in emails}
