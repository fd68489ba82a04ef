"""A first run as a new user makes it: a fresh Meltano project (`meltano init` in a temporary
folder) adds the three taps with `meltano add <tap> --from-ref plugins/extractors/<file>`,
pip_url pointing at a wheel built from this checkout, installs them and lands each sandbox in
DuckDB; the loaders come from plugins/loaders/ too, and target-postgres lands a tap in a
database of its own; a date Meltano would have rewritten stops the run with the tap's own line.
The dbt utilities come from plugins/utilities/ and build the engagement model after the loads,
on DuckDB and on PostgreSQL.

Everything (project, plugin virtualenvs, warehouse, state) lives in the temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from sandbox import (
    CastDataset,
    RevDataset,
    WebcastsDataset,
    start_cast_sandbox,
    start_rev_sandbox,
    start_webcasts_sandbox,
)
from sandbox.server import SandboxServer
from tap_cast.tap import TapCast
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    MELTANO,
    REV_API_KEY,
    REV_SECRET,
    ROOT,
    WEBCASTS_PASSWORD,
    WEBCASTS_USERNAME,
    connect_postgres,
    postgres_server,
)

pytestmark = pytest.mark.e2e

DEFINITIONS = ROOT / "plugins" / "extractors"
LOADER_DEFINITIONS = ROOT / "plugins" / "loaders"
TAPS = ("tap-cast", "tap-webcasts", "tap-rev-webcast")
LOADER = "target-duckdb"  # one loader for the three taps: installed once
LOADER_FILES = {
    "target-duckdb": "target-duckdb--jwills.yml",
    "target-postgres": "target-postgres--meltanolabs.yml",
    "target-snowflake": "target-snowflake--meltanolabs.yml",  # added, not installed: no server
}


@dataclass
class NewProject:
    """A Meltano project of a new user, outside this repository."""

    root: Path
    env: dict[str, str]
    warehouse: Path

    def meltano(self, *args: str, env: dict[str, str] | None = None, check: bool = True):
        result = subprocess.run(
            [str(MELTANO), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if check and result.returncode != 0:
            tail = (result.stdout + result.stderr)[-12000:]
            pytest.fail(f"meltano {' '.join(args)} failed ({result.returncode}):\n{tail}")
        return result


def definition_pointing_at(source: Path, pip_url: str, folder: Path) -> Path:
    """A copy of a plugin definition file with another pip_url, as the README describes."""
    definition = yaml.safe_load(source.read_text())
    definition["pip_url"] = pip_url
    copy = folder / source.name
    copy.write_text(yaml.safe_dump(definition, sort_keys=False))
    return copy


@pytest.fixture(scope="module")
def project(built_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> NewProject:
    folder = tmp_path_factory.mktemp("new-user")
    # Nothing from this repository's Meltano settings may leak into the new project.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MELTANO_", "TAP_", "TARGET_"))
    }
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    new = NewProject(folder / "my-project", env, folder / "warehouse.duckdb")
    new.root.parent.mkdir(exist_ok=True)
    subprocess.run(
        [str(MELTANO), "init", str(new.root), "--no-usage-stats"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = built_dist.glob("webinar_taps-*.whl")
    for tap in TAPS:
        source = DEFINITIONS / f"{tap}--webinar-taps.yml"
        new.meltano(
            "add", tap, "--from-ref", str(definition_pointing_at(source, str(wheel), folder))
        )
    for loader, file in LOADER_FILES.items():
        install = [] if loader != "target-snowflake" else ["--no-install"]
        new.meltano("add", loader, "--from-ref", str(LOADER_DEFINITIONS / file), *install)
    new.meltano("config", "set", LOADER, "filepath", str(new.warehouse))
    return new


def primary_keys(tap_class: type) -> dict[str, list[str]]:
    catalog = tap_class(config={}, validate_config=False).catalog_dict
    return {entry["tap_stream_id"]: entry["key_properties"] for entry in catalog["streams"]}


def landed(warehouse: Path, schema: str, keys: dict[str, list[str]]) -> dict[str, tuple]:
    """(rows, distinct primary keys) of every table the run created in ``schema``."""
    with duckdb.connect(str(warehouse), read_only=True) as db:
        tables = [
            name
            for (name,) in db.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        ]
        return {
            table: db.execute(
                f"select count(*), count(distinct ({', '.join(keys[table])})) from {schema}.{table}"
            ).fetchone()
            for table in tables
        }


class Sandbox(t.NamedTuple):
    server: SandboxServer
    truth: dict[str, int]  # rows per stream
    env: dict[str, str]  # the tap's settings, as a new user would export them


def cast_sandbox() -> Sandbox:
    dataset = CastDataset(
        seed=21, casts=2, campaigns_per_cast=2, events_per_type=10, org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )  # fmt: skip
    server, _ = start_cast_sandbox(dataset)
    truth = dataset.ground_truth()
    return Sandbox(
        server,
        {stream: len(rows) for stream, rows in truth.items()},
        {
            "TAP_CAST_BASE_URL": server.url,
            "TAP_CAST_API_KEY": CAST_API_KEY,
            "TAP_CAST_ORG_SLUG": CAST_ORG,
            "TAP_CAST_CAST_IDS": json.dumps(sorted({c["cast_id"] for c in truth["campaigns"]})),
        },
    )


def webcasts_sandbox() -> Sandbox:
    dataset = WebcastsDataset(
        seed=21, events=2, registrants_per_event=40, username=WEBCASTS_USERNAME,
        password=WEBCASTS_PASSWORD,
    )  # fmt: skip
    server, _ = start_webcasts_sandbox(dataset)
    audience = dataset.ground_truth()["audience"]
    truth = {
        "events": len(dataset.ground_truth()["events"]),
        "audience": len(audience),
        "audience_sessions": sum(len(person["sessions"]) for person in audience),
        "audience_questions": sum(len(person["questions"]) for person in audience),
        "audience_survey_answers": sum(len(person["surveys"]) for person in audience),
    }
    return Sandbox(
        server,
        truth,
        {
            "TAP_WEBCASTS_BASE_URL": server.url,
            "TAP_WEBCASTS_USERNAME": WEBCASTS_USERNAME,
            "TAP_WEBCASTS_PASSWORD": WEBCASTS_PASSWORD,
        },
    )


def rev_sandbox() -> Sandbox:
    dataset = RevDataset(seed=21, webcasts=3, sessions=150, api_key=REV_API_KEY, secret=REV_SECRET)
    server, _ = start_rev_sandbox(dataset)  # the real clock and the documented limits
    return Sandbox(
        server,
        {stream: len(rows) for stream, rows in dataset.ground_truth().items() if rows},
        {
            "TAP_REV_WEBCAST_BASE_URL": server.url,
            "TAP_REV_WEBCAST_API_KEY": REV_API_KEY,
            "TAP_REV_WEBCAST_SECRET": REV_SECRET,
            "TAP_REV_WEBCAST_START_DATE": "2026-01-01T00:00:00Z",
            "TAP_REV_WEBCAST_RUN_NUMBERS": "[0, 1]",
            "TAP_REV_WEBCAST_INCLUDE_REALTIME_ATTENDEES": "true",
        },
    )


class Vendor(t.NamedTuple):
    start: t.Callable[[], Sandbox]
    tap_class: type
    secrets: tuple[str, ...]


VENDORS = {
    "tap-cast": Vendor(cast_sandbox, TapCast, (CAST_API_KEY,)),
    "tap-webcasts": Vendor(webcasts_sandbox, TapWebcasts, (WEBCASTS_PASSWORD,)),
    "tap-rev-webcast": Vendor(rev_sandbox, TapRevWebcast, (REV_API_KEY, REV_SECRET)),
}


@pytest.mark.parametrize("tap", TAPS)
def test_a_new_project_runs_each_tap_into_a_warehouse(project, tap):
    vendor = VENDORS[tap]
    sandbox = vendor.start()
    try:
        run = project.meltano("run", tap, LOADER, env=sandbox.env)
    finally:
        sandbox.server.stop()
    schema = tap.replace("-", "_")
    assert landed(project.warehouse, schema, primary_keys(vendor.tap_class)) == {
        stream: (rows, rows) for stream, rows in sandbox.truth.items()
    }
    for secret in vendor.secrets:
        assert secret not in run.stdout + run.stderr


def test_the_project_holds_the_definitions_as_shipped(project):
    """`meltano add --from-ref` took every attribute of the files (the taps' pip_url aside)."""
    plugins = yaml.safe_load((project.root / "meltano.yml").read_text())["plugins"]
    for plugin in plugins["extractors"]:
        shipped = yaml.safe_load((DEFINITIONS / f"{plugin['name']}--webinar-taps.yml").read_text())
        for attribute in ("namespace", "variant", "executable", "capabilities", "settings"):
            assert plugin[attribute] == shipped[attribute], (plugin["name"], attribute)
    assert sorted(plugin["name"] for plugin in plugins["extractors"]) == sorted(TAPS)
    for plugin in plugins["loaders"]:
        shipped = yaml.safe_load((LOADER_DEFINITIONS / LOADER_FILES[plugin["name"]]).read_text())
        for attribute in ("namespace", "variant", "pip_url", "executable", "settings"):
            assert plugin[attribute] == shipped[attribute], (plugin["name"], attribute)
    assert sorted(plugin["name"] for plugin in plugins["loaders"]) == sorted(LOADER_FILES)


@pytest.fixture
def new_database() -> t.Iterator[str]:
    """A database of its own on the local PostgreSQL server, dropped afterwards."""
    admin = connect_postgres()
    name = f"new_user_{uuid.uuid4().hex[:10]}"
    admin.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'drop database "{name}" with (force)')
        admin.close()


def test_target_postgres_from_its_definition_lands_a_tap(project, new_database):
    """The loader as shipped: its default schema is the extractor's, every row lands once."""
    import psycopg

    sandbox = cast_sandbox()
    loader_env = {
        **postgres_server().meltano_settings(),
        "TARGET_POSTGRES_USER": "postgres",
        "TARGET_POSTGRES_PASSWORD": "any",  # the loader requires one; trust auth ignores it
        "TARGET_POSTGRES_DATABASE": new_database,
    }
    try:
        project.meltano("run", "tap-cast", "target-postgres", env={**sandbox.env, **loader_env})
    finally:
        sandbox.server.stop()
    keys = primary_keys(TapCast)
    with psycopg.connect(postgres_server().dsn(new_database)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "select table_name from information_schema.tables where table_schema = 'tap_cast'"
            ).fetchall()
        ]
        landed = {
            table: db.execute(
                f"select count(*), count(distinct ({', '.join(keys[table])})) from tap_cast.{table}"
            ).fetchone()
            for table in tables
        }
    assert landed == {stream: (rows, rows) for stream, rows in sandbox.truth.items()}


def test_an_unreachable_host_fails_meltano_run_with_one_error_line(project):
    """The tap's last line reaches Meltano's log at error level, naming the stream and the
    setting to fix; no traceback."""
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        env = {
            "TAP_CAST_BASE_URL": f"http://127.0.0.1:{port}",
            "TAP_CAST_API_KEY": CAST_API_KEY,
            "TAP_CAST_ORG_SLUG": CAST_ORG,
            "TAP_CAST_CAST_IDS": "[1940]",
        }
        run = project.meltano("run", "tap-cast", LOADER, env=env, check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    line = re.compile(
        rf"\[error\s*\] tap-cast\s+tap-cast: stream 'campaigns' cast_id=1940: cannot connect to "
        rf"127\.0\.0\.1:{port} \(connection refused.*Check the 'base_url' setting"
    )
    assert line.search(output), output[-3000:]
    assert "Traceback" not in output
    assert CAST_API_KEY not in output


BAD_DATES = [  # what Meltano's date_iso8601 kind rewrote silently
    ("tap-cast", "start_date", "2024-13-01"),
    ("tap-webcasts", "date_range_start", "01/31/2024"),
    ("tap-rev-webcast", "start_date", "yesterday"),
]


@pytest.mark.parametrize(("tap", "setting", "value"), BAD_DATES)
def test_a_bad_date_stops_meltano_run_with_the_taps_line(project, tap, setting, value):
    sandbox = VENDORS[tap].start()
    variable = f"{tap.upper().replace('-', '_')}_{setting.upper()}"
    try:
        env = {**sandbox.env, variable: value}
        run = project.meltano("run", tap, LOADER, env=env, check=False)
        requests_made = sandbox.server.count()
    finally:
        sandbox.server.stop()
    assert run.returncode != 0
    line = re.compile(
        rf"\[error\s*\] {tap}\s+Setting '{setting}' must be an ISO 8601 date.* got '{value}'"
    )
    assert line.search(run.stdout + run.stderr), (run.stdout + run.stderr)[-3000:]
    assert requests_made == 0  # stopped before any request


def test_a_bad_date_fails_meltano_config_test_in_the_tap(project):
    sandbox = VENDORS["tap-cast"].start()
    try:
        env = {**sandbox.env, "TAP_CAST_START_DATE": "2024-13-01"}
        # Meltano shows the tap's last line at any level: the tap makes it the setting's.
        test = project.meltano("config", "test", "tap-cast", env=env, check=False)
        requests_made = sandbox.server.count()
        good = project.meltano("config", "test", "tap-cast", env=sandbox.env, check=False)
    finally:
        sandbox.server.stop()
    output = test.stdout + test.stderr
    assert test.returncode != 0
    assert "Plugin configuration is invalid" in output
    assert "Setting 'start_date' must be an ISO 8601 date-time such as" in output
    assert "got '2024-13-01'" in output
    assert requests_made == 0
    assert good.returncode == 0, (good.stdout + good.stderr)[-3000:]
    assert "Plugin configuration is valid" in good.stdout + good.stderr


# --- the engagement model in the new project ----------------------------------------------

UTILITY_DEFINITIONS = ROOT / "plugins" / "utilities"


@pytest.fixture(scope="module")
def modelling(project: NewProject) -> NewProject:
    """The dbt utilities added from their definition files, and the dbt project copied in as
    the README says (transform/, the utilities' default project_dir)."""
    shutil.copytree(
        ROOT / "transform",
        project.root / "transform",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
        dirs_exist_ok=True,  # meltano init made an empty transform/ for this
    )
    for utility in ("dbt-duckdb", "dbt-postgres"):
        source = UTILITY_DEFINITIONS / f"{utility}--webinar-taps.yml"
        project.meltano("add", "utility", utility, "--from-ref", str(source))
    return project


@contextlib.contextmanager
def every_sandbox() -> t.Iterator[tuple[dict[str, str], int]]:
    """The three sandboxes at once: the taps' settings, and how many events they serve."""
    sandboxes = [cast_sandbox(), webcasts_sandbox(), rev_sandbox()]
    try:
        env = {name: value for sandbox in sandboxes for name, value in sandbox.env.items()}
        cast, webcasts, rev = (sandbox.truth for sandbox in sandboxes)
        yield env, cast["campaigns"] + webcasts["events"] + rev["webcasts"]
    finally:
        for sandbox in sandboxes:
            sandbox.server.stop()


def built_without_errors(output: str) -> None:
    done = re.findall(r"Done\. PASS=(\d+) WARN=\d+ ERROR=(\d+)", output)
    assert done, output[-3000:]
    passed, errors = map(int, done[-1])
    assert errors == 0, output[-3000:]
    assert passed >= 100  # models, data tests, unit tests, reconciliation tests


def run_everything(loader: str, utility: str) -> list[str]:
    taps = [step for tap in TAPS for step in (tap, loader)]
    return ["run", "--full-refresh", *taps, f"{utility}:build"]


def test_a_new_project_builds_the_engagement_model_on_duckdb(modelling, tmp_path):
    warehouse = tmp_path / "model.duckdb"
    files = {"TARGET_DUCKDB_FILEPATH": str(warehouse), "DBT_DUCKDB_PATH": str(warehouse)}
    with every_sandbox() as (env, events):
        run = modelling.meltano(*run_everything(LOADER, "dbt-duckdb"), env={**env, **files})
    output = run.stdout + run.stderr
    built_without_errors(output)
    with duckdb.connect(str(warehouse), read_only=True) as db:
        (rows,) = db.execute("select count(*) from engagement.engagement__event_metrics").fetchone()
    assert rows == events
    for secret in (CAST_API_KEY, WEBCASTS_PASSWORD, REV_API_KEY, REV_SECRET):
        assert secret not in output


def test_a_new_project_builds_the_engagement_model_on_postgresql(modelling, new_database):
    import psycopg

    database = {
        **postgres_server().meltano_settings(),
        "TARGET_POSTGRES_USER": "postgres",
        "TARGET_POSTGRES_PASSWORD": "any",  # the loader requires one; trust auth ignores it
        "TARGET_POSTGRES_DATABASE": new_database,
        "DBT_POSTGRES_USER": "postgres",
        "DBT_POSTGRES_DBNAME": new_database,
    }
    with every_sandbox() as (env, events):
        run = modelling.meltano(
            *run_everything("target-postgres", "dbt-postgres"), env={**env, **database}
        )
    built_without_errors(run.stdout + run.stderr)
    with psycopg.connect(postgres_server().dsn(new_database)) as db:
        (rows,) = db.execute("select count(*) from engagement.engagement__event_metrics").fetchone()
    assert rows == events
