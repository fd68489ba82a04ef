"""tap-cast never loses a row silently: every record once, or one clear line and a STATE
that never passes an unread row, under vendor behaviours the documentation does not rule out.

Each test switches on one behaviour of the Cast sandbox (sandbox/cast/api.py, all off by
default) or rewrites a response with a server hook, and compares the output with the
sandbox's ground truth by primary key.
"""

from __future__ import annotations

import json
import logging
import re
import typing as t
from collections import Counter

import pytest

from sandbox import CastDataset, start_cast_sandbox
from tap_cast.tap import TapCast
from tests.cast.test_sync import event_identity, utc
from tests.helpers import (
    CAST_API_KEY,
    CAST_ORG,
    TapRun,
    cast_config,
    catalog_selecting,
    failed_partitions,
    invalid_records,
    run_tap,
)

if t.TYPE_CHECKING:
    from sandbox import CastAPI, SandboxServer

EVENTS_PATH = "/analytics_events"
#: The issue's example: 2,120 events in one partition, 200 asked per page.
EVENTS = 2120


class Cast(t.NamedTuple):
    server: SandboxServer
    api: CastAPI
    dataset: CastDataset
    config: dict

    def run(self, *streams: str, **kwargs: t.Any) -> TapRun:
        catalog = catalog_selecting(TapCast, self.config, *streams) if streams else None
        return run_tap(TapCast, self.config, catalog=catalog, **kwargs)


@pytest.fixture
def one_partition() -> t.Iterator[Cast]:
    """One cast, one campaign, 2,120 view events, read 200 a page."""
    dataset = CastDataset(
        seed=3,
        casts=1,
        campaigns_per_cast=1,
        events_per_type=EVENTS,
        org_slug=CAST_ORG,
        api_key=CAST_API_KEY,
    )
    server, api = start_cast_sandbox(dataset)
    yield Cast(
        server, api, dataset, cast_config(server, dataset, page_size=200, event_types=["view"])
    )
    server.stop()


@pytest.fixture
def cast(cast_sandbox, cast_dataset, config) -> Cast:
    """The shared small sandbox: 2 casts of 2 campaigns, every event type."""
    server, api = cast_sandbox
    return Cast(server, api, cast_dataset, config)


def truth_events(cast: Cast) -> list[dict]:
    kinds = set(
        cast.config.get("event_types") or ["delivered", "view", "play", "action", "feedback"]
    )
    return [e for e in cast.dataset.ground_truth()["analytics_events"] if e["event_type"] in kinds]


def assert_every_event_once(run: TapRun, cast: Cast) -> None:
    records = run.records("analytics_events")
    assert len({r["event_key"] for r in records}) == len(records), "an event emitted twice"
    read = Counter(event_identity(r) for r in records)
    expected = Counter(event_identity(e) for e in truth_events(cast))
    assert read == expected, (
        f"{sum((expected - read).values())} events missing, "
        f"{sum((read - expected).values())} extra, of {sum(expected.values())}"
    )


def bookmarks(run: TapRun) -> dict[tuple, str]:
    """(generation id, event type) -> bookmark, of the partitions that have one."""
    partitions = run.final_state.get("bookmarks", {}).get("analytics_events", {})
    return {
        (p["context"]["generation_id"], p["context"]["event_type"]): p["replication_key_value"]
        for p in partitions.get("partitions", [])
        if p.get("replication_key_value")
    }


def newest_events(cast: Cast) -> dict[tuple, str]:
    """(generation id, event type) -> time of its newest event, as the tap writes it."""
    newest: dict[tuple, str] = {}
    for event in truth_events(cast):
        key = (event["generation_id"], event["event_type"])
        newest[key] = max(newest.get(key, ""), utc(event["event_at"]))
    return newest


def assert_bookmarks_at_the_newest_event(run: TapRun, cast: Cast) -> None:
    assert bookmarks(run) == newest_events(cast)


def assert_no_bookmark_passes_an_unread_event(run: TapRun, cast: Cast) -> None:
    """After a stopped run: a partition has a bookmark only once all of it was read."""
    newest = newest_events(cast)
    assert {key: newest[key] for key in bookmarks(run)} == bookmarks(run)


def stopped_partition(run: TapRun) -> tuple[str, str]:
    """(generation id, event type) named by the error that stopped the run."""
    found = re.search(r"generation_id=(\S+) event_type=(\w+)", str(run.error))
    assert found, str(run.error)
    return found.group(1), found.group(2)


def pages_asked(server: SandboxServer) -> list[tuple[int, int]]:
    return [
        (int(r.query["page"][0]), int(r.query["page_size"][0]))
        for r in server.requests
        if EVENTS_PATH in r.path
    ]


# --- class 1: paging by what the server returns --------------------------------------------


@pytest.mark.parametrize("offsets_from", ["served", "requested"])
@pytest.mark.parametrize("echo", ["served", "requested", "absent"])
def test_a_capped_page_size_loses_no_event(one_partition, echo, offsets_from):
    """Cast serves at most 120 rows a page, whatever page_size says and however it numbers
    pages: the tap asks in pages of 120 from page 2 on (before: 1,320 of 2,120, exit 0)."""
    cast = one_partition
    cast.api.max_page_size = 120
    cast.api.page_size_echo = echo
    cast.api.cap_offsets_from = offsets_from
    run = cast.run("analytics_events")
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)
    asked = pages_asked(cast.server)
    assert asked[0] == (1, 200)
    assert asked[1:] == [(n, 120) for n in range(2, EVENTS // 120 + 2)]


@pytest.mark.parametrize("cap", [7, 37, 199])
def test_any_cap_loses_no_event(one_partition, cap):
    cast = one_partition
    cast.api.max_page_size = cap
    cast.api.page_size_echo = "requested"
    cast.api.cap_offsets_from = "requested"
    run = cast.run("analytics_events")
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)


def test_a_capped_second_run_reads_only_the_new_events(one_partition):
    cast = one_partition
    cast.api.max_page_size = 120
    cast.api.page_size_echo = "requested"
    first = cast.run("analytics_events")
    campaign = cast.dataset.ground_truth()["campaigns"][0]
    new = cast.dataset.add_events(campaign["cast_id"], campaign["generate_group"], "view", 150)
    second = run_tap(
        TapCast,
        cast.config,
        state=first.final_state,
        catalog=catalog_selecting(TapCast, cast.config, "analytics_events"),
    )
    where = {"cast_id": campaign["cast_id"], "generation_id": campaign["generate_group"]}
    assert sorted(map(event_identity, second.records("analytics_events"))) == sorted(
        event_identity({**event, **where}) for event in new
    )
    assert_bookmarks_at_the_newest_event(second, cast)


# --- class 2: error objects and envelope variants -------------------------------------------

ERROR_OBJECTS = [
    {"detail": "Invalid token."},
    {"error": {"code": 401, "message": "Unauthorized"}},
    {"errors": ["Service unavailable"], "status": 503},
    {"message": "Internal error", "code": "E500"},
]
STREAM_OF_ROUTE = {
    "campaigns": "campaigns",
    "analytics": "campaign_analytics",
    "analytics_events": "analytics_events",
    "cross": "cross_campaign_summary",
}


@pytest.mark.parametrize("body", ERROR_OBJECTS, ids=lambda body: next(iter(body)))
@pytest.mark.parametrize("route", list(STREAM_OF_ROUTE))
def test_an_error_object_answered_with_200_fails_its_partition_naming_it(cast, route, body):
    """Before: 572 of 600 events (exit 0), all-NULL analytics rows, 0 of 4 summary rows."""
    stream = STREAM_OF_ROUTE[route]
    cast.api.error_with_200 = body
    cast.api.error_with_200_routes = {route}
    run = run_tap(TapCast, {**cast.config, "max_retries": 1}, expect_error=True)
    message = str(run.error)
    assert f"stream '{stream}' cast_id=" in message
    assert "gave up after 2 attempts" in message
    assert "error object instead of data" in message
    assert json.dumps(body)[:40] in message
    # Nothing of that stream was landed from an error body, and no bookmark moved for it.
    if stream == "campaign_analytics":
        assert run.records(stream) == []
    if stream == "analytics_events":
        assert stopped_partition(run) not in bookmarks(run)
    assert_no_bookmark_passes_an_unread_event(run, cast)


def test_an_error_object_answered_once_is_retried_without_loss(cast):
    cast.api.error_with_200 = {"detail": "Invalid token."}
    cast.api.error_with_200_routes = {"analytics_events", "analytics"}
    cast.api.error_with_200_times = 3
    run = cast.run()
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)
    truth = cast.dataset.ground_truth()
    assert len(run.records("campaign_analytics")) == len(truth["campaign_analytics"])


@pytest.mark.parametrize("variant", ["pascal_case", "bare_list", "null_for_empty"])
def test_unambiguous_envelope_variants_lose_no_event(cast, variant):
    """Before: PascalCase 0 of 600 events (exit 0); bare list and null results fatal."""
    cast.api.envelope_variant = variant
    run = cast.run("analytics_events")
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)


def rewrite(server: SandboxServer, path_end: str, change: t.Callable[[t.Any], t.Any]) -> None:
    """Every 200 answer of a path ending in ``path_end`` becomes ``change(its JSON body)``."""

    def hook(request: t.Any, response: t.Any) -> None:
        if request.path.endswith(path_end) and response.status == 200:
            response.body = json.dumps(change(json.loads(response.body))).encode()

    server.hooks.append(hook)


@pytest.mark.parametrize(
    ("path_end", "change", "stream", "cause"),
    [
        (EVENTS_PATH, lambda b: {"data": b["results"]}, "analytics_events", "envelope"),
        (EVENTS_PATH, lambda b: {**b, "results": {"rows": 1}}, "analytics_events", "not a list"),
        (EVENTS_PATH, lambda b: {**b, "Results": []}, "analytics_events", "twice"),
        (EVENTS_PATH, lambda b: None, "analytics_events", "got null"),
        (
            "/analytics",
            lambda b: {k: v for k, v in b.items() if k != "summary"},
            "campaign_analytics",
            "no summary counters",
        ),
        ("/analytics", lambda b: {**b, "summary": {}}, "campaign_analytics", "no summary counters"),
        (
            "/cross_campaign_analytics_summary",
            lambda b: {"totals": 12},
            "cross_campaign_summary",
            "no campaign counters",
        ),
        ("/generation", lambda b: {"campaigns": b}, "campaigns", "expected a JSON array"),
        ("/generation", lambda b: {"count": 99, "results": b}, "campaigns", "came in pages"),
    ],
    ids=[
        "events: rows under another key",
        "events: results not a list",
        "events: results spelt twice",
        "events: null body",
        "analytics: no summary",
        "analytics: empty summary",
        "summary: no counters",
        "campaigns: unknown wrapper",
        "campaigns: paged wrapper",
    ],
)
def test_a_body_the_tap_cannot_read_fails_its_partition_in_one_line(
    cast, path_end, change, stream, cause
):
    rewrite(cast.server, path_end, change)
    run = run_tap(TapCast, cast.config, expect_error=True)
    message = str(run.error)
    assert f"stream '{stream}' cast_id=" in message
    assert cause in message
    # One line per failed partition (the others are read; the run ends non-zero).
    assert all(cause in line for line in failed_partitions(run.error))
    if stream == "campaign_analytics":
        assert run.records(stream) == []  # no row of empty figures
    if stream == "analytics_events":
        assert stopped_partition(run) not in bookmarks(run)
    assert_no_bookmark_passes_an_unread_event(run, cast)


# --- class 4: reconciliation with count ------------------------------------------------------


@pytest.mark.parametrize("skew", [-120, -200, -2119])
def test_an_understated_count_never_ends_paging(one_partition, skew):
    """count 2,000 on 2,120 events, a multiple of the page size: before, 2,000 read, exit 0."""
    cast = one_partition
    cast.api.count_skew = skew
    run = cast.run("analytics_events")
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)


def test_an_overstated_count_read_twice_alike_keeps_the_events_and_says_so(one_partition, caplog):
    """Two complete reads of 2,120 events against count=2,125: before, the run stopped (and
    every later run too); now the events are kept, warned about with both numbers and listed
    in the stream's summary (tap_common/reconcile.py)."""
    cast = one_partition
    cast.api.count_skew = 5
    with caplog.at_level(logging.WARNING):
        run = cast.run("analytics_events")
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)
    one_pass = list(range(1, EVENTS // 200 + 2))
    assert [page for page, _ in pages_asked(cast.server)] == one_pass + one_pass
    warning = f"Cast's count says {EVENTS + 5} for cast_id="
    assert warning in caplog.text
    assert f"two complete reads found {EVENTS} events each; the rows are kept" in caplog.text
    assert re.search(
        r"analytics_events: 1 partition kept although the vendor's total disagrees with two "
        rf"reads that agree: cast_id=\d+ generation_id=\S+ event_type=view \(total {EVENTS + 5}, "
        rf"read {EVENTS} twice\)",
        caplog.text,
    )


def test_reads_that_disagree_with_each_other_stop_with_the_numbers(one_partition):
    """Each pass serves a different number of events, none the count: the run stops after
    three reads naming them, and the partition's bookmark does not move."""
    cast = one_partition
    cast.api.count_skew = 5
    passes: list[int] = []

    def drop_rows(request, response):
        if EVENTS_PATH in request.path and request.query["page"] == ["1"]:
            passes.append(1)
        if EVENTS_PATH in request.path and request.query["page"] == ["11"]:  # the last
            body = json.loads(response.body)
            body["results"] = body["results"][: -len(passes)]
            response.body = json.dumps(body).encode()

    cast.server.hooks.append(drop_rows)
    run = cast.run("analytics_events", expect_error=True)
    message = str(run.error)
    assert len(failed_partitions(run.error)) == 1
    assert "stream 'analytics_events' cast_id=" in message
    assert (
        f"Cast's count says {EVENTS + 5} events; 3 complete reads found "
        f"{EVENTS - 1}, then {EVENTS - 2}, then {EVENTS - 3}, no two in a row alike" in message
    )
    assert len(passes) == 3
    assert bookmarks(run) == {}
    records = run.records("analytics_events")
    assert len({r["event_key"] for r in records}) == len(records)


def test_events_deleted_while_paging_are_noticed_and_read_again(one_partition, caplog):
    """10 events deleted once page 2 was served move the rest 10 places towards page 1, so
    page 3 starts 10 events later. Before: 10 of the 2,120 events never read, exit 0, and the
    bookmark past them; now the count moving (2,120 then 2,110) makes the tap read the
    partition again, each event once."""
    cast = one_partition
    cast.api.delete_while_paging = (2, 10)
    with caplog.at_level(logging.WARNING):
        run = cast.run("analytics_events")
    ((cast_id, generation_id, event_type), deleted_events) = next(
        iter(cast.api.deleted_while_paging.items())
    )
    deleted = [
        {**e, "cast_id": cast_id, "generation_id": generation_id, "event_type": event_type}
        for e in deleted_events
    ]
    assert len(deleted) == 10
    records = run.records("analytics_events")
    assert len({r["event_key"] for r in records}) == len(records), "an event emitted twice"
    # Every event that still exists, and the 10 deleted after they were read on page 1.
    expected = Counter(event_identity(e) for e in truth_events(cast) + deleted)
    assert Counter(event_identity(r) for r in records) == expected
    assert f"count went from {EVENTS} to {EVENTS - 10} while" in caplog.text
    assert bookmarks(run) == {
        key: max(utc(e["event_at"]) for e in deleted) for key in newest_events(cast)
    }


def test_a_page_number_that_keeps_answering_the_same_page_stops_in_one_line(one_partition):
    """Page 3 and later answer page 2 again: the read stops at the first repeat (3
    requests), no event emitted twice, no bookmark."""
    cast = one_partition
    cast.api.stuck_from_page = 3
    run = cast.run("analytics_events", expect_error=True)
    message = str(run.error)
    assert len(failed_partitions(run.error)) == 1
    assert "Cast answered page 3 with the same events as an earlier page: paging does not " in (
        message
    )
    assert f"400 events read in 3 requests; Cast's count says {EVENTS}" in message
    assert [page for page, _ in pages_asked(cast.server)] == [1, 2, 3]
    records = run.records("analytics_events")
    assert len(records) == 400
    assert len({r["event_key"] for r in records}) == 400
    assert bookmarks(run) == {}


def test_a_page_short_once_is_read_again_without_duplicates(one_partition, caplog):
    """Page 3 of the first pass comes without 15 of its rows (a lagging replica, say)."""
    cast = one_partition
    cut = []

    def drop_rows_once(request, response):
        if EVENTS_PATH in request.path and request.query["page"] == ["3"] and not cut:
            body = json.loads(response.body)
            cut.extend(body["results"][-15:])
            body["results"] = body["results"][:-15]
            response.body = json.dumps(body).encode()

    cast.server.hooks.append(drop_rows_once)
    with caplog.at_level(logging.WARNING):
        run = cast.run("analytics_events")
    assert len(cut) == 15
    assert "but the read found 585 events; reading it again" in caplog.text
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)


def test_an_early_stop_at_the_bookmark_is_not_reconciled(one_partition):
    """A second run stops at the bookmark, before count rows: no shortfall, no re-read."""
    cast = one_partition
    first = cast.run("analytics_events")
    cast.api.count_skew = 5
    cast.server.reset_log()
    second = run_tap(
        TapCast,
        cast.config,
        state=first.final_state,
        catalog=catalog_selecting(TapCast, cast.config, "analytics_events"),
    )
    assert second.records("analytics_events") == []
    assert pages_asked(cast.server) == [(1, 200)]
    assert bookmarks(second) == bookmarks(first)


# --- class 7: lists as they really are -------------------------------------------------------


@pytest.mark.parametrize("variant", [None, "null_for_empty"], ids=["[]", "null"])
def test_casts_without_campaigns_are_an_info_line(variant, caplog):
    """Before: a traceback (AssertionError) from analytics_events."""
    dataset = CastDataset(
        seed=5, casts=2, campaigns_per_cast=0, org_slug=CAST_ORG, api_key=CAST_API_KEY
    )
    server, api = start_cast_sandbox(dataset)
    api.envelope_variant = variant
    try:
        with caplog.at_level(logging.INFO):
            run = run_tap(TapCast, cast_config(server, dataset, cast_ids=dataset.cast_ids()))
    finally:
        server.stop()
    assert [m for m in run.messages if m["type"] == "RECORD"] == []
    assert "cast 1940 lists no campaigns" in caplog.text
    assert "the configured casts list no campaigns: no events" in caplog.text
    assert bookmarks(run) == {}


@pytest.mark.parametrize("max_concurrency", [1, 4])
def test_a_campaign_listed_twice_is_read_once(cast, max_concurrency, caplog):
    """Before: 6 campaign rows for 4 campaigns, 6 analytics rows, 514 timeline rows for 341."""
    cast.api.repeat_campaigns = 1
    with caplog.at_level(logging.WARNING):
        run = run_tap(TapCast, {**cast.config, "max_concurrency": max_concurrency})
    truth = cast.dataset.ground_truth()
    for stream in (
        "campaigns",
        "campaign_analytics",
        "campaign_timeline",
        "cross_campaign_summary",
    ):
        assert len(run.records(stream)) == len(truth[stream]), stream
    assert sorted(r["id"] for r in run.records("campaigns")) == sorted(
        c["id"] for c in truth["campaigns"]
    )
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)
    assert "more than once; it is read once" in caplog.text


def test_a_cast_configured_twice_is_read_once(cast):
    once = cast.run()
    twice = run_tap(TapCast, {**cast.config, "cast_ids": cast.config["cast_ids"] * 2})
    assert twice.output == once.output


def test_a_campaign_deleted_while_its_events_are_paged_is_warned_about_and_skipped(cast, caplog):
    """Its first page was read, then it answers 404: no shortfall error, the rest complete."""
    campaign = cast.dataset.ground_truth()["campaigns"][1]
    gone = campaign["generate_group"]

    def delete_after_first_page(request, response):
        if gone in request.path and EVENTS_PATH in request.path:
            cast.api.gone_generations.add(gone)

    cast.server.hooks.append(delete_after_first_page)
    config = {**cast.config, "page_size": 5, "max_concurrency": 4}
    with caplog.at_level(logging.WARNING):
        run = run_tap(
            TapCast, config, catalog=catalog_selecting(TapCast, config, "analytics_events")
        )
    assert f"generation_id={gone}" in caplog.text
    assert "Skipping it" in caplog.text
    kept = [r for r in run.records("analytics_events") if r["generation_id"] != gone]
    expected = [e for e in truth_events(cast) if e["generation_id"] != gone]
    assert Counter(map(event_identity, kept)) == Counter(map(event_identity, expected))


# --- classes 6, 8, 10 end to end: deadline, values as text, reserved characters ------------


def test_a_dripping_body_is_cut_at_request_timeout_retried_then_a_clear_line(cast):
    """One byte every 0.2 s: each try ends at the 2 s deadline (not after the whole body),
    is retried, then the run stops naming request_timeout."""
    cast.api.drip_routes = {"analytics_events"}
    cast.api.drip_seconds = 0.2
    config = {**cast.config, "request_timeout": 2, "max_retries": 1, "max_concurrency": 1}
    run = run_tap(
        TapCast,
        config,
        catalog=catalog_selecting(TapCast, config, "analytics_events"),
        expect_error=True,
    )
    message = str(run.error)
    assert "stream 'analytics_events' cast_id=" in message
    assert "gave up after 2 attempts: the request timed out" in message
    assert "'request_timeout'" in message
    # Two tries for each partition, each of which fails (until five in a row stop the run).
    assert cast.server.count(EVENTS_PATH) == 2 * len(failed_partitions(run.error))
    assert bookmarks(run) == {}


def test_numbers_sent_as_text_land_as_numbers_and_match_the_schema(cast):
    """Integers of campaigns, analytics summaries and the cross-campaign summary as "3"."""
    plain = cast.run()
    cast.api.numbers_as_text = True
    as_text = run_tap(TapCast, {**cast.config, "max_concurrency": 4})
    assert as_text.output == plain.output
    assert invalid_records(as_text) == []
    counters = [r["total_view"] for r in as_text.records("campaign_analytics")]
    assert counters
    assert all(type(value) is int for value in counters)


RESERVED = "20240805_a%b?c#d e/f"


def test_a_generation_id_with_reserved_characters_reaches_its_own_paths(cast):
    """%, ?, #, space and / escaped whole: the sandbox decodes each path segment."""
    campaign = cast.dataset.ground_truth()["campaigns"][0]
    cast.dataset.rename_generation(campaign["cast_id"], campaign["generate_group"], RESERVED)
    run = cast.run()
    truth = cast.dataset.ground_truth()
    analytics = {r["generation_id"]: r for r in run.records("campaign_analytics")}
    assert analytics.keys() == {c["generate_group"] for c in truth["campaigns"]}
    expected = next(a for a in truth["campaign_analytics"] if a["generation_id"] == RESERVED)
    assert analytics[RESERVED]["total_view"] == expected["analytics"]["summary"]["total_view"]
    assert_every_event_once(run, cast)
    assert_bookmarks_at_the_newest_event(run, cast)
    escaped = "20240805_a%25b%3Fc%23d%20e%2Ff"
    assert cast.server.count(f"/generation/{escaped}/analytics_events") > 0
    assert cast.server.count(f"/generation/{escaped}/analytics") > 0
    assert cast.server.count(" ") == cast.server.count("?") == 0
