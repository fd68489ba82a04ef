"""Write plugins/extractors/<tap>--webinar-taps.yml, plugins/loaders/<loader>--<variant>.yml
and plugins/utilities/<dbt-utility>--webinar-taps.yml from meltano.yml.

The files are Meltano Hub plugin definitions, for `meltano add <plugin> --from-ref <file>`
in any Meltano project: meltano.yml's block of each tap, plus the Hub's own attributes and
a pip_url naming this distribution at this version; and each loader pinned as meltano.yml
pins it (the versions the end-to-end tests ran; newer DuckDB loses rows), so a first run
needs no Meltano Hub. Run after changing a plugin in meltano.yml; tests/test_meltano_yml.py
fails while they differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "plugins"
VARIANT = "webinar-taps"

HUB = {
    "tap-cast": {
        "domain_url": "https://cast.app",
        "keywords": ["meltano_sdk", "api", "cast.app", "video", "analytics"],
    },
    "tap-webcasts": {
        "domain_url": "https://www.webcasts.com",
        "keywords": ["meltano_sdk", "api", "webcasts.com", "webinar", "analytics"],
    },
    "tap-rev-webcast": {
        "domain_url": "https://vbrick.com",
        "keywords": ["meltano_sdk", "api", "vbrick", "rev", "webinar", "analytics"],
    },
}
ORDER = (
    "name", "variant", "namespace", "label", "description", "maintenance_status",
    "domain_url", "keywords", "pip_url", "executable", "capabilities",
    "settings_group_validation", "settings",
)  # fmt: skip
HEADER = """\
# Meltano Hub plugin definition of {name} (variant {variant}), for any Meltano project:
#
#   meltano add {name} --from-ref <path or URL of this file>
#
# pip_url names this distribution and version, which your package index serves once the
# wheel is published there. Until then point pip_url at a wheel, a checkout or a git tag
# (README, "Use it in your Meltano project"). Generated from meltano.yml by
# scripts/plugin_definitions.py.
"""


#: Each loader's Hub variant and label, and why its pin matters.
LOADERS = {
    "target-duckdb": (
        "jwills",
        "DuckDB",
        "target-duckdb 0.8.0 loads through CSV,\n"
        "# and DuckDB 1.3 or newer takes the first data row for a header and drops it.",
    ),
    "target-postgres": (
        "meltanolabs",
        "PostgreSQL",
        "the version the end-to-end tests ran.",
    ),
    "target-snowflake": (
        "meltanolabs",
        "Snowflake",
        "the version the Snowflake tests ran under\n"
        "# the fakesnow emulator (docs/warehouses.md says what that does not prove).",
    ),
}
LOADER_HEADER = """\
# Meltano Hub plugin definition of {name} (variant {variant}), for any Meltano project:
#
#   meltano add {name} --from-ref <path or URL of this file>
#
# Pinned as this repository's meltano.yml pins it: {why}
# Tables land in a schema named after the extractor (default_target_schema).
# Generated from meltano.yml by scripts/plugin_definitions.py.
"""
LOADER_ORDER = ("name", "variant", "namespace", "label", "pip_url", "executable", "settings")

#: Each dbt utility's label. The utilities run this repository's transform/ project.
UTILITIES = {"dbt-duckdb": "dbt (DuckDB)", "dbt-postgres": "dbt (PostgreSQL)"}
UTILITY_HEADER = """\
# Meltano plugin definition of {name} (variant {variant}), for any Meltano project:
#
#   meltano add utility {name} --from-ref <path or URL of this file>
#
# Runs the engagement model: copy this repository's transform/ folder into your project
# (or set project_dir), then `meltano run <tap> <loader> {name}:build`. Plain dbt, pinned as
# this repository's meltano.yml pins it (dbt-core 1.11; dbt-duckdb with the DuckDB that
# target-duckdb writes); no Meltano Hub, no `dbt deps`.
# Generated from meltano.yml by scripts/plugin_definitions.py.
"""
UTILITY_ORDER = (
    "name", "variant", "namespace", "label", "pip_url", "executable", "commands", "settings",
)  # fmt: skip


def dump(definition: dict, order: tuple[str, ...]) -> str:
    ordered = {key: definition[key] for key in order if key in definition}
    return yaml.safe_dump(ordered, sort_keys=False, width=100, allow_unicode=True)


def write(path: Path, text: str) -> None:
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    pyproject = (ROOT / "pyproject.toml").read_text()
    version = re.search(r'^version = "(.+)"$', pyproject, re.MULTILINE)[1]  # type: ignore[index]
    for plugin in project["plugins"]["extractors"]:
        definition = {
            **plugin,
            **HUB[plugin["name"]],
            "variant": VARIANT,
            "maintenance_status": "beta",
            "pip_url": f"webinar-taps=={version}",
        }
        header = HEADER.format(name=plugin["name"], variant=VARIANT)
        write(
            OUT / "extractors" / f"{plugin['name']}--{VARIANT}.yml",
            header + dump(definition, ORDER),
        )
    for loader in project["plugins"]["loaders"]:
        variant, label, why = LOADERS[loader["name"]]
        definition = {**loader, "variant": variant, "label": label}
        definition["settings"] = [loader_setting(s, loader["config"]) for s in loader["settings"]]
        header = LOADER_HEADER.format(name=loader["name"], variant=variant, why=why)
        write(
            OUT / "loaders" / f"{loader['name']}--{variant}.yml",
            header + dump(definition, LOADER_ORDER),
        )

    for utility in project["plugins"]["utilities"]:
        # Without meltano.yml's config: its host and database are this machine's.
        definition = {**utility, "variant": VARIANT, "label": UTILITIES[utility["name"]]}
        header = UTILITY_HEADER.format(name=utility["name"], variant=VARIANT)
        write(
            OUT / "utilities" / f"{utility['name']}--{VARIANT}.yml",
            header + dump(definition, UTILITY_ORDER),
        )


def loader_setting(setting: dict, config: dict) -> dict:
    """A loader setting as the Hub declares it: the schema setting carries meltano.yml's
    value (one schema per extractor) as its default; machine-specific values stay here."""
    if setting["name"] == "default_target_schema":
        return {**setting, "value": config[setting["name"]]}
    return setting


if __name__ == "__main__":
    main()
