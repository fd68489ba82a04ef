"""The engagement model (transform/) as a user runs it: `meltano run <tap> target-<warehouse>
... dbt-<warehouse>:build` over the three demo sandboxes, on DuckDB and on PostgreSQL. The
marts must be the same on both, hold the figures computed from the sandbox's ground truth in
plain Python (tests/model/truth.py), and a load with rows missing must fail a reconciliation
test."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from decimal import Decimal

import duckdb
import psycopg
import pytest

from tests.helpers import ROOT
from tests.model.conftest import Build, postgres_dsn
from tests.model.truth import Expected, Scores, person_key

pytestmark = pytest.mark.e2e

MARTS = (
    "engagement__events",
    "engagement__people",
    "engagement__person_identities",
    "engagement__registrations",
    "engagement__sessions",
    "engagement__interactions",
    "engagement__person_event_metrics",
    "engagement__event_metrics",
    "engagement__person_metrics",
    "engagement__concurrent_viewers",
    "engagement__identity_resolution",
)


def duckdb_rows(build: Build, sql: str) -> list[dict]:
    with duckdb.connect(build.meltano.env["DBT_DUCKDB_PATH"], read_only=True) as db:
        cursor = db.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def postgres_rows(build: Build, sql: str) -> list[dict]:
    with psycopg.connect(postgres_dsn(build)) as db:
        cursor = db.execute(sql)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def comparable(rows: list[dict]) -> list[tuple]:
    """Rows in a stable order, numbers as floats rounded to 9 digits (DuckDB returns
    doubles and int128 where PostgreSQL returns numeric)."""

    def value(v):
        if isinstance(v, (float, Decimal, int)) and not isinstance(v, bool):
            return round(float(v), 9)
        return v

    return sorted((tuple((k, value(v)) for k, v in row.items()) for row in rows), key=repr)


def test_meltano_run_lands_the_taps_and_builds_the_model_on_duckdb(duckdb_build):
    done = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)", duckdb_build.output)
    assert done, duckdb_build.output[-3000:]
    passed, _, errors = map(int, done[-1])
    assert errors == 0
    assert passed >= 100  # models, data tests, unit tests, reconciliation tests
    for mart in MARTS:
        (row,) = duckdb_rows(duckdb_build, f"select count(*) as n from engagement.{mart}")
        assert row["n"] > 0, mart


@pytest.mark.parametrize("mart", MARTS)
def test_the_marts_are_the_same_on_duckdb_and_postgresql(duckdb_build, postgres_build, mart):
    sql = f"select * from engagement.{mart}"
    on_duckdb = duckdb_rows(duckdb_build, sql)
    on_postgres = postgres_rows(postgres_build, sql)
    assert [list(r) for r in on_duckdb[:1]] == [list(r) for r in on_postgres[:1]]  # columns
    assert len(on_duckdb) == len(on_postgres)
    assert comparable(on_duckdb) == comparable(on_postgres)


def close(ours, expected) -> bool:
    if expected is None or ours is None:
        return ours is expected
    return math.isclose(float(ours), expected, rel_tol=1e-9, abs_tol=1e-6)


def test_event_metrics_hold_the_sandbox_truth(duckdb_build, truth):
    expected = Expected(truth).event_metrics
    rows = duckdb_rows(duckdb_build, "select * from engagement.engagement__event_metrics")
    ours = {(r["source_system"], r["source_event_id"]): r for r in rows}
    assert set(ours) == set(expected)
    for key, figures in expected.items():
        for name, value in figures.items():
            assert close(ours[key][name], value), (key, name, ours[key][name], value)


def test_minutes_viewed_are_the_union_of_each_persons_intervals(duckdb_build, truth):
    expected = Expected(truth).minutes
    rows = duckdb_rows(
        duckdb_build,
        "select source_system, source_event_id, person_key, minutes_viewed "
        "from engagement.engagement__person_event_metrics where minutes_viewed is not null",
    )
    ours = {(r["source_system"], r["source_event_id"], r["person_key"]): r for r in rows}
    assert set(ours) == set(expected)
    for key, minutes in expected.items():
        assert close(ours[key]["minutes_viewed"], minutes), key
    # The vendors' sums overstate: Rev's by a third on the demo data.
    (rev,) = duckdb_rows(
        duckdb_build,
        "select sum(total_minutes_viewed) as ours, sum(vendor_minutes_viewed) as vendor "
        "from engagement.engagement__event_metrics where source_system = 'rev'",
    )
    assert rev["vendor"] > 1.3 * rev["ours"]


def test_person_keys_are_salted_hashes_of_the_normalised_email(duckdb_build, truth):
    attendee = truth["webcasts"]["audience"][0]["email"]
    keys = {
        r["person_key"]
        for r in duckdb_rows(duckdb_build, "select person_key from engagement.engagement__people")
    }
    assert person_key(attendee) in keys
    assert person_key(f"  {attendee.upper()} ") == person_key(attendee)
    emails = duckdb_rows(
        duckdb_build, "select count(email) as n from engagement.engagement__person_identities"
    )
    assert emails == [{"n": 0}]  # readable emails only when asked for
    with duckdb.connect(duckdb_build.meltano.env["DBT_DUCKDB_PATH"], read_only=True) as db:
        text = " ".join(str(v) for row in db.execute(
            "select * from engagement.engagement__people").fetchall() for v in row)  # fmt: skip
    assert attendee not in text


def test_rev_usernames_resolve_through_revs_own_sessions(duckdb_build, truth):
    expected = Expected(truth).username_resolution
    rows = duckdb_rows(
        duckdb_build,
        "select interaction_type, interactions_resolved, interactions_unresolved "
        "from engagement.engagement__identity_resolution where source_system = 'rev'",
    )
    ours = {
        r["interaction_type"]: (r["interactions_resolved"], r["interactions_unresolved"])
        for r in rows
    }
    assert ours == expected
    assert sum(resolved for resolved, _ in ours.values()) > 0


def test_the_keep_emails_setting_adds_readable_emails(duckdb_build, tmp_path, truth):
    warehouse = tmp_path / "warehouse.duckdb"  # same name: DuckDB's catalog is the file's stem
    shutil.copy(duckdb_build.meltano.env["DBT_DUCKDB_PATH"], warehouse)
    build = Build(duckdb_build.meltano.__class__(
        env={**duckdb_build.meltano.env, "DBT_DUCKDB_PATH": str(warehouse)}), "")  # fmt: skip
    run = build.invoke(
        "dbt-duckdb", "run", "--select", "engagement__person_identities engagement__people",
        "--vars", "{engagement_keep_emails: true}",
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    rows = duckdb_rows(
        build, "select person_key, email, is_username_only from engagement.engagement__people"
    )
    # Everyone has an email but the Rev usernames no session resolves.
    assert all((r["email"] is None) == r["is_username_only"] for r in rows)
    attendee = truth["webcasts"]["audience"][0]["email"].strip().lower()
    assert {
        "person_key": person_key(attendee),
        "email": attendee,
        "is_username_only": False,
    } in rows


RECONCILIATION = {
    # vendor table -> the reconciliation test its missing rows must fail
    "tap_rev_webcast.attendee_sessions": "rev_sessions_match_attendance_summary",
    "tap_webcasts.audience_sessions": "webcasts_sessions_match_viewing_seconds",
    "tap_cast.analytics_events": "cast_events_match_campaign_counters",
}


def test_a_load_with_rows_missing_fails_reconciliation(duckdb_build, tmp_path):
    """One row deleted from each vendor's table, as a load that lost rows would leave it."""
    warehouse = tmp_path / "warehouse.duckdb"  # same name: DuckDB's catalog is the file's stem
    shutil.copy(duckdb_build.meltano.env["DBT_DUCKDB_PATH"], warehouse)
    with duckdb.connect(str(warehouse)) as db:
        db.execute(
            "delete from tap_rev_webcast.attendee_sessions where session_key = "
            "(select min(session_key) from tap_rev_webcast.attendee_sessions "
            "where run_number = 0)"
        )
        db.execute(
            "delete from tap_webcasts.audience_sessions where session_start = "
            "(select min(session_start) from tap_webcasts.audience_sessions)"
        )
        db.execute(
            "delete from tap_cast.analytics_events where event_key = (select min(event_key) "
            "from tap_cast.analytics_events where event_type = 'view')"
        )
    build = Build(duckdb_build.meltano.__class__(
        env={**duckdb_build.meltano.env, "DBT_DUCKDB_PATH": str(warehouse)}), "")  # fmt: skip
    run = build.invoke("dbt-duckdb", "test", "--select", "tag:reconciliation")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    for test in RECONCILIATION.values():
        assert re.search(rf"FAIL \d+ {test}\b", output), (test, output[-3000:])


def test_it_works_as_a_dbt_package_pointed_at_other_schemas(duckdb_build, tmp_path):
    """A team's own dbt project adds transform/ in packages.yml and sets the vars: its Rev
    tables live in another schema, and it has no Cast."""
    warehouse = tmp_path / "warehouse.duckdb"  # same name: DuckDB's catalog is the file's stem
    shutil.copy(duckdb_build.meltano.env["DBT_DUCKDB_PATH"], warehouse)
    with duckdb.connect(str(warehouse)) as db:
        db.execute("drop schema engagement cascade")
        db.execute("drop schema engagement_staging cascade")
        db.execute("drop schema tap_cast cascade")
        db.execute("create schema raw_rev")
        for (table,) in db.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'tap_rev_webcast'"
        ).fetchall():
            db.execute(f"create table raw_rev.{table} as select * from tap_rev_webcast.{table}")
        db.execute("drop schema tap_rev_webcast cascade")
    team = tmp_path / "analytics"
    team.mkdir()
    (team / "dbt_project.yml").write_text(
        "name: analytics\nversion: '1.0.0'\nconfig-version: 2\nprofile: webinar_engagement\n"
        "vars:\n  webinar_engagement:\n    rev_schema: raw_rev\n"
        "    engagement_using_cast: false\n"
    )
    (team / "packages.yml").write_text(f"packages:\n  - local: {ROOT / 'transform'}\n")
    dbt = ROOT / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "dbt"
    env = {
        **os.environ,
        "DBT_DUCKDB_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(ROOT / "transform" / "profiles" / "duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for command in (["deps"], ["build"]):
        run = subprocess.run(
            [str(dbt), *command], cwd=team, env=env, capture_output=True, text=True, timeout=600
        )
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    rows = duckdb_rows(
        Build(duckdb_build.meltano.__class__(env={"DBT_DUCKDB_PATH": str(warehouse)}), ""),
        "select source_system, count(*) as events from engagement.engagement__event_metrics "
        "group by source_system order by source_system",
    )
    assert rows == [
        {"source_system": "rev", "events": 8},
        {"source_system": "webcasts", "events": 4},
    ]


def test_engagement_scores_follow_the_documented_formula(duckdb_build, truth):
    """Every attendee's score and components, recomputed from the sandbox truth."""
    expected = Scores(truth).scores
    rows = duckdb_rows(
        duckdb_build,
        "select source_system, source_event_id, person_key, engagement_score, score_components "
        "from engagement.engagement__person_event_metrics where attended",
    )
    ours = {(r["source_system"], r["source_event_id"], r["person_key"]): r for r in rows}
    assert set(ours) == set(expected)
    for key, (score, used) in expected.items():
        assert abs(ours[key]["engagement_score"] - score) <= 0.05 + 1e-9, (key, score)
        assert ours[key]["score_components"] == used, key
    assert {used for _, used in expected.values()} >= {"A,K,F", "A,L,Q,P,S", "A,Q,P,C"}
