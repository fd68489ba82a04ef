"""tap-rev-webcast against the Rev sandbox: every stream equals the sandbox's ground truth."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter

from tap_rev_webcast.client import snake_case
from tap_rev_webcast.tap import TapRevWebcast
from tests.helpers import REV_STREAMS, Rev, catalog_selecting

STREAMS = (*REV_STREAMS, "registrations")


def utc(text: str | None) -> str | None:
    """The tap's rendering of a Rev timestamp (2026-05-01T14:00:00.123Z)."""
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(dt.timezone.utc).isoformat()


def test_every_stream_matches_ground_truth(rev: Rev):
    run = rev.run()
    truth = rev.dataset.ground_truth()
    assert {s: len(run.records(s)) for s in STREAMS} == {s: len(truth[s]) for s in STREAMS}

    webcasts = {r["id"]: r for r in run.records("webcasts")}
    for raw in truth["webcasts"]:
        row = webcasts[raw["id"]]
        assert (row["title"], row["status"], row["listing_type"]) == (
            raw["title"],
            raw["status"],
            raw["listingType"],
        )
        assert (row["start_date"], row["end_date"]) == (utc(raw["startDate"]), utc(raw["endDate"]))
        assert row["categories"] == [
            {snake_case(k): v for k, v in c.items()} for c in raw["categories"]
        ]
        assert row["unmapped_fields"] is None

    def session_identity(s: dict, names: tuple) -> tuple:
        return tuple(s[n] for n in names)

    tap_names = (
        "webcast_id",
        "run_number",
        "username",
        "ip_address",
        "entered_date",
        "viewing_time",
    )
    raw_names = ("webcast_id", "run_number", "username", "ipAddress", "enteredDate", "viewingTime")
    sessions = Counter(session_identity(r, tap_names) for r in run.records("attendee_sessions"))
    expected = Counter(
        (*session_identity(s, raw_names)[:4], utc(s["enteredDate"]), s["viewingTime"])
        for s in truth["attendee_sessions"]
    )
    assert sessions == expected

    summaries = {
        (r["webcast_id"], r["run_number"]): r for r in run.records("webcast_attendance_summary")
    }
    for raw in truth["webcast_attendance_summary"]:
        row = summaries[(raw["webcast_id"], raw["run_number"])]
        for name, value in raw.items():
            assert row[snake_case(name)] == value, name
    assert {r["total_ecdn_time"] for r in summaries.values()} != {None}

    def by(stream: str, key: str) -> dict:
        return {r[key]: r for r in run.records(stream)}

    comments = by("comments", "comment_id")
    for raw in truth["comments"]:
        assert (comments[raw["commentId"]]["comment"], comments[raw["commentId"]]["date"]) == (
            raw["comment"],
            utc(raw["date"]),
        )
    polls = by("poll_results", "poll_id")
    for raw in truth["poll_results"]:
        assert polls[raw["id"]]["total_responses"] == raw["totalResponses"]
    answers = Counter((r["poll_id"], r["answer"], r["votes"]) for r in run.records("poll_answers"))
    assert answers == Counter(
        (a["poll_id"], a["answer"], a["votes"]) for a in truth["poll_answers"]
    )
    questions = by("questions", "question_id")
    for raw in truth["questions"]:
        assert questions[raw["questionId"]]["when_replied"] == utc(raw["whenReplied"])
    reactions = Counter(
        (r["webcast_date"], r["reaction"], r["count"]) for r in run.records("reactions")
    )
    assert reactions == Counter(
        (utc(r["webcastDate"]), r["reaction"], r["count"]) for r in truth["reactions"]
    )
    # Only the live run of the live webcast is asked (2 such requests a minute).
    assert rev.api.count("/real-time/attendees") == 1
    attendees = by("realtime_attendees", "session_id")
    for raw in truth["realtime_attendees"]:
        row = attendees[raw["SessionId"]]
        assert (row["full_name"], row["avg_bitrate_kbps"], row["rev_connect"]) == (
            raw["FullName"],
            raw["AvgBitrateKbps"],
            raw["RevConnect"],
        )


def test_primary_keys_are_unique_and_stable_across_runs(rev: Rev):
    first, second = rev.run(), rev.run()
    keys = {m["stream"]: m["key_properties"] for m in first.messages if m["type"] == "SCHEMA"}
    assert set(keys) == set(STREAMS)
    for stream in STREAMS:
        rows = [tuple(r[k] for k in keys[stream]) for r in first.records(stream)]
        assert rows, stream
        assert len(rows) == len(set(rows)), f"duplicate primary keys in {stream}"
        assert set(rows) == {tuple(r[k] for k in keys[stream]) for r in second.records(stream)}


def test_sessions_sharing_every_identifying_field_are_both_kept(rev: Rev):
    """The sandbox serves two sessions of one person opened in the same millisecond."""
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions"))
    rows = run.records("attendee_sessions")
    identity = Counter(
        (r["webcast_id"], r["run_number"], r["username"], r["entered_date"], r["ip_address"])
        for r in rows
    )
    twins = [key for key, n in identity.items() if n == 2]
    assert twins
    assert len({r["session_key"] for r in rows}) == len(rows)


def test_realtime_attendee_casing_is_normalised(rev: Rev):
    catalog = catalog_selecting(TapRevWebcast, rev.config(), "realtime_attendees")
    pascal = rev.run(catalog=catalog).records("realtime_attendees")
    rev.api.attendee_casing = "camel"  # as Vbrick's TypeScript client reads them
    camel = rev.run(catalog=catalog).records("realtime_attendees")
    assert pascal
    assert camel == pascal
    assert all(row["unmapped_fields"] is None for row in camel)
    assert {"session_id", "avg_bandwidth_mbps", "os_family", "profile_image_url"} <= set(camel[0])


def test_credentials_inside_webcasts_are_not_landed(rev: Rev):
    raw = json.dumps(rev.dataset.ground_truth()["webcasts"])
    assert "rtmp-key-" in raw
    assert "zoom-pw-" in raw
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "webcasts"))
    rows = run.records("webcasts")
    assert any(r["rtmp"] for r in rows)
    assert any(r["zoom"] for r in rows)
    assert "rtmp-key-" not in run.stdout
    assert "zoom-pw-" not in run.stdout
    assert {r["rtmp"]["url"] for r in rows if r["rtmp"]} == {"rtmp://ingest.example.com/live"}


def test_explicit_webcast_ids_read_details_instead_of_listing(rev: Rev):
    wanted = rev.webcast_ids()[:2]
    config = rev.config(webcast_ids=[*wanted, wanted[0]])
    del config["start_date"]
    run = rev.run(config, catalog=catalog_selecting(TapRevWebcast, config, "webcasts", "comments"))
    assert not [c for c in rev.api.calls if c.path == "/api/v2/scheduled-events"]
    rows = {r["id"]: r for r in run.records("webcasts")}
    assert list(rows) == wanted
    truth = {w["id"]: w for w in rev.dataset.ground_truth()["webcasts"]}
    for webcast_id, row in rows.items():
        assert row["listing_type"] == truth[webcast_id]["listingType"]  # accessControl
        assert row["status"] == "Completed"
        assert "html_description" in row["unmapped_fields"]  # a details-only field
        assert "password" not in row["unmapped_fields"]
    assert {r["webcast_id"] for r in run.records("comments")} <= set(wanted)


def test_windows_span_start_date_to_now_and_list_each_webcast_once(rev: Rev):
    webcasts = sorted(rev.dataset.webcasts, key=lambda w: w.start)
    # Start inside the first webcast: it ends after start_date, so it is still read.
    start = dt.datetime.fromtimestamp(webcasts[0].start + 60, tz=dt.timezone.utc)
    config = rev.config(start_date=start.isoformat(), window_days=3, upcoming_days=0)
    run = rev.run(config, catalog=catalog_selecting(TapRevWebcast, config, "webcasts"))
    listings = [c for c in rev.api.calls if c.path == "/api/v2/scheduled-events"]
    days = (rev.clock.now() - start.timestamp()) / 86400
    assert len(listings) == math.ceil(days / 3)
    # Windows are listed concurrently: the earliest, not the first to arrive, starts there.
    assert min(c.query["after"][0] for c in listings) == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ids = [r["id"] for r in run.records("webcasts")]
    assert sorted(ids) == sorted(w.id for w in webcasts)
    assert len(ids) == len(set(ids))

    later = dt.datetime.fromtimestamp(webcasts[0].end + 60, tz=dt.timezone.utc)
    config = rev.config(start_date=later.isoformat(), window_days=3)
    run = rev.run(config, catalog=catalog_selecting(TapRevWebcast, config, "webcasts"))
    assert webcasts[0].id not in {r["id"] for r in run.records("webcasts")}


def test_a_webcast_spanning_two_windows_is_emitted_once(rev: Rev):
    (live,) = [w for w in rev.dataset.webcasts if w.status == "InProgress"]
    # Day-long windows whose boundary falls a minute into the live webcast.
    start = dt.datetime.fromtimestamp(live.start + 60 - 86400, tz=dt.timezone.utc)
    config = rev.config(start_date=start.isoformat(), window_days=1, upcoming_days=0)
    run = rev.run(config, catalog=catalog_selecting(TapRevWebcast, config, "webcasts"))
    listings = [c for c in rev.api.calls if c.path == "/api/v2/scheduled-events"]
    assert len(listings) == 2
    ids = [r["id"] for r in run.records("webcasts")]
    assert ids.count(live.id) == 1
    assert rev.api.count(f"/{live.id}/status") == 1


def test_reports_skip_webcasts_that_have_not_completed(rev: Rev, caplog):
    caplog.set_level("INFO")
    rev.run()
    for status in ("Scheduled", "InProgress"):
        (webcast_id,) = rev.webcast_ids(status)
        assert f"webcast {webcast_id} is {status}, not Completed" in caplog.text
        paths = {c.path.rsplit("/", 1)[-1] for c in rev.api.calls if webcast_id in c.path}
        assert paths <= {"status", "attendees"}, paths


def test_timestamps_carry_an_offset(rev: Rev):
    run = rev.run(
        catalog=catalog_selecting(TapRevWebcast, rev.config(), "attendee_sessions", "comments")
    )
    for row in run.records("attendee_sessions"):
        assert row["entered_date"].endswith("+00:00")
    for row in run.records("comments"):
        assert row["date"].endswith("+00:00")


def test_unknown_vendor_fields_are_kept_in_snake_case(rev: Rev):
    def add_fields(request, response):
        if request.path.endswith("/questions"):
            rows = json.loads(response.body)
            for row in rows:
                row["SentimentScore"] = 0.5
            response.body = json.dumps(rows).encode()

    rev.server.hooks.append(add_fields)
    run = rev.run(catalog=catalog_selecting(TapRevWebcast, rev.config(), "questions"))
    rows = run.records("questions")
    assert rows
    assert all(row["unmapped_fields"] == {"sentiment_score": 0.5} for row in rows)
