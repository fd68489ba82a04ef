"""What does a tap-rev-webcast run cost: a backfill, then a run with nothing new?

One sandbox process (Rev's default rate limits unless told otherwise) serves a first run
without state and a second run with the first run's final state, as Meltano would. Each run
is the tap as its own process, Singer output to a file; reported per run: requests per
rate-limit family and logins (the tap's own summary line), records, wall seconds, and the
floor Rev's 120-a-minute report limit sets for the run's post-event report requests.

``--base REV`` runs the tap as of that revision (a ``git worktree``) against the same
sandbox, to measure before and after a change.

    .venv/bin/python bench/rev_runs.py [--webcasts 40] [--base HEAD~5] [--smoke]
        [--sandbox-args "--token-lifetime 3 --single-session"]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sandboxes import sandbox

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
RUNNER = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from tap_rev_webcast.tap import TapRevWebcast; TapRevWebcast.cli()"
)
SUMMARY = re.compile(r"Rev requests: (?P<families>.*?)\. Logins: (?P<logins>\d+)")
FAMILY = re.compile(r"(?P<family>\w+): (?P<requests>\d+) requests")


@dataclass
class Run:
    seconds: float
    records: int
    families: dict[str, int]
    logins: int
    state: dict

    @property
    def requests(self) -> int:
        return sum(self.families.values())


def run_tap(tree: Path, config: dict, state: dict | None, workdir: Path, label: str) -> Run:
    config_path = workdir / f"{label}-config.json"
    config_path.write_text(json.dumps(config))
    command = [str(PYTHON), "-c", RUNNER, str(tree), "--config", str(config_path)]
    if state is not None:
        state_path = workdir / f"{label}-state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    out_path, err_path = workdir / f"{label}.jsonl", workdir / f"{label}.log"
    started = time.perf_counter()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        subprocess.run(command, stdout=out, stderr=err, check=True, cwd=tree)
    seconds = time.perf_counter() - started
    records, final_state = 0, {}
    for line in out_path.read_text().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records += 1
        elif message["type"] == "STATE":
            final_state = message["value"]
    summary = SUMMARY.search(err_path.read_text())
    if summary is None:
        raise SystemExit(f"{label}: no request summary in {err_path}")
    families = {m["family"]: int(m["requests"]) for m in FAMILY.finditer(summary["families"])}
    return Run(seconds, records, families, int(summary["logins"]), final_state)


def tree_of(base: str | None, workdir: Path) -> Path:
    if base is None:
        return ROOT
    tree = workdir / "base"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), base],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return tree


def report_floor(run: Run, per_minute: int) -> float:
    """Seconds Rev's report limit alone imposes on the run's post-event report requests."""
    return max(0, run.families.get("reports", 0) - 1) * 60 / per_minute


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webcasts", type=int, default=40)
    parser.add_argument("--base", help="a git revision to run instead of the working tree")
    parser.add_argument("--sandbox-args", default="", help="extra `sandbox serve rev` args")
    parser.add_argument("--smoke", action="store_true", help="4 webcasts (CI)")
    args = parser.parse_args()
    webcasts = 4 if args.smoke else args.webcasts
    with tempfile.TemporaryDirectory(prefix="bench-rev-runs-") as tmp:
        workdir = Path(tmp)
        tree = tree_of(args.base, workdir)
        try:
            serve = f"rev --api-key k --secret s --webcasts {webcasts} {args.sandbox_args}"
            with sandbox(serve) as url:
                config = {
                    "base_url": url,
                    "api_key": "k",
                    "secret": "s",
                    "start_date": "2025-01-01T00:00:00Z",  # before every webcast
                }
                first = run_tap(tree, config, None, workdir, "first")
                second = run_tap(tree, config, first.state, workdir, "second")
        finally:
            if args.base:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    print(f"tap-rev-webcast as of {args.base or 'the working tree'}, {webcasts} webcasts")
    print("| run | requests | by family | logins | records | wall s | report-limit floor s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for label, run in (("first (no state)", first), ("second (nothing new)", second)):
        families = ", ".join(f"{k} {v}" for k, v in run.families.items())
        print(
            f"| {label} | {run.requests} | {families} | {run.logins} | {run.records:,} "
            f"| {run.seconds:.1f} | {report_floor(run, 120):.1f} |"
        )
    if not args.base and first.seconds > 1.25 * report_floor(first, 120) + 15:
        sys.exit("the backfill took more than 1.25 times the report-limit floor (+15 s start-up)")


if __name__ == "__main__":
    main()
