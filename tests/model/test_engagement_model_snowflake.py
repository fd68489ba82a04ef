"""The engagement model on Snowflake: the three demo sandboxes' taps, configured as meltano.yml's
`sandbox` environment configures them, through target-snowflake, then `dbt build` with
dbt-snowflake, both under the fakesnow emulator (tests/snowflake/fakesnow_target.py says
what it stands in for).

The SQL is the Snowflake branch of every cross-warehouse macro; fakesnow runs it on DuckDB
after translating it. This proves the models' logic under Snowflake's SQL as fakesnow models
it (it caught CONCAT_WS, which is NULL on Snowflake when any part is NULL), not that
Snowflake itself accepts every function as compiled.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from tap_cast.tap import TapCast
from tap_rev_webcast.tap import TapRevWebcast
from tap_webcasts.tap import TapWebcasts
from tests.helpers import ROOT, MeltanoProject, run_tap
from tests.model.conftest import VENDORS, meltano_env
from tests.model.test_engagement_model import MARTS, comparable, duckdb_rows
from tests.model.truth import Expected
from tests.snowflake.conftest import FakeSnowflake, snowflake_config, snowflake_python

pytestmark = pytest.mark.e2e

__all__ = ["snowflake_python"]  # the loader's virtualenv, a fixture

PROJECT = ROOT / "transform"
TAPS = {"tap-cast": TapCast, "tap-webcasts": TapWebcasts, "tap-rev-webcast": TapRevWebcast}
assert set(TAPS) == set(VENDORS)
#: The profile a user points at their account (transform/profiles/snowflake); dummy values.
DBT_ENV = {
    "DBT_SNOWFLAKE_ACCOUNT": "testorg-testaccount",
    "DBT_SNOWFLAKE_USER": "TRANSFORMER",
    "DBT_SNOWFLAKE_PASSWORD": "dbt-PASS-5b7e-do-not-print",
    "DBT_SNOWFLAKE_ROLE": "TRANSFORMER",
    "DBT_SNOWFLAKE_DATABASE": "WEBINARS",
    "DBT_SNOWFLAKE_WAREHOUSE": "TRANSFORM_WH",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}


class SnowflakeBuild:
    """The three taps landed by target-snowflake and the model built by dbt-snowflake."""

    def __init__(self, snowflake: FakeSnowflake, target: Path, output: str) -> None:
        self.snowflake = snowflake
        self.target = target
        self.output = output
        self._marts: dict[str, dict] | None = None

    def rows(self, mart: str) -> list[dict]:
        """A mart's rows, column names lower-cased as DuckDB and PostgreSQL return them."""
        if self._marts is None:
            self._marts = self.snowflake.dump("ENGAGEMENT")
        return [
            {name.lower(): value for name, value in row.items()}
            for row in self._marts[mart.upper()]["rows"]
        ]


@pytest.fixture(scope="module")
def snowflake_build(
    tmp_path_factory: pytest.TempPathFactory, sandbox_urls, snowflake_python
) -> SnowflakeBuild:
    tmp = tmp_path_factory.mktemp("engagement-snowflake")
    (tmp / "fakesnow").mkdir()
    snowflake = FakeSnowflake(snowflake_python, tmp / "fakesnow", snowflake_config())
    meltano = MeltanoProject(env=meltano_env(tmp, sandbox_urls))
    for tap, tap_class in TAPS.items():
        # The tap as the `sandbox` environment configures it (these sandboxes' URLs), run
        # here rather than by `meltano invoke`, which shares .meltano/run/ with any other
        # Meltano run in this checkout.
        config = json.loads(meltano.run("config", "--unsafe", "print", tap).stdout)
        run = run_tap(tap_class, config)
        snowflake.load(run.stdout, default_target_schema=tap.upper().replace("-", "_"))
    result = snowflake.dbt(
        "build",
        "--project-dir", str(PROJECT),
        "--profiles-dir", str(PROJECT / "profiles" / "snowflake"),
        "--target-path", str(tmp / "dbt-target"),
        "--log-path", str(tmp / "dbt-logs"),
        "--threads", "1",  # fakesnow serves one connection; each dbt thread opens its own
        env=DBT_ENV,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return SnowflakeBuild(snowflake, tmp / "dbt-target", output)


def test_dbt_build_runs_every_model_and_test_on_snowflake(snowflake_build):
    target = snowflake_build.target
    results = json.loads((target / "run_results.json").read_text())["results"]
    for node in results:
        assert node["status"] in ("success", "pass"), (node["unique_id"], node["message"])
    manifest = json.loads((target / "manifest.json").read_text())
    built = {node["unique_id"] for node in results}
    for group in ("nodes", "unit_tests"):
        for node_id, node in manifest[group].items():
            if node["resource_type"] in ("model", "test", "unit_test"):
                assert node_id in built, node_id  # nothing skipped
    kinds = {node_id.split(".")[0] for node_id in built}
    assert {"model", "test", "unit_test"} <= kinds
    assert any("reconciliation" in node["tags"] for node in manifest["nodes"].values())
    assert DBT_ENV["DBT_SNOWFLAKE_PASSWORD"] not in snowflake_build.output


def test_compiled_sql_is_the_snowflake_branch_of_each_macro(snowflake_build):
    compiled = "\n".join(
        path.read_text() for path in (snowflake_build.target / "compiled").rglob("*.sql")
    ).lower()
    assert "sha2(" in compiled  # engagement_sha256
    assert "lateral flatten(input =>" in compiled  # engagement_unnest_json_array
    assert "datediff(millisecond," in compiled  # engagement_ms_between
    for other in ("jsonb_array_elements", "epoch_ms(", "convert_to("):  # PostgreSQL, DuckDB
        assert other not in compiled


def plain(rows: list[dict]) -> list[dict]:
    """Rows as fakesnow's dump prints them: times in ISO 8601, whole numbers as ints."""

    def value(v):
        if isinstance(v, (dt.datetime, dt.date)):
            return v.isoformat()
        if isinstance(v, Decimal) and v == v.to_integral_value():
            return int(v)
        return v

    return [{k: value(v) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("mart", MARTS)
def test_the_marts_are_the_same_on_snowflake_and_duckdb(snowflake_build, duckdb_build, mart):
    on_snowflake = snowflake_build.rows(mart)
    on_duckdb = plain(duckdb_rows(duckdb_build, f"select * from engagement.{mart}"))
    assert [list(r) for r in on_snowflake[:1]] == [list(r) for r in on_duckdb[:1]]  # columns
    assert len(on_snowflake) == len(on_duckdb)
    assert comparable(on_snowflake) == comparable(on_duckdb)


def test_event_metrics_hold_the_sandbox_truth_on_snowflake(snowflake_build, truth):
    expected = Expected(truth).event_metrics
    ours = {
        (r["source_system"], r["source_event_id"]): r
        for r in snowflake_build.rows("engagement__event_metrics")
    }
    assert set(ours) == set(expected)
    for key, figures in expected.items():
        for name, value in figures.items():
            got = ours[key][name]
            assert (got is None and value is None) or math.isclose(
                float(got), value, rel_tol=1e-9, abs_tol=1e-6
            ), (key, name, got, value)
