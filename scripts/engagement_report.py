"""The engagement report: one self-contained HTML file of charts over the engagement marts.

    python scripts/engagement_report.py [--warehouse output/sandbox.duckdb] [--schema engagement]
                                        [--out output/engagement_report.html]

It reads only the engagement__ marts that `dbt build` wrote into the DuckDB warehouse and
writes one HTML file with plotly.js inlined: it opens offline and makes no network request.
Charts: per event the funnel registered -> attended -> engaged; minutes viewed live and on
demand beside the vendor's own figure; concurrent viewers over time; the engagement score
per vendor with the components it was made of; the people seen in several vendors.
"""

from __future__ import annotations

import argparse
import html
import sys
import typing as t
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE = ROOT / "output" / "sandbox.duckdb"
REPORT = ROOT / "output" / "engagement_report.html"
VENDORS = ("cast", "webcasts", "rev")
VENDOR_NAMES = {"cast": "Cast", "webcasts": "Webcasts.com", "rev": "Rev"}
COLOURS = {"cast": "#2a9d8f", "webcasts": "#e76f51", "rev": "#264653"}
HOUR = timedelta(hours=1)
LAYOUT: dict[str, t.Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
    "legend": {"orientation": "h", "y": -0.15},
}

Row = dict[str, t.Any]


class ReportError(Exception):
    """One line for the terminal: what is missing and how to get it."""


class Marts:
    """Reads the engagement marts of one schema (read-only)."""

    def __init__(self, db: duckdb.DuckDBPyConnection, schema: str) -> None:
        self.db = db
        self.schema = schema

    def rows(self, sql: str) -> list[Row]:
        """``sql`` with {m} standing for the marts' schema; rows as dicts."""
        cursor = self.db.execute(sql.format(m=f'"{self.schema}"'))
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def check(self) -> None:
        found = {
            name
            for (name,) in self.db.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [self.schema],
            ).fetchall()
        }
        needed = {
            "engagement__events",
            "engagement__event_metrics",
            "engagement__person_event_metrics",
            "engagement__concurrent_viewers",
            "engagement__people",
        }
        if missing := sorted(needed - found):
            raise ReportError(
                f"the warehouse has no {', '.join(missing)} in schema {self.schema!r}: build "
                "the model first (`meltano run dbt-duckdb:build`, or `make demo`)"
            )


# ---------------------------------------------------------------------------- charts
def event_label(row: Row) -> str:
    title = str(row["event_title"] or row["source_event_id"])
    title = title if len(title) <= 38 else title[:37] + "…"
    return f"{VENDOR_NAMES[row['source_system']]} · {title}"


def events(marts: Marts) -> list[Row]:
    """Per event: its title and schedule, our metrics and the vendor's own figures."""
    return marts.rows(
        """
        select m.source_system, m.source_event_id, m.event_key, m.event_title,
               m.scheduled_start_at, e.scheduled_end_at, m.registrants, m.attendees,
               m.engaged_attendees, m.total_minutes_viewed, m.live_minutes,
               m.on_demand_minutes, m.vendor_minutes_viewed, m.peak_concurrent_viewers
        from {m}.engagement__event_metrics m
        join {m}.engagement__events e using (event_key)
        order by m.source_system, m.scheduled_start_at, m.source_event_id
        """
    )


def funnel_chart(rows: list[Row]) -> go.Figure:
    """Registered -> attended -> engaged per event (no registered bar where the vendor has
    no audience list for the event)."""
    labels = [
        event_label(row) + (" (no audience list)" if row["registrants"] is None else "")
        for row in rows
    ]
    figure = go.Figure()
    for column, name, colour in (
        ("registrants", "registered (or recipients)", "#a8dadc"),
        ("attendees", "attended", "#457b9d"),
        ("engaged_attendees", "engaged", "#e63946"),
    ):
        figure.add_bar(
            name=name,
            y=labels,
            x=[row[column] for row in rows],
            orientation="h",
            marker_color=colour,
            hovertemplate="%{y}<br>" + name + ": %{x}<extra></extra>",
        )
    figure.update_layout(
        title="Funnel per event: registered → attended → engaged",
        barmode="group",
        height=max(420, 60 * len(rows)),
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": labels},
        xaxis_title="people",
        **LAYOUT,
    )
    return figure


def minutes_chart(rows: list[Row]) -> go.Figure:
    """Minutes viewed (union of each person's sessions) live and on demand, stacked, beside
    the vendor's own figure (a sum of sessions). Events without durations are left out."""
    timed = [row for row in rows if row["total_minutes_viewed"] is not None]
    labels = [event_label(row) for row in timed]
    figure = go.Figure()
    figure.add_bar(name="live (ours)", x=labels, y=[row["live_minutes"] or 0 for row in timed])
    figure.add_bar(
        name="on demand (ours)", x=labels, y=[row["on_demand_minutes"] or 0 for row in timed]
    )
    figure.add_scatter(
        name="vendor's own figure (sum of sessions)",
        x=labels,
        y=[row["vendor_minutes_viewed"] for row in timed],
        mode="markers",
        marker={"symbol": "diamond", "size": 12, "color": "#1d3557"},
    )
    figure.add_scatter(
        name="total (ours: union of a person's sessions)",
        x=labels,
        y=[row["total_minutes_viewed"] for row in timed],
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 22, "color": "#e63946", "line": {"width": 3}},
    )
    figure.update_layout(
        title="Minutes viewed per event, live and on demand, beside the vendor's figure",
        barmode="stack",
        height=560,
        yaxis_title="minutes",
        xaxis_tickangle=-35,
        # The legend above the plot: the slanted event names take the space below it.
        **{
            **LAYOUT,
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
            "margin": {"l": 60, "r": 20, "t": 90, "b": 40},
        },
    )
    return figure


def concurrency_chart(marts: Marts, rows: list[Row]) -> go.Figure:
    """People viewing over the scheduled time of each event with sessions (engagement__
    concurrent_viewers, each person once), from 15 minutes before the start to an hour after
    the end: replays and on-demand viewing days later are left out of the picture."""
    changes = marts.rows(
        """
        select event_key, changed_at, viewers
        from {m}.engagement__concurrent_viewers order by event_key, changed_at
        """
    )
    per_event: dict[str, list[Row]] = defaultdict(list)
    for change in changes:
        per_event[change["event_key"]].append(change)
    figure = go.Figure()
    for row in rows:
        start, end = row["scheduled_start_at"], row["scheduled_end_at"]
        points = per_event.get(row["event_key"])
        if not points or start is None or end is None:
            continue
        before = [p["viewers"] for p in points if p["changed_at"] < start - timedelta(minutes=15)]
        shown = [
            p for p in points if start - timedelta(minutes=15) <= p["changed_at"] <= end + HOUR
        ]
        x = [-15.0] + [(p["changed_at"] - start).total_seconds() / 60 for p in shown]
        y = [before[-1] if before else 0] + [p["viewers"] for p in shown]
        figure.add_scatter(
            name=f"{event_label(row)} (peak {row['peak_concurrent_viewers']})",
            x=x,
            y=y,
            mode="lines",
            line={"shape": "hv", "width": 1.5},
        )
    figure.update_layout(
        title="Concurrent viewers (each person once; hosts and moderators left out)",
        height=520,
        xaxis_title="minutes from the scheduled start",
        yaxis_title="people viewing",
        **{**LAYOUT, "legend": {"font": {"size": 10}}},
    )
    return figure


def score_chart(marts: Marts) -> go.Figure:
    """The engagement score's distribution per vendor, and which components made it."""
    rows = marts.rows(
        """
        select source_system, engagement_score, score_components
        from {m}.engagement__person_event_metrics
        where engagement_score is not null
        """
    )
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        subplot_titles=("score distribution (0-100)", "components a score was made of"),
    )
    for vendor in VENDORS:
        scores = [row["engagement_score"] for row in rows if row["source_system"] == vendor]
        if scores:
            figure.add_box(
                y=scores,
                name=VENDOR_NAMES[vendor],
                boxpoints="all",
                jitter=0.5,
                pointpos=0,
                marker={"color": COLOURS[vendor], "size": 4, "opacity": 0.5},
                showlegend=False,
                row=1,
                col=1,
            )
    components = Counter((row["source_system"], row["score_components"]) for row in rows)
    for vendor in VENDORS:
        used = sorted((c, n) for (v, c), n in components.items() if v == vendor)
        for codes, count in used:
            figure.add_bar(
                x=[VENDOR_NAMES[vendor]],
                y=[count],
                name=codes,
                text=[codes],
                textposition="inside",
                marker_color=COLOURS[vendor],
                marker_line={"color": "white", "width": 1},
                showlegend=False,
                hovertemplate=f"{VENDOR_NAMES[vendor]}: %{{y}} scores from {codes}<extra></extra>",
                row=1,
                col=2,
            )
    figure.update_layout(
        title="Engagement score per vendor, with the components it was made of",
        barmode="stack",
        height=480,
        **LAYOUT,
    )
    figure.update_yaxes(title_text="score", range=[0, 100], row=1, col=1)
    figure.update_yaxes(title_text="attendee-events", row=1, col=2)
    return figure


def people_chart(marts: Marts) -> tuple[go.Figure, list[Row]]:
    """People by how many vendors they were seen in; the list of those seen in several."""
    counts = marts.rows(
        """
        select source_systems, count(*) as people
        from {m}.engagement__people group by 1 order by 1
        """
    )
    several = marts.rows(
        """
        select p.person_key, p.email, p.email_domain, p.source_systems,
               string_agg(distinct m.source_system, ', ' order by m.source_system) as vendors,
               count(*) filter (where m.attended) as events_attended,
               round(sum(m.minutes_viewed), 1) as minutes_viewed,
               round(avg(m.engagement_score), 1) as mean_score
        from {m}.engagement__people p
        join {m}.engagement__person_event_metrics m using (person_key)
        where p.source_systems > 1
        group by 1, 2, 3, 4
        order by 4 desc, 1
        """
    )
    figure = go.Figure()
    figure.add_bar(
        x=[f"{row['source_systems']} vendor(s)" for row in counts],
        y=[row["people"] for row in counts],
        text=[row["people"] for row in counts],
        textposition="outside",
        marker_color="#457b9d",
    )
    figure.update_layout(
        title="People by the number of vendors they were seen in (one person per email)",
        height=380,
        yaxis_title="people",
        **LAYOUT,
    )
    return figure, several


# ---------------------------------------------------------------------------- page
def table(rows: list[Row], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if row[key] is None else str(row[key]))}</td>"
            for key, _ in columns
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #1d3557; }
h1 { margin-bottom: 0.2em; } .chart { margin: 2em 0; } p.note { color: #555; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
"""


def page(marts: Marts) -> str:
    rows = events(marts)
    people_figure, several = people_chart(marts)
    figures = {
        "funnel": funnel_chart(rows),
        "minutes": minutes_chart(rows),
        "concurrency": concurrency_chart(marts, rows),
        "score": score_chart(marts),
        "people": people_figure,
    }
    charts = "".join(
        '<div class="chart">'
        + figure.to_html(full_html=False, include_plotlyjs=False, div_id=name)
        + "</div>"
        for name, figure in figures.items()
    )
    for row in several:
        row["person"] = row["email"] or str(row["person_key"])[:12] + "…"
    for row in rows:
        for column in ("total_minutes_viewed", "vendor_minutes_viewed"):
            if row[column] is not None:
                row[column] = f"{row[column]:,.1f}"
    metrics = table(
        [{**row, "event": event_label(row)} for row in rows],
        [
            ("event", "event"),
            ("registrants", "registered"),
            ("attendees", "attended"),
            ("engaged_attendees", "engaged"),
            ("total_minutes_viewed", "minutes (ours)"),
            ("vendor_minutes_viewed", "minutes (vendor)"),
            ("peak_concurrent_viewers", "peak viewers"),
        ],
    )
    people = table(
        several,
        [
            ("person", "person (the email only where the model keeps emails)"),
            ("email_domain", "email domain"),
            ("vendors", "vendors"),
            ("events_attended", "events attended"),
            ("minutes_viewed", "minutes viewed"),
            ("mean_score", "mean score"),
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Engagement report</title>
<style>{STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>Engagement across Cast, Webcasts.com and Rev</h1>
<p class="note">Built from the engagement__ marts (schema {html.escape(marts.schema)}).
Minutes viewed are the union of a person's sessions, never a sum; the vendor's own figure is a
sum of sessions and may be higher. Cast has no durations. Score components: A attention,
L live, Q question, P poll, S survey, C chat, K click (call to action), F feedback.
Definitions: docs/engagement-model.md.</p>
{charts}
<h2>Per event</h2>{metrics}
<h2>People seen in several vendors ({len(several)})</h2>{people}
</body></html>
"""


def write_report(warehouse: Path, out: Path, schema: str = "engagement") -> Path:
    if not warehouse.exists():
        raise ReportError(f"no warehouse at {warehouse}: run `make demo` first")
    with duckdb.connect(str(warehouse), read_only=True) as db:
        marts = Marts(db, schema)
        marts.check()
        text = page(marts)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, default=WAREHOUSE, help="the DuckDB file")
    parser.add_argument("--schema", default="engagement", help="the marts' schema")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    try:
        path = write_report(args.warehouse, args.out, args.schema)
    except (ReportError, duckdb.Error) as exc:
        print(f"error: the engagement report was not written: {exc}", file=sys.stderr)
        return 1
    print(f"Engagement report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
