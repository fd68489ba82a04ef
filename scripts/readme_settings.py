"""Write each tap's settings table into README.md from `<tap> --about --format=markdown`.

The table sits between `<!-- settings:tap-x -->` and `<!-- /settings:tap-x -->`. With
`--check`, exit 1 when the README is out of date instead of writing it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TAPS = ["tap-cast", "tap-webcasts", "tap-rev-webcast"]


def settings_table(tap: str) -> str:
    about = subprocess.run(
        [str(Path(sys.executable).parent / tap), "--about", "--format=markdown"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    table = about.split("## Settings", 1)[1].split("\n\n", 2)[1]
    # Keep the tap's own settings; the SDK built-ins (stream maps, flattening, batch) are
    # described once in the README.
    builtins = ("stream_map", "faker_config", "flattening_", "batch_config")
    rows = [
        line
        for line in table.splitlines()
        if not line.startswith(tuple(f"| {b}" for b in builtins))
    ]
    return "\n".join(rows)


def render(text: str) -> str:
    for tap in TAPS:
        start, end = f"<!-- settings:{tap} -->", f"<!-- /settings:{tap} -->"
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = f"{head}{start}\n{settings_table(tap)}\n{end}{tail}"
    return text


def main() -> int:
    current = README.read_text()
    updated = render(current)
    if "--check" in sys.argv:
        if updated != current:
            print("README.md settings tables are out of date: run `make readme`.")
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
