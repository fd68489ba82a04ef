"""How fast do tap-cast and generic REST extractors read the same Cast.app analytics events?

For each sandbox latency (0 ms and 100 ms per response) one Cast sandbox process serves one
dataset, and every client reads all of its analytics_events pages, each in its own process:

* bare: a plain requests.Session loop writing one Singer RECORD line per event with the
  standard json module (this script's ``--bare-client`` mode): the reference;
* tap-cast: ``tap-cast --config`` with only analytics_events selected (run twice, default and
  ``max_concurrency: 1``, when the tap advertises a ``max_concurrency`` setting);
* tap-rest-api-msdk: the generic Singer REST tap, in its own venv bench/.venvs/msdk;
* dlt rest_api: dlt's generic REST source into a local filesystem destination (jsonl), end
  to end (extract + normalize + load) and extract alone, in its own venv bench/.venvs/dlt.

Seconds are wall-clock from process start to exit (interpreter start and imports included).
Peak RSS is the client process's own ru_maxrss (os.wait4 in a tiny launcher process, whose
~10 MB is the floor of that figure). Every client must deliver the same number of events; a
client that does not is named and the run fails. The sandbox is warmed up
(one bare pass) before anything is measured. The generic clients' venvs are created on first
use (pip install of pinned versions) and kept in bench/.venvs/.

    .venv/bin/python bench/compare_generic.py            # full size, every client
    .venv/bin/python bench/compare_generic.py --smoke    # tiny sizes, bare + tap-cast only
    .venv/bin/python bench/compare_generic.py --smoke --with-generic
    .venv/bin/python bench/compare_generic.py --dump-configs /tmp/configs   # keep the configs
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

from sandboxes import sandbox

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENVS = BENCH / ".venvs"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
TAP_CAST = ROOT / ".venv" / "bin" / "tap-cast"
DLT_RUNNER = BENCH / "generic" / "dlt_runner.py"

KEY = "bench-key"
ORG = "bench-org"
EVENT_TYPES = ("delivered", "view", "play", "action", "feedback")
OTHER_CAST_STREAMS = (
    "campaigns",
    "campaign_analytics",
    "campaign_timeline",
    "cross_campaign_summary",
)
STREAM = "analytics_events"
# tap-cast's analytics_events columns from the vendor row, and the fields its key hashes.
EVENT_FIELDS = frozenset(
    [
        "event_at",
        "event_type",
        "ip_address",
        "contact_id",
        "contact_email",
        "contact_name",
        "contact_phone",
        "device_type",
        "os_name",
        "browser_name",
        "status",
    ]
)
EVENT_KEY_FIELDS = ("contact_id", "ip_address", "device_type", "os_name", "browser_name")

#: Generic extractors: venv name -> (pip requirement, distributions whose versions are shown).
GENERIC_VENVS: dict[str, tuple[list[str], list[str]]] = {
    "msdk": (["tap-rest-api-msdk==1.4.2"], ["tap-rest-api-msdk", "singer-sdk"]),
    "dlt": (["dlt[filesystem]==1.31.0"], ["dlt"]),
}
CLIENTS = ("bare", "tap-cast", "msdk", "dlt")


# ---------------------------------------------------------------------------- bare client mode
def bare_client(config_path: str) -> None:
    """The reference loop: pages in order, one RECORD line per event on stdout, json module.

    It writes the same records as tap-cast (columns, UTC timestamps, unmapped_fields, the
    event_key hash), so both do the same work per event; the benchmark checks that the two
    outputs are equal, record for record.
    """
    import hashlib

    import requests  # only here: the bare client's process imports nothing else

    cfg = json.loads(Path(config_path).read_text())
    page_size = int(cfg["page_size"])
    api = f"{cfg['base_url']}/designer/{cfg['org_slug']}/api"
    session = requests.Session()
    session.headers["Authorization"] = cfg["api_key"]
    out = sys.stdout
    utc = dt.timezone.utc
    for cast_id in cfg["cast_ids"]:
        campaigns = session.get(f"{api}/cast/{cast_id}/generation", timeout=60)
        campaigns.raise_for_status()
        for campaign in campaigns.json():
            generation_id = campaign["generate_group"]
            url = f"{api}/cast/{cast_id}/generation/{generation_id}/analytics_events"
            for kind in EVENT_TYPES:
                page = 1
                while True:
                    response = session.get(
                        url,
                        params={"event_type": kind, "page": str(page), "page_size": str(page_size)},
                        timeout=60,
                    )
                    response.raise_for_status()
                    body = response.json()
                    for row in body["results"]:
                        at = dt.datetime.fromisoformat(row["event_at"])
                        if at.tzinfo is None:
                            at = at.replace(tzinfo=utc)  # Cast times carry no offset: UTC
                        record = {
                            "cast_id": cast_id,
                            "generation_id": generation_id,
                            **{k: v for k, v in row.items() if k in EVENT_FIELDS},
                            "event_type": row.get("event_type") or kind,
                            "event_at": at.astimezone(utc).isoformat(),
                            "unmapped_fields": {
                                k: v for k, v in row.items() if k not in EVENT_FIELDS
                            }
                            or None,
                        }
                        key = [cast_id, generation_id, record["event_type"], record["event_at"]]
                        key += [record.get(name) for name in EVENT_KEY_FIELDS]
                        digest = hashlib.sha256(json.dumps(key, default=str).encode())
                        record["event_key"] = digest.hexdigest()[:32]
                        message = {
                            "type": "RECORD",
                            "stream": STREAM,
                            "record": record,
                            "time_extracted": dt.datetime.now(utc).isoformat(),
                        }
                        out.write(json.dumps(message) + "\n")
                    if not body["results"] or page * page_size >= body["count"]:
                        break
                    page += 1
    out.flush()


# ---------------------------------------------------------------------------- measuring
@dataclasses.dataclass
class Scenario:
    latency_ms: int
    campaigns: int
    events: int  # per event type per campaign, on average
    page_size: int

    @property
    def expected(self) -> int:
        # CastDataset: total_events == casts * campaigns_per_cast * 5 * events_per_type
        return self.campaigns * len(EVENT_TYPES) * self.events


@dataclasses.dataclass
class Result:
    label: str
    records: int
    seconds: float
    rss_mb: float
    # analytics_events records in order (sorted keys, time_extracted aside): kept for the
    # bare loop and tap-cast, whose outputs must be equal
    lines: list[str] | None = None


class ClientError(RuntimeError):
    pass


#: Runs one client and reports its rusage. Linux starts a new process's peak RSS at the RSS of
#: the process it was spawned from (exec keeps the old mm's high-water mark), so clients are
#: spawned from this tiny interpreter, not from the benchmark process, whose RSS grows while it
#: counts records. The floor this leaves is the launcher's own RSS (about 10 MB).
LAUNCHER = """
import os, signal, sys, time
result, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
started = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
signal.setitimer(signal.ITIMER_REAL, 0)
with open(result, "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {elapsed} {usage.ru_maxrss}")
"""


def run_measured(
    label: str,
    cmd: list[str],
    stdout_path: Path,
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float,
) -> tuple[float, float]:
    """Run one client process; return (wall seconds, its own peak RSS in MB)."""
    result = stdout_path.with_suffix(".rusage")
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(result), str(timeout), *cmd]
    with stdout_path.open("wb") as out, log_path.open("wb") as err:
        subprocess.run(launcher, stdout=out, stderr=err, cwd=cwd, env=env, check=True)
    code, elapsed, maxrss_kb = result.read_text().split()
    if int(code) != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
        reason = f"timed out after {timeout:.0f}s" if float(elapsed) >= timeout else "failed"
        raise ClientError(
            f"{label} {reason} (exit {code}); end of {log_path}:\n  " + "\n  ".join(tail)
        )
    return float(elapsed), int(maxrss_kb) / 1024  # Linux: kilobytes


def record_lines(path: Path) -> list[str]:
    """The analytics_events record(s) of a Singer output file, each as sorted-key JSON."""
    lines = []
    with path.open("rb") as messages:
        for line in messages:
            if b'"RECORD"' not in line:
                continue
            message = json.loads(line)
            if message.get("type") == "RECORD" and message["stream"].startswith(STREAM):
                lines.append(json.dumps(message["record"], sort_keys=True))
    return lines


def count_jsonl_rows(folder: Path) -> int:
    """Rows in dlt's loaded jsonl files (gzipped or not) under ``folder``."""
    rows = 0
    for path in sorted(folder.rglob("*.jsonl*")):
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        with gzip.open(path) if gzipped else path.open("rb") as lines:
            rows += sum(1 for line in lines if line.strip())
    return rows


# ---------------------------------------------------------------------------- sandbox
def sandbox_process(scenario: Scenario) -> t.ContextManager[str]:
    return sandbox(
        f"cast --api-key {KEY} --org-slug {ORG} --casts 1 --campaigns {scenario.campaigns} "
        f"--events {scenario.events} --latency-ms {scenario.latency_ms}"
    )


def campaign_list(url: str, cast_id: int) -> list[dict[str, t.Any]]:
    import requests

    response = requests.get(
        f"{url}/designer/{ORG}/api/cast/{cast_id}/generation",
        headers={"Authorization": KEY},
        timeout=60,
    )
    response.raise_for_status()
    return t.cast("list[dict[str, t.Any]]", response.json())


# ---------------------------------------------------------------------------- venvs
def ensure_venv(name: str) -> Path:
    """bench/.venvs/NAME with its pinned requirements; created on first use. Returns bin/."""
    requirements, _ = GENERIC_VENVS[name]
    venv = VENVS / name
    marker = venv / ".installed"
    wanted = "\n".join(requirements)
    if marker.exists() and marker.read_text() == wanted:
        return venv / "bin"
    print(f"installing {' '.join(requirements)} into {venv} ...", file=sys.stderr, flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )
    marker.write_text(wanted)
    return venv / "bin"


def versions(python: Path, distributions: list[str]) -> str:
    code = (
        "import importlib.metadata as m, sys\n"
        "print(', '.join(f'{d} {m.version(d)}' for d in sys.argv[1:]))"
    )
    return subprocess.run(
        [str(python), "-c", code, *distributions], check=True, capture_output=True, text=True
    ).stdout.strip()


def tap_cast_settings() -> set[str]:
    about = subprocess.run(
        [str(TAP_CAST), "--about", "--format", "json"], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(about)["settings"]["properties"])


# ---------------------------------------------------------------------------- client configs
def base_config(url: str, scenario: Scenario) -> dict[str, t.Any]:
    return {
        "api_key": KEY,
        "org_slug": ORG,
        "cast_ids": [1940],
        "base_url": url,
        "page_size": scenario.page_size,
    }


def tap_cast_config(url: str, scenario: Scenario, concurrency: int | None) -> dict[str, t.Any]:
    config = base_config(url, scenario)
    config["stream_maps"] = {name: None for name in OTHER_CAST_STREAMS}
    if concurrency is not None:
        config["max_concurrency"] = concurrency
    return config


def msdk_config(url: str, scenario: Scenario) -> dict[str, t.Any]:
    """tap-rest-api-msdk: stream paths are static, so one stream per (campaign, event type).

    Its page_number_paginator asks for page N+1 while the value at ``next_page_token_path``
    is truthy; the envelope has no has-more flag, so the path points at the last row of a
    full page (``$.results[page_size - 1]``): paging stops after the first short page.
    page_size is a plain request param (the "page" response style adds no size parameter).
    """
    streams = []
    for cast_id in (1940,):
        for campaign in campaign_list(url, cast_id):
            generation_id = campaign["generate_group"]
            for kind in EVENT_TYPES:
                streams.append(
                    {
                        "name": f"{STREAM}_{campaign['id']}_{kind}",
                        "path": f"/cast/{cast_id}/generation/{generation_id}/analytics_events",
                        "params": {"event_type": kind, "page_size": scenario.page_size},
                        "primary_keys": ["contact_id", "event_type", "event_at"],
                    }
                )
    return {
        "api_url": f"{url}/designer/{ORG}/api",
        "headers": {"Authorization": KEY},
        "pagination_request_style": "page_number_paginator",
        "pagination_response_style": "page",
        "pagination_initial_offset": 1,
        "next_page_token_path": f"$.results[{scenario.page_size - 1}]",
        "records_path": "$.results[*]",
        "streams": streams,
    }


# ---------------------------------------------------------------------------- clients
class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.dump = Path(args.dump_configs) if args.dump_configs else None
        self.timeout = float(args.timeout)

    def config_file(self, name: str, config: dict[str, t.Any]) -> Path:
        path = self.work / f"{name}.json"
        path.write_text(json.dumps(config, indent=2))
        if self.dump is not None:
            self.dump.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.dump / path.name)
        return path

    def singer_client(
        self, label: str, tag: str, cmd: list[str], config: dict[str, t.Any]
    ) -> Result:
        path = self.config_file(tag, config)
        out, log = self.work / f"{tag}.out", self.work / f"{tag}.log"
        seconds, rss = run_measured(
            label, [*cmd, str(path)], out, log, cwd=self.work, timeout=self.timeout
        )
        lines = record_lines(out)
        out.unlink()
        return Result(label, len(lines), seconds, rss, lines)

    def bare(self, url: str, scenario: Scenario, tag: str) -> Result:
        cmd = [str(PROJECT_PYTHON), str(Path(__file__).resolve()), "--bare-client"]
        return self.singer_client("bare requests loop", tag, cmd, base_config(url, scenario))

    def tap_cast(self, url: str, scenario: Scenario, tag: str, concurrency: int | None) -> Result:
        label = "tap-cast"
        if concurrency is not None:
            label += f" (max_concurrency={concurrency})"
        elif self.args.tap_has_concurrency:
            label += " (default max_concurrency)"
        cmd = [str(TAP_CAST), "--config"]
        return self.singer_client(label, tag, cmd, tap_cast_config(url, scenario, concurrency))

    def msdk(self, url: str, scenario: Scenario, tag: str) -> Result:
        cmd = [str(VENVS / "msdk" / "bin" / "tap-rest-api-msdk"), "--config"]
        return self.singer_client("tap-rest-api-msdk", tag, cmd, msdk_config(url, scenario))

    def dlt(self, url: str, scenario: Scenario, tag: str, mode: str) -> Result:
        label = "dlt rest_api, extract only" if mode == "extract" else "dlt rest_api, end to end"
        workdir = self.work / tag
        workdir.mkdir()
        config = base_config(url, scenario) | {"workdir": str(workdir), "mode": mode}
        path = self.config_file(tag, config)
        out, log = self.work / f"{tag}.out", self.work / f"{tag}.log"
        env = os.environ | {
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
        }
        python = VENVS / "dlt" / "bin" / "python"
        seconds, rss = run_measured(
            label,
            [str(python), str(DLT_RUNNER), str(path)],
            out,
            log,
            cwd=workdir,
            env=env,
            timeout=self.timeout,
        )
        extracted = json.loads(out.read_text().strip().splitlines()[-1])["extracted_rows"]
        if mode == "extract":
            records = int(extracted)
        else:
            records = count_jsonl_rows(workdir / "bucket" / "cast" / STREAM)
            if records != extracted:
                raise ClientError(f"{label}: {extracted} rows extracted, {records} loaded")
        shutil.rmtree(workdir)
        return Result(label, records, seconds, rss)

    def scenario(self, scenario: Scenario, clients: t.Sequence[str]) -> list[Result]:
        results: list[Result] = []
        with sandbox_process(scenario) as url:
            tag = f"{scenario.latency_ms}ms"
            self.bare(url, scenario, f"{tag}-warmup")  # the sandbox caches encoded events
            for client in clients:
                print(f"  {tag}: {client} ...", file=sys.stderr, flush=True)
                if client == "bare":
                    results.append(self.bare(url, scenario, f"{tag}-bare"))
                elif client == "tap-cast":
                    results.append(self.tap_cast(url, scenario, f"{tag}-tap-cast", None))
                    if self.args.tap_has_concurrency:
                        results.append(self.tap_cast(url, scenario, f"{tag}-tap-cast-c1", 1))
                elif client == "msdk":
                    results.append(self.msdk(url, scenario, f"{tag}-msdk"))
                elif client == "dlt":
                    results.append(self.dlt(url, scenario, f"{tag}-dlt-run", "run"))
                    results.append(self.dlt(url, scenario, f"{tag}-dlt-extract", "extract"))
        return results


# ---------------------------------------------------------------------------- report
def check_counts(scenario: Scenario, results: list[Result]) -> list[str]:
    problems = [
        f"{r.label} delivered {r.records:,} records at {scenario.latency_ms} ms, "
        f"expected {scenario.expected:,}"
        for r in results
        if r.records != scenario.expected
    ]
    bare = next(r for r in results if r.label.startswith("bare"))
    problems += [
        f"{r.label} wrote other records than the bare loop at {scenario.latency_ms} ms"
        for r in results
        if r.label.startswith("tap-cast") and r.lines != bare.lines
    ]
    return problems


def table(scenario: Scenario, results: list[Result]) -> str:
    bare = next((r.seconds for r in results if r.label.startswith("bare")), None)
    lines = [
        f"latency {scenario.latency_ms} ms: {scenario.expected:,} events (1 cast, "
        f"{scenario.campaigns} campaigns x 5 event types, ~{scenario.events:,} per type), "
        f"page size {scenario.page_size}",
        "",
        "| client | records | seconds | records/s | records/s vs bare | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = f"{bare / r.seconds:.2f}x" if bare else "n/a"
        lines.append(
            f"| {r.label} | {r.records:,} | {r.seconds:.2f} | {r.records / r.seconds:,.0f} "
            f"| {ratio} | {r.rss_mb:.0f} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--bare-client", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; bare + tap-cast only")
    parser.add_argument(
        "--with-generic", action="store_true", help="with --smoke: run msdk and dlt too"
    )
    parser.add_argument(
        "--clients", default=",".join(CLIENTS), help=f"comma-separated subset of {CLIENTS}"
    )
    parser.add_argument("--page-size", type=int, default=None, help="default 200 (smoke: 20)")
    parser.add_argument("--fast-campaigns", type=int, default=None, help="0 ms: default 2")
    parser.add_argument(
        "--fast-events", type=int, default=None, help="0 ms: events per type per campaign (10000)"
    )
    parser.add_argument("--slow-latency-ms", type=int, default=100)
    parser.add_argument("--slow-campaigns", type=int, default=None, help="slow: default 10")
    parser.add_argument(
        "--slow-events", type=int, default=None, help="slow: events per type per campaign (600)"
    )
    parser.add_argument("--skip-slow", action="store_true", help="only the 0 ms latency scenario")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per client run")
    parser.add_argument("--dump-configs", metavar="DIR", help="copy every client config here")
    return parser.parse_args(argv)


def chosen_scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The zero-latency scenario, and the slow one unless skipped."""
    fast = (2, 40) if args.smoke else (2, 10_000)
    slow = (2, 30) if args.smoke else (10, 600)
    page_size = args.page_size or (20 if args.smoke else 200)
    scenarios = [
        Scenario(0, args.fast_campaigns or fast[0], args.fast_events or fast[1], page_size)
    ]
    if not args.skip_slow:
        scenarios.append(
            Scenario(
                args.slow_latency_ms,
                args.slow_campaigns or slow[0],
                args.slow_events or slow[1],
                page_size,
            )
        )
    return scenarios


def chosen_clients(args: argparse.Namespace) -> list[str]:
    """The clients to compare; the bare loop always, as the reference."""
    clients = [name.strip() for name in args.clients.split(",") if name.strip()]
    unknown = set(clients) - set(CLIENTS)
    if unknown:
        raise SystemExit(f"unknown clients {sorted(unknown)}: choose from {CLIENTS}")
    if args.smoke and not args.with_generic:
        clients = [name for name in clients if name in ("bare", "tap-cast")]
    if "bare" not in clients:
        clients.insert(0, "bare")
    return clients


def version_lines(args: argparse.Namespace, clients: list[str]) -> list[str]:
    """What ran: tap-cast's libraries and each generic tool's venv."""
    lines = [
        f"tap-cast: {versions(PROJECT_PYTHON, ['singer-sdk', 'requests'])}"
        + (", max_concurrency setting" if args.tap_has_concurrency else "")
    ]
    for name in ("msdk", "dlt"):
        if name in clients:
            bin_dir = ensure_venv(name)
            lines.append(f"{name} venv: {versions(bin_dir / 'python', GENERIC_VENVS[name][1])}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bare_client:
        bare_client(args.bare_client)
        return 0
    scenarios, clients = chosen_scenarios(args), chosen_clients(args)
    if not TAP_CAST.exists():
        raise SystemExit(f"{TAP_CAST} is missing: run `make setup` first")
    args.tap_has_concurrency = "max_concurrency" in tap_cast_settings()
    versions_run = version_lines(args, clients)

    sections, failures = [], []
    with tempfile.TemporaryDirectory(prefix="compare-generic-") as tmp:
        bench = Bench(args, Path(tmp))
        for scenario in scenarios:
            print(f"latency {scenario.latency_ms} ms ...", file=sys.stderr, flush=True)
            try:
                results = bench.scenario(scenario, clients)
            except ClientError as error:
                print(f"ERROR: {error}", file=sys.stderr)
                return 1
            failures += check_counts(scenario, results)
            sections.append(table(scenario, results))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {dt.date.today().isoformat()}"
    )
    for line in versions_run:
        print(line)
    for section in sections:
        print()
        print(section)
    for failure in failures:
        print(f"ERROR: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
