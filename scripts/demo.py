"""The main job: start every sandbox, `meltano run` each tap into DuckDB, print rows per table.

Run with `make demo`. The sandboxes serve seeded data on fixed local ports that the
`sandbox` environment of meltano.yml points at; the row counts are printed beside the
sandbox's ground truth.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WAREHOUSE = ROOT / "output" / "sandbox.duckdb"


def cast_counts(truth: dict) -> dict[str, int]:
    return {stream: len(rows) for stream, rows in truth.items()}


def webcasts_counts(truth: dict) -> dict[str, int]:
    audience = truth["audience"]
    return {
        "events": len(truth["events"]),
        "audience": len(audience),
        "audience_sessions": sum(len(person["sessions"]) for person in audience),
        "audience_questions": sum(len(person["questions"]) for person in audience),
        "audience_survey_answers": sum(len(person["surveys"]) for person in audience),
    }


class Demo(t.NamedTuple):
    tap: str
    schema: str  # target schema: the extractor's namespace
    dataset: list[str]  # `python -m sandbox {serve,truth} <dataset>`: vendor and data options
    port: int  # where the `sandbox` environment of meltano.yml expects it
    counts: t.Callable[[dict], dict[str, int]]  # ground truth -> rows expected per table


DEMOS = [
    Demo("tap-cast", "tap_cast", ["cast", "--api-key", "sandbox-demo-key"], 8765, cast_counts),
    Demo(
        "tap-webcasts",
        "tap_webcasts",
        ["webcasts", "--password", "sandbox-demo-password"],
        8766,
        webcasts_counts,
    ),
    Demo(
        "tap-rev-webcast",
        "tap_rev_webcast",
        ["rev", "--api-key", "sandbox-demo-key", "--secret", "sandbox-demo-secret"],
        8767,
        cast_counts,  # one ground-truth key per stream, like Cast's
    ),
]


@contextlib.contextmanager
def sandbox(demo: Demo) -> t.Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", *demo.dataset, "--port", str(demo.port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()  # "... listening on http://..."
        if "listening" not in line:
            msg = f"the {demo.tap} sandbox did not start (is port {demo.port} taken?)"
            raise SystemExit(msg)
        print(line)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def expected_rows(demo: Demo) -> dict[str, int]:
    output = subprocess.run(
        [sys.executable, "-m", "sandbox", "truth", *demo.dataset],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return demo.counts(json.loads(output))


def main() -> int:
    WAREHOUSE.parent.mkdir(exist_ok=True)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for demo in DEMOS:
        with sandbox(demo):
            subprocess.run(
                [str(BIN / "meltano"), "--environment=sandbox", "run", demo.tap, "target-duckdb"],
                cwd=ROOT,
                env=env,
                check=True,
            )
    mismatches = 0
    print(f"\nRows in {WAREHOUSE.relative_to(ROOT)}:")
    print(f"{'table':45} {'rows':>8} {'sandbox truth':>14}")
    with duckdb.connect(str(WAREHOUSE), read_only=True) as db:
        for demo in DEMOS:
            expected = expected_rows(demo)
            tables = db.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by 1",
                [demo.schema],
            ).fetchall()
            for (table,) in tables:
                (rows,) = db.execute(f'select count(*) from {demo.schema}."{table}"').fetchone()  # type: ignore[misc]
                print(f"{demo.schema + '.' + table:45} {rows:>8} {expected.get(table, '?'):>14}")
                mismatches += rows != expected.get(table)
    if mismatches:
        print(f"{mismatches} table(s) differ from the sandbox truth.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
