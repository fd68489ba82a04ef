"""The engagement model at scale: `dbt build` over a million Rev sessions, DuckDB and PostgreSQL.

1. Base: the demo's landed tables (the three taps run against their sandboxes, shared people
   on, exactly as `make demo` lands them), or ``--base FILE`` (a landed DuckDB warehouse,
   e.g. output/sandbox.duckdb after `make demo`).
2. Scale: every Rev table is copied ``ceil(--sessions / base sessions)`` times in SQL (the
   same statement on both warehouses). Copy k gets its own webcast ids (``<id>~k``) and row
   keys, and moves each sandbox user to another of 100,000 people (``user`` numbers shifted by
   997 k, modulo 100,000; one-to-one within a copy, so Rev's own summary still reconciles).
   Cast and Webcasts.com stay at demo size. PostgreSQL gets the base tables with the types
   target-postgres gives them (bigint, jsonb, timestamp), in a database of its own.
3. Build: `dbt build` (every model, data test, unit test and reconciliation test) of
   transform/, with the dbt of the Meltano utilities (dbt-duckdb, dbt-postgres); wall
   seconds and the dbt process's peak RSS. PostgreSQL's own server memory is not in that
   figure (its backends are separate processes).
4. Checks: every copy of a webcast has the same metrics as the others, Rev's sessions in the
   marts are copies x base, and both warehouses give the same totals. A failed check exits 1.

    .venv/bin/python bench/engagement_scale.py [--sessions 1000000] [--base FILE]
        [--warehouses duckdb postgres] [--smoke] [--dbt PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
TRANSFORM = ROOT / "transform"
PG_SERVER = "host=127.0.0.1 port=5432 user=postgres connect_timeout=3"
PG_DATABASE = "bench_engagement"
PEOPLE = 100_000
VENDOR_SCHEMAS = ("tap_cast", "tap_webcasts", "tap_rev_webcast")

# Runs a command, its output to a file, and prints its wall seconds and peak RSS (KiB):
# a process of its own, so one build's peak is not another's.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "w") as log:
    code = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": seconds, "peak_kib": peak}))
"""


# ---------------------------------------------------------------------------- scaling SQL
def copy_id(column: str) -> str:
    return f"{column} || '~' || cast(k as varchar)"


def row_key(column: str) -> str:
    return f"md5({column} || '~' || cast(k as varchar))"


def person(column: str) -> str:
    """Sandbox user ``userNNNNNN`` -> another of PEOPLE users in copy k (others unchanged)."""
    number = f"cast(substr({column}, 5, 6) as integer)"
    moved = f"'user' || lpad(cast(({number} + k * 997) % {PEOPLE} as varchar), 6, '0')"
    return f"case when {column} like 'user______' then {moved} else {column} end"


def person_email(column: str) -> str:
    return (
        f"case when {column} like 'user______@example.com' "
        f"then {person(f'substr({column}, 1, 10)')} || '@example.com' else {column} end"
    )


# Rev table -> column -> expression of copy k (other columns are copied as they are).
REV_COPIES: dict[str, dict[str, str]] = {
    "webcasts": {"id": copy_id("id")},
    "attendee_sessions": {
        "webcast_id": copy_id("webcast_id"),
        "session_key": row_key("session_key"),
        "username": person("username"),
        "email": person_email("email"),
    },
    "webcast_attendance_summary": {"webcast_id": copy_id("webcast_id")},
    "realtime_attendees": {
        "webcast_id": copy_id("webcast_id"),
        "username": person("username"),
        "email": person_email("email"),
    },
    "comments": {
        "webcast_id": copy_id("webcast_id"),
        "comment_id": row_key("comment_id"),
        "username": person("username"),
    },
    "questions": {
        "webcast_id": copy_id("webcast_id"),
        "question_id": row_key("question_id"),
        "user_name": person("user_name"),
    },
    "poll_results": {"webcast_id": copy_id("webcast_id")},
    "poll_answers": {"webcast_id": copy_id("webcast_id")},
    "reactions": {"webcast_id": copy_id("webcast_id")},
    "registrations": {
        "webcast_id": copy_id("webcast_id"),
        "registration_id": row_key("registration_id"),
    },
}


def scale_statement(
    table: str, columns: list[str], source: str, copies: int, first: int = 0
) -> str:
    """Copies first .. copies-1 of a Rev table: a new table, or rows added to it (first > 0)."""
    overrides = REV_COPIES.get(table, {})
    select = ", ".join(f'{overrides[c]} as "{c}"' if c in overrides else f'"{c}"' for c in columns)
    into = (
        f'insert into tap_rev_webcast."{table}" select'
        if first
        else (f'create table tap_rev_webcast."{table}" as select')
    )
    return f"{into} {select} from {source}, generate_series({first}, {copies - 1}) as g(k)"


def land_one_more_copy(warehouse: str, base: Base, workdir: Path, copies: int) -> None:
    """What a later load adds: one more copy of every Rev table (new webcasts, and sessions
    of people already seen elsewhere)."""
    tables = base.tables("tap_rev_webcast")
    names = {
        table: [name for name, _ in base.columns("tap_rev_webcast", table)] for table in tables
    }
    if warehouse == "duckdb":
        with duckdb.connect(str(workdir / "scaled.duckdb")) as db:
            db.execute(f"attach '{base.path}' as base (read_only)")
            for table in tables:
                source = f'base.tap_rev_webcast."{table}"'
                db.execute(scale_statement(table, names[table], source, copies + 1, copies))
    else:
        with postgres(PG_DATABASE) as db:
            for table in tables:
                source = f'base_tap_rev_webcast."{table}"'
                db.execute(scale_statement(table, names[table], source, copies + 1, copies))
                db.execute(f'analyze tap_rev_webcast."{table}"')


# ---------------------------------------------------------------------------- warehouses
class Base:
    """The landed base warehouse (DuckDB), read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = duckdb.connect(str(path), read_only=True)

    def tables(self, schema: str) -> list[str]:
        return [
            name
            for (name,) in self.db.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by 1",
                [schema],
            ).fetchall()
        ]

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        return [
            (name, kind)
            for name, kind in self.db.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
        ]

    def sessions(self) -> int:
        """Rev sessions of main runs (pre-production runs are not in the metrics)."""
        (count,) = self.db.execute(  # type: ignore[misc]
            "select count(*) from tap_rev_webcast.attendee_sessions where run_number = 0"
        ).fetchone()
        return int(count)


def scale_duckdb(base: Base, path: Path, copies: int) -> None:
    with duckdb.connect(str(path)) as db:
        db.execute(f"attach '{base.path}' as base (read_only)")
        for schema in VENDOR_SCHEMAS:
            db.execute(f"create schema {schema}")
            for table in base.tables(schema):
                source = f'base.{schema}."{table}"'
                if schema == "tap_rev_webcast":
                    names = [name for name, _ in base.columns(schema, table)]
                    db.execute(scale_statement(table, names, source, copies))
                else:
                    db.execute(f'create table {schema}."{table}" as select * from {source}')


POSTGRES_TYPES = {
    "HUGEINT": "bigint",
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "JSON": "jsonb",
    "DOUBLE": "double precision",
    "VARCHAR": "character varying",
    "TIMESTAMP": "timestamp without time zone",
    "BOOLEAN": "boolean",
}


def postgres(dbname: str) -> t.Any:
    import psycopg

    try:
        return psycopg.connect(f"{PG_SERVER} dbname={dbname}", autocommit=True)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0]
        raise SystemExit(
            f"PostgreSQL on 127.0.0.1:5432 is unreachable ({first}); start it, or pass "
            "--warehouses duckdb"
        ) from None


def scale_postgres(base: Base, copies: int) -> None:
    """A fresh database: the base tables with target-postgres's types, Rev's scaled."""
    with postgres("postgres") as server:
        server.execute(f"drop database if exists {PG_DATABASE} with (force)")
        server.execute(f"create database {PG_DATABASE}")
    with postgres(PG_DATABASE) as db:
        for schema in VENDOR_SCHEMAS:
            target = f"base_{schema}" if schema == "tap_rev_webcast" else schema
            db.execute(f"create schema {target}")
            for table in base.tables(schema):
                columns = base.columns(schema, table)
                definition = ", ".join(f'"{n}" {POSTGRES_TYPES[k]}' for n, k in columns)
                db.execute(f'create table {target}."{table}" ({definition})')
                names = ", ".join(f'"{n}"' for n, _ in columns)
                rows = base.db.execute(f'select {names} from {schema}."{table}"').fetchall()
                with db.cursor().copy(f'copy {target}."{table}" ({names}) from stdin') as copy:
                    for row in rows:
                        copy.write_row(row)
        db.execute("create schema tap_rev_webcast")
        for table in base.tables("tap_rev_webcast"):
            names = [name for name, _ in base.columns("tap_rev_webcast", table)]
            source = f'base_tap_rev_webcast."{table}"'
            db.execute(scale_statement(table, names, source, copies))
            db.execute(f'analyze tap_rev_webcast."{table}"')


# ---------------------------------------------------------------------------- dbt
def dbt_executable(utility: str) -> Path:
    """The dbt that `meltano install` gives the utility (installed now if missing)."""
    path = ROOT / ".meltano" / "utilities" / utility / "venv" / "bin" / "dbt"
    if not path.exists():
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "meltano"), "install", "utility", utility],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return path


def dbt_build(
    warehouse: str, env: dict[str, str], workdir: Path, dbt: Path | None, *args: str
) -> dict[str, t.Any]:
    command = [
        str(dbt or dbt_executable(f"dbt-{warehouse}")),
        "build",
        "--project-dir",
        str(TRANSFORM),
        "--profiles-dir",
        str(TRANSFORM / "profiles" / warehouse),
        "--target-path",
        str(workdir / f"target-{warehouse}"),
        "--log-path",
        str(workdir / f"logs-{warehouse}"),
        *args,
    ]
    log = workdir / f"dbt-{warehouse}.log"
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(log), *command],
        env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    text = log.read_text(errors="replace")
    if measured["code"] != 0:
        tail = "\n".join(text.splitlines()[-15:])
        raise SystemExit(f"dbt build on {warehouse} failed (exit {measured['code']}):\n{tail}")
    done = [line.split("Done. ", 1)[1] for line in text.splitlines() if "Done. PASS=" in line]
    results = json.loads((workdir / f"target-{warehouse}" / "run_results.json").read_text())
    nodes = sorted(results["results"], key=lambda node: -node["execution_time"])
    slowest = ", ".join(
        f"{node['unique_id'].rsplit('.', 1)[-1]} {node['execution_time']:.1f} s"
        for node in nodes[:4]
    )
    return {**measured, "summary": done[-1].strip() if done else "?", "slowest": slowest}


# ---------------------------------------------------------------------------- checks
TOTALS = """
select
    (select count(*) from engagement.engagement__people) as people,
    (select count(*) from engagement.engagement__sessions where source_system = 'rev'
        and run_number = 0) as rev_sessions,
    (select sum(attendees) from engagement.engagement__event_metrics) as attendees,
    (select round(cast(sum(total_minutes_viewed) as numeric), 3)
        from engagement.engagement__event_metrics) as minutes,
    (select sum(peak_concurrent_viewers) from engagement.engagement__event_metrics) as peaks,
    (select round(cast(sum(engagement_score) as numeric), 1)
        from engagement.engagement__person_event_metrics) as scores
"""
# Copies of one webcast whose metrics differ from each other (none when the model is right).
COPIES_DIFFER = """
select split_part(source_event_id, '~', 1) as webcast
from engagement.engagement__event_metrics
where source_system = 'rev'
group by 1
having count(distinct cast(attendees as varchar) || '|'
    || cast(round(cast(coalesce(total_minutes_viewed, 0) as numeric), 3) as varchar) || '|'
    || cast(coalesce(peak_concurrent_viewers, 0) as varchar) || '|'
    || cast(engaged_attendees as varchar)) > 1
"""


def totals_duckdb(path: Path) -> tuple[dict[str, t.Any], list[str]]:
    with duckdb.connect(str(path), read_only=True) as db:
        cursor = db.execute(TOTALS)
        names = [c[0] for c in cursor.description or ()]
        totals = dict(zip(names, cursor.fetchone() or (), strict=True))
        differ = [row[0] for row in db.execute(COPIES_DIFFER).fetchall()]
    return totals, differ


def totals_postgres() -> tuple[dict[str, t.Any], list[str]]:
    with postgres(PG_DATABASE) as db:
        cursor = db.execute(TOTALS)
        names = [c.name for c in cursor.description or ()]
        totals = dict(zip(names, cursor.fetchone() or (), strict=True))
        differ = [row[0] for row in db.execute(COPIES_DIFFER).fetchall()]
    return totals, differ


# ---------------------------------------------------------------------------- main
def land_base(workdir: Path) -> Path:
    """The demo's landing (sandboxes, shared people, `meltano run` each tap) into workdir."""
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.WAREHOUSE = workdir / "base.duckdb"
    demo.LOG = workdir / "demo.log"
    demo.MODEL = False
    os.environ["MELTANO_STATE_BACKEND_URI"] = f"file://{workdir}/state"
    if demo.main() != 0:
        kept = ROOT / "output" / "engagement_scale_demo.log"
        kept.parent.mkdir(exist_ok=True)
        kept.write_bytes(Path(demo.LOG).read_bytes())
        raise SystemExit(f"landing the demo data failed; Meltano's log: {kept}")
    return Path(demo.WAREHOUSE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000_000, help="Rev sessions at least")
    parser.add_argument("--base", type=Path, help="a landed DuckDB warehouse to scale")
    parser.add_argument(
        "--warehouses", nargs="+", choices=("duckdb", "postgres"), default=["duckdb", "postgres"]
    )
    parser.add_argument("--smoke", action="store_true", help="20,000 sessions")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="build in the incremental mode, land one more copy of Rev, build again",
    )
    parser.add_argument(
        "--dbt", type=Path, help="a dbt with both adapters (default: the Meltano utilities')"
    )
    args = parser.parse_args()
    sessions = 20_000 if args.smoke else args.sessions
    with tempfile.TemporaryDirectory(prefix="engagement-scale-") as folder:
        workdir = Path(folder)
        base = Base(args.base or land_base(workdir))
        copies = math.ceil(sessions / base.sessions())
        print(f"Base: {base.sessions():,} Rev sessions; {copies} copies", flush=True)
        results: dict[str, dict[str, t.Any]] = {}
        failures: list[str] = []
        for warehouse in args.warehouses:
            start = time.perf_counter()
            if warehouse == "duckdb":
                path = workdir / "scaled.duckdb"
                scale_duckdb(base, path, copies)
                env = {"DBT_DUCKDB_PATH": str(path)}
            else:
                scale_postgres(base, copies)
                env = {"DBT_POSTGRES_DBNAME": PG_DATABASE}
            loaded = time.perf_counter() - start
            mode = ("--vars", "{engagement_incremental: true}") if args.incremental else ()
            built = dbt_build(warehouse, env, workdir, args.dbt, *mode)
            if args.incremental:
                land_one_more_copy(warehouse, base, workdir, copies)
                again = dbt_build(warehouse, env, workdir, args.dbt, *mode)
                built["incremental_seconds"] = again["seconds"]
                built["incremental_slowest"] = again["slowest"]
            totals, differ = (
                totals_duckdb(workdir / "scaled.duckdb")
                if warehouse == "duckdb"
                else totals_postgres()
            )
            results[warehouse] = {**built, "load_seconds": loaded, **totals}
            if totals["rev_sessions"] < sessions:
                failures.append(f"{warehouse}: {totals['rev_sessions']} Rev sessions in the marts")
            if differ:
                failures.append(f"{warehouse}: copies of {len(differ)} webcast(s) differ")
        print_results(results)
        if len(results) == 2:
            keys = ("people", "rev_sessions", "attendees", "minutes", "peaks", "scores")
            one, two = ({k: str(r[k]) for k in keys} for r in results.values())
            if one != two:
                failures.append(f"DuckDB and PostgreSQL differ: {one} != {two}")
            else:
                print("DuckDB and PostgreSQL marts: the same totals")
        for failure in failures:
            print(f"FAILED: {failure}")
        return 1 if failures else 0


def print_results(results: dict[str, dict[str, t.Any]]) -> None:
    print(
        f"{'warehouse':10} {'rev sessions':>13} {'people':>9} {'load s':>7} {'dbt build s':>12} "
        f"{'peak RSS MB':>12}  dbt"
    )
    for warehouse, r in results.items():
        print(
            f"{warehouse:10} {r['rev_sessions']:>13,} {r['people']:>9,} {r['load_seconds']:>7.1f} "
            f"{r['seconds']:>12.1f} {r['peak_kib'] / 1024:>12.0f}  {r['summary']}"
        )
    for warehouse, r in results.items():
        print(f"slowest on {warehouse}: {r['slowest']}")
        if "incremental_seconds" in r:
            print(
                f"incremental build on {warehouse} after one more copy: "
                f"{r['incremental_seconds']:.1f} s ({r['incremental_seconds'] / r['seconds']:.2f} "
                f"of the full build); slowest: {r['incremental_slowest']}"
            )


if __name__ == "__main__":
    sys.exit(main())
