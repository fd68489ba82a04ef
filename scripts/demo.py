"""The main job: start every sandbox, `meltano run` each tap into DuckDB, print rows per table,
build the engagement model and write its report.

Run with `make demo`. The sandboxes serve seeded data where the `sandbox` environment of
meltano.yml expects them (the sandbox CLI's defaults), with some people in all three vendors
(`--shared-people`); Meltano's log goes to output/demo.log and the terminal gets only the
row counts beside the sandbox's ground truth, the model's test results and where the report is.
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
    vendor: str  # `python -m sandbox {serve,truth} <vendor>`: its defaults are the environment's
    counts: t.Callable[[dict], dict[str, int]]  # ground truth -> rows expected per table


DEMOS = [
    Demo("tap-cast", "tap_cast", "cast", cast_counts),
    Demo("tap-webcasts", "tap_webcasts", "webcasts", webcasts_counts),
    Demo("tap-rev-webcast", "tap_rev_webcast", "rev", cast_counts),  # one key per stream
]
LOG = ROOT / "output" / "demo.log"  # Meltano's log and the sandboxes' errors
# The same people in all three vendors' data, so the model has someone to recognise across
# them (off by default in the sandbox; its default rows stay as they are).
DATA_OPTIONS = ["--shared-people", "12"]
# Any free port, handed to the tap as its base_url: a sandbox already serving on the
# environment's port (8765...) cannot stop the demo.
SERVE_OPTIONS = ["--port", "0", *DATA_OPTIONS]
REPORT = ROOT / "output" / "engagement_report.html"
MODEL = True  # build the model and the report after the loads (it needs all three vendors)


class DemoFailed(Exception):
    """One line for the terminal; the details are in the log."""


def last_lines(count: int) -> str:
    return "\n".join(LOG.read_text(errors="replace").splitlines()[-count:])


@contextlib.contextmanager
def sandbox(demo: Demo, log: t.IO[str]) -> t.Iterator[str]:
    """Serve the demo's sandbox in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", demo.vendor, *SERVE_OPTIONS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()  # "<vendor> sandbox listening on http://..."
        if "listening on http" not in line:
            process.wait(timeout=10)
            raise DemoFailed(f"The {demo.vendor} sandbox did not start:\n{last_lines(1)}")
        yield line.rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def expected_rows(demo: Demo) -> dict[str, int]:
    output = subprocess.run(
        [sys.executable, "-m", "sandbox", "truth", demo.vendor, *DATA_OPTIONS],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return demo.counts(json.loads(output))


def meltano_env() -> dict[str, str]:
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TARGET_DUCKDB_FILEPATH": str(WAREHOUSE),
        "DBT_DUCKDB_PATH": str(WAREHOUSE),
    }


def meltano(command: list[str], env: dict[str, str], log: t.IO[str]) -> None:
    """`meltano <command>` in the project, its output appended to the log; DemoFailed if it
    fails."""
    log.write(f"$ meltano {' '.join(command)}\n")
    log.flush()
    result = subprocess.run(
        [str(BIN / "meltano"), *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if result.returncode:
        msg = f"`meltano {' '.join(command)}` failed (exit {result.returncode}); its last lines:"
        raise DemoFailed(f"{msg}\n{last_lines(5)}")


def run_taps(log: t.IO[str]) -> None:
    """`meltano run <tap> target-duckdb` for each demo, its output appended to the log."""
    env = meltano_env()
    for demo in DEMOS:
        with sandbox(demo, log) as base_url:
            # The port the sandbox picked, instead of the environment's.
            tap_env = {**env, f"{demo.tap.upper().replace('-', '_')}_BASE_URL": base_url}
            # Everything again, whatever an earlier demo bookmarked: the data may have changed
            # (new sandbox options) and the table compares every row with the truth.
            command = ["--environment=sandbox", "run", demo.tap, "target-duckdb", "--full-refresh"]
            meltano(command, tap_env, log)


def build_model(log: t.IO[str]) -> str:
    """`meltano run dbt-duckdb:build` over the landed tables; dbt's summary line (PASS=...)."""
    start = LOG.stat().st_size
    meltano(["--environment=sandbox", "run", "dbt-duckdb:build"], meltano_env(), log)
    log.flush()
    with LOG.open(encoding="utf-8", errors="replace") as text:
        text.seek(start)
        done = [line for line in text.read().splitlines() if "PASS=" in line]
    return done[-1].split("Done. ", 1)[-1].strip() if done else "done"


def print_table() -> int:
    """Rows per table beside the sandbox's ground truth; returns how many tables differ."""
    mismatches = 0
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
    return mismatches


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> int:
    WAREHOUSE.parent.mkdir(exist_ok=True)
    LOG.parent.mkdir(exist_ok=True)
    print(f"Running each tap into {shown(WAREHOUSE)}; Meltano's log: {shown(LOG)}", flush=True)
    try:
        with LOG.open("w", encoding="utf-8") as log:
            run_taps(log)
    except DemoFailed as exc:
        print(exc)
        return 1
    mismatches = print_table()
    if mismatches:
        print(f"{mismatches} table(s) differ from the sandbox truth; see {shown(LOG)}.")
        return 1
    if not MODEL:
        return 0
    print("Building the engagement model (dbt build: models and their tests)...", flush=True)
    try:
        with LOG.open("a", encoding="utf-8") as log:
            print(f"dbt build: {build_model(log)}")
    except DemoFailed as exc:
        print(exc)
        return 1
    report = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "engagement_report.py"),
            "--warehouse",
            str(WAREHOUSE),
            "--out",
            str(REPORT),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if report.returncode:
        print(report.stderr.strip())
        return 1
    print(f"Engagement report: {shown(REPORT)} (open it in a browser; it works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
