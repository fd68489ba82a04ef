"""target-snowflake under fakesnow: its own virtualenv, and one emulated account per test."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ROOT

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
RUNNER = HERE / "fakesnow_target.py"
VENV = ROOT / ".venv-snowflake"
DATABASE = "WEBINARS"
#: A distinctive password: tests assert it never shows up in the loader's output.
PASSWORD = "snow-PASS-9d1e-do-not-print"


@pytest.fixture(scope="session")
def snowflake_python() -> Path:
    """The loader's virtualenv, created from requirements.txt on first use and kept while
    that file is unchanged (a stamp holds its hash). It cannot share the taps' one:
    target-snowflake pins a different singer-sdk."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == wanted and python.is_file():
        return python
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(step)} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    stamp.write_text(wanted)
    return python


@dataclass
class Load:
    """What one run of target-snowflake printed and sent."""

    state: dict
    statements: list[str]
    output: str


@dataclass
class FakeSnowflake:
    """An emulated Snowflake account (DuckDB files in ``db_path``) and the loader's config."""

    python: Path
    db_path: Path
    config: dict = field(default_factory=dict)

    @property
    def runner(self) -> list[str]:
        return [str(self.python), str(RUNNER), "--db-path", str(self.db_path)]

    def load(self, singer: str, **settings: t.Any) -> Load:
        """Pipe ``singer`` into target-snowflake's console script; stop the test if it fails."""
        config = {**self.config, **settings}
        config_file = self.db_path.parent / "target-config.json"
        config_file.write_text(json.dumps(config))
        log = self.db_path.parent / "statements.sql"
        log.write_text("")
        result = subprocess.run(
            [*self.runner, "--sql-log", str(log), "--", "--config", str(config_file)],
            input=singer,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        output = result.stdout + result.stderr
        if result.returncode != 0:
            pytest.fail(f"target-snowflake failed ({result.returncode}):\n{output[-4000:]}")
        states = [line for line in result.stdout.splitlines() if line.startswith("{")]
        statements = [s.strip() for s in log.read_text().split(";\n") if s.strip()]
        return Load(json.loads(states[-1]) if states else {}, statements, output)

    def dbt(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """dbt-snowflake's console script with ``args`` (see fakesnow_target.run_dbt)."""
        return subprocess.run(
            [*self.runner, "--dbt", "--", *args],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
        )

    def dump(self, schema: str) -> dict[str, dict]:
        """Every table of ``schema``: ``{"TABLE": {"columns": {NAME: type}, "rows": [...]}}``.

        Rows come through the Snowflake connector's interface (VARIANT as JSON text)."""
        result = subprocess.run(
            [*self.runner, "--database", DATABASE, "--dump", schema],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if result.returncode != 0:
            pytest.fail(f"reading schema {schema} failed:\n{result.stderr[-4000:]}")
        return json.loads(result.stdout)


def snowflake_config() -> dict:
    """target-snowflake's settings for the emulated account (the schema is set per run)."""
    return {
        "account": "testorg-testaccount",
        "user": "LOADER",
        "password": PASSWORD,
        "database": DATABASE,
        "warehouse": "LOAD_WH",
        "role": "LOADER",
    }


@pytest.fixture
def snowflake(snowflake_python: Path, tmp_path: Path) -> FakeSnowflake:
    db_path = tmp_path / "fakesnow"
    db_path.mkdir()
    return FakeSnowflake(snowflake_python, db_path, snowflake_config())
