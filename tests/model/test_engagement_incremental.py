"""The opt-in incremental mode (var engagement_incremental): after more data lands, an
incremental build gives exactly the marts a fresh full build of the same data gives, on
DuckDB, including when a Rev username first resolved in a new webcast re-keys a person's
sessions in older webcasts."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.model.conftest import Build
from tests.model.test_engagement_model import MARTS, comparable, duckdb_rows

pytestmark = pytest.mark.e2e

INCREMENTAL = "{engagement_incremental: true}"
# Intermediate tables the incremental mode writes, compared too.
INTERMEDIATE = ("int_engagement__viewing_islands", "int_engagement__concurrency")
SESSIONS = "tap_rev_webcast.attendee_sessions"


def copy_of(build: Build, folder: Path) -> Build:
    folder.mkdir()
    warehouse = folder / "warehouse.duckdb"  # same name: DuckDB's catalog is the file's stem
    shutil.copy(build.meltano.env["DBT_DUCKDB_PATH"], warehouse)
    env = {**build.meltano.env, "DBT_DUCKDB_PATH": str(warehouse)}
    return Build(build.meltano.__class__(env=env), "")


def dbt_run(build: Build, *args: str) -> str:
    run = build.invoke("dbt-duckdb", "run", *args)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    return output


def sql(build: Build, statement: str, *params) -> list[tuple]:
    with duckdb.connect(build.meltano.env["DBT_DUCKDB_PATH"]) as db:
        return db.execute(statement, list(params)).fetchall()


def sessions_of(build: Build, username: str) -> set[tuple]:
    """(event, person_key) of the user's Rev sessions in the sessions mart."""
    return set(
        sql(
            build,
            "select marts.source_event_id, marts.person_key "
            f"from engagement.engagement__sessions as marts join {SESSIONS} as landed "
            "on marts.session_key = landed.session_key where landed.username = ?",
            username,
        )
    )


def test_an_incremental_build_equals_a_full_build(duckdb_build, tmp_path):
    built = copy_of(duckdb_build, tmp_path / "incremental")
    # A Rev user whose sessions in the first load carry no email: a person of their own
    # (username key) until a later webcast shows the username with its email.
    ((username, email, old_webcast),) = sql(
        built,
        f"select username, min(email), min(webcast_id) from {SESSIONS} "
        "where run_number = 0 group by username "
        "having count(distinct webcast_id) >= 2 order by username limit 1",
    )
    for table in (SESSIONS, "tap_rev_webcast.realtime_attendees"):
        sql(built, f"update {table} set email = null where username = ?", username)
    (changed, gone, template) = (
        row[0]
        for row in sql(
            built,
            f"select webcast_id from {SESSIONS} where webcast_id <> ? group by 1 order by 1 "
            "limit 3",
            old_webcast,
        )
    )

    dbt_run(built, "--full-refresh", "--vars", INCREMENTAL)
    before = sessions_of(built, username)
    assert len({person for _, person in before}) == 1

    # More data lands: a new webcast (a copy of one), in which the user is seen with their
    # email; an existing webcast's sessions end a minute later; another's sessions are gone.
    new = f"{template}~new"
    sql(built, "insert into tap_rev_webcast.webcasts select * replace (? as id) "
        "from tap_rev_webcast.webcasts where id = ?", new, template)  # fmt: skip
    sql(built, f"insert into {SESSIONS} select * replace (? as webcast_id, "
        "md5(session_key || '~new') as session_key) "
        f"from {SESSIONS} where webcast_id = ?", new, template)  # fmt: skip
    sql(built, f"update {SESSIONS} set email = ?, username = ? where session_key = "
        f"(select min(session_key) from {SESSIONS} where webcast_id = ?)",
        email, username, new)  # fmt: skip
    sql(built, f"update {SESSIONS} set exited_date = exited_date + interval 1 minute "
        "where webcast_id = ?", changed)  # fmt: skip
    sql(built, f"delete from {SESSIONS} where webcast_id = ?", gone)

    output = dbt_run(built, "--vars", INCREMENTAL)
    assert "incremental model engagement_staging.int_engagement__viewing_islands" in output
    after = sessions_of(built, username)
    # The re-key happened: the old webcast's sessions now carry the email's person key.
    assert {person for _, person in after} != {person for _, person in before}
    assert old_webcast in {event for event, _ in after}

    full = copy_of(built, tmp_path / "full")
    dbt_run(full, "--full-refresh")

    tables = [f"engagement.{mart}" for mart in MARTS]
    tables += [f"engagement_staging.{table}" for table in INTERMEDIATE]
    for table in tables:
        incremental, fresh = (duckdb_rows(b, f"select * from {table}") for b in (built, full))
        assert fresh, table
        # Sums of doubles differ in their last bits from one build to the next (the order of
        # addition): compared to 9 digits, as the two warehouses are.
        assert comparable(incremental) == comparable(fresh), table
