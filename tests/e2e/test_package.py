"""`python -m build` makes a wheel and an sdist that install in a fresh virtualenv and run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.e2e

UV = Path(sys.executable).parent / "uv"  # installed with Meltano
TAPS = ("tap-cast", "tap-webcasts", "tap-rev-webcast")
PACKAGES = ("tap_cast", "tap_common", "tap_rev_webcast", "tap_webcasts")
PYPROJECT = (ROOT / "pyproject.toml").read_text()  # tomllib is 3.11+; we support 3.10
VERSION = re.search(r'^version = "(.+)"$', PYPROJECT, re.MULTILINE)[1]


def fresh_venv_with(artifact: Path, venv: Path) -> Path:
    """A new virtualenv with only ``artifact`` (and its dependencies) installed; its bin."""
    for command in (
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(artifact),
        ],
    ):
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{result.stderr[-4000:]}")
    return venv / "bin"


def about(bin_dir: Path, tap: str) -> dict:
    output = subprocess.run(
        [str(bin_dir / tap), "--about", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return json.loads(output)


def test_the_wheel_installs_and_every_tap_runs(built_dist, tmp_path):
    (wheel,) = built_dist.glob(f"webinar_taps-{VERSION}-py3-none-any.whl")
    bin_dir = fresh_venv_with(wheel, tmp_path / "venv")
    for tap in TAPS:
        described = about(bin_dir, tap)
        assert described["name"] == tap
        assert described["version"] == VERSION

    site = subprocess.run(
        [
            str(bin_dir / "python"),
            "-I",  # isolated: never this checkout, which may be the working directory
            "-c",
            "import tap_cast, pathlib; print(pathlib.Path(tap_cast.__file__).parents[1])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(site) != ROOT
    for package in PACKAGES:
        assert (Path(site) / package / "py.typed").is_file(), package
    (license_file,) = Path(site).glob(f"webinar_taps-{VERSION}.dist-info/licenses/LICENSE")
    assert license_file.read_text() == (ROOT / "LICENSE").read_text()


def test_the_sdist_builds_installs_and_runs(built_dist, tmp_path):
    (sdist,) = built_dist.glob(f"webinar_taps-{VERSION}.tar.gz")
    bin_dir = fresh_venv_with(sdist, tmp_path / "venv")
    assert about(bin_dir, "tap-webcasts")["version"] == VERSION


def test_the_license_is_the_apache_2_0_text_pyproject_declares():
    assert re.search(r'^license = "Apache-2.0"$', PYPROJECT, re.MULTILINE)
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_changelog_has_this_release():
    assert f"## [{VERSION}]" in (ROOT / "CHANGELOG.md").read_text()
