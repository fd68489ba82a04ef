"""End to end: `meltano run` against an in-process sandbox, into a real target."""

from __future__ import annotations

import os
import subprocess
import sys
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
