"""The engagement model end to end: the three demo sandboxes, `meltano run` of every tap into
DuckDB and into PostgreSQL followed by `dbt-<warehouse>:build`, once per session."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import MELTANO, ROOT, MeltanoProject, connect_postgres, postgres_server

TAPS = ("tap-cast", "tap-webcasts", "tap-rev-webcast")
VENDORS = {"tap-cast": "cast", "tap-webcasts": "webcasts", "tap-rev-webcast": "rev"}


@contextlib.contextmanager
def serving(vendor: str) -> t.Iterator[str]:
    """`python -m sandbox serve <vendor>` on a free port: the demo's data and credentials
    (the `sandbox` environment of meltano.yml). Yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", vendor, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert "listening on http" in line, f"the {vendor} sandbox did not start: {line!r}"
        yield line.rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def sandbox_urls() -> t.Iterator[dict[str, str]]:
    """TAP_<NAME>_BASE_URL of each tap, pointing at its running sandbox."""
    with contextlib.ExitStack() as stack:
        yield {
            f"{tap.upper().replace('-', '_')}_BASE_URL": stack.enter_context(serving(vendor))
            for tap, vendor in VENDORS.items()
        }


@pytest.fixture(scope="session")
def truth() -> dict[str, dict]:
    """`python -m sandbox truth <vendor>`: what each demo sandbox serves."""
    return {
        vendor: json.loads(
            subprocess.run(
                [sys.executable, "-m", "sandbox", "truth", vendor],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for vendor in VENDORS.values()
    }


@dataclass
class Build:
    """One `meltano run` of the three taps and the model, and where it wrote."""

    meltano: MeltanoProject
    output: str  # what meltano printed

    def invoke(self, utility: str, *args: str, check: bool = False):
        """`meltano invoke <utility> <args>` with this build's settings."""
        return subprocess.run(
            [str(MELTANO), "--environment=sandbox", "invoke", utility, *args],
            cwd=ROOT,
            env=self.meltano.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=check,
        )


def meltano_env(tmp: Path, sandbox_urls: dict[str, str], **extra: str) -> dict[str, str]:
    """This repository's settings, with state, dbt's files and the sandboxes of this run."""
    return {
        **os.environ,
        **sandbox_urls,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_STATE_BACKEND_URI": f"file://{tmp}/state",
        # Meltano reads a utility's settings from <NAMESPACE>_<SETTING>.
        **{
            f"DBT_{warehouse}_{setting}_PATH": str(tmp / f"dbt-{setting.lower()}")
            for warehouse in ("DUCKDB", "POSTGRES")
            for setting in ("TARGET", "LOG")
        },
        **extra,
    }


def pipeline(loader: str, utility: str) -> list[str]:
    # A state id of its own: a demo running the same pipelines in this checkout at the same
    # time would otherwise make Meltano refuse the run.
    suffix = f"--state-id-suffix=model-{uuid.uuid4().hex[:8]}"
    return ["run", suffix, *[step for tap in TAPS for step in (tap, loader)], f"{utility}:build"]


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory, sandbox_urls) -> Build:
    tmp = tmp_path_factory.mktemp("engagement-duckdb")
    warehouse = tmp / "warehouse.duckdb"
    env = meltano_env(
        tmp, sandbox_urls, TARGET_DUCKDB_FILEPATH=str(warehouse), DBT_DUCKDB_PATH=str(warehouse)
    )
    meltano = MeltanoProject(env=env)
    run = meltano.run(*pipeline("target-duckdb", "dbt-duckdb"), timeout=900)
    return Build(meltano, run.stdout + run.stderr)


@pytest.fixture(scope="session")
def postgres_build(tmp_path_factory: pytest.TempPathFactory, sandbox_urls) -> t.Iterator[Build]:
    """The same run into a database of its own on the PostgreSQL server of the tests
    (tests.helpers.postgres_server)."""
    admin = connect_postgres()
    database = f"test_engagement_{uuid.uuid4().hex[:8]}"
    admin.execute(f'create database "{database}"')
    tmp = tmp_path_factory.mktemp("engagement-postgres")
    env = meltano_env(
        tmp,
        sandbox_urls,
        **postgres_server().meltano_settings(),
        TARGET_POSTGRES_DATABASE=database,
        DBT_POSTGRES_DBNAME=database,
    )
    try:
        meltano = MeltanoProject(env=env)
        run = meltano.run(*pipeline("target-postgres", "dbt-postgres"), timeout=900)
        yield Build(meltano, run.stdout + run.stderr)
    finally:
        admin.execute(f'drop database "{database}" with (force)')
        admin.close()


def postgres_dsn(build: Build) -> str:
    return postgres_server().dsn(build.meltano.env["DBT_POSTGRES_DBNAME"])
