"""Write plugins/extractors/<tap>--webinar-taps.yml from the extractors of meltano.yml.

The files are Meltano Hub plugin definitions, for `meltano add <tap> --from-ref <file>` in
any Meltano project: meltano.yml's block of each tap, plus the Hub's own attributes and a
pip_url naming this distribution at this version. Run after changing a tap's settings in
meltano.yml; tests/test_meltano_yml.py fails while the two differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "plugins" / "extractors"
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
        text = yaml.safe_dump(
            {key: definition[key] for key in ORDER}, sort_keys=False, width=100, allow_unicode=True
        )
        path = OUT / f"{plugin['name']}--{VARIANT}.yml"
        path.write_text(HEADER.format(name=plugin["name"], variant=VARIANT) + text)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
