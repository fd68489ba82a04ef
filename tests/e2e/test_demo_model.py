"""`make demo` end to end: the three taps land the sandboxes' data with people shared across
vendors, `meltano run dbt-duckdb:build` builds the model, and the report draws every chart.

The shared people (sandbox option --shared-people, which the demo turns on) must come out as
one person each in engagement__people, seen in all three vendors, their Rev comments and
questions (usernames only) resolved to them through Rev's own sessions.
"""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from lxml import html as lxml_html

from sandbox.shared_people import DOMAIN
from tests.helpers import ROOT
from tests.report.test_engagement_report import CHARTS, rendered_dom

pytestmark = pytest.mark.e2e


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_model", ROOT / "scripts" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, list[str], Path]:
    """demo.main() with its warehouse, log, report, state and dbt files in a folder of its own."""
    tmp = tmp_path_factory.mktemp("demo")
    demo = load_demo()
    demo.WAREHOUSE = tmp / "sandbox.duckdb"
    demo.LOG = tmp / "demo.log"
    demo.REPORT = tmp / "engagement_report.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MELTANO_STATE_BACKEND_URI", f"file://{tmp}/state")
        patch.setenv("DBT_TARGET_PATH", str(tmp / "dbt-target"))
        patch.setenv("DBT_LOG_PATH", str(tmp / "dbt-logs"))
        capture = tmp / "stdout.txt"
        with capture.open("w") as out, contextlib.redirect_stdout(out):
            code = demo.main()
    lines = capture.read_text().splitlines()
    assert code == 0, "\n".join(lines) + "\n" + demo.LOG.read_text(errors="replace")[-3000:]
    return demo, lines, tmp


def rows(demo: ModuleType, sql: str) -> list[tuple]:
    with duckdb.connect(str(demo.WAREHOUSE), read_only=True) as db:
        return db.execute(sql).fetchall()


def shared_count(demo: ModuleType) -> int:
    options = demo.DATA_OPTIONS
    return int(options[options.index("--shared-people") + 1])


def test_demo_builds_the_model_and_says_where_the_report_is(demo_run):
    demo, lines, _ = demo_run
    (built,) = [line for line in lines if line.startswith("dbt build: ")]
    assert "PASS=" in built
    assert "ERROR=0" in built
    assert lines[-1].startswith(f"Engagement report: {demo.REPORT}")
    assert demo.REPORT.stat().st_size > 1_000_000  # plotly.js is inside


def test_people_shared_across_vendors_are_one_person_each(demo_run):
    demo, _, _ = demo_run
    count = shared_count(demo)
    assert count > 0
    people = rows(
        demo,
        f"""select person_key, source_systems, source_system_list
        from engagement.engagement__people where email_domain = '{DOMAIN}'""",
    )
    assert len(people) == count  # one person per shared email, not one per vendor
    assert {(n, systems) for _, n, systems in people} == {(3, "cast,webcasts,rev")}
    # Nobody else is seen in more than one vendor: the default data shares no email.
    (others,) = rows(
        demo,
        f"""select count(*) from engagement.engagement__people
        where source_systems > 1 and email_domain <> '{DOMAIN}'""",
    )
    assert others == (0,)
    # Each has metrics at events of all three vendors.
    attended = rows(
        demo,
        f"""select m.person_key, count(distinct m.source_system)
        from engagement.engagement__person_event_metrics m
        join engagement.engagement__people p using (person_key)
        where p.email_domain = '{DOMAIN}' and m.attended group by 1""",
    )
    assert sorted(n for _, n in attended) == [3] * count


def test_their_rev_usernames_resolve_through_rev_sessions(demo_run):
    demo, _, _ = demo_run
    count = shared_count(demo)
    usernames = rows(
        demo,
        f"""select i.resolution, count(*)
        from engagement.engagement__person_identities i
        join engagement.engagement__people p using (person_key)
        where p.email_domain = '{DOMAIN}' and i.identity_type = 'rev_username'
        group by 1""",
    )
    assert usernames == [("username_via_sessions", count)]
    said = rows(
        demo,
        f"""select i.interaction_type, count(distinct i.person_key)
        from engagement.engagement__interactions i
        join engagement.engagement__people p using (person_key)
        where p.email_domain = '{DOMAIN}' and i.source_system = 'rev'
          and i.interaction_type in ('comment', 'question')
        group by 1 order by 1""",
    )
    assert said == [("comment", count), ("question", count)]


def test_the_demo_report_draws_every_chart(demo_run, tmp_path):
    demo, _, _ = demo_run
    dom = lxml_html.fromstring(rendered_dom(demo.REPORT, tmp_path / "profile"))
    for chart in CHARTS:
        (div,) = dom.xpath(f'//div[@id="{chart}"]')
        assert div.xpath('.//g[contains(concat(" ", @class, " "), " trace ")]//path'), chart
    heading = dom.xpath("//h2[starts-with(., 'People seen in several')]")[0].text_content()
    assert heading.endswith(f"({shared_count(demo)})")
