"""meltano.yml and the plugin definition files (plugins/extractors/, Meltano Hub's format)
describe each tap exactly as the tap describes itself (--about)."""

from __future__ import annotations

import json
import re
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
DEFINITIONS = ROOT / "plugins" / "extractors"
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)[1]
# Kinds Meltano hands over as given or refuses when it cannot cast them. date_iso8601 is not
# one: Meltano rewrites what it cannot read ('2024-13-01' became 2024-01-13) instead of
# letting the tap refuse it.
STRICT_KINDS = {"string", "integer", "boolean", "array", "object", "options"}
# Meltano Hub's schema for extractor definitions (schemas/plugin_definitions/): the
# attributes a definition may have, the ones it must have, and those of a setting.
HUB_ATTRIBUTES = {
    "name", "pip_url", "variant", "namespace", "label", "description", "executable",
    "settings", "docs", "repo", "logo_url", "hidden", "settings_group_validation",
    "commands", "capabilities", "metadata", "schema", "select", "maintenance_status",
    "domain_url", "keywords", "requires", "definition", "next_steps", "settings_preamble",
    "usage", "prereq", "quality",
}  # fmt: skip
HUB_REQUIRED = {"name", "namespace", "variant", "label"}
HUB_SETTING_ATTRIBUTES = {
    "name", "aliases", "label", "value", "placeholder", "kind", "description", "tooltip",
    "documentation", "protected", "env", "value_processor", "value_post_processor", "oauth",
    "options", "docs", "sensitive",
}  # fmt: skip
HUB_ONLY = {"variant", "maintenance_status", "domain_url", "keywords", "pip_url"}


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
    assert sorted(EXTRACTORS[tap]["capabilities"]) == sorted(described["capabilities"])
    assert EXTRACTORS[tap]["executable"] == tap
    for setting in declared.values():
        assert setting["kind"] in STRICT_KINDS, setting


@pytest.mark.parametrize("tap", sorted(EXTRACTORS))
def test_the_plugin_definition_file_is_meltano_yml_in_hubs_format(tap):
    """What `meltano add <tap> --from-ref <file>` adds is what this project runs."""
    definition = yaml.safe_load((DEFINITIONS / f"{tap}--webinar-taps.yml").read_text())
    assert set(definition) <= HUB_ATTRIBUTES
    assert set(definition) >= HUB_REQUIRED
    for setting in definition["settings"]:
        assert set(setting) <= HUB_SETTING_ATTRIBUTES, setting
    assert definition["variant"] == "webinar-taps"
    assert definition["pip_url"] == f"webinar-taps=={VERSION}"  # this release
    shared = {key: value for key, value in definition.items() if key not in HUB_ONLY}
    assert shared == {key: value for key, value in EXTRACTORS[tap].items() if key != "pip_url"}, (
        "meltano.yml changed: run scripts/plugin_definitions.py"
    )


LOADER_FILES = {
    "target-duckdb": "target-duckdb--jwills.yml",
    "target-postgres": "target-postgres--meltanolabs.yml",
    "target-snowflake": "target-snowflake--meltanolabs.yml",
}


@pytest.mark.parametrize("name", sorted(LOADER_FILES))
def test_the_loader_definition_file_pins_the_loader_as_meltano_yml(name):
    """Pins and settings as this project runs them; the schema default one per extractor;
    none of this machine's config (host, file paths)."""
    path = ROOT / "plugins" / "loaders" / LOADER_FILES[name]
    definition = yaml.safe_load(path.read_text())
    loader = {key: value for key, value in LOADERS[name].items() if key != "config"}
    schema = {"name": "default_target_schema", "value": "$MELTANO_EXTRACT__LOAD_SCHEMA"}
    loader["settings"] = [
        schema if setting["name"] == schema["name"] else setting for setting in loader["settings"]
    ]
    assert {key: definition[key] for key in loader} == loader, (
        "meltano.yml changed: run scripts/plugin_definitions.py"
    )
    assert set(definition) - set(loader) == {"variant", "label"}


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


UTILITIES = {plugin["name"]: plugin for plugin in PROJECT["plugins"]["utilities"]}


def requirements(pip_url: str) -> dict[str, str]:
    """'dbt-core~=1.11.0 duckdb==1.2.2' -> {'dbt-core': '~=1.11.0', 'duckdb': '==1.2.2'}."""
    pins = {}
    for requirement in pip_url.split():
        name, spec = re.fullmatch(r"([A-Za-z0-9_.-]+)(.*)", requirement).groups()
        pins[name.lower()] = spec
    return pins


@pytest.mark.parametrize("name", ["dbt-duckdb", "dbt-postgres"])
def test_the_utility_definition_file_is_meltano_yml(name):
    """What `meltano add utility <name> --from-ref <file>` adds is what this project runs,
    without this machine's config."""
    path = ROOT / "plugins" / "utilities" / f"{name}--webinar-taps.yml"
    definition = yaml.safe_load(path.read_text())
    utility = {key: value for key, value in UTILITIES[name].items() if key != "config"}
    assert {key: definition[key] for key in utility} == utility, (
        "meltano.yml changed: run scripts/plugin_definitions.py"
    )
    assert set(definition) - set(utility) == {"variant", "label"}


def test_dbt_duckdb_uses_the_duckdb_target_duckdb_writes():
    """A file DuckDB 2.x creates cannot be opened by the 1.2.2 target-duckdb loads with."""
    loader = requirements(LOADERS["target-duckdb"]["pip_url"])
    dbt = requirements(UTILITIES["dbt-duckdb"]["pip_url"])
    assert loader["duckdb"].startswith("==")
    assert dbt["duckdb"] == loader["duckdb"]
    shipped = yaml.safe_load(
        (ROOT / "plugins" / "utilities" / "dbt-duckdb--webinar-taps.yml").read_text()
    )
    assert requirements(shipped["pip_url"])["duckdb"] == loader["duckdb"]
    # The dev tools read the same warehouse files.
    assert '"duckdb' + loader["duckdb"] + '"' in (ROOT / "pyproject.toml").read_text()


def test_dbt_is_pinned_to_a_release_that_installs_offline():
    """dbt-core 1.12 needs a parser whose build downloads a binary; 1.11 installs from PyPI."""
    for utility in UTILITIES.values():
        pins = requirements(utility["pip_url"])
        assert pins["dbt-core"] == "~=1.11.0", utility["name"]
        adapter = utility["name"]
        assert pins[adapter] == "~=1.11.0", adapter
        assert utility["executable"] == "dbt"
        settings = {setting["name"]: setting for setting in utility["settings"]}
        assert settings["project_dir"]["value"] == "$MELTANO_PROJECT_ROOT/transform"
    password = {s["name"]: s for s in UTILITIES["dbt-postgres"]["settings"]}["password"]
    assert password["sensitive"] is True
