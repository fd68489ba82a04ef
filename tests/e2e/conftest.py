"""End to end: `meltano run` against an in-process sandbox, into a real target."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MELTANO = Path(sys.executable).parent / "meltano"


@dataclass
class MeltanoProject:
    """Runs meltano in this repository with settings given as environment variables."""

    env: dict[str, str]

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(MELTANO), "--environment=sandbox", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-4000:]
            pytest.fail(f"meltano {' '.join(args)} failed ({result.returncode}):\n{tail}")
        return result


@pytest.fixture
def meltano(tmp_path: Path) -> MeltanoProject:
    """Isolated state backend and warehouse per test; plugins installed once per checkout."""
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_STATE_BACKEND_URI": f"file://{tmp_path}/state",
        "TARGET_DUCKDB_FILEPATH": str(tmp_path / "warehouse.duckdb"),
    }
    return MeltanoProject(env=env)


PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


@dataclass
class Postgres:
    """A throwaway schema in the local PostgreSQL server, for target-postgres runs."""

    conn: t.Any
    schema: str

    def rows(self, table: str, key: str) -> list[dict]:
        """Every row of ``table`` ordered by ``key``, without the target's _sdc columns."""
        cursor = self.conn.execute(f'select * from "{self.schema}"."{table}" order by {key}')
        names = [column.name for column in cursor.description]
        return [
            {n: v for n, v in zip(names, row, strict=True) if not n.startswith("_sdc")}
            for row in cursor.fetchall()
        ]

    def tables(self) -> set[str]:
        cursor = self.conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            [self.schema],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def postgres(meltano: MeltanoProject) -> t.Iterator[Postgres]:
    """A fresh schema; in CI an unreachable server fails the suite, elsewhere it skips."""
    import psycopg

    try:
        conn = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL on 127.0.0.1:5432 is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
    try:
        yield Postgres(conn, schema)
    finally:
        conn.execute(f'drop schema if exists "{schema}" cascade')
        conn.close()
