"""analytics_events: paging ends correctly, bookmarks per partition, early stop, no loss."""

from __future__ import annotations

import json
import logging
from collections import Counter

from tap_cast.tap import TapCast
from tests.helpers import run_tap

EVENTS_PATH = "/analytics_events"


def first_partition(dataset) -> tuple[int, str]:
    campaign = dataset.ground_truth()["campaigns"][0]
    return campaign["cast_id"], campaign["generate_group"]


def partition_sizes(dataset, event_types) -> dict[tuple, int]:
    sizes = {
        (c["cast_id"], c["generate_group"], kind): 0
        for c in dataset.ground_truth()["campaigns"]
        for kind in event_types
    }
    for event in dataset.ground_truth()["analytics_events"]:
        key = (event["cast_id"], event["generation_id"], event["event_type"])
        if key in sizes:
            sizes[key] += 1
    return sizes


def full_scan_pages(dataset, event_types, page_size: int) -> int:
    """Pages a full scan needs: up to the first short page, so n // page_size + 1 (a full
    last page is followed by an empty one; a partition without events needs one page)."""
    return sum(n // page_size + 1 for n in partition_sizes(dataset, event_types).values())


def test_exact_multiple_of_page_size_costs_one_confirming_request(
    cast_sandbox, cast_dataset, config, events_catalog
):
    """A full last page is followed by one more request: the count may understate."""
    server, _ = cast_sandbox
    sizes = partition_sizes(cast_dataset, ["view"])
    page_size = max(sizes.values()) // 2
    assert any(n and n % page_size == 0 and n > page_size for n in sizes.values())
    run_tap(
        TapCast, {**config, "event_types": ["view"], "page_size": page_size}, catalog=events_catalog
    )
    for (_cast_id, generation_id, _), n in sizes.items():
        pages = [
            int(r.query["page"][0])
            for r in server.requests
            if EVENTS_PATH in r.path and generation_id in r.path
        ]
        assert pages == list(range(1, n // page_size + 2)), (n, pages)


def test_empty_page_before_the_count_is_read_again_then_kept_with_the_numbers(
    cast_sandbox, cast_dataset, config, events_catalog, caplog
):
    """A count that overstates the rows: the empty page after the real ones ends a pass,
    the partition is read once more; the two reads agree, so the events are kept, and the
    numbers are warned about and listed in the stream's summary."""
    server, _ = cast_sandbox

    def overstate_count(request, response):
        if EVENTS_PATH in request.path:
            body = json.loads(response.body)
            body["count"] += 1000
            response.body = json.dumps(body).encode()

    server.hooks.append(overstate_count)
    with caplog.at_level(logging.WARNING):
        run = run_tap(
            TapCast, {**config, "event_types": ["play"], "page_size": 20}, catalog=events_catalog
        )
    sizes = {
        generation_id: n
        for (_, generation_id, _), n in partition_sizes(cast_dataset, ["play"]).items()
    }
    for generation_id, n in sizes.items():
        pages = [int(r.query["page"][0]) for r in server.requests if generation_id in r.path]
        half = len(pages) // 2
        assert pages[:half] == pages[half:], pages  # read twice alike
        assert pages[: n // 20 + 1] == list(range(1, n // 20 + 2)), pages
        assert f"(total {n + 1000}, read {n} twice)" in caplog.text
    assert f"{len(sizes)} partitions kept although the vendor's total disagrees" in caplog.text
    read = Counter(r["generation_id"] for r in run.records("analytics_events"))
    assert read == sizes
    bookmarked = [
        p["context"]["generation_id"]
        for p in run.final_state.get("bookmarks", {})
        .get("analytics_events", {})
        .get("partitions", [])
        if p.get("replication_key_value")
    ]
    assert sorted(bookmarked) == sorted(sizes)


def test_count_growing_between_pages_loses_nothing(
    cast_sandbox, cast_dataset, config, events_catalog
):
    server, api = cast_sandbox
    cast_id, generation_id = first_partition(cast_dataset)
    original = [
        e
        for e in cast_dataset.ground_truth()["analytics_events"]
        if e["generation_id"] == generation_id and e["event_type"] == "view"
    ]
    added: list[dict] = []

    def add_after_first_page(request, response):
        if generation_id in request.path and EVENTS_PATH in request.path and not added:
            added.extend(api.dataset.add_events(cast_id, generation_id, "view", 7))

    server.hooks.append(add_after_first_page)
    run = run_tap(
        TapCast, {**config, "event_types": ["view"], "page_size": 10}, catalog=events_catalog
    )
    rows = [r for r in run.records("analytics_events") if r["generation_id"] == generation_id]
    seen = {(r["event_at"][:19], r["contact_id"], r["ip_address"]) for r in rows}
    for event in original:
        assert (event["event_at"][:19], event["contact_id"], event["ip_address"]) in seen
    keys = [r["event_key"] for r in rows]
    assert len(keys) == len(set(keys)), "a shifted event was emitted twice"
    # 7 new events push 7 old ones onto later pages; the tap follows the new count.
    assert len(rows) >= len(original)


def test_second_run_emits_nothing_old_and_new_events_once(
    cast_sandbox, cast_dataset, config, events_catalog
):
    _server, api = cast_sandbox
    cfg = config
    first = run_tap(TapCast, cfg, catalog=events_catalog)
    assert first.records("analytics_events")

    second = run_tap(TapCast, cfg, catalog=events_catalog, state=first.final_state)
    assert second.records("analytics_events") == []

    cast_id, generation_id = first_partition(cast_dataset)
    newest = max(
        e["event_at"]
        for e in cast_dataset.ground_truth()["analytics_events"]
        if e["generation_id"] == generation_id and e["event_type"] == "action"
    )
    # Two new events: one in the very second of the bookmark, one later.
    new = api.dataset.add_events(cast_id, generation_id, "action", 1, at=newest)
    new += api.dataset.add_events(cast_id, generation_id, "action", 1)
    third = run_tap(TapCast, cfg, catalog=events_catalog, state=second.final_state)
    rows = third.records("analytics_events")
    assert sorted((r["event_at"][:19], r["contact_id"]) for r in rows) == sorted(
        (e["event_at"][:19], e["contact_id"]) for e in new
    )

    fourth = run_tap(TapCast, cfg, catalog=events_catalog, state=third.final_state)
    assert fourth.records("analytics_events") == []


def test_bookmark_per_partition(cast_sandbox, config, events_catalog):
    run = run_tap(TapCast, {**config, "event_types": ["view", "play"]}, catalog=events_catalog)
    partitions = run.final_state["bookmarks"]["analytics_events"]["partitions"]
    contexts = {
        (p["context"]["cast_id"], p["context"]["generation_id"], p["context"]["event_type"])
        for p in partitions
    }
    assert len(contexts) == len(partitions) == 2 * 2 * 2  # casts x campaigns x types
    for partition in partitions:
        assert partition["replication_key"] == "event_at"
        assert partition["replication_key_value"].endswith("+00:00")
        assert partition["bookmark_event_keys"]


def test_early_stop_makes_fewer_requests_than_a_full_scan(
    cast_sandbox, cast_dataset, config, events_catalog
):
    server, api = cast_sandbox
    cfg = {**config, "page_size": 5}
    first = run_tap(TapCast, cfg, catalog=events_catalog)
    full_scan = server.count(EVENTS_PATH)

    cast_id, generation_id = first_partition(cast_dataset)
    api.dataset.add_events(cast_id, generation_id, "view", 3)
    server.reset_log()
    second = run_tap(TapCast, cfg, catalog=events_catalog, state=first.final_state)
    incremental = server.count(EVENTS_PATH)

    assert len(second.records("analytics_events")) == 3
    partitions = len(first.final_state["bookmarks"]["analytics_events"]["partitions"])
    # One page per partition, and the updated one needs its new page plus one more.
    assert incremental <= partitions + 1
    assert incremental < full_scan / 3


def test_unordered_pages_fall_back_to_a_full_scan(
    cast_sandbox, cast_dataset, config, events_catalog
):
    server, api = cast_sandbox
    cfg = {**config, "page_size": 5, "event_types": ["view"]}
    first = run_tap(TapCast, cfg, catalog=events_catalog)

    api.event_order = "shuffled"
    cast_id, generation_id = first_partition(cast_dataset)
    new = api.dataset.add_events(cast_id, generation_id, "view", 4)
    server.reset_log()
    second = run_tap(TapCast, cfg, catalog=events_catalog, state=first.final_state)

    assert server.count(EVENTS_PATH) == full_scan_pages(cast_dataset, ["view"], 5), (
        "must read every page when the order is broken"
    )
    assert sorted(r["contact_id"] for r in second.records("analytics_events")) == sorted(
        e["contact_id"] for e in new
    )


def test_start_date_filters_a_first_run(cast_sandbox, cast_dataset, config, events_catalog):
    events = cast_dataset.ground_truth()["analytics_events"]
    times = sorted(e["event_at"] for e in events)
    cutoff = times[len(times) // 2]
    run = run_tap(TapCast, {**config, "start_date": cutoff + "Z"}, catalog=events_catalog)
    expected = [e for e in events if e["event_at"] >= cutoff]
    assert len(run.records("analytics_events")) == len(expected)
