"""The README documents what the code does."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_settings_tables_match_about_output():
    result = subprocess.run(
        [sys.executable, "scripts/readme_settings.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    readme = (ROOT / "README.md").read_text()
    assert "| api_key | True | None |" in readme


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
