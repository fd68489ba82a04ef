"""meltano.yml describes each tap exactly as the tap describes itself (--about)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text())
EXTRACTORS = {plugin["name"]: plugin for plugin in PROJECT["plugins"]["extractors"]}
LOADERS = {plugin["name"]: plugin for plugin in PROJECT["plugins"]["loaders"]}
SDK_BUILTINS = ("stream_map", "faker_config", "flattening_", "batch_config")


def about(tap: str) -> dict:
    executable = Path(sys.executable).parent / tap
    output = subprocess.run(
        [str(executable), "--about", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return json.loads(output)


@pytest.mark.parametrize("tap", sorted(EXTRACTORS))
def test_every_setting_is_declared_and_secrets_are_sensitive(tap):
    described = about(tap)
    declared = {setting["name"]: setting for setting in EXTRACTORS[tap]["settings"]}
    for setting in declared.values():  # a stray comma in flow style YAML makes extra keys
        assert set(setting) <= {
            "name",
            "kind",
            "value",
            "description",
            "label",
            "sensitive",
            "options",
        }, setting
    for name, spec in described["settings"]["properties"].items():
        if name.startswith(SDK_BUILTINS):
            continue
        assert name in declared, f"{tap}: setting {name} missing from meltano.yml"
        assert declared[name].get("description"), f"{tap}: {name} has no description"
        assert bool(declared[name].get("sensitive")) == bool(spec.get("secret")), name
    assert set(EXTRACTORS[tap]["capabilities"]) <= set(described["capabilities"])
    assert EXTRACTORS[tap]["executable"] == tap


def test_loaders_are_pinned_and_credentials_sensitive():
    assert set(LOADERS) == {"target-duckdb", "target-postgres", "target-snowflake"}
    for loader in LOADERS.values():
        assert "==" in loader["pip_url"], loader["name"]
    assert "duckdb==1.2.2" in LOADERS["target-duckdb"]["pip_url"]  # newer DuckDB loses rows
    snowflake = {s["name"]: s for s in LOADERS["target-snowflake"]["settings"]}
    for secret in ("password", "private_key", "private_key_passphrase"):
        assert snowflake[secret]["sensitive"] is True
    assert "password" not in LOADERS["target-snowflake"].get("config", {})


def test_state_backend_is_not_the_default_system_database():
    assert PROJECT["state_backend"]["uri"].startswith("file://")
