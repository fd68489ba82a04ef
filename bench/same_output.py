"""Does the working tree write the same Singer output as a base revision?

For each tap, one sandbox process (started from the working tree) answers every run of the
tap as of ``--base`` (a ``git worktree`` of that revision) and as of the working tree, back
to back and with the same config: each tree first runs without state, then again with the
final state of its own first run; all of that once per ``--max-concurrency`` value (1 and
the taps' default of 8). Both trees run in this repository's virtualenv, each first on
``sys.path``; the runner asserts that every loaded module of a package the tree holds comes
from that tree, so the check can never compare a tree with itself.

Required, per tap, run and max_concurrency: the same RECORD messages per stream in the same
order (every field but time_extracted), and the same STATE messages in the same order, so
the same final state. Catalog and streams are the defaults (every stream selected).

One normalisation, of STATE only: the SDK writes a ``replication_key_signpost`` into the
bookmark of every incremental stream with a timestamp replication key (tap-cast's
analytics_events) until the stream's state is finalised; its value is the time the stream
object was created, i.e. each run's own clock. A signpost within the run's own wall-clock
span is replaced by a marker; any other value is compared as is. Nothing else depends on
when a run starts: the sandboxes' data lies at fixed times in the past (Cast 2023,
Webcasts.com 2024, Rev before its fixed "now" of 2026-06-01), so the SDK never caps a
bookmark at the signpost, and no record carries the run's clock (time_extracted aside).
Rev's listing windows reach up to the real now, but its live webcast is live by status,
not by clock.

Both max_concurrency values give deterministic output (the same from run to run); they
differ from each other only in how many STATE messages a run writes, so each is compared
base against working tree, never 1 against 8.

* tap-cast: every stream and event type, pages of 50.
* tap-webcasts: events and their four report streams, XML reports; at full size JSON and
  CSV reports as well (each its own sandbox).
* tap-rev-webcast: webcasts (one live, one scheduled, one nobody attended), runs 0 and 1,
  real-time attendees included; the sandbox's and the tap's per-minute limits are raised
  alike, so back-to-back runs never wait for a rate-limit window.

    .venv/bin/python bench/same_output.py [--base 6b8ce35] [--smoke] [--only cast webcasts]
        [--max-concurrency 1,default]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from sandboxes import sandbox

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
#: The last revision before the redesign of the product packages.
DEFAULT_BASE = "6b8ce35"
SIGNPOST = "replication_key_signpost"

# Runs a console script of the tree given as first argument. Every loaded module whose
# top-level package also exists in that tree must come from it (checked after the import and
# again on exit, for modules imported late).
RUNNER = """
import importlib, sys
from pathlib import Path
tree, spec = Path(sys.argv.pop(1)).resolve(), sys.argv.pop(1)
sys.path.insert(0, str(tree))
def check():
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and (tree / name.partition(".")[0]).is_dir():
            assert Path(path).resolve().is_relative_to(tree), f"{name} from {path}, not {tree}"
module_name, _, attributes = spec.partition(":")
target = importlib.import_module(module_name)
assert Path(target.__file__).resolve().is_relative_to(tree), target.__file__
check()
for attribute in attributes.split("."):
    target = getattr(target, attribute)
try:
    target()
finally:
    check()
"""


@dataclasses.dataclass
class Case:
    tap: str  # console script, as in pyproject.toml
    sandbox: str  # python -m sandbox serve <this>
    config: dict[str, t.Any]  # base_url and max_concurrency are added
    variant: str = ""

    @property
    def name(self) -> str:
        return f"{self.tap} ({self.variant})" if self.variant else self.tap


def cases(smoke: bool) -> list[Case]:
    casts, campaigns, events = (1, 2, 40) if smoke else (2, 6, 300)
    webcasts_events, registrants = (3, 30) if smoke else (12, 150)
    rev_webcasts, sessions = (6, 120) if smoke else (12, 700)
    cast = Case(
        "tap-cast",
        f"cast --api-key k --org-slug o --casts {casts} --campaigns {campaigns} --events {events}",
        {"api_key": "k", "org_slug": "o", "cast_ids": [1940 + i for i in range(casts)]}
        | {"page_size": 50},
    )
    webcasts = [
        Case(
            "tap-webcasts",
            f"webcasts --username u@example.com --password p --events {webcasts_events} "
            f"--registrants {registrants} --expired-events 1",
            {"username": "u@example.com", "password": "p", "response_format": response_format},
            response_format,
        )
        for response_format in (("xml",) if smoke else ("xml", "json", "csv"))
    ]
    rev = Case(
        "tap-rev-webcast",
        f"rev --api-key k --secret s --webcasts {rev_webcasts} --sessions {sessions} "
        "--realtime-attendees 120 --reports-per-minute 100000 --realtime-per-minute 100000",
        {
            "api_key": "k",
            "secret": "s",
            "start_date": "2026-01-01T00:00:00Z",
            "run_numbers": [0, 1],
            "include_realtime_attendees": True,
            "reports_requests_per_minute": 100_000,
            "realtime_requests_per_minute": 100_000,
        },
    )
    return [cast, *webcasts, rev]


@dataclasses.dataclass
class Output:
    """One run's Singer output, as compared."""

    records: dict[str, list[dict]]  # stream -> its RECORD messages without time_extracted
    states: list[dict]  # every STATE value, in order

    @property
    def record_count(self) -> int:
        return sum(len(r) for r in self.records.values())

    @property
    def final_state(self) -> dict:
        return self.states[-1] if self.states else {}


class TapFailed(Exception):
    pass


def entry_point(tree: Path, script: str) -> str:
    """``module:attribute`` of a console script in the tree's pyproject.toml.

    Read line by line (``[project.scripts]`` holds only ``name = "value"`` lines): tomllib
    needs Python 3.11 and the project supports 3.10.
    """
    section = ""
    for line in (tree / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[project.scripts]" and line.partition("=")[0].strip() == script:
            return line.partition("=")[2].strip().strip('"')
    raise TapFailed(f"{tree / 'pyproject.toml'} names no console script {script}")


def run_tap(tree: Path, tap: str, config: dict, state: dict | None, files: Path) -> Output:
    """Run console script ``tap`` as of ``tree``; its Singer output, parsed.

    ``files`` names this run's files (config, state, Singer output, log) by suffix.
    """
    config_path, state_path = files.with_suffix(".config.json"), files.with_suffix(".state.json")
    out_path, log_path = files.with_suffix(".singer"), files.with_suffix(".log")
    config_path.write_text(json.dumps(config))
    command = [str(PYTHON), "-c", RUNNER, str(tree), entry_point(tree, tap)]
    command += ["--config", str(config_path)]
    if state is not None:
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    with out_path.open("wb") as out, log_path.open("wb") as log:
        status = subprocess.run(command, cwd=tree, stdout=out, stderr=log, check=False)
    span = (started, dt.datetime.now(dt.timezone.utc))
    if status.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-12:]
        raise TapFailed(f"exited with {status.returncode}:\n      " + "\n      ".join(tail))
    records: dict[str, list[dict]] = {}
    states = []
    with out_path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            message = json.loads(line)
            if message["type"] == "RECORD":
                message.pop("time_extracted", None)
                records.setdefault(message["stream"], []).append(message)
            elif message["type"] == "STATE":
                states.append(without_signposts(message["value"], span))
    return Output(records, states)


def without_signposts(value: t.Any, span: tuple[dt.datetime, dt.datetime]) -> t.Any:
    """The state with each replication_key_signpost within the run's span as a marker."""
    if isinstance(value, list):
        return [without_signposts(v, span) for v in value]
    if not isinstance(value, dict):
        return value
    found = {k: without_signposts(v, span) for k, v in value.items()}
    if isinstance(found.get(SIGNPOST), str):
        with contextlib.suppress(ValueError):
            moment = dt.datetime.fromisoformat(found[SIGNPOST].replace("Z", "+00:00"))
            if moment.tzinfo is not None and span[0] <= moment <= span[1]:
                found[SIGNPOST] = "<this run's start>"
    return found


def differing_paths(a: t.Any, b: t.Any, prefix: str = "") -> list[str]:
    """Paths (a.b.0.c) at which two JSON values differ; lists of one length item by item."""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        a, b = dict(enumerate(a)), dict(enumerate(b))
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [prefix or "(whole value)"] if a != b else []
    found = []
    for key in sorted(set(a) | set(b), key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in a or key not in b:
            found.append(path + (" (only current)" if key not in a else " (only base)"))
        elif a[key] != b[key]:
            found += differing_paths(a[key], b[key], path)
    return found


def value_at(value: t.Any, path: str) -> str:
    for key in path.partition(" ")[0].split("."):
        if isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def first_difference(old: list, new: list) -> int | None:
    return next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), None)


def stream_differences(stream: str, old: list[dict], new: list[dict]) -> list[str]:
    index = first_difference(old, new)
    if index is None:
        shared = min(len(old), len(new))
        return [
            f"stream {stream}: {len(old)} records as of base, {len(new)} now (the first "
            f"{shared} equal)"
        ]
    a, b = old[index], new[index]
    # The record's fields; the message's own (stream, version, ...) only if those differ.
    paths = differing_paths(a.get("record"), b.get("record"), "record")
    paths += differing_paths({**a, "record": 0}, {**b, "record": 0})
    found = [
        f"stream {stream}: record {index} (of {len(old)} / {len(new)}) differs in keys "
        + ", ".join(p.removeprefix("record.") for p in paths)
    ]
    found += [f"    {p}: base {value_at(a, p)}, current {value_at(b, p)}" for p in paths[:4]]
    return found


def state_differences(base: Output, current: Output) -> list[str]:
    found = []
    pairs = list(zip(base.states, current.states, strict=False))
    differing = [i for i, (a, b) in enumerate(pairs) if a != b]
    if len(base.states) != len(current.states):
        found.append(f"STATE: {len(base.states)} messages as of base, {len(current.states)} now")
    if differing:
        a, b = pairs[differing[0]]
        paths = differing_paths(a, b)
        found.append(
            f"STATE: {len(differing)} of {len(pairs)} messages differ (indexes {differing[0]}"
            f"-{differing[-1]}); message {differing[0]} at {len(paths)} paths, e.g. "
            + ", ".join(paths[:2])
        )
        found += [f"    {p}: base {value_at(a, p)}, current {value_at(b, p)}" for p in paths[:2]]
    if base.final_state != current.final_state:
        paths = differing_paths(base.final_state, current.final_state)
        found.append(f"final state differs at {len(paths)} paths, e.g. {', '.join(paths[:2])}")
        found += [
            f"    {p}: base {value_at(base.final_state, p)}, "
            f"current {value_at(current.final_state, p)}"
            for p in paths[:2]
        ]
    elif found:
        found.append("final state: the same")
    return found


def differences(base: Output, current: Output) -> list[str]:
    """What differs between two runs' outputs: per stream, then STATE."""
    found = []
    for stream in sorted(set(base.records) | set(current.records)):
        old, new = base.records.get(stream, []), current.records.get(stream, [])
        if old != new:
            found += stream_differences(stream, old, new)
    return found + state_differences(base, current)


@dataclasses.dataclass
class Verdict:
    name: str
    concurrency: str
    runs: list[Output]  # base and working tree of the first run, then of the second
    problems: list[str]
    seconds: float


def compare(case: Case, url: str, concurrency: str, base_tree: Path, workdir: Path) -> Verdict:
    """Four runs against the sandbox at ``url``: base and working tree, first and second."""
    started = time.perf_counter()
    config = {**case.config, "base_url": url}
    if concurrency != "default":
        config["max_concurrency"] = int(concurrency)
    trees = {"base": base_tree, "working tree": ROOT}
    states: dict[str, dict | None] = dict.fromkeys(trees)
    runs, problems = [], []
    for run in ("first", "second"):
        for label, tree in trees.items():
            slug = "".join(c if c.isalnum() else "-" for c in f"{case.name}-{concurrency}")
            files = workdir / f"{slug}-{run}-{label.replace(' ', '-')}"
            try:
                output = run_tap(tree, case.tap, config, states[label], files)
            except TapFailed as exc:
                problem = f"{case.name}, max_concurrency {concurrency}, {run} run as of {label}"
                return Verdict(case.name, concurrency, [], [f"{problem}: {exc}"], 0.0)
            states[label] = output.final_state
            runs.append(output)
        problems += [
            f"{case.name}, max_concurrency {concurrency}, {run} run: {line}"
            for line in differences(runs[-2], runs[-1])
        ]
    return Verdict(case.name, concurrency, runs, problems, time.perf_counter() - started)


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@contextlib.contextmanager
def worktree(revision: str) -> t.Iterator[tuple[Path, str]]:
    """A detached worktree of ``revision`` (and its short hash), removed on exit."""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise SystemExit(
            f"same_output: base revision {revision} is not in this clone (shallow? fetch the "
            "full history); the output cannot be compared"
        )
    commit = found.stdout.strip()
    parent = Path(tempfile.mkdtemp(prefix="bench-same-output-"))
    path = parent / "base"
    try:
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(path), commit],
            cwd=ROOT,
            check=True,
        )
        yield path, commit[:7]
    finally:
        if path.exists():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False
            )
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)
        shutil.rmtree(parent, ignore_errors=True)


def report(verdicts: list[Verdict]) -> None:
    print(
        "| tap | max_concurrency | records (first + second run) | state messages "
        "| identical | seconds |"
    )
    print("|---|---:|---:|---:|---|---:|")
    for v in verdicts:
        if not v.runs:
            print(f"| {v.name} | {v.concurrency} | - | - | no (a run failed) | - |")
            continue
        first, second = v.runs[1], v.runs[3]  # the working tree's
        print(
            f"| {v.name} | {v.concurrency} | {first.record_count:,} + {second.record_count:,} "
            f"| {len(first.states)} + {len(second.states)} | {'no' if v.problems else 'yes'} "
            f"| {v.seconds:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="git revision to compare with")
    parser.add_argument("--smoke", action="store_true", help="small datasets (CI)")
    parser.add_argument("--only", nargs="+", choices=("cast", "webcasts", "rev"))
    parser.add_argument(
        "--max-concurrency",
        default="1,default",
        help="comma-separated max_concurrency values; 'default' leaves the taps' own (8)",
    )
    args = parser.parse_args()
    concurrencies = args.max_concurrency.split(",")
    for value in concurrencies:
        if value != "default" and not value.isdigit():
            parser.error(f"--max-concurrency: {value!r} is neither a number nor 'default'")
    started = time.perf_counter()
    verdicts = []
    with worktree(args.base) as (base_tree, commit), tempfile.TemporaryDirectory() as tmp:
        head = git("rev-parse", "--short", "HEAD")
        dirty = " with uncommitted changes" if git("status", "--porcelain", "-uno") else ""
        print(
            f"base {args.base} ({commit}) vs the working tree (HEAD {head}{dirty}): a first "
            "run, then a second one from its own final state"
        )
        for case in cases(args.smoke):
            if args.only and not any(case.tap.startswith(f"tap-{name}") for name in args.only):
                continue
            try:
                with sandbox(case.sandbox) as url:
                    for concurrency in concurrencies:
                        verdicts.append(compare(case, url, concurrency, base_tree, Path(tmp)))
            except SystemExit as exc:  # sandboxes.sandbox: it did not start
                verdicts.append(Verdict(case.name, "-", [], [f"{case.name}: {exc}"], 0.0))
    report(verdicts)
    print(f"total {time.perf_counter() - started:.0f} s")
    problems = [line for v in verdicts for line in v.problems]
    if problems:
        print("\n".join(problems))
        sys.exit(f"the working tree's output differs from {args.base}'s (see above)")


if __name__ == "__main__":
    main()
