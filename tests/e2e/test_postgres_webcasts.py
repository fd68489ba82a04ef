"""`meltano run tap-webcasts target-postgres` into the real local PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tests.webcasts.conftest import PASSWORD, USERNAME

pytestmark = pytest.mark.e2e

KEYS = {
    "events": "ei",
    "audience": "ei, email",
    "audience_sessions": "ei, email, session_type, session_start",
    "audience_questions": "question_key",
    "audience_survey_answers": "answer_key",
}


@pytest.fixture
def webcasts(meltano):
    dataset = WebcastsDataset(
        seed=17, events=2, registrants_per_event=40, username=USERNAME, password=PASSWORD
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


def test_tables_equal_ground_truth_and_rerun_changes_nothing(meltano, postgres, webcasts):
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
