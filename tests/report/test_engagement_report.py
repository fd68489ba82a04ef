"""The engagement report: one self-contained HTML file whose every chart draws offline.

Rendered in headless Chromium (Debian's `chromium`): under CI=true a missing browser is
installed with apt-get and a failure to get one fails the test; elsewhere it skips, saying why.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from lxml import html as lxml_html

from tests.helpers import ROOT


def load_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "engagement_report", ROOT / "scripts" / "engagement_report.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = load_report()

CHARTS = ("funnel", "minutes", "concurrency", "score", "people")
T0 = datetime(2026, 5, 1, 15, 0, 0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def build_marts(path: Path) -> None:
    """A small warehouse holding the marts the report reads (their columns as the model
    writes them): three vendors, an event without an audience list, live and on-demand
    viewing, people in one, two and three vendors."""
    with duckdb.connect(str(path)) as db:
        db.execute("create schema engagement")
        db.execute(
            """create table engagement.engagement__events as select * from (values
            ('e1', 'cast', timestamp '2026-05-01 15:00:00', null::timestamp),
            ('e2', 'webcasts', timestamp '2026-05-01 15:00:00', timestamp '2026-05-01 16:00:00'),
            ('e3', 'rev', timestamp '2026-05-01 15:00:00', timestamp '2026-05-01 15:45:00'))
            t(event_key, source_system, scheduled_start_at, scheduled_end_at)"""
        )
        db.execute(
            """create table engagement.engagement__event_metrics as select * from (values
            ('e1', 'cast', 'g1', 'Spring campaign', timestamp '2026-05-01 15:00:00',
             3, 2, 1, null, null, null, null, null),
            ('e2', 'webcasts', '1087001', 'Q1 <Product> update', timestamp '2026-05-01 15:00:00',
             4, 3, 2, 95.5, 60.5, 35.0, 110.0, 2),
            ('e3', 'rev', 'r1', 'All hands', timestamp '2026-05-01 15:00:00',
             null, 3, 1, 70.0, 70.0, 0.0, 93.0, 3))
            t(event_key, source_system, source_event_id, event_title, scheduled_start_at,
              registrants, attendees, engaged_attendees, total_minutes_viewed, live_minutes,
              on_demand_minutes, vendor_minutes_viewed, peak_concurrent_viewers)"""
        )
        db.execute(
            """create table engagement.engagement__person_event_metrics as select * from (values
            ('e1', 'pa', 'cast', true, null, 75.0, 'A,K,F'),
            ('e1', 'pb', 'cast', true, null, 25.0, 'A,K,F'),
            ('e2', 'pa', 'webcasts', true, 40.0, 80.0, 'A,L,Q,P,S'),
            ('e2', 'pc', 'webcasts', true, 30.5, 55.0, 'A,L,Q,P,S'),
            ('e2', 'pd', 'webcasts', true, 25.0, 20.0, 'A,L,Q,P,S'),
            ('e3', 'pa', 'rev', true, 30.0, 90.0, 'A,L,Q,C'),
            ('e3', 'pc', 'rev', true, 20.0, 35.0, 'A,L,Q,C'),
            ('e3', 'pe', 'rev', true, 20.0, 30.0, 'A,L'))
            t(event_key, person_key, source_system, attended, minutes_viewed, engagement_score,
              score_components)"""
        )
        changes = [
            ("e2", at(0), 1),
            ("e2", at(10), 2),
            ("e2", at(30), 1),
            ("e2", at(40.5), 0),
            ("e2", at(3000), 1),  # on demand two days later: outside the chart's window
            ("e2", at(3010), 0),
            ("e3", at(0), 1),
            ("e3", at(5), 2),
            ("e3", at(8), 3),
            ("e3", at(25), 2),
            ("e3", at(30), 0),
        ]
        db.execute(
            """create table engagement.engagement__concurrent_viewers (event_key varchar,
            changed_at timestamp, viewers bigint)"""
        )
        db.executemany(
            "insert into engagement.engagement__concurrent_viewers values (?, ?, ?)", changes
        )
        db.execute(
            """create table engagement.engagement__people as select * from (values
            ('pa', null, 'example.com', 3), ('pb', null, 'example.com', 1),
            ('pc', null, 'acme.io', 2), ('pd', null, 'acme.io', 1), ('pe', null, 'acme.io', 1))
            t(person_key, email, email_domain, source_systems)"""
        )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    build_marts(folder / "warehouse.duckdb")
    return report.write_report(folder / "warehouse.duckdb", folder / "report.html")


def chromium() -> str:
    """The Chromium executable; under CI=true installed with apt-get when missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") != "true":
        pytest.skip(f"{reason}: the report was not rendered")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    if result.returncode:  # a fresh image may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
        result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    found = shutil.which("chromium")
    if not found:
        pytest.fail(f"{reason} and apt-get could not install it:\n{result.stderr[-2000:]}")
    return found


def rendered_dom(page: Path, profile: Path) -> str:
    """The DOM after the page's scripts ran, with every host name unresolvable: a page that
    needed the network would draw nothing."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1280,2000",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_chart_draws_in_chromium_offline(written, tmp_path):
    dom = lxml_html.fromstring(rendered_dom(written, tmp_path / "profile"))
    for chart in CHARTS:
        (div,) = dom.xpath(f'//div[@id="{chart}"]')
        assert div.xpath('.//svg[contains(@class, "main-svg")]'), f"{chart}: no plot drawn"
        traces = div.xpath('.//g[contains(concat(" ", @class, " "), " trace ")]')
        drawn = [
            path
            for trace in traces
            for path in trace.xpath(".//path[@d]")
            if re.search(r"\d", path.get("d", ""))
        ]
        assert drawn, f"{chart}: its traces drew no shape"
    # The people-in-several-vendors table lists the two people seen in more than one vendor.
    rows = dom.xpath(
        "//h2[starts-with(., 'People seen in several')]/following-sibling::table[1]//tbody/tr"
    )
    assert len(rows) == 2


def test_the_file_needs_no_network(written):
    text = written.read_text(encoding="utf-8")
    tree = lxml_html.fromstring(text)
    external = [
        value
        for element in tree.iter()
        for attribute in ("src", "href")
        if (value := element.get(attribute)) and not value.startswith("#")
    ]
    assert external == []
    assert len(tree.xpath("//script[not(@src)]")) >= len(CHARTS)  # plotly.js inlined
    assert "Plotly.newPlot" in text
    assert "<Product>" not in text  # titles are escaped


def test_a_warehouse_without_marts_is_one_clear_line(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "engagement_report.py"),
            "--warehouse",
            str(path),
            "--out",
            str(tmp_path / "r.html"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "build the model first" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()
